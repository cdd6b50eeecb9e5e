package wechatpay

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

var authPattern = regexp.MustCompile(`^WECHATPAY2-SHA256-RSA2048 mchid="(\d+)",nonce_str="([0-9A-Za-z]{32})",timestamp="(\d+)",serial_no="([0-9A-F]+)",signature="([A-Za-z0-9+/=]+)"$`)

// verifyAuth checks an Authorization header with crypto/rsa directly over
// the message rebuilt here from the request as the server received it.
func verifyAuth(t *testing.T, auth, method, requestURI string, body []byte) (mchid, ts string) {
	t.Helper()
	m := authPattern.FindStringSubmatch(auth)
	if m == nil {
		t.Fatalf("Authorization %q does not have the documented format", auth)
	}
	msg := method + "\n" + requestURI + "\n" + m[3] + "\n" + m[2] + "\n" + string(body) + "\n"
	sig, err := base64.StdEncoding.DecodeString(m[5])
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(msg))
	if err := rsa.VerifyPKCS1v15(&merchantKey.PublicKey, crypto.SHA256, sum[:], sig); err != nil {
		t.Fatalf("signature does not verify over %q: %v", msg, err)
	}
	if m[4] != testSerial {
		t.Errorf("serial_no = %s, want %s", m[4], testSerial)
	}
	return m[1], m[3]
}

