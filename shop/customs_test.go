package shop_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/minishop/minishop/internal/testenv"
	"github.com/minishop/minishop/shop"
)

// paidOrder places an order for the shopper and reports its payment as
// WeChat Pay would (MarkPaid), which queues the order.paid task.
func (m *miniShop) paidOrder(t *testing.T, s *shopper, key string, sku int64, txn string) shop.Order {
	t.Helper()
	o := s.place(t, key, s.body(sku, 1))
	if err := m.e.App.Shop.MarkPaid(context.Background(), m.t.ID, o.OutTradeNo, txn, o.ActuralPaid, time.Now()); err != nil {
		t.Fatal(err)
	}
	return o
}

func customsView(t *testing.T, e *testenv.Env, slug string, id int64, who []string) (int, shop.CustomsView) {
	t.Helper()
	var v shop.CustomsView
	r := e.Do(t, "GET", "", fmt.Sprintf("/api/admin/v1/tenants/%s/orders/%d/customs", slug, id), nil, who...)
	if r.Status == 200 {
		r.JSON(t, &v)
	}
	return r.Status, v
}

func declState(t *testing.T, e *testenv.Env, slug string, id int64, who []string) string {
	t.Helper()
	st, v := customsView(t, e, slug, id, who)
	if st != 200 || v.Order == nil {
		return ""
	}
	return v.Order.State
}

