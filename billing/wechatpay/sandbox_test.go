package wechatpay_test

import (
	"bytes"
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minishop/minishop/billing/wechatpay"
	"github.com/minishop/minishop/internal/sandbox"
)

// These tests run the client against the sandbox over real HTTP: real RSA
// signatures both ways, real AES-GCM, notifications posted to a real
// notify_url that verifies them with ParseNotification.

var seed = []byte("wechatpay-sandbox-test-seed-0123")

type world struct {
	t   *testing.T
	sb  *sandbox.Server
	srv *httptest.Server
}

func newWorld(t *testing.T) *world {
	t.Helper()
	sb, err := sandbox.New(sandbox.Options{Seed: seed, PayTimeScale: 0.001})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sb.Handler())
	t.Cleanup(func() { sb.StopPay(); srv.Close() })
	return &world{t: t, sb: sb, srv: srv}
}

// control posts to a sandbox control endpoint and decodes the answer.
func (w *world) control(path string, in, out any) int {
	w.t.Helper()
	b, _ := json.Marshal(in)
	resp, err := http.Post(w.srv.URL+path, "application/json", bytes.NewReader(b))
	if err != nil {
		w.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			w.t.Fatalf("%s: %v: %s", path, err, raw)
		}
	}
	return resp.StatusCode
}

type merchant struct {
	Mode             string   `json:"mode"`
	MchID            string   `json:"mch_id"`
	SubMchID         string   `json:"sub_mch_id"`
	SpAppID          string   `json:"sp_appid"`
	CertSerial       string   `json:"cert_serial"`
	APIv3Key         string   `json:"apiv3_key"`
	PrivateKeyPEM    string   `json:"private_key_pem"`
	MerchantCertPEM  string   `json:"merchant_cert_pem"`
	PlatformSerials  []string `json:"platform_serials"`
	PlatformCertsPEM string   `json:"platform_certs_pem"`
	PublicKeyID      string   `json:"public_key_id"`
	PublicKeyPEM     string   `json:"public_key_pem"`
}

func (w *world) merchant(key, mode string) merchant {
	w.t.Helper()
	var m merchant
	if st := w.control("/sandbox/v1/pay/merchants", map[string]string{"key": key, "mode": mode}, &m); st != 200 {
		w.t.Fatalf("merchants: %d", st)
	}
	return m
}

// app returns a sandbox Mini Program and an openid of one of its users.
func (w *world) app(key, user string) (appID, openID string) {
	w.t.Helper()
	var r struct {
		AppID  string `json:"appid"`
		OpenID string `json:"openid"`
	}
	w.control("/sandbox/v1/apps", map[string]string{"key": key}, &r)
	appID = r.AppID
	w.control("/sandbox/v1/wx-login-code", map[string]string{"appid": appID, "user": user}, &r)
	return appID, r.OpenID
}

type keys struct{ certs, pub bool }

// config builds the client configuration from the sandbox's merchant,
// parsing its PEM blocks as a tenant's credentials would be.
func (w *world) config(m merchant, k keys) wechatpay.Config {
	w.t.Helper()
	blk, _ := pem.Decode([]byte(m.PrivateKeyPEM))
	pk, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		w.t.Fatal(err)
	}
	cfg := wechatpay.Config{BaseURL: w.srv.URL, SerialNo: m.CertSerial, PrivateKey: pk.(*rsa.PrivateKey), APIv3Key: []byte(m.APIv3Key)}
	if k.certs {
		blk, _ = pem.Decode([]byte(m.PlatformCertsPEM))
		c, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			w.t.Fatal(err)
		}
		cfg.PlatformCerts = map[string]*x509.Certificate{m.PlatformSerials[0]: c}
	}
	if k.pub {
		blk, _ = pem.Decode([]byte(m.PublicKeyPEM))
		pub, err := x509.ParsePKIXPublicKey(blk.Bytes)
		if err != nil {
			w.t.Fatal(err)
		}
		cfg.PublicKeyID, cfg.PublicKey = m.PublicKeyID, pub.(*rsa.PublicKey)
	}
	return cfg
}

