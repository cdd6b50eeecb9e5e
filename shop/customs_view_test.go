package shop_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/minishop/minishop/internal/testenv"
	"github.com/minishop/minishop/shop"
	"github.com/minishop/minishop/tenant"
)

// customsShop is a provisioned shop with a sellable SKU, its owner and a
// buyer, whose customs agent answers at once.
func customsShop(t *testing.T) (*testenv.Env, *miniShop, []string, int64, *shopper) {
	t.Helper()
	e := testenv.New(t)
	m := newMiniShop(t, e, "nordic-skin").provision(t)
	owner := e.Member(t, m.t.ID, "owner@nordic.test", "owner")
	sku := m.sellable(t, "Cream", cartSKU{12900, "general", []int64{50}})[0]
	alice := m.shopper(t, "alice", idZhang)
	m.sandbox(t, "/sandbox/v1/customs/faults", map[string]any{"step_ms": 0})
	return e, m, owner, sku, alice
}

// declareNow runs what the worker does after order.paid, directly: the
// declaration row and the declare task.
func (m *miniShop) declareNow(t *testing.T, o shop.Order) {
	t.Helper()
	paid, _ := json.Marshal(map[string]any{"order_id": o.ID, "out_trade_no": o.OutTradeNo})
	if err := m.e.App.Shop.QueueCustoms(m.ctx(), "outbox:q"+o.OutTradeNo, paid); err != nil {
		t.Fatal(err)
	}
	m.sendDecl(t, o, "1")
}

// sendDecl runs a declare task of order o (one per attempt: tag).
func (m *miniShop) sendDecl(t *testing.T, o shop.Order, tag string) {
	t.Helper()
	task, _ := json.Marshal(map[string]any{"order_id": o.ID})
	if err := m.e.App.Shop.DeclareOrder(m.ctx(), "outbox:d"+tag+o.OutTradeNo, task); err != nil {
		t.Fatal(err)
	}
}

func doc(v shop.CustomsView, kind string) shop.CustomsDocument {
	for _, d := range v.Documents {
		if d.Kind == kind {
			return d
		}
	}
	return shop.CustomsDocument{}
}

func docStates(v shop.CustomsView) string {
	var s []string
	for _, d := range v.Documents {
		s = append(s, d.Kind+"="+d.State)
	}
	return strings.Join(s, " ")
}

type queuePage struct {
	Orders     []shop.CustomsQueueItem `json:"orders"`
	NextCursor *string                 `json:"next_cursor"`
}

func customsQueue(t *testing.T, e *testenv.Env, slug, query string, who []string) (int, queuePage) {
	t.Helper()
	var p queuePage
	r := e.Do(t, "GET", "", "/api/admin/v1/tenants/"+slug+"/customs/queue"+query, nil, who...)
	if r.Status == 200 {
		r.JSON(t, &p)
	}
	return r.Status, p
}

