package tenant

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"slices"
	"strings"
	"time"
)

// WeChat Pay account modes.
const (
	PayDirect  = "direct"  // an ordinary merchant (直连商户)
	PayPartner = "partner" // a service provider acting for a sub-merchant (服务商)
	PayGlobal  = "global"  // WeChat Pay Global (境外商户), direct or institutional
)

// validateWeChatPay checks a WeChat Pay set: ids by mode, the APIv3 key, that
// the private key belongs to the merchant certificate and that cert_serial is
// that certificate's serial, and how WeChat Pay's answers will be verified
// (platform certificates or the WeChat Pay public key). cert_serial and
// platform_serials are taken from the certificates when left empty.
func validateWeChatPay(v values) error {
	if err := required(v, "mode", "mch_id", "apiv3_key", "private_key_pem", "merchant_cert_pem"); err != nil {
		return err
	}
	mode := v.str("mode")
	if mode != PayDirect && mode != PayPartner && mode != PayGlobal {
		return invalidField("mode", "must be direct (an ordinary merchant), partner (a service provider with a sub-merchant) or global (WeChat Pay Global)")
	}
	if !mchIDPattern.MatchString(v.str("mch_id")) {
		return invalidField("mch_id", "must be the merchant id (商户号): 6 to 20 digits")
	}
	switch mode {
	case PayDirect:
		if err := absent(v, "is only used in partner or global mode", "sub_mch_id", "sp_appid", "sub_appid"); err != nil {
			return err
		}
	case PayPartner:
		if err := required(v, "sub_mch_id", "sp_appid"); err != nil {
			return err
		}
	case PayGlobal:
		// Institutional mode names a sub-merchant; the common mode does not.
		if v.has("sub_mch_id") {
			if err := required(v, "sp_appid"); err != nil {
				return err
			}
		} else if err := absent(v, "is only used in global mode together with sub_mch_id (institutional mode)", "sp_appid", "sub_appid"); err != nil {
			return err
		}
	}
	if v.has("sub_mch_id") && !mchIDPattern.MatchString(v.str("sub_mch_id")) {
		return invalidField("sub_mch_id", "must be the sub-merchant id (子商户号): 6 to 20 digits")
	}
	for _, f := range []string{"sp_appid", "sub_appid"} {
		if v.has(f) && !appIDPattern.MatchString(v.str(f)) {
			return invalidField(f, `must be "wx" followed by 16 lowercase hexadecimal characters`)
		}
	}

	if k := v.str("apiv3_key"); len(k) != 32 || !printable.MatchString(k) {
		return invalidField("apiv3_key", fmt.Sprintf("must be exactly 32 bytes, the APIv3 key set in the merchant platform (this one has %d)", len(k)))
	}
	if k := v.str("apiv2_key"); k != "" && (len(k) != 32 || !printable.MatchString(k)) {
		return invalidField("apiv2_key", fmt.Sprintf("must be exactly 32 bytes, the API key (v2) set in the merchant platform (this one has %d)", len(k)))
	}
	key, err := parsePrivateKey(v.str("private_key_pem"))
	if err != nil {
		return invalidField("private_key_pem", err.Error())
	}
	certs, err := parseCerts(v.str("merchant_cert_pem"), "the merchant API certificate (apiclient_cert.pem)")
	if err != nil {
		return invalidField("merchant_cert_pem", err.Error())
	}
	cert := certs[0]
	pub, ok := cert.PublicKey.(*rsa.PublicKey)
	if !ok {
		return invalidField("merchant_cert_pem", "must hold an RSA public key")
	}
	if !pub.Equal(&key.PublicKey) {
		return invalidField("private_key_pem", "does not belong to the merchant certificate in merchant_cert_pem; upload apiclient_key.pem and apiclient_cert.pem of the same certificate")
	}
	if now := time.Now(); now.After(cert.NotAfter) {
		return invalidField("merchant_cert_pem", "the certificate expired on "+cert.NotAfter.UTC().Format(time.DateOnly)+"; apply for a new one in the merchant platform")
	}
	serial := certSerial(cert)
	if !v.has("cert_serial") {
		v["cert_serial"] = serial
	} else {
		s := strings.ToUpper(v.str("cert_serial"))
		if !serialPattern.MatchString(s) {
			return invalidField("cert_serial", "must be the certificate serial number: 40 hexadecimal characters")
		}
		if s != serial {
			return invalidField("cert_serial", "does not match the serial number of the certificate in merchant_cert_pem ("+serial+"); leave cert_serial empty to take it from the certificate")
		}
		v["cert_serial"] = s
	}

	// Platform certificates (older merchants) and/or the WeChat Pay public key
	// (every merchant since late 2024) verify WeChat Pay's answers.
	if v.has("platform_certs_pem") {
		pcs, err := parseCerts(v.str("platform_certs_pem"), "WeChat Pay platform certificates")
		if err != nil {
			return invalidField("platform_certs_pem", err.Error())
		}
		var serials []string
		for _, c := range pcs {
			if _, ok := c.PublicKey.(*rsa.PublicKey); !ok {
				return invalidField("platform_certs_pem", "every certificate must hold an RSA public key")
			}
			serials = append(serials, certSerial(c))
		}
		if !v.has("platform_serials") {
			v["platform_serials"] = serials
		} else {
			given, err := normalizeSerials(v.list("platform_serials"))
			if err != nil {
				return err
			}
			for _, s := range given {
				if !slices.Contains(serials, s) {
					return invalidField("platform_serials", "serial "+s+" is not the serial of any certificate in platform_certs_pem; leave platform_serials empty to take them from the certificates")
				}
			}
			v["platform_serials"] = given
		}
	} else if v.has("platform_serials") {
		given, err := normalizeSerials(v.list("platform_serials"))
		if err != nil {
			return err
		}
		v["platform_serials"] = given
	}
	if v.has("public_key_id") || v.has("public_key_pem") {
		if err := required(v, "public_key_id", "public_key_pem"); err != nil {
			return err
		}
		if !pubKeyIDPattern.MatchString(v.str("public_key_id")) {
			return invalidField("public_key_id", `must be "PUB_KEY_ID_" followed by digits, as shown next to the WeChat Pay public key in the merchant platform`)
		}
		if err := checkPublicKey(v.str("public_key_pem")); err != nil {
			return invalidField("public_key_pem", err.Error())
		}
	}
	if !v.has("public_key_id") && !v.has("platform_serials") {
		return invalidField("public_key_id", "set the WeChat Pay public key (public_key_id and public_key_pem) or the platform certificates (platform_certs_pem), so that WeChat Pay's answers can be verified")
	}
	return nil
}

