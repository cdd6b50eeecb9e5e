package tenant

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"sync"
	"testing"
	"time"
)

// PayFixture is key material for WeChat Pay credentials in tests: a merchant
// key (PKCS#1 and PKCS#8) with its certificate, a platform certificate and a
// WeChat Pay public key, and some wrong material. It is made once per test
// binary; RSA key generation is slow under the race detector.
type PayFixture struct {
	KeyPKCS1, KeyPKCS8  string
	CertPEM, Serial     string
	ExpiredCertPEM      string // the merchant key's certificate, expired
	OtherKeyPKCS8       string // a 2048-bit key that matches no certificate here
	SmallKeyPKCS8       string // 1024 bits
	PlatformCertPEM     string
	PlatformSerial      string
	PublicKeyPEM        string
	EncryptedKeyPEM     string
	LeadingZeroCertPEM  string // certificate whose serial starts with a zero nibble
	LeadingZeroSerial   string
	LeadingZeroCertsKey string // its key (PKCS#8)
}

var (
	payOnce    sync.Once
	payFixture *PayFixture
)

// PayFixtureFor returns the shared PayFixture (exported for the tenant_test package).
func PayFixtureFor(t testing.TB) *PayFixture {
	t.Helper()
	payOnce.Do(func() { payFixture = makePayFixture() })
	if payFixture == nil {
		t.Fatal("making the WeChat Pay key fixture failed")
	}
	return payFixture
}

func pemOf(typ string, b []byte) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: b}))
}

func mustKey(bits int) *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		panic(err)
	}
	return k
}

func pkcs8(k *rsa.PrivateKey) string {
	b, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		panic(err)
	}
	return pemOf("PRIVATE KEY", b)
}

func cert(k *rsa.PrivateKey, serial []byte, notAfter time.Time, cn string) string {
	tmpl := &x509.Certificate{
		SerialNumber: new(big.Int).SetBytes(serial),
		Subject:      pkix.Name{CommonName: cn, Organization: []string{"Tenpay.com"}},
		NotBefore:    notAfter.AddDate(-5, 0, 0),
		NotAfter:     notAfter,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		panic(err)
	}
	return pemOf("CERTIFICATE", der)
}

func makePayFixture() *PayFixture {
	merchant, platform := mustKey(2048), mustKey(2048)
	f := &PayFixture{}
	f.KeyPKCS1 = pemOf("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(merchant))
	f.KeyPKCS8 = pkcs8(merchant)
	serial := []byte{0x47, 0x7E, 0xD0, 0x04, 0x6A, 0x54, 0xF0, 0x36, 0x0A, 0x72, 0xA6, 0x3A, 0x8F, 0x28, 0x16, 0x31, 0x2A, 0xAE, 0xAB, 0x53}
	f.CertPEM = cert(merchant, serial, time.Now().AddDate(4, 0, 0), "1900000001")
	f.Serial = "477ED0046A54F0360A72A63A8F2816312AAEAB53"
	f.ExpiredCertPEM = cert(merchant, serial, time.Now().AddDate(0, 0, -1), "1900000001")
	f.OtherKeyPKCS8 = pkcs8(platform)
	f.SmallKeyPKCS8 = pkcs8(mustKey(1024))
	f.PlatformCertPEM = cert(platform, []byte{0x5A, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x0E, 0x0F, 0x10, 0x11, 0x12, 0x13},
		time.Now().AddDate(4, 0, 0), "Tenpay.com Root CA")
	f.PlatformSerial = "5A0102030405060708090A0B0C0D0E0F10111213"
	pub, err := x509.MarshalPKIXPublicKey(&platform.PublicKey)
	if err != nil {
		panic(err)
	}
	f.PublicKeyPEM = pemOf("PUBLIC KEY", pub)
	f.EncryptedKeyPEM = pemOf("ENCRYPTED PRIVATE KEY", []byte{0x30, 0x00})
	f.LeadingZeroCertsKey = f.KeyPKCS8
	f.LeadingZeroCertPEM = cert(merchant, []byte{0x0A, 0xBC, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x0E, 0x0F, 0x10, 0x11, 0x12},
		time.Now().AddDate(4, 0, 0), "1900000001")
	f.LeadingZeroSerial = "0ABC0102030405060708090A0B0C0D0E0F101112"
	return f
}

// WeChatPaySet is a valid direct-mode WeChat Pay set in public key mode.
func (f *PayFixture) WeChatPaySet(apiv3Key string) map[string]any {
	return map[string]any{
		"mode": "direct", "mch_id": "1900000001", "cert_serial": f.Serial,
		"apiv3_key": apiv3Key, "private_key_pem": f.KeyPKCS8, "merchant_cert_pem": f.CertPEM,
		"public_key_id": "PUB_KEY_ID_0000000000000024101100397200000006", "public_key_pem": f.PublicKeyPEM,
	}
}
