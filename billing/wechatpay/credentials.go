package wechatpay

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"strings"
)

// Credentials are a merchant account as the credentials vault stores it
// (the "wechatpay" kind, decrypted), with the same JSON names, so a stored
// set can be unmarshalled into it directly.
type Credentials struct {
	Mode             string   `json:"mode"` // direct, partner or global
	MchID            string   `json:"mch_id"`
	SubMchID         string   `json:"sub_mch_id"`
	SpAppID          string   `json:"sp_appid"`
	SubAppID         string   `json:"sub_appid"`
	CertSerial       string   `json:"cert_serial"`
	PlatformSerials  []string `json:"platform_serials"`
	PublicKeyID      string   `json:"public_key_id"`
	APIv3Key         string   `json:"apiv3_key"`
	APIv2Key         string   `json:"apiv2_key"`
	PrivateKeyPEM    string   `json:"private_key_pem"`
	MerchantCertPEM  string   `json:"merchant_cert_pem"`
	PlatformCertsPEM string   `json:"platform_certs_pem"`
	PublicKeyPEM     string   `json:"public_key_pem"`
}

// String leaves the secrets out.
func (c Credentials) String() string {
	return "{Mode:" + c.Mode + " MchID:" + c.MchID + " SubMchID:" + c.SubMchID + " CertSerial:" + c.CertSerial + "}"
}

// Config turns stored credentials into a client configuration. baseURL is
// where to send requests (the sandbox for test credentials; empty for
// WeChat Pay itself). appID is the Mini Program the shop sells in: the
// AppID of a direct or Global merchant, or, for a sub-merchant whose
// credentials name no sub_appid, its SubAppID (payers then pay in it).
// Errors match ErrConfig and never quote a key.
func (c Credentials) Config(baseURL, appID string) (Config, error) {
	cfg := Config{BaseURL: baseURL, Mode: Mode(c.Mode), SerialNo: c.CertSerial, APIv3Key: []byte(c.APIv3Key), APIv2Key: []byte(c.APIv2Key)}
	if c.SubMchID != "" {
		cfg.SpMchID, cfg.SubMchID, cfg.SpAppID, cfg.SubAppID = c.MchID, c.SubMchID, c.SpAppID, c.SubAppID
		if cfg.SubAppID == "" {
			cfg.SubAppID = appID
		}
	} else {
		cfg.MchID, cfg.AppID = c.MchID, appID
	}
	b, _ := pem.Decode([]byte(c.PrivateKeyPEM))
	if b == nil {
		return Config{}, configError("private_key_pem is not PEM")
	}
	var key any
	var err error
	if b.Type == "RSA PRIVATE KEY" {
		key, err = x509.ParsePKCS1PrivateKey(b.Bytes)
	} else {
		key, err = x509.ParsePKCS8PrivateKey(b.Bytes)
	}
	rk, ok := key.(*rsa.PrivateKey)
	if err != nil || !ok {
		return Config{}, configError("private_key_pem is not an RSA private key")
	}
	cfg.PrivateKey = rk
	if c.PlatformCertsPEM != "" {
		cfg.PlatformCerts = map[string]*x509.Certificate{}
		rest := []byte(c.PlatformCertsPEM)
		for {
			var blk *pem.Block
			if blk, rest = pem.Decode(rest); blk == nil {
				break
			}
			cert, err := x509.ParseCertificate(blk.Bytes)
			if err != nil {
				return Config{}, configError("platform_certs_pem holds a certificate that cannot be read")
			}
			cfg.PlatformCerts[CertSerial(cert)] = cert
		}
	}
	if c.PublicKeyID != "" {
		blk, _ := pem.Decode([]byte(c.PublicKeyPEM))
		if blk == nil {
			return Config{}, configError("public_key_pem is not PEM")
		}
		pub, err := x509.ParsePKIXPublicKey(blk.Bytes)
		rp, ok := pub.(*rsa.PublicKey)
		if err != nil || !ok {
			return Config{}, configError("public_key_pem is not an RSA public key")
		}
		cfg.PublicKeyID, cfg.PublicKey = strings.TrimSpace(c.PublicKeyID), rp
	}
	return cfg, nil
}
