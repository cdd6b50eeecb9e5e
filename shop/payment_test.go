package shop_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/minishop/minishop/internal/config"
	"github.com/minishop/minishop/internal/testenv"
	"github.com/minishop/minishop/shop"
)

// These tests run checkout end to end as a Mini Program would: sign-in with
// a sandbox wx.login code, cart, address, buyer identity, order, pay, the
// payer confirming wx.requestPayment at the sandbox, and WeChat Pay's
// notification coming back over HTTP to the notify route, signed and
// encrypted for real.

// payEnv starts an Env whose public URL (the notify_url's base) reaches its
// own API.
func payEnv(t *testing.T) *testenv.Env {
	t.Helper()
	var ep atomic.Pointer[testenv.Env]
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e := ep.Load()
		if e == nil {
			http.Error(w, "starting", http.StatusServiceUnavailable)
			return
		}
		e.API.Config.Handler.ServeHTTP(w, r)
	}))
	t.Cleanup(front.Close)
	e := testenv.New(t, func(c *config.Config) { c.PublicURL = front.URL })
	ep.Store(e)
	return e
}

// payShop is a provisioned shop with a product, its owner and its test merchant.
type payShop struct {
	*miniShop
	sku   int64
	owner []string
	mchID string
}

func newPayShop(t *testing.T, e *testenv.Env, slug string) *payShop {
	t.Helper()
	m := newMiniShop(t, e, slug).provision(t)
	p := &payShop{miniShop: m, owner: e.Member(t, m.t.ID, "owner@"+slug+".test", "owner")}
	p.sku = m.sellable(t, "Cream", cartSKU{9900, "general", []int64{1000}})[0]
	p.useMerchant(t)
	return p
}

// useMerchant reads the shop's current test merchant and makes its
// notifications retry fast.
func (p *payShop) useMerchant(t *testing.T) {
	t.Helper()
	_, c, _, _, err := p.e.App.Tenants.WeChatPayCredentials(p.ctx())
	if err != nil {
		t.Fatal(err)
	}
	p.mchID = c.MchID
	p.notify(t, map[string]any{})
}

// notify replaces the merchant's notification settings (time_scale 0.001 always).
func (p *payShop) notify(t *testing.T, opts map[string]any) {
	t.Helper()
	opts["mchid"], opts["time_scale"] = p.mchID, 0.001
	p.sandbox(t, "/sandbox/v1/pay/notify-settings", opts)
}

// saveMerchant saves a sandbox merchant of mode as the shop's test WeChat
// Pay credentials through the credentials API.
func (p *payShop) saveMerchant(t *testing.T, mode string) {
	t.Helper()
	m := p.sandbox(t, "/sandbox/v1/pay/merchants", map[string]any{"key": p.t.Slug + "-" + mode, "mode": mode})
	if mode == "partner" {
		m["sub_appid"] = p.appID
	} else {
		m["sub_mch_id"], m["sp_appid"], m["sub_appid"] = "", "", "" // a saved set keeps fields left out
	}
	r := p.e.Do(t, "PUT", "", "/api/admin/v1/tenants/"+p.t.Slug+"/credentials/test/wechatpay", m, p.owner...)
	if r.Status != 200 {
		t.Fatalf("saving %s merchant: %d %s", mode, r.Status, r.Body)
	}
	p.useMerchant(t)
}

// checkout is a buyer going from sign-in to an order waiting for payment.
func (p *payShop) checkout(t *testing.T, user string, n int) (*shopper, shop.Order) {
	t.Helper()
	s := p.shopper(t, user, idNumber(n))
	if r := s.do(t, "POST", "/api/v1/cart/items", map[string]any{"sku_id": p.sku, "quantity": 2}); r.Status != 200 {
		t.Fatalf("cart: %d %s", r.Status, r.Body)
	}
	o := s.place(t, user+"-order", map[string]any{"address_id": s.address, "identity_id": s.identity})
	if o.Status != shop.OrderPendingPayment || o.ActuralPaid <= 0 {
		t.Fatalf("order: %+v", o)
	}
	return s, o
}