func TestRequestSigning(t *testing.T) {
	type seen struct {
		method, uri, auth, accept, ctype string
		body                             []byte
	}
	got := make(chan seen, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- seen{r.Method, r.RequestURI, r.Header.Get("Authorization"), r.Header.Get("Wechatpay-Serial"), r.Header.Get("Content-Type"), b}
		body := []byte(`{"prepay_id":"wx2014"}`)
		if r.Method == http.MethodGet {
			body = []byte(`{"out_trade_no":"ORDER_123456","trade_state":"NOTPAY","amount":{"total":1}}`)
		}
		for k, v := range signHeaders(t, platKey, platSerial, time.Now(), body) {
			w.Header()[k] = v
		}
		w.Write(body)
	}))
	defer srv.Close()

	tests := []struct {
		name       string
		base       string
		pub        bool
		call       func(c *Client) error
		method     string
		uri        string
		wantAccept string
		bodyHas    string
	}{
		{"GET with query", srv.URL, false, func(c *Client) error { _, err := c.QueryByOutTradeNo(context.Background(), "ORDER_123456"); return err },
			"GET", "/v3/pay/transactions/out-trade-no/ORDER_123456?mchid=1900000001", platSerial, ""},
		{"path prefix is signed", srv.URL + "/proxy/", false, func(c *Client) error { _, err := c.QueryByOutTradeNo(context.Background(), "ORDER_123456"); return err },
			"GET", "/proxy/v3/pay/transactions/out-trade-no/ORDER_123456?mchid=1900000001", platSerial, ""},
		{"POST body, public key accepted", srv.URL, true, func(c *Client) error {
			_, err := c.Prepay(context.Background(), PrepayRequest{OutTradeNo: "ORDER_123456", Description: "测试 tea", Amount: 100,
				OpenID: "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o", NotifyURL: "https://shop.example/notify"})
			return err
		}, "POST", "/v3/pay/transactions/jsapi", testPubKeyID, `"amount":{"total":100,"currency":"CNY"}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := testClient(t, tc.base, true, tc.pub)
			before := time.Now().Unix()
			if err := tc.call(c); err != nil {
				t.Fatal(err)
			}
			s := <-got
			if s.method != tc.method || s.uri != tc.uri {
				t.Fatalf("request = %s %s, want %s %s", s.method, s.uri, tc.method, tc.uri)
			}
			mchid, ts := verifyAuth(t, s.auth, s.method, s.uri, s.body)
			if mchid != "1900000001" {
				t.Errorf("mchid = %s", mchid)
			}
			if n, _ := strconv.ParseInt(ts, 10, 64); n < before || n > time.Now().Unix() {
				t.Errorf("timestamp %s is not now", ts)
			}
			if s.accept != tc.wantAccept {
				t.Errorf("Wechatpay-Serial = %q, want %q", s.accept, tc.wantAccept)
			}
			if !strings.Contains(string(s.body), tc.bodyHas) {
				t.Errorf("body %s lacks %s", s.body, tc.bodyHas)
			}
			if tc.method == "GET" && (len(s.body) != 0 || s.ctype != "") {
				t.Errorf("GET sent a body %q or Content-Type %q", s.body, s.ctype)
			}
		})
	}
}

func TestPayParamsSignature(t *testing.T) {
	c := testClient(t, "http://127.0.0.1:1", true, false)
	p, err := c.PayParams("wx201410272009395522657a690389285100", "")
	if err != nil {
		t.Fatal(err)
	}
	if p.AppID != "wx0123456789abcdef" || p.Package != "prepay_id=wx201410272009395522657a690389285100" || p.SignType != "RSA" || len(p.NonceStr) != 32 {
		t.Fatalf("params = %+v", p)
	}
	msg := p.AppID + "\n" + p.TimeStamp + "\n" + p.NonceStr + "\n" + p.Package + "\n"
	sig, _ := base64.StdEncoding.DecodeString(p.PaySign)
	sum := sha256.Sum256([]byte(msg))
	if err := rsa.VerifyPKCS1v15(&merchantKey.PublicKey, crypto.SHA256, sum[:], sig); err != nil {
		t.Fatalf("paySign does not verify: %v", err)
	}
	p2, _ := c.PayParams("wx201410272009395522657a690389285100", "")
	if p2.NonceStr == p.NonceStr {
		t.Error("nonce repeated")
	}
}

func TestVerifyAnswers(t *testing.T) {
	testKeys(t)
	body := []byte(`{"prepay_id":"wx201410272009395522657a690389285100"}`)
	now := time.Now()
	otherKey := merchantKey // a key WeChat Pay does not have
	tests := []struct {
		name   string
		certs  bool
		pub    bool
		header func() http.Header
		body   []byte
		reason SignatureReason // "" = valid
	}{
		{"platform certificate", true, false, func() http.Header { return signHeaders(t, platKey, platSerial, now, body) }, body, ""},
		{"lower-case serial", true, false, func() http.Header { return signHeaders(t, platKey, strings.ToLower(platSerial), now, body) }, body, ""},
		{"public key", false, true, func() http.Header { return signHeaders(t, pubKey, testPubKeyID, now, body) }, body, ""},
		{"both: certificate", true, true, func() http.Header { return signHeaders(t, platKey, platSerial, now, body) }, body, ""},
		{"both: public key", true, true, func() http.Header { return signHeaders(t, pubKey, testPubKeyID, now, body) }, body, ""},
		{"empty body (204)", true, false, func() http.Header { return signHeaders(t, platKey, platSerial, now, nil) }, nil, ""},
		{"4m58s old", true, false, func() http.Header { return signHeaders(t, platKey, platSerial, now.Add(-298*time.Second), body) }, body, ""},
		{"5m old", true, false, func() http.Header { return signHeaders(t, platKey, platSerial, now.Add(-300*time.Second), body) }, body, ReasonTimestamp},
		{"5m ahead", true, false, func() http.Header { return signHeaders(t, platKey, platSerial, now.Add(300*time.Second), body) }, body, ReasonTimestamp},
		{"public key id, certificates only", true, false, func() http.Header { return signHeaders(t, pubKey, testPubKeyID, now, body) }, body, ReasonUnknownSerial},
		{"certificate serial, public key only", false, true, func() http.Header { return signHeaders(t, platKey, platSerial, now, body) }, body, ReasonUnknownSerial},
		{"unknown serial", true, true, func() http.Header {
			return signHeaders(t, platKey, "1111111111111111111111111111111111111111", now, body)
		}, body, ReasonUnknownSerial},
		{"wrong key", true, false, func() http.Header { return signHeaders(t, otherKey, platSerial, now, body) }, body, ReasonBadSignature},
		{"public key signs, certificate serial", true, true, func() http.Header { return signHeaders(t, pubKey, platSerial, now, body) }, body, ReasonBadSignature},
		{"tampered body", true, false, func() http.Header { return signHeaders(t, platKey, platSerial, now, body) }, []byte(`{"prepay_id":"wx201410272009395522657a690389285101"}`), ReasonBadSignature},
		{"probe", true, false, func() http.Header {
			h := signHeaders(t, platKey, platSerial, now, body)
			h.Set("Wechatpay-Signature", "WECHATPAY/SIGNTEST/"+h.Get("Wechatpay-Signature"))
			return h
		}, body, ReasonProbe},
		{"not base64", true, false, func() http.Header {
			h := signHeaders(t, platKey, platSerial, now, body)
			h.Set("Wechatpay-Signature", "!!!")
			return h
		}, body, ReasonBadSignature},
		{"timestamp not a number", true, false, func() http.Header {
			h := signHeaders(t, platKey, platSerial, now, body)
			h.Set("Wechatpay-Timestamp", "12e9")
			return h
		}, body, ReasonTimestamp},
		{"no headers", true, false, func() http.Header { return http.Header{} }, body, ReasonMissingHeaders},
		{"no nonce", true, false, func() http.Header {
			h := signHeaders(t, platKey, platSerial, now, body)
			h.Del("Wechatpay-Nonce")
			return h
		}, body, ReasonMissingHeaders},
		{"other algorithm", true, false, func() http.Header {
			h := signHeaders(t, platKey, platSerial, now, body)
			h.Set("Wechatpay-Signature-Type", "WECHATPAY2-SM2-WITH-SM3")
			return h
		}, body, ReasonBadSignature},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := testClient(t, "http://127.0.0.1:1", tc.certs, tc.pub)
			err := c.verifier.verify(time.Now(), tc.header(), tc.body)
			if tc.reason == "" {
				if err != nil {
					t.Fatalf("verify: %v", err)
				}
				return
			}
			var se *SignatureError
			if !errors.As(err, &se) || se.Reason != tc.reason || !errors.Is(err, ErrInvalidSignature) {
				t.Fatalf("verify = %v, want reason %s", err, tc.reason)
			}
		})
	}
}

func TestErrorClasses(t *testing.T) {
	testKeys(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		no := strings.TrimPrefix(r.URL.Path, "/v3/pay/transactions/out-trade-no/")
		sign := func(b []byte) {
			for k, v := range signHeaders(t, platKey, platSerial, time.Now(), b) {
				w.Header()[k] = v
			}
		}
		switch no {
		case "NOTFOUND":
			w.Header().Set("Request-ID", "08ABC")
			w.WriteHeader(404)
			w.Write([]byte(`{"code":"ORDER_NOT_EXIST","message":"订单不存在"}`))
		case "SYSERR":
			w.WriteHeader(500)
			w.Write([]byte(`{"code":"SYSTEM_ERROR","message":"系统繁忙,请稍后重试"}`))
		case "LIMITED":
			w.WriteHeader(429)
			w.Write([]byte(`{"code":"FREQUENCY_LIMITED","message":"频率超限"}`))
		case "GATEWAY":
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(502)
			w.Write([]byte(`<html>bad gateway</html>`))
		case "UNSIGNED":
			w.Write([]byte(`{"out_trade_no":"UNSIGNED","trade_state":"SUCCESS"}`))
		case "NOTJSON":
			b := []byte(`<xml>hello</xml>`)
			sign(b)
			w.Write(b)
		case "SLOWLY":
			time.Sleep(300 * time.Millisecond)
		case "HUGEANSWER":
			b := []byte(`{"out_trade_no":"` + strings.Repeat("x", 2<<20) + `"}`)
			sign(b)
			w.Write(b)
		}
	}))
	defer srv.Close()
	c := testClient(t, srv.URL, true, false)
	c.http = &http.Client{Timeout: 100 * time.Millisecond}
	tests := []struct {
		no          string
		code        string
		status      int
		unavailable bool
		badSig      bool
	}{
		{"NOTFOUND", "ORDER_NOT_EXIST", 404, false, false},
		{"SYSERR", "SYSTEM_ERROR", 500, true, false},
		{"LIMITED", "FREQUENCY_LIMITED", 429, true, false},
		{"GATEWAY", "", 0, true, false},
		{"UNSIGNED", "", 0, false, true},
		{"NOTJSON", "", 0, true, false},
		{"SLOWLY", "", 0, true, false},
		{"HUGEANSWER", "", 0, true, false},
	}
	for _, tc := range tests {
		t.Run(tc.no, func(t *testing.T) {
			_, err := c.QueryByOutTradeNo(context.Background(), tc.no)
			if err == nil {
				t.Fatal("no error")
			}
			var ae *APIError
			if isAPI := errors.As(err, &ae); isAPI != (tc.code != "") {
				t.Fatalf("err = %v; APIError = %v, want %v", err, isAPI, tc.code != "")
			}
			if tc.code != "" && (ae.Code != tc.code || ae.Status != tc.status || !IsCode(err, tc.code)) {
				t.Errorf("APIError = %+v", ae)
			}
			if errors.Is(err, ErrUnavailable) != tc.unavailable {
				t.Errorf("errors.Is(%v, ErrUnavailable) = %v", err, !tc.unavailable)
			}
			if errors.Is(err, ErrInvalidSignature) != tc.badSig {
				t.Errorf("errors.Is(%v, ErrInvalidSignature) = %v", err, !tc.badSig)
			}
			if strings.Contains(err.Error(), testAPIv3Key) || strings.Contains(err.Error(), "PRIVATE") {
				t.Errorf("error leaks a secret: %v", err)
			}
		})
	}
	if _, err := c.QueryByOutTradeNo(context.Background(), "NOTFOUND"); err != nil {
		var ae *APIError
		errors.As(err, &ae)
		if ae.RequestID != "08ABC" {
			t.Errorf("RequestID = %q", ae.RequestID)
		}
	}
}

func TestConfigErrors(t *testing.T) {
	testKeys(t)
	base := Config{Mode: ModeDirect, MchID: "1900000001", AppID: "wx0123456789abcdef", SerialNo: testSerial, PrivateKey: merchantKey, APIv3Key: []byte(testAPIv3Key)}
	tests := []struct {
		name string
		mod  func(*Config)
	}{
		{"mode", func(c *Config) { c.Mode = "other" }},
		{"apiv3 key", func(c *Config) { c.APIv3Key = []byte("short") }},
		{"no key", func(c *Config) { c.PrivateKey = nil }},
		{"partner without sub", func(c *Config) { c.Mode = ModePartner }},
		{"direct with sub", func(c *Config) { c.SubMchID = "1900000002" }},
		{"pub key without id", func(c *Config) { c.PublicKey = &pubKey.PublicKey }},
		{"bad pub key id", func(c *Config) { c.PublicKey, c.PublicKeyID = &pubKey.PublicKey, "KEY" }},
		{"base url", func(c *Config) { c.BaseURL = "ftp://x" }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := base
			tc.mod(&cfg)
			if _, err := New(cfg); !errors.Is(err, ErrConfig) {
				t.Fatalf("New = %v, want ErrConfig", err)
			}
		})
	}
	// Calls that need a verifier refuse to run without one.
	c, err := New(base)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.QueryByOutTradeNo(context.Background(), "ORDER_1234"); !errors.Is(err, ErrConfig) {
		t.Errorf("query without verifier = %v, want ErrConfig", err)
	}
}