func normalizeSerials(in []string) ([]string, error) {
	out := make([]string, 0, len(in))
	for _, s := range in {
		s = strings.ToUpper(s)
		if !serialPattern.MatchString(s) {
			return nil, invalidField("platform_serials", "each entry must be a certificate serial number: 40 hexadecimal characters")
		}
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out, nil
}

// certSerial is a certificate's serial number as WeChat Pay writes it: 40
// upper-case hexadecimal characters.
func certSerial(c *x509.Certificate) string {
	s := strings.ToUpper(hex.EncodeToString(c.SerialNumber.Bytes()))
	if len(s) < 40 {
		s = strings.Repeat("0", 40-len(s)) + s
	}
	return s
}

// parsePrivateKey reads an RSA private key of at least 2048 bits in PKCS#1
// or PKCS#8 PEM. Its errors describe the problem, never the key.
func parsePrivateKey(s string) (*rsa.PrivateKey, error) {
	b, _ := pem.Decode([]byte(s))
	if b == nil {
		return nil, fmt.Errorf("must be a PEM private key (apiclient_key.pem, starting with -----BEGIN PRIVATE KEY-----)")
	}
	var key *rsa.PrivateKey
	switch b.Type {
	case "RSA PRIVATE KEY":
		k, err := x509.ParsePKCS1PrivateKey(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("is not a readable PKCS#1 RSA private key")
		}
		key = k
	case "PRIVATE KEY":
		k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("is not a readable PKCS#8 private key")
		}
		rk, ok := k.(*rsa.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("must be an RSA key (WeChat Pay API v3 signs with RSA)")
		}
		key = rk
	case "ENCRYPTED PRIVATE KEY":
		return nil, fmt.Errorf("is encrypted with a passphrase; export it without one")
	default:
		return nil, fmt.Errorf("must be a private key, not a %q PEM block", b.Type)
	}
	if n := key.N.BitLen(); n < 2048 {
		return nil, fmt.Errorf("must be an RSA key of at least 2048 bits (this one has %d)", n)
	}
	if key.Validate() != nil {
		return nil, fmt.Errorf("is not a consistent RSA private key")
	}
	return key, nil
}

// parseCerts reads one or more PEM certificates.
func parseCerts(s, what string) ([]*x509.Certificate, error) {
	rest := []byte(s)
	var out []*x509.Certificate
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("must hold only certificates (-----BEGIN CERTIFICATE-----), not a %q PEM block", b.Type)
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("holds a certificate that cannot be read")
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("must be %s in PEM form (-----BEGIN CERTIFICATE-----)", what)
	}
	return out, nil
}

// checkPublicKey reads the WeChat Pay public key (pub_key.pem, PKIX).
func checkPublicKey(s string) error {
	b, _ := pem.Decode([]byte(s))
	if b == nil || b.Type != "PUBLIC KEY" {
		return fmt.Errorf("must be the WeChat Pay public key in PEM form (pub_key.pem, -----BEGIN PUBLIC KEY-----)")
	}
	k, err := x509.ParsePKIXPublicKey(b.Bytes)
	if err != nil {
		return fmt.Errorf("is not a readable public key")
	}
	rk, ok := k.(*rsa.PublicKey)
	if !ok {
		return fmt.Errorf("must be an RSA public key")
	}
	if n := rk.N.BitLen(); n < 2048 {
		return fmt.Errorf("must be an RSA key of at least 2048 bits (this one has %d)", n)
	}
	return nil
}
