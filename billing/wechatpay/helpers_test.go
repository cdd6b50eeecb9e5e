package wechatpay

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"math/big"
	"net/http"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"
)

// Keys are generated once per test binary: 2048-bit generation is slow.
var (
	keysOnce                     sync.Once
	merchantKey, platKey, pubKey *rsa.PrivateKey
	platCert                     *x509.Certificate
)

const (
	testSerial   = "5157F09EFDC096DE15EBE81A47057A7232F1B8E1"
	testPubKeyID = "PUB_KEY_ID_0114218000012025081200001234567890"
	testAPIv3Key = "0123456789abcdefABCDEF0123456789"
)

func testKeys(t testing.TB) {
	t.Helper()
	keysOnce.Do(func() {
		// Fixed test keys (testdata/*.key.pem, made with openssl genrsa
		// 2048): generating 2048-bit keys per run, or per fuzz worker, is
		// slow.
		var err error
		for name, k := range map[string]**rsa.PrivateKey{"merchant": &merchantKey, "platform": &platKey, "pubkey": &pubKey} {
			b, rerr := os.ReadFile("testdata/" + name + ".key.pem")
			if rerr != nil {
				panic(rerr)
			}
			blk, _ := pem.Decode(b)
			if *k, err = x509.ParsePKCS1PrivateKey(blk.Bytes); err != nil {
				panic(err)
			}
		}
		serial, _ := new(big.Int).SetString("477ED0046A54F0360A72A63A8F2816312AAEAB53", 16)
		tmpl := &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: "test platform"},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour)}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &platKey.PublicKey, platKey)
		if err != nil {
			panic(err)
		}
		if platCert, err = x509.ParseCertificate(der); err != nil {
			panic(err)
		}
	})
}

const platSerial = "477ED0046A54F0360A72A63A8F2816312AAEAB53"

// testClient is a direct merchant client trusting the test platform
// certificate and/or public key.
func testClient(t testing.TB, base string, certs, pub bool) *Client {
	t.Helper()
	testKeys(t)
	cfg := Config{BaseURL: base, Mode: ModeDirect, MchID: "1900000001", AppID: "wx0123456789abcdef",
		SerialNo: testSerial, PrivateKey: merchantKey, APIv3Key: []byte(testAPIv3Key)}
	if certs {
		cfg.PlatformCerts = map[string]*x509.Certificate{platSerial: platCert}
	}
	if pub {
		cfg.PublicKeyID, cfg.PublicKey = testPubKeyID, &pubKey.PublicKey
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// signHeaders signs body as WeChat Pay would, computed here independently
// of the package: SHA-256 over "ts\nnonce\nbody\n", PKCS#1 v1.5.
func signHeaders(t testing.TB, key *rsa.PrivateKey, serial string, ts time.Time, body []byte) http.Header {
	t.Helper()
	nonce := "fdasfjihihihlkja484w"
	tsStr := strconv.FormatInt(ts.Unix(), 10)
	sum := sha256.Sum256([]byte(tsStr + "\n" + nonce + "\n" + string(body) + "\n"))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	h := http.Header{}
	h.Set("Wechatpay-Serial", serial)
	h.Set("Wechatpay-Signature", base64.StdEncoding.EncodeToString(sig))
	h.Set("Wechatpay-Timestamp", tsStr)
	h.Set("Wechatpay-Nonce", nonce)
	return h
}