// The four documents: the order declaration accepted, then the agent's
// waybill and inventory list; the inventory list released (800) moves the
// order declaring → declared, once. Receipts applied twice or in reverse
// order (the inventory list before the order's acceptance) end the same.
// A payment declaration present must be accepted too.
func TestCustomsThreeDocuments(t *testing.T) {
	e, m, owner, sku, alice := customsShop(t)
	ctx := m.ctx()

	o := m.paidOrder(t, alice, "t1", sku, "4200000401")
	m.declareNow(t, o)
	_, v := customsView(t, e, "nordic-skin", o.ID, owner)
	if got := docStates(v); got != "order=sent payment=not_started waybill=not_started inventory=not_started" {
		t.Fatalf("after sending: %s", got)
	}
	if d := doc(v, "waybill"); d.Attempt != 0 || d.LastReceipt != nil || len(d.Receipts) != 0 || d.Attention != nil {
		t.Errorf("a document not started: %+v", d)
	}
	if n, err := e.App.Shop.PollCustoms(ctx, o.ID); err != nil || n != 8 {
		t.Fatalf("poll: %d %v", n, err)
	}
	_, v = customsView(t, e, "nordic-skin", o.ID, owner)
	if got := docStates(v); got != "order=accepted payment=not_started waybill=accepted inventory=accepted" || v.OrderStatus != shop.OrderDeclared {
		t.Fatalf("after the receipts: %s, order %s", got, v.OrderStatus)
	}
	inv := doc(v, "inventory")
	if inv.LastReceipt == nil || inv.LastReceipt.Status != 800 || len(inv.Receipts) != 3 || inv.Attempt != 1 || len(inv.GUID) != 36 ||
		inv.GUID == v.Order.GUID || inv.Attention != nil {
		t.Errorf("inventory list: %+v", inv)
	}
	if wb := doc(v, "waybill"); wb.LastReceipt == nil || wb.LastReceipt.Status != 120 || len(wb.Receipts) != 2 || wb.GUID == inv.GUID {
		t.Errorf("waybill: %+v", wb)
	}
	if n, err := e.App.Shop.PollCustoms(ctx, o.ID); err != nil || n != 0 {
		t.Errorf("second poll: %d %v", n, err)
	}
	if n := m.count(t, `SELECT count(*) FROM order_events WHERE tenant_id = ? AND order_id = ? AND kind = 'customs_cleared' AND to_status = 'declared'`, m.t.ID, o.ID); n != 1 {
		t.Errorf("%d customs_cleared events", n)
	}
	// Reversed: the inventory list's receipts come before the order's.
	o2 := m.paidOrder(t, alice, "t2", sku, "4200000402")
	m.declareNow(t, o2)
	_, v = customsView(t, e, "nordic-skin", o2.ID, owner)
	at := time.Now().Add(-time.Minute)
	ig := "11111111-2222-3333-4444-555555555555"
	invt := []shop.Receipt{
		{Kind: "inventory", GUID: ig, OrderNo: o2.OutTradeNo, Status: 800, Time: at.Add(3 * time.Second), Info: "放行"},
		{Kind: "inventory", GUID: ig, OrderNo: o2.OutTradeNo, Status: 120, Time: at.Add(2 * time.Second), Info: "入库"},
		{Kind: "inventory", GUID: ig, OrderNo: o2.OutTradeNo, Status: 2, Time: at.Add(time.Second), Info: "新增申报成功"},
	}
	if n, err := e.App.Shop.ApplyCustomsReceipts(ctx, invt); err != nil || n != 3 {
		t.Fatalf("inventory first: %d %v", n, err)
	}
	_, v2 := customsView(t, e, "nordic-skin", o2.ID, owner)
	if got := docStates(v2); got != "order=sent payment=not_started waybill=not_started inventory=accepted" || v2.OrderStatus != shop.OrderDeclaring {
		t.Fatalf("inventory released before the order is accepted: %s, %s", got, v2.OrderStatus)
	}
	if n, err := e.App.Shop.ApplyCustomsReceipts(ctx, invt); err != nil || n != 0 {
		t.Errorf("the same receipts again: %d %v", n, err)
	}
	ord := []shop.Receipt{{GUID: v.Order.GUID, OrderNo: o2.OutTradeNo, Status: 120, Time: at, Info: "入库"}}
	if n, err := e.App.Shop.ApplyCustomsReceipts(ctx, ord); err != nil || n != 1 {
		t.Fatalf("order accepted: %d %v", n, err)
	}
	_, v2 = customsView(t, e, "nordic-skin", o2.ID, owner)
	if got := docStates(v2); got != "order=accepted payment=not_started waybill=sent inventory=accepted" || v2.OrderStatus != shop.OrderDeclared {
		t.Fatalf("after the order's acceptance: %s, %s", got, v2.OrderStatus)
	}

	// A payment declaration (whoever writes it) holds the order until it
	// is accepted; the periodic poll then moves it.
	o3 := m.paidOrder(t, alice, "t3", sku, "4200000403")
	m.declareNow(t, o3)
	m.sql(t, func(tx *gorm.DB) error {
		return tx.Exec(`INSERT INTO customs_declarations (tenant_id, order_id, kind, order_no, guid, state) VALUES (?, ?, 'payment', ?, 'PAY-1', 'sent')`,
			m.t.ID, o3.ID, o3.OutTradeNo).Error
	})
	if _, err := e.App.Shop.PollCustoms(ctx, o3.ID); err != nil {
		t.Fatal(err)
	}
	_, v3 := customsView(t, e, "nordic-skin", o3.ID, owner)
	if got := docStates(v3); got != "order=accepted payment=sent waybill=accepted inventory=accepted" || v3.OrderStatus != shop.OrderDeclaring {
		t.Fatalf("waiting for the payment declaration: %s, %s", got, v3.OrderStatus)
	}
	m.sql(t, func(tx *gorm.DB) error {
		return tx.Exec(`UPDATE customs_declarations SET state = 'accepted', last_status = 2 WHERE tenant_id = ? AND order_id = ? AND kind = 'payment'`,
			m.t.ID, o3.ID).Error
	})
	if _, err := e.App.Shop.PollOpenCustoms(context.Background(), time.Now(), 100); err != nil {
		t.Fatal(err)
	}
	if _, v3 = customsView(t, e, "nordic-skin", o3.ID, owner); v3.OrderStatus != shop.OrderDeclared {
		t.Errorf("payment accepted: order %s", v3.OrderStatus)
	}
}

