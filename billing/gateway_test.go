package billing_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/minishop/minishop/billing"
	"github.com/minishop/minishop/billing/wechatpay"
	"github.com/minishop/minishop/internal/errs"
	"github.com/minishop/minishop/internal/sandbox"
	"github.com/minishop/minishop/shop"
)

type payment struct {
	tenant      int64
	outTradeNo  string
	transaction string
	amount      int64
}

// The gateway against the sandbox: stored-credential shape → client →
// prepay → the payer pays → the notification reaches HandleNotification →
// Paid is called once; close and refund map WeChat Pay's answers.
func TestGatewayAgainstTheSandbox(t *testing.T) {
	seed := []byte("gateway-test-seed-0123456789abcd")
	sb, err := sandbox.New(sandbox.Options{Seed: seed, PayTimeScale: 0.001})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sb.Handler())
	t.Cleanup(func() { sb.StopPay(); srv.Close() })
	control := func(path string, in, out any) int {
		b, _ := json.Marshal(in)
		resp, err := http.Post(srv.URL+path, "application/json", bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		if out != nil {
			json.Unmarshal(raw, out)
		}
		return resp.StatusCode
	}

	// The credentials as the vault would hold them (the sandbox answers
	// with the vault's field names).
	var creds wechatpay.Credentials
	control("/sandbox/v1/pay/merchants", map[string]string{"key": "tenant:42", "mode": "direct"}, &creds)
	appID, _ := sandbox.AppFor(seed, "tenant:42")
	var login struct{ OpenID string }
	control("/sandbox/v1/wx-login-code", map[string]string{"appid": appID, "user": "dana"}, &login)
	cfg, err := creds.Config(srv.URL, appID)
	if err != nil {
		t.Fatal(err)
	}
	client, err := wechatpay.New(cfg)
	if err != nil {
		t.Fatal(err)
	}

	var mu sync.Mutex
	var paid []payment
	statuses := make(chan int, 20)
	var g *billing.Gateway
	notify := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		st, _ := g.HandleNotification(r.Context(), 42, r.Header, body)
		w.WriteHeader(st)
		statuses <- st
	}))
	t.Cleanup(notify.Close)
	g = &billing.Gateway{
		Client:    func(context.Context) (*wechatpay.Client, error) { return client, nil },
		NotifyURL: func(context.Context) (string, error) { return notify.URL + "/pay/notify/42", nil },
		Paid: func(_ context.Context, tenantID int64, outTradeNo, txn string, amount int64, _ time.Time) error {
			mu.Lock()
			defer mu.Unlock()
			if outTradeNo == "UNKNOWN0001" {
				return errs.E(errs.NotFound, "order_not_found", "no such order")
			}
			paid = append(paid, payment{tenantID, outTradeNo, txn, amount})
			return nil
		},
	}
	ctx := context.Background()
	order := &shop.Order{OutTradeNo: "MS20261130001", Currency: "CNY", ActuralPaid: 12_345, ExpiresAt: time.Now().Add(15 * time.Minute)}
	p, err := g.Prepay(ctx, order, login.OpenID)
	if err != nil {
		t.Fatal(err)
	}
	again, err := g.Prepay(ctx, order, login.OpenID)
	if err != nil || again.Package != p.Package {
		t.Fatalf("prepay again = %+v, %v; want the same prepay id", again, err)
	}
	pay := map[string]any{"appId": appID, "timeStamp": p.TimeStamp, "nonceStr": p.NonceStr, "package": p.Package,
		"signType": p.SignType, "paySign": p.PaySign, "notify": map[string]any{"probe": true, "duplicate": 1}}
	if st := control("/sandbox/v1/pay", pay, nil); st != 200 {
		t.Fatalf("pay: %d", st)
	}
	// probe (401), the notification (204), its duplicate (204)
	var got []int
	for range 3 {
		select {
		case st := <-statuses:
			got = append(got, st)
		case <-time.After(10 * time.Second):
			t.Fatalf("notifications answered %v so far", got)
		}
	}
	if got[0] != 401 || got[1] != 204 || got[2] != 204 {
		t.Errorf("answers = %v, want [401 204 204]", got)
	}
	mu.Lock()
	if len(paid) != 2 || paid[0] != paid[1] || paid[0].tenant != 42 || paid[0].outTradeNo != order.OutTradeNo || paid[0].amount != 12_345 || paid[0].transaction == "" {
		t.Errorf("Paid calls = %+v (duplicates are MarkPaid's to absorb)", paid)
	}
	txn := paid[0].transaction
	mu.Unlock()

	if err := g.Close(ctx, order); !errs.Is(err, errs.Conflict) {
		t.Errorf("close of a paid order = %v, want conflict", err)
	}
	if err := g.Close(ctx, &shop.Order{OutTradeNo: "NEVERPREPAID1"}); err != nil {
		t.Errorf("close of an order WeChat Pay never saw = %v, want nil", err)
	}
	r := shop.RefundRequest{OutRefundNo: "RF20261130001", TransactionID: txn, TotalFen: 12_345, RefundFen: 2_345, Reason: "damaged"}
	if err := g.Refund(ctx, order, r); err != nil {
		t.Fatal(err)
	}
	if err := g.Refund(ctx, order, r); err != nil {
		t.Errorf("the same refund again = %v, want nil (idempotent)", err)
	}
	r.OutRefundNo, r.RefundFen = "RF20261130002", 11_000
	if err := g.Refund(ctx, order, r); !errs.Is(err, errs.Unprocessable) || errs.As(err).Code != "wechatpay_INVALID_REQUEST" {
		t.Errorf("refund of more than is left = %v, want unprocessable wechatpay_INVALID_REQUEST", err)
	}
	r.OutRefundNo, r.RefundFen = "RF20261130003", 20_000
	if err := g.Refund(ctx, order, r); !errs.Is(err, errs.Invalid) {
		t.Errorf("refund of more than the total = %v, want invalid (refused before sending)", err)
	}
	if q, err := client.QueryRefund(ctx, "RF20261130001"); err != nil || q.Amount.Refund != 2_345 {
		t.Errorf("refund at WeChat Pay = %+v, %v", q, err)
	}

	// Unavailable WeChat Pay → unavailable.
	control("/sandbox/v1/pay/faults", map[string]any{"mchid": creds.MchID, "api": "prepay", "status": 500, "code": "SYSTEM_ERROR"}, nil)
	if _, err := g.Prepay(ctx, &shop.Order{OutTradeNo: "MS20261130002", Currency: "CNY", ActuralPaid: 1, ExpiresAt: time.Now().Add(time.Hour)}, login.OpenID); !errs.Is(err, errs.Unavailable) {
		t.Errorf("prepay with WeChat Pay down = %v, want unavailable", err)
	}
}
