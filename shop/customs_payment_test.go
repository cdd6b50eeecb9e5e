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

	"github.com/minishop/minishop/internal/outbox"
	"github.com/minishop/minishop/internal/testenv"
	"github.com/minishop/minishop/shop"
)

// The WeChat Pay customs declaration of payments, end to end: a checkout
// paid at the sandbox (its notification back over HTTP), the worker's
// tasks run from the outbox rows they would be delivered from (twice,
// and at once, as asynq may), WeChat Pay's customs API in the sandbox with
// real signatures, and the admin API validated against openapi.yaml.

type outboxRow struct {
	ID      int64
	Payload json.RawMessage
}

// tasks returns the outbox rows of kind for the shop, oldest first.
func (p *payShop) tasks(t *testing.T, kind string) []outboxRow {
	t.Helper()
	var rows []outboxRow
	if err := p.e.App.DB.Raw(`SELECT id, payload FROM outbox WHERE tenant_id = ? AND kind = ? ORDER BY id`, p.t.ID, kind).Scan(&rows).Error; err != nil {
		t.Fatal(err)
	}
	return rows
}

// run delivers every outbox row of kind to handler, as the worker would.
func (p *payShop) run(t *testing.T, kind string, handler func(context.Context, string, json.RawMessage) error) int {
	t.Helper()
	rows := p.tasks(t, kind)
	for _, r := range rows {
		if err := handler(p.ctx(), outbox.TaskID(r.ID), r.Payload); err != nil {
			t.Fatalf("%s %d: %v", kind, r.ID, err)
		}
	}
	return len(rows)
}

// paid is a checked-out order paid at the sandbox, its payment recorded.
func (p *payShop) paid(t *testing.T, user string, n int) shop.Order {
	t.Helper()
	s, o := p.checkout(t, user, n)
	p.confirm(t, s.requestPayment(t, o.ID))
	p.waitStatus(t, o.ID, shop.OrderPaid)
	return o
}

// queueAndDeclare runs order.paid's payment part and the declare task.
func (p *payShop) queueAndDeclare(t *testing.T) {
	t.Helper()
	if n := p.run(t, shop.TaskOrderPaid, p.e.App.Shop.QueueCustomsPayment); n == 0 {
		t.Fatal("no order.paid task")
	}
	p.run(t, shop.TaskCustomsPaymentDeclare, p.e.App.Shop.DeclarePayment)
}

func (p *payShop) payView(t *testing.T, id int64) (int, shop.PaymentCustomsView) {
	t.Helper()
	var v shop.PaymentCustomsView
	r := p.e.Do(t, "GET", "", fmt.Sprintf("/api/admin/v1/tenants/%s/orders/%d/customs/payment", p.t.Slug, id), nil, p.owner...)
	if r.Status == 200 {
		r.JSON(t, &v)
	}
	return r.Status, v
}