// An inventory list rejected because the buyer is not the payer: the
// order goes to customs_rejected, the view and the queue say why and what
// to do; declaring again brings new waybill and inventory messages (the
// old receipts kept, not counted) and the order is declared.
func TestCustomsInventoryRejected(t *testing.T) {
	e, m, owner, sku, alice := customsShop(t)
	ctx := m.ctx()
	o := m.paidOrder(t, alice, "r1", sku, "4200000501")
	m.sandbox(t, "/sandbox/v1/customs/faults", map[string]any{"order_no": o.OutTradeNo, "document": "inventory", "return_info": "订购人与支付人不一致"})
	m.declareNow(t, o)
	if _, err := e.App.Shop.PollCustoms(ctx, o.ID); err != nil {
		t.Fatal(err)
	}
	_, v := customsView(t, e, "nordic-skin", o.ID, owner)
	inv := doc(v, "inventory")
	if v.OrderStatus != shop.OrderCustomsRejected || inv.State != shop.DeclRejected || inv.LastReceipt == nil || inv.LastReceipt.Status != 100 ||
		inv.Attention == nil || inv.Attention.Action != "ask_buyer_or_refund" || !strings.Contains(inv.Attention.ActionText, "own WeChat account") {
		t.Fatalf("rejected inventory: %s %+v %+v", v.OrderStatus, inv, inv.Attention)
	}
	if d := doc(v, "order"); d.State != shop.DeclAccepted || d.Attention != nil {
		t.Errorf("order declaration: %+v", d)
	}
	st, q := customsQueue(t, e, "nordic-skin", "", owner)
	if st != 200 || len(q.Orders) != 1 || q.Orders[0].OrderID != o.ID || len(q.Orders[0].Documents) != 1 {
		t.Fatalf("queue: %d %+v", st, q)
	}
	if qd := q.Orders[0].Documents[0]; qd.Kind != "inventory" || qd.Problem != "rejected" || qd.Action != "ask_buyer_or_refund" ||
		!strings.Contains(qd.Reason, "not the payer") || qd.LastReceipt == nil || !strings.Contains(qd.LastReceipt.Info, "订购人与支付人不一致") {
		t.Errorf("queued document: %+v", qd)
	}
	firstInv := inv.GUID

	r := e.Do(t, "POST", "", fmt.Sprintf("/api/admin/v1/tenants/nordic-skin/orders/%d/customs/redeclare", o.ID), nil, owner...)
	if r.Status != 202 {
		t.Fatalf("redeclare: %d %s", r.Status, r.Body)
	}
	m.sendDecl(t, o, "2")
	if s := alice.get(t, o.ID).Status; s != shop.OrderDeclaring {
		t.Errorf("after declaring again: %s", s)
	}
	if _, err := e.App.Shop.PollCustoms(ctx, o.ID); err != nil {
		t.Fatal(err)
	}
	_, v = customsView(t, e, "nordic-skin", o.ID, owner)
	inv = doc(v, "inventory")
	if v.OrderStatus != shop.OrderDeclared || inv.State != shop.DeclAccepted || inv.Attempt != 2 || inv.GUID == firstInv || len(inv.Receipts) != 6 ||
		v.Order.Attempt != 2 {
		t.Fatalf("declared again: %s %s %+v", v.OrderStatus, docStates(v), inv)
	}
	// A late receipt of the replaced message changes nothing.
	late := shop.Receipt{Kind: "inventory", GUID: firstInv, OrderNo: o.OutTradeNo, Status: 501, Time: time.Now(), Info: "late"}
	if n, err := e.App.Shop.ApplyCustomsReceipts(ctx, []shop.Receipt{late}); err != nil || n != 1 {
		t.Fatalf("late: %d %v", n, err)
	}
	if _, v = customsView(t, e, "nordic-skin", o.ID, owner); doc(v, "inventory").State != shop.DeclAccepted || v.OrderStatus != shop.OrderDeclared {
		t.Errorf("after a late receipt of the replaced list: %s %s", docStates(v), v.OrderStatus)
	}
	if _, q = customsQueue(t, e, "nordic-skin", "", owner); len(q.Orders) != 0 {
		t.Errorf("queue after the fix: %+v", q)
	}
}

