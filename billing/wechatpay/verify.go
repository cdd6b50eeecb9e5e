package wechatpay

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Headers WeChat Pay signs its answers and notifications with.
const (
	HeaderSerial        = "Wechatpay-Serial"
	HeaderSignature     = "Wechatpay-Signature"
	HeaderTimestamp     = "Wechatpay-Timestamp"
	HeaderNonce         = "Wechatpay-Nonce"
	HeaderSignatureType = "Wechatpay-Signature-Type"
	HeaderRequestID     = "Request-ID"
)

// SignatureAlgorithm is the only scheme API v3 uses, in the Authorization
// header and in Wechatpay-Signature-Type.
const SignatureAlgorithm = "WECHATPAY2-SHA256-RSA2048"

// maxSkew is the window of Wechatpay-Timestamp: an answer is refused when
// |now − timestamp| ≥ five minutes, as WeChat's own SDK does.
const maxSkew = 5 * time.Minute

// probePrefix starts the signature of the probes WeChat Pay sends to check
// that merchants verify signatures.
const probePrefix = "WECHATPAY/SIGNTEST/"

// verifier holds the keys that authenticate WeChat Pay: platform
// certificates by serial and/or the WeChat Pay public key. Both kinds are
// accepted at once, for the migration from certificates to the public key.
type verifier struct {
	mu       sync.RWMutex
	certs    map[string]*x509.Certificate // upper-case serial -> certificate
	pubKeyID string
	pubKey   *rsa.PublicKey
}

func newVerifier(certs map[string]*x509.Certificate, pubKeyID string, pubKey *rsa.PublicKey) (*verifier, error) {
	v := &verifier{certs: map[string]*x509.Certificate{}}
	for serial, c := range certs {
		if c == nil {
			return nil, configError("platform certificate %q is nil", serial)
		}
		if err := v.addCert(serial, c); err != nil {
			return nil, err
		}
	}
	if (pubKeyID == "") != (pubKey == nil) {
		return nil, configError("PublicKeyID and PublicKey go together")
	}
	if pubKey != nil {
		if !pubKeyIDPattern.MatchString(pubKeyID) {
			return nil, configError("PublicKeyID %q must be PUB_KEY_ID_ followed by its identifier", pubKeyID)
		}
		if pubKey.N == nil || pubKey.N.BitLen() < 2048 {
			return nil, configError("PublicKey must be RSA of at least 2048 bits")
		}
		v.pubKeyID, v.pubKey = pubKeyID, pubKey
	}
	return v, nil
}

func (v *verifier) addCert(serial string, c *x509.Certificate) error {
	pub, ok := c.PublicKey.(*rsa.PublicKey)
	if !ok {
		return configError("platform certificate %q does not hold an RSA key", serial)
	}
	if pub.N.BitLen() < 2048 {
		return configError("platform certificate %q holds an RSA key shorter than 2048 bits", serial)
	}
	if serial == "" {
		serial = CertSerial(c)
	}
	v.mu.Lock()
	v.certs[strings.ToUpper(serial)] = c
	v.mu.Unlock()
	return nil
}

// empty reports whether nothing can be verified yet.
func (v *verifier) empty() bool {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return len(v.certs) == 0 && v.pubKey == nil
}

// acceptSerial is what the Wechatpay-Serial request header names: the
// public key when one is configured (WeChat then signs with it), else the
// platform certificate that expires last. Empty when nothing is configured.
func (v *verifier) acceptSerial() string {
	v.mu.RLock()
	defer v.mu.RUnlock()
	if v.pubKeyID != "" {
		return v.pubKeyID
	}
	serials := make([]string, 0, len(v.certs))
	for s := range v.certs {
		serials = append(serials, s)
	}
	sort.Slice(serials, func(i, j int) bool {
		a, b := v.certs[serials[i]], v.certs[serials[j]]
		if !a.NotAfter.Equal(b.NotAfter) {
			return a.NotAfter.After(b.NotAfter)
		}
		return serials[i] < serials[j]
	})
	if len(serials) == 0 {
		return ""
	}
	return serials[0]
}

// key returns the RSA key that serial names, or nil.
func (v *verifier) key(serial string) *rsa.PublicKey {
	v.mu.RLock()
	defer v.mu.RUnlock()
	if v.pubKey != nil && serial == v.pubKeyID {
		return v.pubKey
	}
	if c := v.certs[strings.ToUpper(serial)]; c != nil {
		return c.PublicKey.(*rsa.PublicKey)
	}
	return nil
}

// verify authenticates an answer or notification: headers present, not a
// probe, timestamp within five minutes of now, serial known, and an RSA
// PKCS#1 v1.5 SHA-256 signature over "timestamp\nnonce\nbody\n".
func (v *verifier) verify(now time.Time, h http.Header, body []byte) error {
	serial := h.Get(HeaderSerial)
	sig := h.Get(HeaderSignature)
	ts := h.Get(HeaderTimestamp)
	nonce := h.Get(HeaderNonce)
	if serial == "" || sig == "" || ts == "" || nonce == "" {
		return sigError(ReasonMissingHeaders, serial, "the Wechatpay-Serial, -Signature, -Timestamp and -Nonce headers are required")
	}
	if strings.HasPrefix(sig, probePrefix) {
		return sigError(ReasonProbe, serial, "a WeChat Pay signature probe (%s…) is never genuine", probePrefix)
	}
	if t := h.Get(HeaderSignatureType); t != "" && t != SignatureAlgorithm {
		return sigError(ReasonBadSignature, serial, "unsupported signature type %.40q", t)
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return sigError(ReasonTimestamp, serial, "Wechatpay-Timestamp %.20q is not a Unix time", ts)
	}
	// Whole seconds, as WeChat's SDK compares: 299 s passes, 300 s fails.
	if d := time.Duration(now.Unix()-sec) * time.Second; d >= maxSkew || d <= -maxSkew {
		return sigError(ReasonTimestamp, serial, "Wechatpay-Timestamp %d is %s away from the local clock (limit %s)", sec, d, maxSkew)
	}
	key := v.key(serial)
	if key == nil {
		return sigError(ReasonUnknownSerial, serial, "serial %.80q is neither a known platform certificate nor the configured public key", serial)
	}
	raw, err := base64.StdEncoding.DecodeString(sig)
	if err != nil {
		return sigError(ReasonBadSignature, serial, "Wechatpay-Signature is not base64")
	}
	sum := sha256.Sum256(responseMessage(ts, nonce, body))
	if err := rsa.VerifyPKCS1v15(key, crypto.SHA256, sum[:], raw); err != nil {
		return sigError(ReasonBadSignature, serial, "the signature does not match the message")
	}
	return nil
}

// responseMessage is what WeChat Pay signs in answers and notifications.
func responseMessage(ts, nonce string, body []byte) []byte {
	m := make([]byte, 0, len(ts)+len(nonce)+len(body)+3)
	m = append(m, ts...)
	m = append(m, '\n')
	m = append(m, nonce...)
	m = append(m, '\n')
	m = append(m, body...)
	return append(m, '\n')
}

// CertSerial returns a certificate's serial number as WeChat Pay writes it:
// upper-case hexadecimal, at least 40 characters (zero-padded).
func CertSerial(c *x509.Certificate) string {
	s := strings.ToUpper(c.SerialNumber.Text(16))
	if len(s) < 40 {
		s = strings.Repeat("0", 40-len(s)) + s
	}
	return s
}
