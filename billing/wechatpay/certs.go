package wechatpay

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"time"
)

// EncryptedResource is a ciphertext of WeChat Pay: AEAD_AES_256_GCM under
// the APIv3 key, with a 12-character nonce and associated data.
type EncryptedResource struct {
	Algorithm      string `json:"algorithm"`
	Ciphertext     string `json:"ciphertext"`
	AssociatedData string `json:"associated_data"`
	Nonce          string `json:"nonce"`
	OriginalType   string `json:"original_type,omitempty"`
}

var errDecrypt = errors.New("does not decrypt with the APIv3 key")

// Decrypt opens an AEAD_AES_256_GCM resource with the 32-byte APIv3 key:
// the nonce and associated data are taken as their ASCII bytes and the
// ciphertext is base64 with the 16-byte tag appended.
func Decrypt(apiV3Key []byte, r EncryptedResource) ([]byte, error) {
	if r.Algorithm != "AEAD_AES_256_GCM" {
		return nil, errors.New("unsupported algorithm")
	}
	if len(apiV3Key) != 32 {
		return nil, errors.New("the APIv3 key must be 32 bytes")
	}
	ct, err := base64.StdEncoding.DecodeString(r.Ciphertext)
	if err != nil {
		return nil, errors.New("the ciphertext is not base64")
	}
	block, err := aes.NewCipher(apiV3Key)
	if err != nil {
		return nil, err
	}
	gcm, err := cipher.NewGCMWithNonceSize(block, len(r.Nonce))
	if len(r.Nonce) == 0 || err != nil {
		return nil, errors.New("bad nonce")
	}
	pt, err := gcm.Open(nil, []byte(r.Nonce), ct, []byte(r.AssociatedData))
	if err != nil {
		return nil, errDecrypt
	}
	return pt, nil
}

// Encrypt is the inverse of Decrypt (for servers such as internal/sandbox
// and for tests): nonce must be 12 bytes.
func Encrypt(apiV3Key []byte, nonce, associatedData string, plaintext []byte) (EncryptedResource, error) {
	block, err := aes.NewCipher(apiV3Key)
	if err != nil {
		return EncryptedResource{}, err
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return EncryptedResource{}, err
	}
	if len(nonce) != gcm.NonceSize() {
		return EncryptedResource{}, errors.New("nonce must be 12 bytes")
	}
	ct := gcm.Seal(nil, []byte(nonce), plaintext, []byte(associatedData))
	return EncryptedResource{Algorithm: "AEAD_AES_256_GCM", Ciphertext: base64.StdEncoding.EncodeToString(ct),
		AssociatedData: associatedData, Nonce: nonce}, nil
}

// PlatformCert is a downloaded WeChat Pay platform certificate.
type PlatformCert struct {
	Serial        string
	EffectiveTime time.Time
	ExpireTime    time.Time
	Cert          *x509.Certificate
}

// DownloadCertificates fetches the platform certificates
// (GET /v3/certificates), decrypts them with the APIv3 key, checks that the
// answer is signed by one of them (or by a key already configured), and
// adds them to the client's verifier. It works on a client configured with
// no verifier at all, which is how a merchant bootstraps.
func (c *Client) DownloadCertificates(ctx context.Context) ([]PlatformCert, error) {
	const op = "download certificates"
	var out struct {
		Data []struct {
			SerialNo      string            `json:"serial_no"`
			EffectiveTime string            `json:"effective_time"`
			ExpireTime    string            `json:"expire_time"`
			Encrypt       EncryptedResource `json:"encrypt_certificate"`
		} `json:"data"`
	}
	rep, err := c.do(ctx, call{op: op, method: "GET", path: "/v3/certificates", out: &out, noVerify: true})
	if err != nil {
		return nil, err
	}
	var certs []PlatformCert
	staged, _ := newVerifier(nil, "", nil)
	for _, d := range out.Data {
		pemBytes, err := Decrypt(c.apiV3Key, d.Encrypt)
		if err != nil {
			return nil, unavailable(op, "a certificate "+err.Error(), nil)
		}
		b, _ := pem.Decode(pemBytes)
		if b == nil || b.Type != "CERTIFICATE" {
			return nil, unavailable(op, "a decrypted certificate is not PEM", nil)
		}
		cert, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, unavailable(op, "a decrypted certificate cannot be read", nil)
		}
		if !equalFoldSerial(d.SerialNo, CertSerial(cert)) {
			return nil, unavailable(op, "serial_no does not match its certificate", nil)
		}
		if err := staged.addCert(d.SerialNo, cert); err != nil {
			return nil, unavailable(op, err.Error(), nil)
		}
		pc := PlatformCert{Serial: CertSerial(cert), Cert: cert}
		pc.EffectiveTime, _ = time.Parse(time.RFC3339, d.EffectiveTime)
		pc.ExpireTime, _ = time.Parse(time.RFC3339, d.ExpireTime)
		certs = append(certs, pc)
	}
	if len(certs) == 0 {
		return nil, unavailable(op, "the answer holds no certificate", nil)
	}
	// The answer must be signed by a certificate it holds or by a key we
	// already trust.
	errNew := staged.verify(c.now(), rep.header, rep.body)
	if errNew != nil {
		if errOld := c.verifier.verify(c.now(), rep.header, rep.body); errOld != nil {
			return nil, errNew
		}
	}
	for _, pc := range certs {
		_ = c.verifier.addCert(pc.Serial, pc.Cert)
	}
	return certs, nil
}

func equalFoldSerial(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'a' <= x && x <= 'f' {
			x -= 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}