// Automatic retries: a declaration the e-port could not pass on (4) is
// declared again by itself, a silent one is sent again after 30 minutes;
// a rejection never is. The queue pages, shows stuck documents with
// "wait", refuses bad paging and shows another shop nothing.
func TestCustomsRetriesAndQueue(t *testing.T) {
	e, m, owner, sku, alice := customsShop(t)
	ctx := m.ctx()

	lost := m.paidOrder(t, alice, "a1", sku, "4200000601")
	m.sandbox(t, "/sandbox/v1/customs/faults", map[string]any{"order_no": lost.OutTradeNo, "return_status": 4, "return_info": "网络超时"})
	m.declareNow(t, lost)
	if _, err := e.App.Shop.PollCustoms(ctx, lost.ID); err != nil {
		t.Fatal(err)
	}
	_, v := customsView(t, e, "nordic-skin", lost.ID, owner)
	if v.Order.State != shop.DeclPending || v.Order.Attempt != 2 || m.count(t, `SELECT count(*) FROM order_events WHERE tenant_id = ? AND order_id = ? AND kind = 'customs_redeclared_automatically'`, m.t.ID, lost.ID) != 1 {
		t.Fatalf("after a 4: %+v", v.Order)
	}
	m.sendDecl(t, lost, "2")
	if _, err := e.App.Shop.PollCustoms(ctx, lost.ID); err != nil {
		t.Fatal(err)
	}
	if _, v = customsView(t, e, "nordic-skin", lost.ID, owner); v.OrderStatus != shop.OrderDeclared {
		t.Errorf("declared automatically again: %s %s", v.OrderStatus, docStates(v))
	}

	rej := m.paidOrder(t, alice, "a2", sku, "4200000602")
	m.sandbox(t, "/sandbox/v1/customs/faults", map[string]any{"order_no": rej.OutTradeNo, "return_info": "订购人身份信息校验不通过"})
	m.declareNow(t, rej)
	if _, err := e.App.Shop.PollCustoms(ctx, rej.ID); err != nil {
		t.Fatal(err)
	}
	if _, v = customsView(t, e, "nordic-skin", rej.ID, owner); v.Order.State != shop.DeclRejected || v.Order.Attempt != 1 ||
		doc(v, "order").Attention.Action != "fix_identity" {
		t.Errorf("a rejection is not retried: %+v %+v", v.Order, doc(v, "order").Attention)
	}

	silent := m.paidOrder(t, alice, "a3", sku, "4200000603")
	m.sandbox(t, "/sandbox/v1/customs/faults", map[string]any{"order_no": silent.OutTradeNo, "silent": true})
	m.declareNow(t, silent)
	if n, err := e.App.Shop.PollCustoms(ctx, silent.ID); err != nil || n != 0 {
		t.Fatalf("silent: %d %v", n, err)
	}
	m.sql(t, func(tx *gorm.DB) error {
		return tx.Exec(`UPDATE customs_declarations SET sent_at = now() - interval '31 minutes', updated_at = now() - interval '3 hours'
			WHERE tenant_id = ? AND order_id = ?`, m.t.ID, silent.ID).Error
	})
	// Stuck for 3 hours: queued with "wait" (checked before the resend).
	_, q := customsQueue(t, e, "nordic-skin", "", owner)
	if len(q.Orders) != 2 || q.Orders[0].OrderID != silent.ID || q.Orders[0].Documents[0].Action != "wait" || q.Orders[0].Documents[0].Problem != "stuck" ||
		q.Orders[1].OrderID != rej.ID {
		t.Fatalf("queue: %+v", q)
	}
	if _, err := e.App.Shop.PollCustoms(ctx, silent.ID); err != nil {
		t.Fatal(err)
	}
	if _, v = customsView(t, e, "nordic-skin", silent.ID, owner); v.Order.State != shop.DeclPending || v.Order.Attempt != 1 {
		t.Fatalf("resend queued: %+v", v.Order)
	}
	m.sendDecl(t, silent, "r")
	if _, v = customsView(t, e, "nordic-skin", silent.ID, owner); v.Order.State != shop.DeclSent || v.Order.Sends != 2 {
		t.Errorf("sent again, same message: %+v", v.Order)
	}

	// Sent again, it is no longer stuck; silent for hours again, it is.
	if _, q = customsQueue(t, e, "nordic-skin", "", owner); len(q.Orders) != 1 || q.Orders[0].OrderID != rej.ID {
		t.Errorf("queue after the resend: %+v", q)
	}
	m.sql(t, func(tx *gorm.DB) error {
		return tx.Exec(`UPDATE customs_declarations SET updated_at = now() - interval '3 hours' WHERE tenant_id = ? AND order_id = ?`, m.t.ID, silent.ID).Error
	})

	// Paging.
	_, p1 := customsQueue(t, e, "nordic-skin", "?limit=1", owner)
	if len(p1.Orders) != 1 || p1.NextCursor == nil || p1.Orders[0].OrderID != silent.ID {
		t.Fatalf("page 1: %+v", p1)
	}
	if _, p2 := customsQueue(t, e, "nordic-skin", "?limit=1&cursor="+*p1.NextCursor, owner); len(p2.Orders) != 1 || p2.Orders[0].OrderID != rej.ID || p2.NextCursor != nil {
		t.Errorf("page 2: %+v", p2)
	}
	for _, bad := range []string{"?limit=101", "?limit=0", "?cursor=zzz"} {
		if st, _ := customsQueue(t, e, "nordic-skin", bad, owner); st != 400 {
			t.Errorf("%s: %d", bad, st)
		}
	}
	other := newMiniShop(t, e, "tokyo-tea")
	stranger := e.Member(t, other.t.ID, "staff@tokyo.test", "owner")
	if st, q := customsQueue(t, e, "tokyo-tea", "", stranger); st != 200 || len(q.Orders) != 0 {
		t.Errorf("another shop's queue: %d %+v", st, q)
	}
	if st, _ := customsQueue(t, e, "nordic-skin", "", stranger); st != 404 {
		t.Errorf("a stranger: %d", st)
	}
	// A refunded order leaves the queue.
	m.sql(t, func(tx *gorm.DB) error {
		return tx.Exec(`UPDATE orders SET status = 'refunding' WHERE tenant_id = ? AND id = ?`, m.t.ID, rej.ID).Error
	})
	if _, q = customsQueue(t, e, "nordic-skin", "", owner); len(q.Orders) != 1 || q.Orders[0].OrderID != silent.ID {
		t.Errorf("queue without the refunded order: %+v", q)
	}
}