// A paid order is declared once by the worker, its receipts come back
// through the agent (sandbox) and move the declaration to accepted; a
// rejection shows customs' reason, moves the order to customs_rejected and
// can be declared again; duplicate and late receipts change nothing;
// another shop sees none of it.
func TestCustomsDeclaration(t *testing.T) {
	e := testenv.New(t)
	m := newMiniShop(t, e, "nordic-skin").provision(t)
	owner := e.Member(t, m.t.ID, "owner@nordic.test", "owner")
	sku := m.sellable(t, "Cream", cartSKU{45000, "premium_cosmetics", []int64{20}})[0]
	alice := m.shopper(t, "alice", idZhang)
	m.sandbox(t, "/sandbox/v1/customs/faults", map[string]any{"step_ms": 0})

	ok := m.paidOrder(t, alice, "c1", sku, "4200000101")
	bad := m.paidOrder(t, alice, "c2", sku, "4200000102")
	m.sandbox(t, "/sandbox/v1/customs/faults", map[string]any{"order_no": bad.OutTradeNo, "return_info": "订购人身份信息与支付人不一致"})

	// Before the worker runs: the order has no declaration yet.
	if st, v := customsView(t, e, "nordic-skin", ok.ID, owner); st != 200 || v.Order != nil || v.OrderStatus != shop.OrderPaid {
		t.Fatalf("before the worker: %d %+v", st, v)
	}

	e.StartWorker(t)
	for _, o := range []shop.Order{ok, bad} {
		testenv.Eventually(t, 15*time.Second, "declaration sent", func() bool {
			st := declState(t, e, "nordic-skin", o.ID, owner)
			if st != "" && st != shop.DeclPending && st != shop.DeclSent {
				_, v := customsView(t, e, "nordic-skin", o.ID, owner)
				t.Fatalf("declaration: %+v", v.Order)
			}
			return st == shop.DeclSent
		})
		if s := alice.get(t, o.ID).Status; s != shop.OrderDeclaring {
			t.Errorf("order %d after sending: %s", o.ID, s)
		}
	}
	if n := m.count(t, `SELECT count(*) FROM order_events WHERE tenant_id = ? AND kind = 'customs_declared'`, m.t.ID); n != 2 {
		t.Errorf("%d customs_declared events, want one per order", n)
	}
	// While customs has not answered, a refund is refused with what to wait for.
	refund := fmt.Sprintf("/api/admin/v1/tenants/nordic-skin/orders/%d/refunds", ok.ID)
	if r := e.Do(t, "POST", "", refund, map[string]any{"amount_fen": 100}, owner...); r.Status != 409 || r.ErrorCode() != "refund_not_allowed" ||
		!strings.Contains(string(r.Body), "once customs has answered") {
		t.Errorf("refund while declaring: %d %s", r.Status, r.Body)
	}

	// Receipts, fetched from the agent: 2, 3, then 120.
	ctx := m.ctx()
	// The periodic poll finds both declarations, in every shop: 3 receipts
	// of the accepted one, then 2 of its waybill and 3 of its inventory
	// list; 3 of the rejected one.
	n, err := e.App.Shop.PollOpenCustoms(context.Background(), time.Now(), 100)
	if err != nil || n != 11 {
		t.Fatalf("poll: %d %v", n, err)
	}
	_, v := customsView(t, e, "nordic-skin", ok.ID, owner)
	if d := v.Order; d == nil || d.State != shop.DeclAccepted || d.LastStatus == nil || *d.LastStatus != 120 || len(d.Receipts) != 3 || d.Sends != 1 || d.OrderNo != ok.OutTradeNo {
		t.Fatalf("accepted declaration: %+v", v.Order)
	}
	// Polling again (duplicates) and a late "2" change nothing.
	if n, err := e.App.Shop.PollCustoms(ctx, ok.ID); err != nil || n != 0 {
		t.Errorf("second poll: %d new, %v", n, err)
	}
	late := shop.Receipt{GUID: v.Order.GUID, OrderNo: ok.OutTradeNo, Status: 2, Time: time.Now().Add(time.Hour), Info: "late"}
	if n, err := e.App.Shop.ApplyCustomsReceipts(ctx, []shop.Receipt{late, late}); err != nil || n != 1 {
		t.Errorf("late receipt: %d %v", n, err)
	}
	if _, v := customsView(t, e, "nordic-skin", ok.ID, owner); v.Order.State != shop.DeclAccepted || *v.Order.LastStatus != 120 || len(v.Order.Receipts) != 4 {
		t.Errorf("after a late 2: %+v", v.Order)
	}

	// The rejected order: reason shown, order customs_rejected.
	if _, err := e.App.Shop.PollCustoms(ctx, bad.ID); err != nil {
		t.Fatal(err)
	}
	_, v = customsView(t, e, "nordic-skin", bad.ID, owner)
	if d := v.Order; d == nil || d.State != shop.DeclRejected || *d.LastStatus != 100 || !strings.Contains(d.LastInfo, "订购人身份信息与支付人不一致") ||
		v.OrderStatus != shop.OrderCustomsRejected {
		t.Fatalf("rejected: %+v %+v", v, v.Order)
	}
	firstGUID := v.Order.GUID

	// Another shop's staff: 404 on both routes, nothing changes.
	other := newMiniShop(t, e, "tokyo-tea")
	stranger := e.Member(t, other.t.ID, "staff@tokyo.test", "owner")
	if st, _ := customsView(t, e, "tokyo-tea", bad.ID, stranger); st != 404 {
		t.Errorf("another shop's view: %d", st)
	}
	if r := e.Do(t, "POST", "", fmt.Sprintf("/api/admin/v1/tenants/tokyo-tea/orders/%d/customs/redeclare", bad.ID), nil, stranger...); r.Status != 404 {
		t.Errorf("another shop's redeclare: %d %s", r.Status, r.Body)
	}
	if r := e.Do(t, "GET", "", fmt.Sprintf("/api/admin/v1/tenants/nordic-skin/orders/%d/customs", bad.ID), nil, stranger...); r.Status != 404 {
		t.Errorf("a stranger on this shop: %d", r.Status)
	}

	// An accepted declaration cannot be re-declared; the rejected one can.
	if r := e.Do(t, "POST", "", fmt.Sprintf("/api/admin/v1/tenants/nordic-skin/orders/%d/customs/redeclare", ok.ID), nil, owner...); r.Status != 409 || r.ErrorCode() != "customs_not_rejected" {
		t.Errorf("redeclare accepted: %d %s", r.Status, r.Body)
	}
	r := e.Do(t, "POST", "", fmt.Sprintf("/api/admin/v1/tenants/nordic-skin/orders/%d/customs/redeclare", bad.ID), nil, owner...)
	var rv shop.CustomsView
	r.JSON(t, &rv)
	if r.Status != 202 || rv.Order == nil || rv.Order.Attempt != 2 || rv.Order.GUID == firstGUID {
		t.Fatalf("redeclare: %d %s", r.Status, r.Body)
	}
	testenv.Eventually(t, 15*time.Second, "re-declaration sent", func() bool {
		return declState(t, e, "nordic-skin", bad.ID, owner) == shop.DeclSent
	})
	if s := alice.get(t, bad.ID).Status; s != shop.OrderDeclaring {
		t.Errorf("order after re-declaration: %s", s)
	}
	if _, err := e.App.Shop.PollCustoms(ctx, bad.ID); err != nil {
		t.Fatal(err)
	}
	_, v = customsView(t, e, "nordic-skin", bad.ID, owner)
	if d := v.Order; d.State != shop.DeclAccepted || *d.LastStatus != 120 || len(d.Receipts) != 6 {
		t.Errorf("re-declared: %+v", d)
	}
}