// requestPayment is the pay call and the params the Mini Program gets.
func (s *shopper) requestPayment(t *testing.T, id int64) shop.PayParams {
	t.Helper()
	var pay struct {
		OutTradeNo string `json:"out_trade_no"`
		Amount     int64
		Params     shop.PayParams
	}
	r := s.do(t, "POST", fmt.Sprintf("/api/v1/orders/%d/pay", id), nil)
	if r.Status != 200 {
		t.Fatalf("pay: %d %s", r.Status, r.Body)
	}
	r.JSON(t, &pay)
	return pay.Params
}

// confirm is the payer confirming wx.requestPayment at the sandbox.
func (p *payShop) confirm(t *testing.T, pp shop.PayParams) string {
	t.Helper()
	out := p.sandbox(t, "/sandbox/v1/pay", map[string]any{"appId": p.appID, "timeStamp": pp.TimeStamp, "nonceStr": pp.NonceStr,
		"package": pp.Package, "signType": pp.SignType, "paySign": pp.PaySign})
	if out["trade_state"] != "SUCCESS" {
		t.Fatalf("sandbox pay: %v", out)
	}
	return out["transaction_id"].(string)
}

func (p *payShop) status(t *testing.T, id int64) string {
	t.Helper()
	var s string
	p.sql(t, func(tx *gorm.DB) error {
		return tx.Raw(`SELECT status FROM orders WHERE tenant_id = ? AND id = ?`, p.t.ID, id).Scan(&s).Error
	})
	return s
}

func (p *payShop) events(t *testing.T, id int64, kind string) int64 {
	t.Helper()
	return p.count(t, `SELECT count(*) FROM order_events WHERE tenant_id = ? AND order_id = ? AND kind = ?`, p.t.ID, id, kind)
}

func (p *payShop) waitStatus(t *testing.T, id int64, want string) {
	t.Helper()
	testenv.Eventually(t, 60*time.Second, "order "+want, func() bool { return p.status(t, id) == want })
}

