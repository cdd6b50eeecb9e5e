package sandbox_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/minishop/minishop/billing"
	"github.com/minishop/minishop/billing/wechatpay"
	"github.com/minishop/minishop/internal/sandbox"
)

type billEnv struct {
	ts     *httptest.Server
	mchID  string
	client *wechatpay.Client
	day    time.Time
}

func newBillEnv(t *testing.T) *billEnv {
	t.Helper()
	seed := []byte("bill-test-seed-0123456789abcdefgh")
	sb, err := sandbox.New(sandbox.Options{Seed: seed})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(sb.Handler())
	t.Cleanup(func() { sb.StopPay(); ts.Close() })
	m, err := sb.PayMerchant("tenant:bill", sandbox.PayModeDirect)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(m)
	var creds wechatpay.Credentials
	if err := json.Unmarshal(raw, &creds); err != nil {
		t.Fatal(err)
	}
	appID, _ := sandbox.AppFor(seed, "tenant:bill")
	cfg, err := creds.Config(ts.URL, appID)
	if err != nil {
		t.Fatal(err)
	}
	c, err := wechatpay.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	cst := time.FixedZone("CST", 8*3600)
	day, _ := time.ParseInLocation("2006-01-02", time.Now().In(cst).Format("2006-01-02"), cst)
	return &billEnv{ts: ts, mchID: m.MchID, client: c, day: day}
}

func (e *billEnv) faults(t *testing.T, body map[string]any) (int, string) {
	t.Helper()
	b, _ := json.Marshal(body)
	resp, err := http.Post(e.ts.URL+"/sandbox/v1/pay/bill-faults", "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(raw)
}

func TestTradeBillFormatAndDownload(t *testing.T) {
	e := newBillEnv(t)
	ctx := context.Background()
	if _, err := e.client.TradeBill(ctx, e.day, wechatpay.BillAll); !wechatpay.IsCode(err, "NO_STATEMENT_EXIST") {
		t.Fatalf("empty day: %v", err)
	}
	if _, err := e.client.TradeBill(ctx, e.day.AddDate(0, 0, 2), wechatpay.BillAll); !wechatpay.IsCode(err, "PARAM_ERROR") {
		t.Errorf("future day: %v", err)
	}
	date := e.day.Format("2006-01-02")
	for _, bad := range []map[string]any{
		{"mch_id": e.mchID, "date": date, "faults": []map[string]any{{"kind": "steal", "out_trade_no": "ABC123456"}}},
		{"mch_id": e.mchID, "date": date, "faults": []map[string]any{{"kind": "payment", "out_trade_no": "ABC123456"}}},
		{"mch_id": "1900000000", "date": date},
		{"mch_id": e.mchID, "date": "30/11/2026"},
		{"mch_id": e.mchID, "date": date, "generate": -1},
	} {
		if st, body := e.faults(t, bad); st != 400 {
			t.Errorf("%v: %d %s", bad, st, body)
		}
	}
	if st, body := e.faults(t, map[string]any{"mch_id": e.mchID, "date": date, "generate": 3, "faults": []map[string]any{
		{"kind": "payment", "out_trade_no": "EXTRA0001", "amount": 1234},
		{"kind": "refund", "out_trade_no": "EXTRA0001", "out_refund_no": "EXTRA0001R1", "amount": 500, "total": 1234},
	}}); st != 200 {
		t.Fatalf("faults: %d %s", st, body)
	}
	info, err := e.client.TradeBill(ctx, e.day, wechatpay.BillAll)
	if err != nil {
		t.Fatal(err)
	}
	// The download is signed: without Authorization it is refused.
	if resp, err := http.Get(info.DownloadURL); err != nil || resp.StatusCode != 401 {
		t.Errorf("unsigned download: %v %v", resp.Status, err)
	}
	f, err := e.client.DownloadBill(ctx, info)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(f)
	f.Close()
	if err != nil {
		t.Fatalf("download: %v", err)
	}
	s := string(raw)
	lines := strings.Split(strings.TrimSuffix(s, "\r\n"), "\r\n")
	if !strings.HasPrefix(s, "\uFEFF交易时间,") || strings.Count(s, "\n") != strings.Count(s, "\r\n") || len(lines) != 8 {
		t.Fatalf("bill layout:\n%s", s)
	}
	for _, l := range lines[1:6] {
		if strings.Count(l, ",`")+1 != 27 || !strings.HasPrefix(l, "`") {
			t.Errorf("detail row not 27 backticked fields: %s", l)
		}
	}
	if !strings.HasPrefix(lines[6], "总交易单数,") || !strings.HasPrefix(lines[7], "`5,`") {
		t.Errorf("summary: %s / %s", lines[6], lines[7])
	}
	br := billing.NewBillReader(strings.NewReader(s))
	var n, settle, refund, fee int64
	for {
		r, err := br.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		n++
		settle += r.SettlementFen
		refund += r.RefundFen
		fee += r.Fee
		if r.IsRefund() && (r.OutRefundNo != "EXTRA0001R1" || r.RefundFen != 500 || r.Fee != -3000) {
			t.Errorf("refund row %+v", r)
		}
	}
	sum := br.Summary()
	if n != 5 || sum.Count != n || sum.SettlementFen != settle || sum.RefundFen != refund || refund != 500 || sum.Fee != fee {
		t.Errorf("summary %+v; rows %d, settlement %d, refund %d, fee %d", sum, n, settle, refund, fee)
	}

	// A hash that does not match the file fails the read that reaches the end.
	bad := *info
	bad.HashValue = strings.Repeat("0", 40)
	f, err = e.client.DownloadBill(ctx, &bad)
	if err != nil {
		t.Fatal(err)
	}
	_, err = io.ReadAll(f)
	f.Close()
	if !errors.Is(err, wechatpay.ErrBillHash) {
		t.Errorf("altered hash: %v", err)
	}
	// A download URL on another host is refused before anything is sent.
	other := *info
	other.DownloadURL = "https://evil.example/v3/billdownload/file?token=x"
	if _, err := e.client.DownloadBill(ctx, &other); err == nil {
		t.Error("download from another host accepted")
	}
}