// A declare task delivered twice at once, or run again after a worker died
// between sending and recording, sends the same message (same guid): the
// agent keeps one declaration, customs answers once.
func TestCustomsDeclareTwice(t *testing.T) {
	e := testenv.New(t)
	m := newMiniShop(t, e, "nordic-skin").provision(t)
	sku := m.sellable(t, "Cream", cartSKU{12900, "general", []int64{20}})[0]
	alice := m.shopper(t, "alice", idZhang)
	m.sandbox(t, "/sandbox/v1/customs/faults", map[string]any{"step_ms": 0})
	o := m.paidOrder(t, alice, "d1", sku, "4200000201")
	ctx := m.ctx()
	paid, _ := json.Marshal(map[string]any{"order_id": o.ID, "out_trade_no": o.OutTradeNo})
	for range 2 { // order.paid delivered twice
		if err := e.App.Shop.QueueCustoms(ctx, "outbox:900001", paid); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.App.Shop.QueueCustoms(ctx, "outbox:900002", paid); err != nil { // another task for the same order
		t.Fatal(err)
	}
	if n := m.count(t, `SELECT count(*) FROM outbox WHERE tenant_id = ? AND kind = ?`, m.t.ID, shop.TaskCustomsDeclare); n != 1 {
		t.Fatalf("%d declare tasks", n)
	}
	task, _ := json.Marshal(map[string]any{"order_id": o.ID})
	var wg sync.WaitGroup
	for i := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := e.App.Shop.DeclareOrder(ctx, fmt.Sprintf("outbox:91000%d", i), task); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	n, err := e.App.Shop.PollCustoms(ctx, o.ID)
	if err != nil || n != 8 {
		t.Fatalf("receipts: %d %v (one declaration answers 2, 3, 120; its waybill 2, 120; its inventory list 2, 120, 800)", n, err)
	}
	v, err := e.App.Shop.Customs(ctx, o.ID)
	if err != nil || v.Order.State != shop.DeclAccepted || v.Order.GUID != shop.DeclarationGUID(m.t.ID, o.OutTradeNo, 1) {
		t.Fatalf("view: %+v %v", v, err)
	}
	for _, r := range v.Order.Receipts {
		if r.GUID != v.Order.GUID {
			t.Errorf("a receipt of another message: %+v", r)
		}
	}
	if n := m.count(t, `SELECT count(*) FROM order_events WHERE tenant_id = ? AND order_id = ? AND kind = 'customs_declared'`, m.t.ID, o.ID); n != 1 {
		t.Errorf("%d customs_declared events", n)
	}
}

// An order refunded before its declaration task ran is not declared.
func TestCustomsSkipsRefundedOrder(t *testing.T) {
	e := testenv.New(t)
	m := newMiniShop(t, e, "nordic-skin").provision(t)
	sku := m.sellable(t, "Cream", cartSKU{12900, "general", []int64{20}})[0]
	alice := m.shopper(t, "alice", idZhang)
	m.sandbox(t, "/sandbox/v1/customs/faults", map[string]any{"step_ms": 0})
	o := m.paidOrder(t, alice, "r1", sku, "4200000301")
	ctx := m.ctx()
	paid, _ := json.Marshal(map[string]any{"order_id": o.ID, "out_trade_no": o.OutTradeNo})
	if err := e.App.Shop.QueueCustoms(ctx, "outbox:920001", paid); err != nil {
		t.Fatal(err)
	}
	m.sql(t, func(tx *gorm.DB) error {
		return tx.Exec(`UPDATE orders SET status = 'refunding' WHERE tenant_id = ? AND id = ?`, m.t.ID, o.ID).Error
	})
	task, _ := json.Marshal(map[string]any{"order_id": o.ID})
	if err := e.App.Shop.DeclareOrder(ctx, "outbox:920002", task); err != nil {
		t.Fatal(err)
	}
	v, err := e.App.Shop.Customs(ctx, o.ID)
	if err != nil || v.Order.State != shop.DeclFailed || !strings.Contains(v.Order.LastError, "refunding") || v.Order.SentAt != nil {
		t.Fatalf("view: %+v %v", v.Order, err)
	}
	if n, err := e.App.Shop.PollCustoms(ctx, o.ID); err != nil || n != 0 {
		t.Errorf("the agent has receipts for a refunded order: %d %v", n, err)
	}
}