// A live shop declares with its live customs codes through the platform's
// agent; without live customs credentials the declaration is not sent and
// says what to do.
func TestCustomsLiveCodes(t *testing.T) {
	e, m, owner, sku, alice := customsShop(t)
	ctx := m.ctx()
	goLive := func() {
		m.sql(t, func(tx *gorm.DB) error { return tx.Exec(`UPDATE tenants SET mode = 'live' WHERE id = ?`, m.t.ID).Error })
	}
	o := m.paidOrder(t, alice, "l1", sku, "4200000701")
	goLive()
	paid, _ := json.Marshal(map[string]any{"order_id": o.ID, "out_trade_no": o.OutTradeNo})
	if err := e.App.Shop.QueueCustoms(ctx, "outbox:lq1", paid); err != nil {
		t.Fatal(err)
	}
	task, _ := json.Marshal(map[string]any{"order_id": o.ID})
	err := e.App.Shop.DeclareOrder(ctx, "outbox:ld1", task)
	if err == nil || !strings.Contains(err.Error(), "live customs credentials") {
		t.Fatalf("live without credentials: %v", err)
	}
	_, v := customsView(t, e, "nordic-skin", o.ID, owner)
	if d := doc(v, "order"); d.State != shop.DeclPending || d.Attention == nil || d.Attention.Action != "configure_customs" {
		t.Fatalf("not configured: %+v %+v", d, d.Attention)
	}

	str := func(s string) *string { return &s }
	if _, err := e.App.Tenants.SaveCredentials(ctx, "live", "customs", &tenant.CustomsInput{EBCCode: str("3301960ABC"), EBCName: str("Nordic Skin AB"),
		EBPCode: str("3301960XYZ"), EBPName: str("Minishop"), CustomsOffice: str("HANGZHOU_ZS"), CustomsMchNo: str("3301960ABC"),
		TradeMode: str("1210"), AgentAPIKey: str("agent-key-123456")}); err != nil {
		t.Fatal(err)
	}
	goLive() // saving re-derives the mode from the Mini Program and WeChat Pay sets
	if err := e.App.Shop.DeclareOrder(ctx, "outbox:ld2", task); err == nil || !strings.Contains(err.Error(), "MINISHOP_CUSTOMS_AGENT_URL") {
		t.Fatalf("live without an agent: %v", err)
	}
	e.App.Shop.CustomsAgent = shop.CustomsAgent{URL: e.App.Shop.SandboxURL, DxpID: "DXPLIVE0000000001"}
	if err := e.App.Shop.DeclareOrder(ctx, "outbox:ld3", task); err != nil {
		t.Fatal(err)
	}
	// The agent keyed the declaration on the live enterprise code: polling
	// with it finds the receipts.
	if n, err := e.App.Shop.PollCustoms(ctx, o.ID); err != nil || n != 8 {
		t.Fatalf("live poll: %d %v", n, err)
	}
	if _, v = customsView(t, e, "nordic-skin", o.ID, owner); v.OrderStatus != shop.OrderDeclared {
		t.Errorf("live order: %s %s", v.OrderStatus, docStates(v))
	}
}