func newClient(t *testing.T, cfg wechatpay.Config) *wechatpay.Client {
	t.Helper()
	c, err := wechatpay.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// receiver is a merchant's notify_url: it verifies and decrypts with
// ParseNotification, answers 204 (or 401/400) and records what came.
type receiver struct {
	srv  *httptest.Server
	mu   sync.Mutex
	ok   []*wechatpay.Notification
	bad  []error
	fail int // answer 500 to this many valid notifications first
	got  chan struct{}
}

func newReceiver(t *testing.T, c **wechatpay.Client) *receiver {
	r := &receiver{got: make(chan struct{}, 100)}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		n, err := (*c).ParseNotification(req.Header, body)
		r.mu.Lock()
		defer r.mu.Unlock()
		switch {
		case errors.Is(err, wechatpay.ErrInvalidSignature):
			r.bad = append(r.bad, err)
			w.WriteHeader(http.StatusUnauthorized)
			w.Write([]byte(`{"code":"FAIL","message":"签名错误"}`))
			return
		case err != nil:
			r.bad = append(r.bad, err)
			w.WriteHeader(http.StatusBadRequest)
			return
		case r.fail > 0:
			r.fail--
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		r.ok = append(r.ok, n)
		w.WriteHeader(http.StatusNoContent)
		r.got <- struct{}{}
	}))
	t.Cleanup(r.srv.Close)
	return r
}

