package sandbox

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestRetryScheduleIsTheDocumentedOne(t *testing.T) {
	var total time.Duration
	for _, d := range retrySchedule {
		total += d
	}
	if len(retrySchedule) != 15 || total != 24*time.Hour+4*time.Minute {
		t.Errorf("%d retries over %s, want 15 over 24h4m", len(retrySchedule), total)
	}
}

func TestPayMerchantsAreDerived(t *testing.T) {
	e := newEnv(t)
	a, err := e.srv.PayMerchant("tenant:7", PayModePartner)
	if err != nil {
		t.Fatal(err)
	}
	// Another server with the same seed derives the same account; another
	// key gives another one.
	other, _ := New(Options{Seed: testSeed})
	b, _ := other.PayMerchant("tenant:7", PayModePartner)
	if a.MchID != b.MchID || a.SubMchID != b.SubMchID || a.PrivateKeyPEM != b.PrivateKeyPEM || a.APIv3Key != b.APIv3Key || a.CertSerial != b.CertSerial || a.PublicKeyID != b.PublicKeyID {
		t.Error("the same seed and key derived different accounts")
	}
	c, _ := e.srv.PayMerchant("tenant:8", PayModePartner)
	if c.MchID == a.MchID || c.APIv3Key == a.APIv3Key || c.PrivateKeyPEM == a.PrivateKeyPEM {
		t.Error("two keys derived the same account")
	}
	if a.Mode != "partner" || len(a.MchID) != 10 || !strings.HasPrefix(a.MchID, mchServiceProvider) || !strings.HasPrefix(a.SubMchID, mchSub) || !validAppID(a.SpAppID) {
		t.Errorf("account = %v", a)
	}
	if len(a.APIv3Key) != 32 || len(a.CertSerial) != 40 || !strings.HasPrefix(a.PublicKeyID, "PUB_KEY_ID_") || len(a.PlatformSerials) != 1 {
		t.Errorf("account = %v (%d, %d)", a, len(a.APIv3Key), len(a.CertSerial))
	}
	// The private key belongs to the certificate, whose serial is cert_serial.
	blk, _ := pem.Decode([]byte(a.MerchantCertPEM))
	cert, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	blk, _ = pem.Decode([]byte(a.PrivateKeyPEM))
	key, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if !key.(*rsa.PrivateKey).PublicKey.Equal(cert.PublicKey) {
		t.Error("private key does not match the certificate")
	}
	if got := strings.ToUpper(cert.SerialNumber.Text(16)); got != a.CertSerial {
		t.Errorf("certificate serial %s, cert_serial %s", got, a.CertSerial)
	}
	if time.Until(cert.NotAfter) < 10*365*24*time.Hour {
		t.Errorf("certificate expires %s", cert.NotAfter)
	}
	// Merchant ids check: the kind, the MAC digits, the binding of a
	// sub-merchant to its service provider.
	if !e.srv.validMch(a.SubMchID, mchSub, a.MchID) || e.srv.validMch(a.SubMchID, mchSub, c.MchID) {
		t.Error("sub-merchant binding not checked")
	}
	bad := a.MchID[:8] + string('0'+(a.MchID[8]-'0'+1)%10) + a.MchID[9:]
	if e.srv.signingKind(bad) != "" || e.srv.signingKind(a.MchID) != mchServiceProvider {
		t.Error("merchant id check digits not checked")
	}
}

func TestPayControlErrors(t *testing.T) {
	e := newEnv(t)
	m, _ := e.srv.PayMerchant("k", PayModeDirect)
	tests := []struct {
		name   string
		path   string
		body   string
		status int
		msg    string
	}{
		{"merchant mode", "/sandbox/v1/pay/merchants", `{"key":"k","mode":"other"}`, 400, `"mode"`},
		{"merchant key", "/sandbox/v1/pay/merchants", `{"mode":"direct"}`, 400, `"key"`},
		{"pay package", "/sandbox/v1/pay", `{"appId":"wx","timeStamp":"1","nonceStr":"n","package":"x","signType":"RSA","paySign":"x"}`, 400, `"package"`},
		{"pay sign type", "/sandbox/v1/pay", `{"appId":"wx","timeStamp":"1","nonceStr":"n","package":"prepay_id=x","signType":"MD5","paySign":"x"}`, 400, `"signType"`},
		{"pay unknown prepay", "/sandbox/v1/pay", `{"appId":"wx","timeStamp":"1","nonceStr":"n","package":"prepay_id=wx1","signType":"RSA","paySign":"x"}`, 404, "prepay_id"},
		{"pay unknown field", "/sandbox/v1/pay", `{"app_id":"wx"}`, 400, `"app_id"`},
		{"pay notify option", "/sandbox/v1/pay", `{"package":"prepay_id=x","notify":{"duplicate":99}}`, 400, `"duplicate"`},
		{"settings mchid", "/sandbox/v1/pay/notify-settings", `{"mchid":"1900000000"}`, 400, `"mchid"`},
		{"settings scale", "/sandbox/v1/pay/notify-settings", `{"mchid":"` + m.MchID + `","time_scale":2}`, 400, `"time_scale"`},
		{"settings sign_with", "/sandbox/v1/pay/notify-settings", `{"mchid":"` + m.MchID + `","sign_with":"sm2"}`, 400, `"sign_with"`},
		{"release order", "/sandbox/v1/pay/notify-release", `{"mchid":"` + m.MchID + `","order":"random"}`, 400, `"order"`},
		{"fault api", "/sandbox/v1/pay/faults", `{"mchid":"` + m.MchID + `","api":"pay","status":500,"code":"SYSTEM_ERROR"}`, 400, `"api"`},
		{"fault status", "/sandbox/v1/pay/faults", `{"mchid":"` + m.MchID + `","api":"refund","status":200,"code":"X"}`, 400, `"status"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := e.controlRaw(http.MethodPost, tc.path, "application/json", []byte(tc.body))
			if r.Status != tc.status || !strings.Contains(r.errorMessage(), tc.msg) {
				t.Errorf("= %d %v, want %d mentioning %s", r.Status, r.Body, tc.status, tc.msg)
			}
		})
	}
	if r := e.controlRaw(http.MethodGet, "/sandbox/v1/pay", "", nil); r.Status != http.StatusMethodNotAllowed {
		t.Errorf("GET /sandbox/v1/pay = %d", r.Status)
	}
}

func TestPayAPIRefusesUnsignedRequests(t *testing.T) {
	e := newEnv(t)
	for _, path := range []string{"/v3/pay/transactions/out-trade-no/ABCDEF?mchid=1900000000", "/v3/certificates", "/v3/nope"} {
		req, _ := http.NewRequest(http.MethodGet, e.ts.URL+path, nil)
		r := e.do(req)
		if r.Status != http.StatusUnauthorized || string(r.Raw["code"]) != `"SIGN_ERROR"` {
			t.Errorf("%s = %d %v, want 401 SIGN_ERROR", path, r.Status, r.Raw)
		}
	}
}