// pollUntil polls WeChat Pay through the periodic task until the payment
// declaration of o reaches state.
func (p *payShop) pollUntil(t *testing.T, o shop.Order, state string) shop.PaymentCustomsView {
	t.Helper()
	var v shop.PaymentCustomsView
	deadline := time.Now().Add(20 * time.Second)
	for {
		if _, err := p.e.App.Shop.PollOpenPaymentCustoms(context.Background(), time.Now().Add(time.Second), 1000); err != nil {
			t.Fatal(err)
		}
		_, v = p.payView(t, o.ID)
		if v.State == state {
			return v
		}
		if time.Now().After(deadline) {
			t.Fatalf("payment declaration of %s: %+v; want %s", o.OutTradeNo, v, state)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

type customsCount struct {
	Declares, Duplicates, Modifies, Redeclares int
	Records                                    []map[string]any
}

func (p *payShop) customsCount(t *testing.T, outTradeNo string) customsCount {
	t.Helper()
	var c customsCount
	out := p.sandbox(t, "/sandbox/v1/pay/customs-declarations", map[string]any{"mchid": p.mchID, "out_trade_no": outTradeNo})
	b, _ := json.Marshal(out)
	_ = json.Unmarshal(b, &c)
	return c
}

func (p *payShop) customsFault(t *testing.T, body map[string]any) {
	t.Helper()
	body["mchid"] = p.mchID
	p.sandbox(t, "/sandbox/v1/pay/customs-faults", body)
}

func TestPaymentDeclarationV2AndGlobal(t *testing.T) {
	e := payEnv(t)
	p := newPayShop(t, e, "nordic-skin")
	for i, mode := range []string{"direct", "global"} {
		t.Run(mode, func(t *testing.T) {
			if mode != "direct" {
				p.saveMerchant(t, mode)
			}
			p.customsFault(t, map[string]any{"step_ms": 0})
			o := p.paid(t, "customs-"+mode, 10+i)

			// order.paid delivered twice: one declaration row and one declare task.
			p.run(t, shop.TaskOrderPaid, e.App.Shop.QueueCustomsPayment)
			if st, v := p.payView(t, o.ID); st != 200 || v.State != shop.DeclPending || len(v.SubOrders) != 1 {
				t.Fatalf("queued: %d %+v", st, v)
			}
			var declares []outboxRow
			for _, r := range p.tasks(t, shop.TaskCustomsPaymentDeclare) {
				if strings.Contains(string(r.Payload), fmt.Sprintf(`"order_id": %d}`, o.ID)) || strings.Contains(string(r.Payload), fmt.Sprintf(`"order_id":%d}`, o.ID)) {
					declares = append(declares, r)
				}
			}
			if len(declares) != 1 {
				t.Fatalf("%d declare tasks", len(declares))
			}
			// The declare task delivered to two workers at once, then again.
			var wg sync.WaitGroup
			for range 2 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if err := e.App.Shop.DeclarePayment(p.ctx(), outbox.TaskID(declares[0].ID), declares[0].Payload); err != nil {
						t.Error(err)
					}
				}()
			}
			wg.Wait()
			p.queueAndDeclare(t)
			if c := p.customsCount(t, o.OutTradeNo); c.Declares != 1 || c.Modifies != 0 {
				_, v := p.payView(t, o.ID)
				t.Fatalf("sandbox saw %+v; want one declaration (%+v)", c, v)
			}
			if n := p.events(t, o.ID, "customs_payment_declared"); n != 1 {
				t.Errorf("%d customs_payment_declared events", n)
			}

			v := p.pollUntil(t, o, shop.DeclAccepted)
			api := map[string]string{"direct": "v2", "global": "v3"}[mode]
			sub := v.SubOrders[0]
			if v.API != api || v.LastStatus == nil || *v.LastStatus != shop.PayStatusSuccess || v.CertCheckResult != "SAME" ||
				v.VerifyDepartment != "OTHERS" || v.TransactionID == "" || v.VerifyDepartmentTradeID != v.TransactionID || v.PaidFen != o.ActuralPaid ||
				v.Customs != shop.PaymentCustomsOffice || v.MchCustomsNo == "" || v.Sends < 1 || v.SentAt == nil {
				t.Errorf("accepted: %+v", v)
			}
			if sub.SubOrderNo != o.OutTradeNo || sub.OrderFee != o.ActuralPaid || sub.OrderFee != sub.TransportFee+sub.ProductFee ||
				sub.State != "SUCCESS" || sub.SubOrderID == "" || sub.Duty != o.TaxTotal || sub.ModifyTime == nil {
				t.Errorf("customs order: %+v (order %+v)", sub, o)
			}
			if n := p.count(t, `SELECT count(*) FROM customs_receipts WHERE tenant_id = ? AND order_id = ? AND kind = 'payment' AND return_status = 120`, p.t.ID, o.ID); n != 1 {
				t.Errorf("%d success receipts", n)
			}
			if n := p.events(t, o.ID, "customs_payment_accepted"); n != 1 {
				t.Errorf("%d customs_payment_accepted events", n)
			}
			// Polling an accepted declaration asks nothing more.
			if n, err := e.App.Shop.PollOpenPaymentCustoms(context.Background(), time.Now().Add(time.Second), 1000); err != nil || n != 0 {
				t.Errorf("poll after acceptance: %d %v", n, err)
			}
		})
	}
}

func TestPaymentDeclarationBuyerNotPayer(t *testing.T) {
	e := payEnv(t)
	p := newPayShop(t, e, "nordic-skin")
	p.customsFault(t, map[string]any{"step_ms": 0})
	s, o := p.checkout(t, "alice", 21)
	p.customsFault(t, map[string]any{"out_trade_no": o.OutTradeNo, "cert_check_result": "DIFFERENT"})
	p.confirm(t, s.requestPayment(t, o.ID))
	p.waitStatus(t, o.ID, shop.OrderPaid)
	p.queueAndDeclare(t)

	_, v := p.payView(t, o.ID)
	if v.State != shop.DeclRejected || v.CertCheckResult != "DIFFERENT" || v.LastStatus == nil || *v.LastStatus != shop.PayStatusDifferent ||
		!strings.Contains(v.LastInfo, "identity check failed: the buyer is not the payer") {
		t.Fatalf("buyer ≠ payer: %+v", v)
	}
	if n := p.events(t, o.ID, "customs_payment_rejected"); n != 1 {
		t.Errorf("%d customs_payment_rejected events", n)
	}
	// The poll does not touch a rejected declaration.
	if n, err := e.App.Shop.PollOpenPaymentCustoms(context.Background(), time.Now().Add(time.Second), 1000); err != nil || n != 0 {
		t.Errorf("poll: %d %v", n, err)
	}
	// The row is the same kind of row as every customs document.
	var row struct{ State, LastInfo string }
	p.sql(t, func(tx *gorm.DB) error {
		return tx.Raw(`SELECT state, last_info FROM customs_declarations WHERE tenant_id = ? AND order_id = ? AND kind = 'payment'`, p.t.ID, o.ID).Scan(&row).Error
	})
	if row.State != shop.DeclRejected || row.LastInfo != v.LastInfo {
		t.Errorf("customs_declarations row: %+v", row)
	}
}

func TestPaymentDeclarationFailThenRedeclare(t *testing.T) {
	e := payEnv(t)
	p := newPayShop(t, e, "nordic-skin")
	p.customsFault(t, map[string]any{"step_ms": 300}) // WeChat Pay's outcome comes after three steps
	s, o := p.checkout(t, "bob", 31)
	p.customsFault(t, map[string]any{"out_trade_no": o.OutTradeNo, "fail": "海关接口返回:订单信息不一致"})
	p.confirm(t, s.requestPayment(t, o.ID))
	p.waitStatus(t, o.ID, shop.OrderPaid)
	path := fmt.Sprintf("/api/admin/v1/tenants/nordic-skin/orders/%d/customs/payment/redeclare", o.ID)

	// Not declared yet: 404; not failed: 409.
	if r := e.Do(t, "POST", "", path, nil, p.owner...); r.Status != 404 || r.ErrorCode() != "customs_payment_not_found" {
		t.Errorf("redeclare before payment declaration: %d %s", r.Status, r.Body)
	}
	p.queueAndDeclare(t)
	if r := e.Do(t, "POST", "", path, nil, p.owner...); r.Status != 409 || r.ErrorCode() != "customs_payment_not_failed" {
		t.Errorf("redeclare of a sent declaration: %d %s", r.Status, r.Body)
	}
	v := p.pollUntil(t, o, shop.DeclFailed)
	if !strings.Contains(v.LastInfo, "订单信息不一致") || v.LastStatus == nil || *v.LastStatus != shop.PayStatusFail || v.SubOrders[0].State != "FAIL" {
		t.Fatalf("failed: %+v", v)
	}
	// A viewer may not redeclare; staff with orders:write may.
	viewer := e.Member(t, p.t.ID, "viewer@nordic.test", "viewer")
	if r := e.Do(t, "POST", "", path, nil, viewer...); r.Status != 403 {
		t.Errorf("viewer: %d %s", r.Status, r.Body)
	}
	r := e.Do(t, "POST", "", path, nil, p.owner...)
	var rv shop.PaymentCustomsView
	r.JSON(t, &rv)
	if r.Status != 202 || rv.State != shop.DeclPending || rv.Attempt != 2 || rv.LastInfo != "" {
		t.Fatalf("redeclare: %d %s", r.Status, r.Body)
	}
	if r := e.Do(t, "POST", "", path, nil, p.owner...); r.Status != 409 {
		t.Errorf("second redeclare while pending: %d %s", r.Status, r.Body)
	}
	p.run(t, shop.TaskCustomsPaymentDeclare, e.App.Shop.DeclarePayment) // both tasks: the first finds nothing pending for it
	v = p.pollUntil(t, o, shop.DeclAccepted)
	if v.Attempt != 2 || v.SubOrders[0].State != "SUCCESS" {
		t.Errorf("after redeclare: %+v", v)
	}
	if c := p.customsCount(t, o.OutTradeNo); c.Declares != 1 || c.Redeclares != 1 {
		t.Errorf("sandbox: %+v; want one declaration re-pushed once", c)
	}
	if r := e.Do(t, "POST", "", path, nil, p.owner...); r.Status != 409 {
		t.Errorf("redeclare of an accepted declaration: %d %s", r.Status, r.Body)
	}
}

func TestPaymentDeclarationModifiedAfterPartialRefund(t *testing.T) {
	e := payEnv(t)
	p := newPayShop(t, e, "nordic-skin")
	p.customsFault(t, map[string]any{"step_ms": 0})
	o := p.paid(t, "carol", 41)
	p.queueAndDeclare(t)
	p.pollUntil(t, o, shop.DeclAccepted)

	part := o.ActuralPaid / 4
	if r := e.Do(t, "POST", "", fmt.Sprintf("/api/admin/v1/tenants/nordic-skin/orders/%d/refunds", o.ID), map[string]any{"amount_fen": part, "reason": "one jar broken"}, p.owner...); r.Status != 202 {
		t.Fatalf("refund: %d %s", r.Status, r.Body)
	}
	p.run(t, shop.TaskRefundSubmit, e.App.Shop.SubmitRefund)
	p.waitStatus(t, o.ID, shop.OrderPartiallyRefunded) // the refund notification came back
	mods := p.tasks(t, shop.TaskCustomsPaymentModify)
	if len(mods) != 1 {
		t.Fatalf("%d modify tasks", len(mods))
	}
	for range 2 { // delivered twice
		if err := e.App.Shop.ModifyPayment(p.ctx(), outbox.TaskID(mods[0].ID), mods[0].Payload); err != nil {
			t.Fatal(err)
		}
	}
	_, v := p.payView(t, o.ID)
	sub := v.SubOrders[0]
	if v.RefundedFen != part || v.Modifications != 1 || sub.OrderFee != o.ActuralPaid-part || sub.OrderFee != sub.TransportFee+sub.ProductFee ||
		(v.State != shop.DeclSent && v.State != shop.DeclReceived && v.State != shop.DeclAccepted) {
		t.Fatalf("modified: %+v", v)
	}
	c := p.customsCount(t, o.OutTradeNo)
	if c.Modifies != 1 || c.Declares != 1 || len(c.Records) != 1 || int64(c.Records[0]["order_fee"].(float64)) != o.ActuralPaid-part {
		t.Fatalf("sandbox: %+v", c)
	}
	v = p.pollUntil(t, o, shop.DeclAccepted)
	if n := p.events(t, o.ID, "customs_payment_modified"); n != 1 {
		t.Errorf("%d customs_payment_modified events", n)
	}
	// Running the task again finds nothing to change.
	if err := e.App.Shop.ModifyPayment(p.ctx(), "outbox:again", mods[0].Payload); err != nil {
		t.Fatal(err)
	}
	if c := p.customsCount(t, o.OutTradeNo); c.Modifies != 1 {
		t.Errorf("modified again: %+v", c)
	}
}

// An order shipped from two warehouses is two customs orders: one payment,
// two sub-orders whose amounts add up to it.
func TestPaymentDeclarationSplitByWarehouse(t *testing.T) {
	e := payEnv(t)
	p := newPayShop(t, e, "nordic-skin")
	p.customsFault(t, map[string]any{"step_ms": 0})
	other := p.sellable(t, "Serum", cartSKU{15900, "general", []int64{0, 50}})[0]
	s := p.shopper(t, "dave", idNumber(51))
	o := s.place(t, "split", s.body(p.sku, 1, other, 2))
	p.confirm(t, s.requestPayment(t, o.ID))
	p.waitStatus(t, o.ID, shop.OrderPaid)
	p.queueAndDeclare(t)
	v := p.pollUntil(t, o, shop.DeclAccepted)
	if len(v.SubOrders) != 2 {
		t.Fatalf("sub-orders: %+v", v.SubOrders)
	}
	var sum, duty int64
	for i, sub := range v.SubOrders {
		if sub.SubOrderNo != fmt.Sprintf("%s-%d", o.OutTradeNo, i+1) || sub.State != "SUCCESS" || sub.WarehouseID == nil || sub.OrderFee != sub.TransportFee+sub.ProductFee {
			t.Errorf("sub-order %d: %+v", i, sub)
		}
		sum += sub.OrderFee
		duty += sub.Duty
	}
	if sum != o.ActuralPaid || duty != o.TaxTotal || *v.SubOrders[0].WarehouseID == *v.SubOrders[1].WarehouseID {
		t.Errorf("split %+v of order %d fen, tax %d", v.SubOrders, o.ActuralPaid, o.TaxTotal)
	}
	if c := p.customsCount(t, o.OutTradeNo); c.Declares != 2 || len(c.Records) != 2 {
		t.Errorf("sandbox: %+v", c)
	}
}

func TestPaymentDeclarationBadInput(t *testing.T) {
	e := payEnv(t)
	p := newPayShop(t, e, "nordic-skin")
	_, o := p.checkout(t, "erin", 61)
	base := "/api/admin/v1/tenants/nordic-skin/orders/"
	for _, c := range []struct {
		method, path string
		status       int
		code         string
	}{
		{"GET", base + "abc/customs/payment", 404, "order_not_found"},
		{"POST", base + "-1/customs/payment/redeclare", 404, "order_not_found"},
		{"GET", base + "999999/customs/payment", 404, "order_not_found"},
		{"POST", base + "999999/customs/payment/redeclare", 404, "order_not_found"},
		{"GET", fmt.Sprintf("%s%d/customs/payment", base, o.ID), 404, "customs_payment_not_found"},
		{"POST", fmt.Sprintf("%s%d/customs/payment/redeclare", base, o.ID), 404, "customs_payment_not_found"},
	} {
		r := e.Do(t, c.method, "", c.path, nil, p.owner...)
		if r.Status != c.status || (c.code != "" && r.ErrorCode() != c.code) {
			t.Errorf("%s %s: %d %s", c.method, c.path, r.Status, r.Body)
		}
	}
	if n := p.count(t, `SELECT count(*) FROM customs_declarations WHERE tenant_id = ?`, p.t.ID); n != 0 {
		t.Errorf("%d declarations after bad requests", n)
	}
}

// Through the worker: order.paid queues the payment declaration and the
// declare task sends it, as registered in worker.Mux; both tasks finish.
func TestPaymentDeclarationThroughTheWorker(t *testing.T) {
	e := payEnv(t)
	p := newPayShop(t, e, "nordic-skin")
	p.customsFault(t, map[string]any{"step_ms": 0})
	e.StartWorker(t)
	o := p.paid(t, "frank", 71)
	deadline := time.Now().Add(30 * time.Second)
	for {
		st, v := p.payView(t, o.ID)
		if st == 200 && v.State != shop.DeclPending {
			break
		}
		if time.Now().After(deadline) {
			var rows []struct {
				Kind      string
				LastError *string
				DoneAt    *time.Time
			}
			p.e.App.DB.Raw(`SELECT kind, last_error, done_at FROM outbox WHERE tenant_id = ? ORDER BY id`, p.t.ID).Scan(&rows)
			t.Fatalf("payment declaration: %d %+v; outbox %+v", st, v, rows)
		}
		time.Sleep(100 * time.Millisecond)
	}
	p.pollUntil(t, o, shop.DeclAccepted) // what the periodic task does every minute
	testenv.Eventually(t, 10*time.Second, "tasks done", func() bool {
		return p.count(t, `SELECT count(*) FROM outbox WHERE tenant_id = ? AND kind = ? AND done_at IS NOT NULL`, p.t.ID, shop.TaskCustomsPaymentDeclare) == 1
	})
	if c := p.customsCount(t, o.OutTradeNo); c.Declares != 1 {
		t.Errorf("sandbox: %+v", c)
	}
}