// wait waits for n more valid notifications.
func (r *receiver) wait(t *testing.T, n int) []*wechatpay.Notification {
	t.Helper()
	for range n {
		select {
		case <-r.got:
		case <-time.After(10 * time.Second):
			t.Fatalf("notification not received (bad ones: %v)", r.bad)
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*wechatpay.Notification(nil), r.ok...)
}

func (w *world) pay(p *wechatpay.PayParams, notify map[string]any) (int, map[string]any) {
	w.t.Helper()
	b, _ := json.Marshal(p)
	var in map[string]any
	json.Unmarshal(b, &in)
	if notify != nil {
		in["notify"] = notify
	}
	var out map[string]any
	st := w.control("/sandbox/v1/pay", in, &out)
	return st, out
}

type modeCase struct {
	name     string
	mode     string // sandbox merchant mode
	currency string
	mcc      string
	amount   int64
}

func TestPayFlowAllModes(t *testing.T) {
	w := newWorld(t)
	for _, mc := range []modeCase{
		{"direct", sandbox.PayModeDirect, "", "", 12_900},
		{"partner", sandbox.PayModePartner, "", "", 8_800},
		{"global", sandbox.PayModeGlobal, "HKD", "5977", 15_000},
		{"global institution", sandbox.PayModeGlobalInstitution, "JPY", "5411", 3_000},
	} {
		t.Run(mc.name, func(t *testing.T) {
			w := &world{t: t, sb: w.sb, srv: w.srv}
			m := w.merchant("brand:"+mc.name, mc.mode)
			cfg := w.config(m, keys{certs: true})
			appID, openID := w.app("brand:"+mc.name, "alice")
			switch mc.mode {
			case sandbox.PayModeDirect:
				cfg.Mode, cfg.MchID, cfg.AppID = wechatpay.ModeDirect, m.MchID, appID
			case sandbox.PayModeGlobal:
				cfg.Mode, cfg.MchID, cfg.AppID = wechatpay.ModeGlobal, m.MchID, appID
			default:
				cfg.Mode = wechatpay.ModePartner
				if mc.mode == sandbox.PayModeGlobalInstitution {
					cfg.Mode = wechatpay.ModeGlobal
				}
				cfg.SpMchID, cfg.SubMchID, cfg.SpAppID, cfg.SubAppID = m.MchID, m.SubMchID, m.SpAppID, appID
			}
			c := newClient(t, cfg)
			rcv := newReceiver(t, &c)
			ctx := context.Background()
			req := wechatpay.PrepayRequest{OutTradeNo: "MS" + strings.ReplaceAll(mc.name, " ", "") + "0001", Description: "Nordic Skin 面霜",
				Attach: "order:1", NotifyURL: rcv.srv.URL + "/notify", Amount: mc.amount, Currency: mc.currency, OpenID: openID,
				MerchantCategoryCode: mc.mcc, TimeExpire: time.Now().Add(30 * time.Minute)}
			p, err := c.Prepay(ctx, req)
			if err != nil {
				t.Fatal(err)
			}
			if p.Params.AppID != appID || p.Params.Package != "prepay_id="+p.PrepayID {
				t.Fatalf("params = %+v", p.Params)
			}
			// Same order again: same prepay id. Another amount: refused.
			if p2, err := c.Prepay(ctx, req); err != nil || p2.PrepayID != p.PrepayID {
				t.Fatalf("prepay again = %v, %v; want %s", p2, err, p.PrepayID)
			}
			other := req
			other.Amount++
			if _, err := c.Prepay(ctx, other); !wechatpay.IsCode(err, "OUT_TRADE_NO_USED") {
				t.Fatalf("prepay with another amount = %v", err)
			}
			if tx, err := c.QueryByOutTradeNo(ctx, req.OutTradeNo); err != nil || tx.TradeState != wechatpay.StateNotPay || tx.Paid() {
				t.Fatalf("query before paying = %+v, %v", tx, err)
			}

			if st, out := w.pay(p.Params, nil); st != 200 {
				t.Fatalf("pay: %d %v", st, out)
			}
			ns := rcv.wait(t, 1)
			n := ns[0]
			tx := n.Transaction
			if n.EventType != wechatpay.EventTransactionSuccess || tx == nil {
				t.Fatalf("notification = %+v", n)
			}
			if tx.OutTradeNo != req.OutTradeNo || tx.TradeState != wechatpay.StateSuccess || tx.Amount.Total != mc.amount || tx.Attach != "order:1" || tx.TransactionID == "" {
				t.Errorf("transaction = %+v", tx)
			}
			if cfg.SubMchID != "" {
				if tx.SpMchID != m.MchID || tx.SubMchID != m.SubMchID || tx.Payer.SubOpenID != openID || tx.SubAppID != appID {
					t.Errorf("partner transaction = %+v", tx)
				}
			} else if tx.MchID != m.MchID || tx.AppID != appID || tx.Payer.OpenID != openID {
				t.Errorf("transaction = %+v", tx)
			}
			if mc.currency != "" && (tx.Amount.Currency != mc.currency || tx.Amount.PayerCurrency != "CNY" || tx.Amount.PayerTotal <= 0 || tx.Amount.ExchangeRate == nil) {
				t.Errorf("global amount = %+v", tx.Amount)
			}
			byID, err := c.QueryByTransactionID(ctx, tx.TransactionID)
			if err != nil || byID.TradeState != wechatpay.StateSuccess || byID.OutTradeNo != req.OutTradeNo {
				t.Fatalf("query by id = %+v, %v", byID, err)
			}
			if _, err := c.Prepay(ctx, req); !wechatpay.IsCode(err, "ORDERPAID") {
				t.Errorf("prepay of a paid order = %v", err)
			}
			if err := c.Close(ctx, req.OutTradeNo); !wechatpay.IsCode(err, "ORDERPAID") {
				t.Errorf("close of a paid order = %v", err)
			}
			if st, _ := w.pay(p.Params, nil); st != http.StatusNotFound && st != http.StatusConflict {
				t.Errorf("paying twice: %d", st)
			}

			// Refunds: partial, the same again (idempotent), too much, the rest.
			cur := mc.currency
			r1 := wechatpay.RefundRequest{OutTradeNo: req.OutTradeNo, OutRefundNo: req.OutTradeNo + "R1", Refund: 1000, Total: mc.amount, Currency: cur, NotifyURL: rcv.srv.URL + "/refund", Reason: "尺码不合适"}
			rf, err := c.Refund(ctx, r1)
			if err != nil || rf.Status != wechatpay.RefundProcessing || rf.Amount.Refund != 1000 || rf.RefundID == "" {
				t.Fatalf("refund = %+v, %v", rf, err)
			}
			again, err := c.Refund(ctx, r1)
			if err != nil || again.RefundID != rf.RefundID {
				t.Fatalf("refund again = %+v, %v; want refund %s", again, err, rf.RefundID)
			}
			tooMuch := r1
			tooMuch.OutRefundNo, tooMuch.Refund = req.OutTradeNo+"R2", mc.amount
			if _, err := c.Refund(ctx, tooMuch); !wechatpay.IsCode(err, "INVALID_REQUEST") {
				t.Errorf("refund of more than is left = %v", err)
			}
			rest := r1
			rest.OutRefundNo, rest.Refund, rest.OutTradeNo, rest.TransactionID = req.OutTradeNo+"R3", mc.amount-1000, "", tx.TransactionID
			if _, err := c.Refund(ctx, rest); err != nil {
				t.Fatal(err)
			}
			ns = rcv.wait(t, 2)
			refunded := map[string]int64{}
			for _, n := range ns[1:] {
				if n.EventType != wechatpay.EventRefundSuccess || n.Refund == nil || n.Refund.RefundStatus != wechatpay.RefundSuccess {
					t.Fatalf("refund notification = %+v", n)
				}
				refunded[n.Refund.OutRefundNo] = n.Refund.Amount.Refund
			}
			if refunded[r1.OutRefundNo] != 1000 || refunded[rest.OutRefundNo] != mc.amount-1000 {
				t.Errorf("refund notifications = %v", refunded)
			}
			if q, err := c.QueryRefund(ctx, r1.OutRefundNo); err != nil || q.Status != wechatpay.RefundSuccess || q.SuccessTime == "" {
				t.Errorf("refund query = %+v, %v", q, err)
			}
			if _, err := c.QueryRefund(ctx, "NOSUCHREFUND"); !wechatpay.IsCode(err, "RESOURCE_NOT_EXISTS") {
				t.Errorf("unknown refund = %v", err)
			}
			if tx, err := c.QueryByOutTradeNo(ctx, req.OutTradeNo); err != nil || tx.TradeState != wechatpay.StateRefund || !tx.Paid() {
				t.Errorf("query after refund = %+v, %v", tx, err)
			}
		})
	}
}

// direct sets up a direct merchant with a client trusting k.
func (w *world) direct(key string, k keys) (*wechatpay.Client, wechatpay.Config, merchant, string, string) {
	w.t.Helper()
	m := w.merchant(key, sandbox.PayModeDirect)
	cfg := w.config(m, k)
	appID, openID := w.app(key, "bob")
	cfg.Mode, cfg.MchID, cfg.AppID = wechatpay.ModeDirect, m.MchID, appID
	return newClient(w.t, cfg), cfg, m, appID, openID
}

func TestCloseAndUnknown(t *testing.T) {
	w := newWorld(t)
	c, _, _, _, openID := w.direct("close", keys{certs: true})
	ctx := context.Background()
	req := wechatpay.PrepayRequest{OutTradeNo: "CLOSE00001", Description: "tea", NotifyURL: "https://shop.example/n", Amount: 100, OpenID: openID}
	p, err := c.Prepay(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Close(ctx, req.OutTradeNo); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(ctx, req.OutTradeNo); err != nil {
		t.Errorf("closing again = %v", err)
	}
	if tx, err := c.QueryByOutTradeNo(ctx, req.OutTradeNo); err != nil || tx.TradeState != wechatpay.StateClosed {
		t.Errorf("after close = %+v, %v", tx, err)
	}
	if st, _ := w.pay(p.Params, nil); st == 200 {
		t.Error("paid a closed order")
	}
	if _, err := c.Prepay(ctx, req); !wechatpay.IsCode(err, "ORDER_CLOSED") {
		t.Errorf("prepay of a closed order = %v", err)
	}
	_, err = c.QueryByOutTradeNo(ctx, "NOSUCHORDER")
	var ae *wechatpay.APIError
	if !errors.As(err, &ae) || ae.Status != 404 || ae.Code != "ORDER_NOT_EXIST" || ae.RequestID == "" {
		t.Errorf("unknown order = %v", err)
	}
	if err := c.Close(ctx, "NOSUCHORDER"); !wechatpay.IsCode(err, "ORDER_NOT_EXIST") {
		t.Errorf("close unknown = %v", err)
	}
	// A refund of an unpaid order is refused.
	if _, err := c.Refund(ctx, wechatpay.RefundRequest{OutTradeNo: req.OutTradeNo, OutRefundNo: "R", Refund: 1, Total: 100}); !wechatpay.IsCode(err, "INVALID_REQUEST") {
		t.Errorf("refund of an unpaid order = %v", err)
	}
}

func TestBadClientSignature(t *testing.T) {
	w := newWorld(t)
	_, cfg, m, _, openID := w.direct("signer", keys{certs: true})
	// Another merchant's key under this merchant's serial.
	other := w.config(w.merchant("someone else", sandbox.PayModeDirect), keys{certs: true})
	cfg.PrivateKey = other.PrivateKey
	c := newClient(t, cfg)
	_, err := c.Prepay(context.Background(), wechatpay.PrepayRequest{OutTradeNo: "SIGN000001", Description: "x", NotifyURL: "https://a.example/n", Amount: 1, OpenID: openID})
	var ae *wechatpay.APIError
	if !errors.As(err, &ae) || ae.Status != 401 || ae.Code != "SIGN_ERROR" {
		t.Fatalf("forged signature = %v, want 401 SIGN_ERROR", err)
	}
	// A correct signature over another body, sent raw.
	for _, auth := range []string{"", "Bearer x", `WECHATPAY2-SHA256-RSA2048 mchid="` + m.MchID + `"`,
		`WECHATPAY2-SHA256-RSA2048 mchid="1900000000",nonce_str="a",timestamp="1",serial_no="` + m.CertSerial + `",signature="AAAA"`} {
		req, _ := http.NewRequest("GET", w.srv.URL+"/v3/pay/transactions/out-trade-no/SIGN000001?mchid="+m.MchID, nil)
		req.Header.Set("Authorization", auth)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var e struct{ Code string }
		json.NewDecoder(resp.Body).Decode(&e)
		resp.Body.Close()
		if resp.StatusCode != 401 || e.Code != "SIGN_ERROR" {
			t.Errorf("Authorization %q: %d %s, want 401 SIGN_ERROR", auth, resp.StatusCode, e.Code)
		}
	}
}

// TestSignedBodyIsTheRawBody sends a request whose body was changed after
// signing: the sandbox must check the bytes it received.
func TestSignedBodyIsTheRawBody(t *testing.T) {
	w := newWorld(t)
	_, cfg, _, _, openID := w.direct("raw", keys{certs: true})
	body := `{"appid":"` + cfg.AppID + `","mchid":"` + cfg.MchID + `","description":"x","out_trade_no":"RAW0000001","notify_url":"https://a.example/n","amount":{"total":1},"payer":{"openid":"` + openID + `"}}`
	var captured http.Header
	cfg.HTTP = &http.Client{Transport: roundTrip(func(r *http.Request) (*http.Response, error) {
		// Replace the signed body with one that pays less.
		b, _ := io.ReadAll(r.Body)
		captured = r.Header.Clone()
		r.Body = io.NopCloser(strings.NewReader(strings.Replace(string(b), `"total":100`, `"total":1`, 1)))
		r.ContentLength = -1
		return http.DefaultTransport.RoundTrip(r)
	})}
	c := newClient(t, cfg)
	_, err := c.Prepay(context.Background(), wechatpay.PrepayRequest{OutTradeNo: "RAW0000001", Description: "x", NotifyURL: "https://a.example/n", Amount: 100, OpenID: openID})
	if !wechatpay.IsCode(err, "SIGN_ERROR") || captured == nil {
		t.Fatalf("altered body = %v, want SIGN_ERROR", err)
	}
	_ = body
}

type roundTrip func(*http.Request) (*http.Response, error)

func (f roundTrip) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestNotificationFaults(t *testing.T) {
	w := newWorld(t)
	var c *wechatpay.Client
	rcv := newReceiver(t, &c)
	c, _, m, _, openID := w.direct("faults", keys{certs: true, pub: true})
	ctx := context.Background()
	order := func(no string, notify map[string]any) {
		t.Helper()
		p, err := c.Prepay(ctx, wechatpay.PrepayRequest{OutTradeNo: no, Description: "tea", NotifyURL: rcv.srv.URL, Amount: 100, OpenID: openID})
		if err != nil {
			t.Fatal(err)
		}
		if st, out := w.pay(p.Params, notify); st != 200 {
			t.Fatalf("pay: %d %v", st, out)
		}
	}
	type delivery struct {
		ID           string `json:"id"`
		Kind         string `json:"kind"`
		OutTradeNo   string `json:"out_trade_no"`
		Acknowledged bool   `json:"acknowledged"`
		Attempts     []struct {
			Status int `json:"status"`
		} `json:"attempts"`
	}
	deliveries := func(no string) map[string]delivery {
		var out struct{ Notifications []delivery }
		w.control("/sandbox/v1/pay/notifications", map[string]string{"mchid": m.MchID}, &out)
		got := map[string]delivery{}
		for _, d := range out.Notifications {
			if d.OutTradeNo == no {
				got[d.Kind] = d
			}
		}
		return got
	}
	// settled polls until the genuine notification of no is acknowledged:
	// the receiver records it before its answer reaches the sandbox.
	settled := func(no string) map[string]delivery {
		t.Helper()
		for end := time.Now().Add(5 * time.Second); time.Now().Before(end); time.Sleep(5 * time.Millisecond) {
			if d := deliveries(no); d["notification"].Acknowledged {
				return d
			}
		}
		t.Fatalf("notification of %s never acknowledged: %+v", no, deliveries(no))
		return nil
	}

	t.Run("probe, tampered and stripped copies are refused", func(t *testing.T) {
		order("FAULT00001", map[string]any{"probe": true, "tamper": true, "strip_headers": true})
		ns := rcv.wait(t, 1)
		if last := ns[len(ns)-1]; last.Transaction.OutTradeNo != "FAULT00001" {
			t.Fatalf("got %+v", last)
		}
		d := settled("FAULT00001")
		for _, kind := range []string{"probe", "tampered", "stripped"} {
			if len(d[kind].Attempts) != 1 || d[kind].Attempts[0].Status != 401 || d[kind].Acknowledged {
				t.Errorf("%s: %+v, want one attempt answered 401", kind, d[kind])
			}
		}
		if !d["notification"].Acknowledged {
			t.Errorf("genuine notification: %+v", d["notification"])
		}
		rcv.mu.Lock()
		var reasons []string
		for _, e := range rcv.bad {
			var se *wechatpay.SignatureError
			if errors.As(e, &se) {
				reasons = append(reasons, string(se.Reason))
			}
		}
		rcv.mu.Unlock()
		if strings.Join(reasons, ",") != "probe,missing_headers,bad_signature" {
			t.Errorf("rejection reasons = %v", reasons)
		}
	})

	t.Run("retries until acknowledged", func(t *testing.T) {
		rcv.mu.Lock()
		rcv.fail = 2
		rcv.mu.Unlock()
		order("RETRY00001", nil)
		rcv.wait(t, 1)
		d := settled("RETRY00001")["notification"]
		if len(d.Attempts) != 3 || d.Attempts[0].Status != 500 || d.Attempts[2].Status != 204 || !d.Acknowledged {
			t.Errorf("attempts = %+v", d)
		}
	})

	t.Run("duplicates", func(t *testing.T) {
		order("DUP0000001", map[string]any{"duplicate": 2})
		ns := rcv.wait(t, 3)
		ids := map[string]int{}
		for _, n := range ns {
			if n.Transaction.OutTradeNo == "DUP0000001" {
				ids[n.ID]++
			}
		}
		if len(ids) != 1 {
			t.Errorf("duplicates carry ids %v, want one id three times", ids)
		}
		for _, v := range ids {
			if v != 3 {
				t.Errorf("received %d copies, want 3", v)
			}
		}
	})

	t.Run("held and released in reverse order", func(t *testing.T) {
		w.control("/sandbox/v1/pay/notify-settings", map[string]any{"mchid": m.MchID, "hold": true}, nil)
		order("HOLD000001", nil)
		order("HOLD000002", nil)
		time.Sleep(50 * time.Millisecond)
		before := len(rcv.wait(t, 0))
		var rel map[string]int
		w.control("/sandbox/v1/pay/notify-release", map[string]any{"mchid": m.MchID, "order": "reverse"}, &rel)
		if rel["released"] != 2 {
			t.Fatalf("released = %v", rel)
		}
		ns := rcv.wait(t, 2)
		if len(ns) != before+2 || ns[before].Transaction.OutTradeNo != "HOLD000002" || ns[before+1].Transaction.OutTradeNo != "HOLD000001" {
			t.Errorf("order after release: %s, %s", ns[before].Transaction.OutTradeNo, ns[before+1].Transaction.OutTradeNo)
		}
		w.control("/sandbox/v1/pay/notify-settings", map[string]any{"mchid": m.MchID}, nil)
	})

	t.Run("a delayed notification arrives after a later one", func(t *testing.T) {
		before := len(rcv.wait(t, 0))
		order("DELAY00001", map[string]any{"delay_ms": 500})
		order("DELAY00002", nil)
		ns := rcv.wait(t, 2)
		if ns[before].Transaction.OutTradeNo != "DELAY00002" || ns[before+1].Transaction.OutTradeNo != "DELAY00001" {
			t.Errorf("order: %s, %s", ns[before].Transaction.OutTradeNo, ns[before+1].Transaction.OutTradeNo)
		}
	})

	t.Run("refund outcome abnormal", func(t *testing.T) {
		w.control("/sandbox/v1/pay/notify-settings", map[string]any{"mchid": m.MchID, "refund_outcome": "ABNORMAL"}, nil)
		defer w.control("/sandbox/v1/pay/notify-settings", map[string]any{"mchid": m.MchID}, nil)
		order("ABN0000001", nil)
		before := len(rcv.wait(t, 1))
		if _, err := c.Refund(ctx, wechatpay.RefundRequest{OutTradeNo: "ABN0000001", OutRefundNo: "ABNR1", Refund: 100, Total: 100, NotifyURL: rcv.srv.URL}); err != nil {
			t.Fatal(err)
		}
		ns := rcv.wait(t, 1)
		n := ns[before]
		if n.EventType != wechatpay.EventRefundAbnormal || n.Refund.RefundStatus != wechatpay.RefundAbnormal {
			t.Errorf("notification = %s %+v", n.EventType, n.Refund)
		}
		if q, err := c.QueryRefund(ctx, "ABNR1"); err != nil || q.Status != wechatpay.RefundAbnormal {
			t.Errorf("query = %+v, %v", q, err)
		}
		if tx, _ := c.QueryByOutTradeNo(ctx, "ABN0000001"); tx.TradeState != wechatpay.StateSuccess {
			t.Errorf("an abnormal refund moved the order to %s", tx.TradeState)
		}
	})

	t.Run("skewed clock is refused and retried", func(t *testing.T) {
		order("SKEW000001", map[string]any{"skew_seconds": -600})
		time.Sleep(200 * time.Millisecond)
		d := deliveries("SKEW000001")["notification"]
		if d.Acknowledged || len(d.Attempts) < 2 || d.Attempts[0].Status != 401 {
			t.Errorf("skewed: %+v", d)
		}
	})
}

// TestKeyMigration: answers and notifications signed with the WeChat Pay
// public key or the platform certificate, and clients trusting one or both.
func TestKeyMigration(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	_, cfg, m, _, openID := w.direct("migration", keys{})

	// A client with nothing configured bootstraps from /v3/certificates.
	boot := newClient(t, cfg)
	if _, err := boot.QueryByOutTradeNo(ctx, "NOSUCHORDER"); !errors.Is(err, wechatpay.ErrConfig) {
		t.Fatalf("without keys = %v", err)
	}
	certs, err := boot.DownloadCertificates(ctx)
	if err != nil || len(certs) != 1 || certs[0].Serial != m.PlatformSerials[0] {
		t.Fatalf("download = %+v, %v", certs, err)
	}
	if _, err := boot.QueryByOutTradeNo(ctx, "NOSUCHORDER"); !wechatpay.IsCode(err, "ORDER_NOT_EXIST") {
		t.Fatalf("after download = %v", err)
	}
	// A certificate download under another APIv3 key does not decrypt.
	wrong := cfg
	wrong.APIv3Key = []byte(strings.Repeat("k", 32))
	if _, err := newClient(t, wrong).DownloadCertificates(ctx); !errors.Is(err, wechatpay.ErrUnavailable) {
		t.Errorf("download with a wrong APIv3 key = %v", err)
	}

	// Public key only: the request names it, the sandbox signs with it.
	pubOnly := w.config(m, keys{pub: true})
	pubOnly.Mode, pubOnly.MchID, pubOnly.AppID = cfg.Mode, cfg.MchID, cfg.AppID
	pc := newClient(t, pubOnly)
	if _, err := pc.QueryByOutTradeNo(ctx, "NOSUCHORDER"); !wechatpay.IsCode(err, "ORDER_NOT_EXIST") {
		t.Fatalf("public key only = %v", err)
	}
	p, err := pc.Prepay(ctx, wechatpay.PrepayRequest{OutTradeNo: "PUBKEY0001", Description: "x", NotifyURL: "https://a.example/n", Amount: 1, OpenID: openID})
	if err != nil {
		t.Fatalf("prepay, public key only: %v", err)
	}
	_ = p

	// Notifications signed with the public key: refused by a client that
	// knows only certificates (unknown serial), accepted by one that knows both.
	certOnly := w.config(m, keys{certs: true})
	certOnly.Mode, certOnly.MchID, certOnly.AppID = cfg.Mode, cfg.MchID, cfg.AppID
	both := w.config(m, keys{certs: true, pub: true})
	both.Mode, both.MchID, both.AppID = cfg.Mode, cfg.MchID, cfg.AppID
	for _, tc := range []struct {
		name   string
		cfg    wechatpay.Config
		reason wechatpay.SignatureReason
	}{{"certificates only", certOnly, wechatpay.ReasonUnknownSerial}, {"both", both, ""}} {
		t.Run(tc.name, func(t *testing.T) {
			c := newClient(t, tc.cfg)
			rcv := newReceiver(t, &c)
			no := "MIG" + strings.ReplaceAll(tc.name, " ", "")[:4] + "01"
			p, err := c.Prepay(ctx, wechatpay.PrepayRequest{OutTradeNo: no, Description: "x", NotifyURL: rcv.srv.URL, Amount: 1, OpenID: openID})
			if err != nil {
				t.Fatal(err)
			}
			if st, out := w.pay(p.Params, map[string]any{"sign_with": "public_key"}); st != 200 {
				t.Fatalf("pay: %d %v", st, out)
			}
			if tc.reason == "" {
				rcv.wait(t, 1)
				return
			}
			deadline := time.Now().Add(5 * time.Second)
			for {
				rcv.mu.Lock()
				bad := append([]error(nil), rcv.bad...)
				rcv.mu.Unlock()
				if len(bad) > 0 {
					var se *wechatpay.SignatureError
					if !errors.As(bad[0], &se) || se.Reason != tc.reason {
						t.Errorf("rejection = %v, want %s", bad[0], tc.reason)
					}
					return
				}
				if time.Now().After(deadline) {
					t.Fatal("no notification")
				}
				time.Sleep(10 * time.Millisecond)
			}
		})
	}
}

func TestInjectedFaults(t *testing.T) {
	w := newWorld(t)
	c, _, m, _, openID := w.direct("injected", keys{certs: true})
	ctx := context.Background()
	w.control("/sandbox/v1/pay/faults", map[string]any{"mchid": m.MchID, "api": "prepay", "status": 500, "code": "SYSTEM_ERROR"}, nil)
	req := wechatpay.PrepayRequest{OutTradeNo: "FLT0000001", Description: "x", NotifyURL: "https://a.example/n", Amount: 100, OpenID: openID}
	if _, err := c.Prepay(ctx, req); !errors.Is(err, wechatpay.ErrUnavailable) || !wechatpay.IsCode(err, "SYSTEM_ERROR") {
		t.Fatalf("SYSTEM_ERROR = %v", err)
	}
	p, err := c.Prepay(ctx, req) // the retry goes through
	if err != nil {
		t.Fatal(err)
	}
	w.pay(p.Params, map[string]any{})
	w.control("/sandbox/v1/pay/faults", map[string]any{"mchid": m.MchID, "api": "refund", "status": 403, "code": "NOT_ENOUGH"}, nil)
	_, err = c.Refund(ctx, wechatpay.RefundRequest{OutTradeNo: req.OutTradeNo, OutRefundNo: "FLTR1", Refund: 100, Total: 100})
	var ae *wechatpay.APIError
	if !errors.As(err, &ae) || ae.Code != "NOT_ENOUGH" || ae.Status != 403 || errors.Is(err, wechatpay.ErrUnavailable) {
		t.Fatalf("NOT_ENOUGH = %v", err)
	}
	// Global parameters are checked.
	g := w.merchant("global-params", sandbox.PayModeGlobal)
	gcfg := w.config(g, keys{certs: true})
	appID, gOpenID := w.app("global-params", "carol")
	gcfg.Mode, gcfg.MchID, gcfg.AppID = wechatpay.ModeGlobal, g.MchID, appID
	gc := newClient(t, gcfg)
	if _, err := gc.Prepay(ctx, wechatpay.PrepayRequest{OutTradeNo: "GLB0000001", Description: "x", NotifyURL: "https://a.example/n", Amount: 100, OpenID: gOpenID, Currency: "HKD", MerchantCategoryCode: "0000"}); !wechatpay.IsCode(err, "PARAM_ERROR") {
		t.Errorf("bad MCC = %v", err)
	}
	// A direct merchant may not use the Global API, nor the partner API.
	dcfg := w.config(m, keys{certs: true})
	dcfg.Mode, dcfg.MchID, dcfg.AppID = wechatpay.ModeGlobal, m.MchID, appID
	if _, err := newClient(t, dcfg).Prepay(ctx, wechatpay.PrepayRequest{OutTradeNo: "GLB0000002", Description: "x", NotifyURL: "https://a.example/n", Amount: 100, OpenID: gOpenID, Currency: "HKD", MerchantCategoryCode: "5977"}); !wechatpay.IsCode(err, "NOAUTH") {
		t.Errorf("direct merchant on Global = %v", err)
	}
}