// replay asks the sandbox to send the order's notification again.
func (p *payShop) replay(t *testing.T, outTradeNo, variant string, count int, parallel bool) []int {
	t.Helper()
	b, _ := json.Marshal(map[string]any{"mchid": p.mchID, "out_trade_no": outTradeNo, "variant": variant, "count": count, "parallel": parallel})
	resp, err := http.Post(p.e.Sandbox.URL+"/sandbox/v1/pay/notify-replay", "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out struct{ Statuses []int }
	if resp.StatusCode != 200 || json.Unmarshal(raw, &out) != nil {
		t.Fatalf("replay %s: %d %s", variant, resp.StatusCode, raw)
	}
	return out.Statuses
}

func TestWeChatPayCheckoutInThreeModes(t *testing.T) {
	e := payEnv(t)
	p := newPayShop(t, e, "nordic-skin")
	for i, mode := range []string{"direct", "partner", "global"} {
		t.Run(mode, func(t *testing.T) {
			if mode != "direct" {
				p.saveMerchant(t, mode)
			}
			s, o := p.checkout(t, "buyer-"+mode, i+1)
			txn := p.confirm(t, s.requestPayment(t, o.ID))
			p.waitStatus(t, o.ID, shop.OrderPaid)
			got := s.get(t, o.ID)
			if got.PaidAt == nil || got.NeedsRefund {
				t.Errorf("paid order: %+v", got)
			}
			var rec struct {
				TransactionID string
				Amount        int64
			}
			p.sql(t, func(tx *gorm.DB) error {
				return tx.Raw(`SELECT transaction_id, amount FROM order_payments WHERE tenant_id = ? AND order_id = ?`, p.t.ID, o.ID).Scan(&rec).Error
			})
			if rec.TransactionID != txn || rec.Amount != o.ActuralPaid {
				t.Errorf("payment recorded %+v, want %s of %d fen", rec, txn, o.ActuralPaid)
			}
		})
	}
}

func TestWeChatPayNotificationAppliedOnce(t *testing.T) {
	e := payEnv(t)
	p := newPayShop(t, e, "nordic-skin")
	p.notify(t, map[string]any{"hold": true})
	s, o := p.checkout(t, "alice", 1)
	p.confirm(t, s.requestPayment(t, o.ID))

	// Forged, altered, unknown serial, stale and probe copies: refused, nothing changes.
	for _, v := range []string{"forged", "tampered", "unknown_serial", "stale", "probe"} {
		if st := p.replay(t, o.OutTradeNo, v, 1, false); st[0] != 401 {
			t.Errorf("%s notification answered %d, want 401", v, st[0])
		}
	}
	if st := p.status(t, o.ID); st != shop.OrderPendingPayment {
		t.Fatalf("after refused notifications the order is %s", st)
	}
	// A body that is not a notification, and an unknown shop.
	url := e.Cfg.PublicURL + "/api/v1/wechatpay/notify/"
	for path, want := range map[string]int{"nordic-skin": 401, "no-such-shop": 404} {
		resp, err := http.Post(url+path, "application/json", bytes.NewReader([]byte(`{"id":"x"}`)))
		if err != nil {
			t.Fatal(err)
		}
		var fail struct{ Code, Message string }
		_ = json.NewDecoder(resp.Body).Decode(&fail)
		resp.Body.Close()
		if resp.StatusCode != want || fail.Code != "FAIL" || fail.Message == "" {
			t.Errorf("POST %s: %d %+v, want %d FAIL", path, resp.StatusCode, fail, want)
		}
	}

	// The genuine notification, held until now: the order becomes paid.
	p.sandbox(t, "/sandbox/v1/pay/notify-release", map[string]any{"mchid": p.mchID})
	p.waitStatus(t, o.ID, shop.OrderPaid)

	// Delivered 15 more times in a row, then 20 copies at once.
	for i, st := range p.replay(t, o.OutTradeNo, "genuine", 15, false) {
		if st != 204 {
			t.Errorf("copy %d answered %d", i, st)
		}
	}
	for i, st := range p.replay(t, o.OutTradeNo, "genuine", 20, true) {
		if st != 204 {
			t.Errorf("concurrent copy %d answered %d", i, st)
		}
	}
	if n := p.events(t, o.ID, "paid"); n != 1 {
		t.Errorf("%d paid events, want 1", n)
	}
	if n := p.count(t, `SELECT count(*) FROM order_payments WHERE tenant_id = ? AND order_id = ?`, p.t.ID, o.ID); n != 1 {
		t.Errorf("%d payments recorded, want 1", n)
	}
	if n := p.count(t, `SELECT count(*) FROM outbox WHERE tenant_id = ? AND kind = ? AND payload::text LIKE ?`, p.t.ID, shop.TaskOrderPaid,
		fmt.Sprintf(`%%"order_id": %d,%%`, o.ID)); n != 1 {
		t.Errorf("%d order.paid outbox rows, want 1", n)
	}

	// The process that committed the payment died before anything was
	// enqueued (no worker or relay ran so far): the relay, once running,
	// hands the task over and it runs once.
	e.StartWorker(t)
	testenv.Eventually(t, 60*time.Second, "fulfilment queued", func() bool { return p.events(t, o.ID, "fulfilment_queued") == 1 })
}

// The refund tasks run by hand, as the worker would run them: with a
// worker running, customs would declare the paid order meanwhile, and an
// order being declared is not refundable (TestRefundWhileDeclaring).
func TestWeChatPayRefunds(t *testing.T) {
	e := payEnv(t)
	p := newPayShop(t, e, "nordic-skin")
	s, o := p.checkout(t, "alice", 1)
	p.confirm(t, s.requestPayment(t, o.ID))
	p.waitStatus(t, o.ID, shop.OrderPaid)
	path := fmt.Sprintf("/api/admin/v1/tenants/nordic-skin/orders/%d/refunds", o.ID)

	if r := e.Do(t, "POST", "", path, map[string]any{"amount_fen": o.ActuralPaid + 1}, p.owner...); r.Status != 422 || r.ErrorCode() != "refund_exceeds_paid" {
		t.Errorf("refund above the paid amount: %d %s", r.Status, r.Body)
	}
	if r := e.Do(t, "POST", "", path, map[string]any{"amount_fen": 0}, p.owner...); r.Status != 400 {
		t.Errorf("refund of nothing: %d %s", r.Status, r.Body)
	}
	part := o.ActuralPaid / 3
	keyed := append([]string{"Idempotency-Key", "refund-jar-1"}, p.owner...)
	if r := e.Do(t, "POST", "", path, map[string]any{"amount_fen": part}, append([]string{"Idempotency-Key", "not a key!"}, p.owner...)...); r.Status != 400 || r.ErrorCode() != "invalid_idempotency_key" {
		t.Errorf("malformed Idempotency-Key: %d %s", r.Status, r.Body)
	}
	var rf shop.Refund
	r := e.Do(t, "POST", "", path, map[string]any{"amount_fen": part, "reason": "one jar broken"}, keyed...)
	r.JSON(t, &rf)
	if r.Status != 202 || rf.Amount != part || rf.OutRefundNo != o.OutTradeNo+"R1" {
		t.Fatalf("partial refund: %d %s", r.Status, r.Body)
	}
	if r := e.Do(t, "POST", "", path, map[string]any{"amount_fen": 1}, p.owner...); r.Status != 409 || r.ErrorCode() != "refund_in_progress" {
		t.Errorf("refund during a refund: %d %s", r.Status, r.Body)
	}
	p.run(t, shop.TaskRefundSubmit, e.App.Shop.SubmitRefund)
	p.waitStatus(t, o.ID, shop.OrderPartiallyRefunded)
	// The same request retried (a double click, a timeout) finds its refund,
	// even after it completed; the key with another amount is refused.
	var again shop.Refund
	if r := e.Do(t, "POST", "", path, map[string]any{"amount_fen": part, "reason": "one jar broken"}, keyed...); r.Status != 202 {
		t.Errorf("retried refund: %d %s", r.Status, r.Body)
	} else if r.JSON(t, &again); again.OutRefundNo != rf.OutRefundNo {
		t.Errorf("retried refund made %s, first was %s", again.OutRefundNo, rf.OutRefundNo)
	}
	if r := e.Do(t, "POST", "", path, map[string]any{"amount_fen": part + 1}, keyed...); r.Status != 409 || r.ErrorCode() != "idempotency_key_reused" {
		t.Errorf("key reused for another refund: %d %s", r.Status, r.Body)
	}

	rest := o.ActuralPaid - part
	if r := e.Do(t, "POST", "", path, map[string]any{"amount_fen": rest + 1}, p.owner...); r.Status != 422 {
		t.Errorf("refund above what is left: %d %s", r.Status, r.Body)
	}
	if r := e.Do(t, "POST", "", path, map[string]any{"amount_fen": rest}, p.owner...); r.Status != 202 {
		t.Fatalf("refund of the rest: %d %s", r.Status, r.Body)
	}
	p.run(t, shop.TaskRefundSubmit, e.App.Shop.SubmitRefund) // the first refund's task again too: it changes nothing
	p.waitStatus(t, o.ID, shop.OrderRefunded)

	var list struct{ Refunds []shop.Refund }
	e.Do(t, "GET", "", path, nil, p.owner...).JSON(t, &list)
	if len(list.Refunds) != 2 || list.Refunds[0].Status != shop.RefundSucceeded || list.Refunds[1].Status != shop.RefundSucceeded ||
		list.Refunds[0].Amount+list.Refunds[1].Amount != o.ActuralPaid || list.Refunds[1].RefundID == "" {
		t.Errorf("refunds: %+v", list.Refunds)
	}
	if p.events(t, o.ID, "refund_succeeded") != 2 || p.events(t, o.ID, "refund_submitted") != 2 {
		t.Errorf("timeline lacks the refunds")
	}
	if r := e.Do(t, "POST", "", path, map[string]any{"amount_fen": 1}, p.owner...); r.Status != 409 || r.ErrorCode() != "refund_not_allowed" {
		t.Errorf("refund of a refunded order: %d %s", r.Status, r.Body)
	}
	// A viewer may not refund.
	viewer := e.Member(t, p.t.ID, "viewer@nordic.test", "viewer")
	if r := e.Do(t, "POST", "", path, map[string]any{"amount_fen": 1}, viewer...); r.Status != 403 {
		t.Errorf("viewer refund: %d %s", r.Status, r.Body)
	}
}

func TestWeChatPayLatePaymentIsReturned(t *testing.T) {
	e := payEnv(t)
	p := newPayShop(t, e, "nordic-skin")
	e.StartWorker(t)
	s, o := p.checkout(t, "alice", 1)
	pp := s.requestPayment(t, o.ID)
	// WeChat Pay says it has no such order when asked to close it (a lag
	// on its side): the order is cancelled here, yet still payable there.
	p.sandbox(t, "/sandbox/v1/pay/faults", map[string]any{"mchid": p.mchID, "api": "close", "status": 404, "code": "ORDER_NOT_EXIST", "message": "订单不存在"})
	if r := s.do(t, "POST", fmt.Sprintf("/api/v1/orders/%d/cancel", o.ID), nil); r.Status != 200 {
		t.Fatalf("cancel: %d %s", r.Status, r.Body)
	}
	txn := p.confirm(t, pp)
	testenv.Eventually(t, 60*time.Second, "late payment returned", func() bool { return p.events(t, o.ID, "refund_succeeded") == 1 })
	if st := p.status(t, o.ID); st != shop.OrderCancelled {
		t.Errorf("order is %s after a late payment, want cancelled", st)
	}
	if p.events(t, o.ID, "payment_late") != 1 || p.events(t, o.ID, "payment_refund_requested") != 1 {
		t.Errorf("timeline lacks the late payment and its return")
	}
	var rf shop.Refund
	p.sql(t, func(tx *gorm.DB) error {
		return tx.Raw(`SELECT out_refund_no, kind, amount, status FROM order_refunds WHERE tenant_id = ? AND order_id = ?`, p.t.ID, o.ID).Scan(&rf).Error
	})
	if rf.Kind != shop.RefundKindPaymentReturn || rf.Amount != o.ActuralPaid || rf.Status != shop.RefundSucceeded || rf.OutRefundNo != "R"+txn {
		t.Errorf("returned payment: %+v", rf)
	}
}

func TestWeChatPayQueryHealsMissingNotification(t *testing.T) {
	e := payEnv(t)
	p := newPayShop(t, e, "nordic-skin")
	p.notify(t, map[string]any{"hold": true}) // the notification never comes
	s, o := p.checkout(t, "alice", 1)
	txn := p.confirm(t, s.requestPayment(t, o.ID))
	ctx := context.Background()
	// Not yet due: a prepay made just now is left alone.
	if n, err := e.App.Shop.QueryPending(ctx, time.Now().Add(-time.Hour), 100); err != nil || n != 0 {
		t.Fatalf("query of recent prepays: %d %v", n, err)
	}
	if n, err := e.App.Shop.QueryPending(ctx, time.Now().Add(time.Minute), 100); err != nil || n != 1 {
		t.Fatalf("query: %d %v", n, err)
	}
	if st := p.status(t, o.ID); st != shop.OrderPaid {
		t.Fatalf("after the query the order is %s", st)
	}
	// The notification, late: nothing more happens.
	p.sandbox(t, "/sandbox/v1/pay/notify-release", map[string]any{"mchid": p.mchID})
	testenv.Eventually(t, 60*time.Second, "notification acknowledged", func() bool {
		st := p.replay(t, o.OutTradeNo, "genuine", 1, false)
		return st[0] == 204
	})
	if p.events(t, o.ID, "paid") != 1 || p.count(t, `SELECT count(*) FROM order_payments WHERE tenant_id = ? AND transaction_id = ?`, p.t.ID, txn) != 1 {
		t.Errorf("payment applied more than once")
	}
	if n, err := e.App.Shop.QueryPending(ctx, time.Now().Add(time.Minute), 100); err != nil || n != 0 {
		t.Errorf("second query: %d %v", n, err)
	}
}
