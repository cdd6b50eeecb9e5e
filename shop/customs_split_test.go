package shop_test

import (
	"encoding/json"
	"fmt"
	"math/big"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"gorm.io/gorm"

	"github.com/minishop/minishop/shop"
)

// splitShop is a shop paying through the sandbox's WeChat Pay whose
// orders ship from two warehouses: p.sku and the mask from the first, the
// serum from the second; freight ¥10.01, which the lines do not share
// evenly. Customs and WeChat Pay's customs API answer at once.
type splitShop struct {
	*payShop
	serum, mask int64
}

func newSplitShop(t *testing.T) *splitShop {
	t.Helper()
	e := payEnv(t)
	p := newPayShop(t, e, "nordic-skin")
	p.customsFault(t, map[string]any{"step_ms": 0})
	p.sandbox(t, "/sandbox/v1/customs/faults", map[string]any{"step_ms": 0})
	s := &splitShop{payShop: p}
	s.serum = p.sellable(t, "Serum", cartSKU{15900, "general", []int64{0, 50}})[0]
	s.mask = p.sellable(t, "Mask", cartSKU{4550, "premium_cosmetics", []int64{50}})[0]
	tpl := map[string]any{"name": "Standard", "kind": "flat", "rule": map[string]int64{"fee": 1001}}
	if r := e.Do(t, "POST", "", "/api/admin/v1/tenants/nordic-skin/shipping-templates", tpl, p.owner...); r.Status != 201 {
		t.Fatalf("template: %d %s", r.Status, r.Body)
	}
	return s
}

// order places and pays an order of the three products (lines: cream,
// serum ×2, mask ×3) and declares its payment to WeChat Pay, whose
// customs API accepts it; tamper, if given, changes the payment's split
// before it is sent.
func (s *splitShop) order(t *testing.T, user string, n int, tamper func(tx *gorm.DB, o shop.Order) error) shop.Order {
	t.Helper()
	b := s.shopper(t, user, idNumber(n))
	o := b.place(t, user, b.body(s.sku, 1, s.serum, 2, s.mask, 3))
	s.confirm(t, b.requestPayment(t, o.ID))
	s.waitStatus(t, o.ID, shop.OrderPaid)
	s.run(t, shop.TaskOrderPaid, s.e.App.Shop.QueueCustomsPayment)
	if tamper != nil {
		s.sql(t, func(tx *gorm.DB) error { return tamper(tx, o) })
	}
	s.run(t, shop.TaskCustomsPaymentDeclare, s.e.App.Shop.DeclarePayment)
	s.pollUntil(t, o, shop.DeclAccepted)
	return o
}

// declare runs what the worker does after order.paid for the order
// declarations, and every declare task queued since.
func (s *splitShop) declare(t *testing.T) {
	t.Helper()
	s.run(t, shop.TaskOrderPaid, s.e.App.Shop.QueueCustoms)
	s.run(t, shop.TaskCustomsDeclare, s.e.App.Shop.DeclareOrder)
}

func (s *splitShop) view(t *testing.T, id int64) shop.CustomsView {
	t.Helper()
	st, v := customsView(t, s.e, "nordic-skin", id, s.owner)
	if st != 200 {
		t.Fatalf("customs view: %d", st)
	}
	return v
}

func splitJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func subStates(v shop.CustomsView) string {
	var out []string
	for _, sub := range v.SubOrders {
		out = append(out, sub.OrderNo[strings.LastIndex(sub.OrderNo, "-"):]+": "+docStates(shop.CustomsView{Documents: sub.Documents}))
	}
	return strings.Join(out, "; ")
}

// agentReceipts fetches what the agent holds for each customs order of v.
func (s *splitShop) agentReceipts(t *testing.T, v shop.CustomsView) []shop.Receipt {
	t.Helper()
	gw := &shop.HTTPCustomsGateway{BaseURL: s.e.App.Shop.SandboxURL}
	var all []shop.Receipt
	for _, sub := range v.SubOrders {
		rs, err := gw.Receipts(s.ctx(), fmt.Sprintf("SB%08d", s.t.ID%100_000_000), sub.OrderNo)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, rs...)
	}
	return all
}

// An order shipped from two warehouses is declared as two customs orders
// numbered like its payment's sub-orders, each with its lines and amounts
// (adding up to the order's to the fen, and equal to the payment's
// sub-orders, which the sandbox's customs compares); their receipts,
// applied in any order and twice, make the order declared only once every
// customs order is through.
func TestCustomsSplitOrder(t *testing.T) {
	s := newSplitShop(t)
	ctx := s.ctx()
	o := s.order(t, "dave", 51, nil)
	if len(o.Lines) != 3 || o.Lines[0].WarehouseID != o.Lines[2].WarehouseID || o.Lines[0].WarehouseID == o.Lines[1].WarehouseID || o.Freight != 1001 {
		t.Fatalf("the order does not ship from two warehouses: %+v", o)
	}
	s.declare(t)
	v := s.view(t, o.ID)
	if len(v.SubOrders) != 2 || v.OrderStatus != shop.OrderDeclaring {
		t.Fatalf("after sending: %s %+v", v.OrderStatus, v.SubOrders)
	}
	_, pay := s.payView(t, o.ID)
	var goods, freight, discount, tax, paid int64
	for i, sub := range v.SubOrders {
		want := []int{1, 3}
		if i == 1 {
			want = []int{2}
		}
		var g, f, d, x, total int64
		for _, n := range want {
			l := o.Lines[n-1]
			g, f, d, x, total = g+l.Goods, f+l.FreightShare, d+l.DiscountShare, x+l.Tax, total+l.Total
		}
		ps := pay.SubOrders[i]
		if sub.OrderNo != fmt.Sprintf("%s-%d", o.OutTradeNo, i+1) || sub.OrderNo != ps.SubOrderNo || sub.WarehouseID == nil ||
			*sub.WarehouseID != o.Lines[want[0]-1].WarehouseID || !slices.Equal(sub.LineNos, want) ||
			sub.GoodsValue != g || sub.Freight != f || sub.Discount != d || sub.TaxTotal != x || sub.ActuralPaid != total ||
			sub.ActuralPaid != ps.OrderFee || sub.TaxTotal != ps.Duty {
			t.Errorf("customs order %d: %+v; payment sub-order %+v", i, sub.CustomsOrder, ps)
		}
		goods, freight, discount, tax, paid = goods+sub.GoodsValue, freight+sub.Freight, discount+sub.Discount, tax+sub.TaxTotal, paid+sub.ActuralPaid
		for _, d := range sub.Documents {
			if d.OrderNo != sub.OrderNo {
				t.Errorf("document %s of %s named %q", d.Kind, sub.OrderNo, d.OrderNo)
			}
		}
	}
	if goods != o.GoodsValue || freight != o.Freight || discount != o.Discount || tax != o.TaxTotal || paid != o.ActuralPaid {
		t.Errorf("customs orders add up to %d/%d/%d/%d/%d, the order is %d/%d/%d/%d/%d", goods, freight, discount, tax, paid,
			o.GoodsValue, o.Freight, o.Discount, o.TaxTotal, o.ActuralPaid)
	}
	if got := subStates(v); got != "-1: order=sent payment=accepted waybill=not_started inventory=not_started; -2: order=sent payment=accepted waybill=not_started inventory=not_started" {
		t.Errorf("sub-orders after sending: %s", got)
	}
	if v.Order == nil || v.Order.OrderNo != v.SubOrders[0].OrderNo || v.Order.GUID != shop.DeclarationGUID(s.t.ID, v.SubOrders[0].OrderNo, 1) {
		t.Errorf("order_declaration: %+v", v.Order)
	}

	// The agent's receipts, applied one at a time, each customs order's
	// from its last (the inventory list released before the order
	// declaration is accepted), customs order -1 first: the order is
	// declared once both customs orders' order declarations are accepted
	// (120) and inventory lists released (800), not before.
	rs := s.agentReceipts(t, v)
	if len(rs) != 16 {
		t.Fatalf("%d receipts; want 8 per customs order (order 2, 3, 120; waybill 2, 120; inventory 2, 120, 800)", len(rs))
	}
	slices.Reverse(rs[:8])
	slices.Reverse(rs[8:])
	if rs[0].OrderNo != v.SubOrders[0].OrderNo || rs[0].Kind != "inventory" || rs[8].OrderNo != v.SubOrders[1].OrderNo {
		t.Fatalf("receipts: %+v", rs)
	}
	needed := map[string]bool{}
	for _, sub := range v.SubOrders {
		needed[sub.OrderNo+" order 120"], needed[sub.OrderNo+" inventory 800"] = true, true
	}
	for i, r := range rs {
		if n, err := s.e.App.Shop.ApplyCustomsReceipts(ctx, []shop.Receipt{r}); err != nil || n != 1 {
			t.Fatalf("receipt %d %+v: %d %v", i, r, n, err)
		}
		delete(needed, fmt.Sprintf("%s %s %d", r.OrderNo, r.Kind, r.Status))
		if st := s.status(t, o.ID); (st == shop.OrderDeclared) != (len(needed) == 0) {
			t.Fatalf("after receipt %d of %d (%s %s %d), %d still needed: %s", i+1, len(rs), r.OrderNo, r.Kind, r.Status, len(needed), st)
		}
	}
	v = s.view(t, o.ID)
	all := "order=accepted payment=accepted waybill=accepted inventory=accepted"
	if got := subStates(v); got != "-1: "+all+"; -2: "+all || docStates(v) != all || v.OrderStatus != shop.OrderDeclared {
		t.Fatalf("declared: %s | %s | %s", v.OrderStatus, docStates(v), got)
	}
	for _, sub := range v.SubOrders {
		inv := sub.Documents[3]
		if inv.LastReceipt == nil || inv.LastReceipt.Status != shop.InvtReleased || len(inv.Receipts) != 3 || inv.Attention != nil {
			t.Errorf("inventory list of %s: %+v", sub.OrderNo, inv)
		}
	}
	// The same receipts again, in the agent's order and all at once, and a
	// poll: nothing new, nothing changes.
	before := s.view(t, o.ID)
	slices.Reverse(rs)
	if n, err := s.e.App.Shop.ApplyCustomsReceipts(ctx, rs); err != nil || n != 0 {
		t.Errorf("duplicates: %d %v", n, err)
	}
	if n, err := s.e.App.Shop.PollCustoms(ctx, o.ID); err != nil || n != 0 {
		t.Errorf("poll: %d %v", n, err)
	}
	if after := s.view(t, o.ID); splitJSON(t, after) != splitJSON(t, before) {
		t.Errorf("duplicates changed the view:\n%+v\n%+v", before, after)
	}
	if n := s.events(t, o.ID, "customs_cleared"); n != 1 {
		t.Errorf("%d customs_cleared events", n)
	}
	// Only CEB documents wait for the agent's receipts: a payment
	// declaration still at WeChat Pay does not list the order.
	s.sql(t, func(tx *gorm.DB) error {
		return tx.Exec(`UPDATE customs_declarations SET state = 'sent', updated_at = now() - interval '1 hour' WHERE tenant_id = ? AND order_id = ? AND kind = 'payment'`,
			s.t.ID, o.ID).Error
	})
	var waiting []int64
	if err := s.e.App.DB.Raw(`SELECT order_id FROM customs_awaiting_receipts(now(), 1000) WHERE tenant_id = ?`, s.t.ID).Scan(&waiting).Error; err != nil ||
		len(waiting) != 0 {
		t.Errorf("awaiting the agent's receipts: %v %v", waiting, err)
	}
	// A receipt under the order's own number names no customs order of it.
	stray := shop.Receipt{GUID: v.Order.GUID, OrderNo: o.OutTradeNo, Status: 100, Time: rs[0].Time, Info: "x"}
	if n, err := s.e.App.Shop.ApplyCustomsReceipts(ctx, []shop.Receipt{stray}); err != nil || n != 0 {
		t.Errorf("a receipt of the unsplit number: %d %v", n, err)
	}
}

// One customs order of a split order rejected: the order is
// customs_rejected, the other customs order's documents stay as they were,
// the queue names the customs order, and declaring it again (alone) makes
// the order declared.
func TestCustomsSplitOrderRejected(t *testing.T) {
	s := newSplitShop(t)
	ctx := s.ctx()
	o := s.order(t, "erin", 52, nil)
	second := o.OutTradeNo + "-2"
	s.sandbox(t, "/sandbox/v1/customs/faults", map[string]any{"order_no": second, "document": "inventory", "return_info": "商品备案信息不存在"})
	s.declare(t)
	if _, err := s.e.App.Shop.PollCustoms(ctx, o.ID); err != nil {
		t.Fatal(err)
	}
	v := s.view(t, o.ID)
	all := "order=accepted payment=accepted waybill=accepted inventory=accepted"
	if got := subStates(v); v.OrderStatus != shop.OrderCustomsRejected ||
		got != "-1: "+all+"; -2: order=accepted payment=accepted waybill=accepted inventory=rejected" {
		t.Fatalf("rejected: %s %s", v.OrderStatus, got)
	}
	if inv := doc(v, "inventory"); inv.OrderNo != second || inv.State != shop.DeclRejected || inv.Attention == nil || inv.Attention.Action != "fix_product" {
		t.Errorf("the order's inventory list is the rejected one: %+v %+v", inv, inv.Attention)
	}
	first := v.SubOrders[0]
	_, q := customsQueue(t, s.e, "nordic-skin", "", s.owner)
	if len(q.Orders) != 1 || len(q.Orders[0].Documents) != 1 || q.Orders[0].Documents[0].OrderNo != second || q.Orders[0].Documents[0].Kind != "inventory" {
		t.Fatalf("queue: %+v", q)
	}

	base := fmt.Sprintf("/api/admin/v1/tenants/nordic-skin/orders/%d/customs/redeclare", o.ID)
	for _, c := range []struct {
		query  string
		status int
		code   string
	}{
		{"?order_no=" + o.OutTradeNo + "-1", 409, "customs_not_rejected"},
		{"?order_no=" + o.OutTradeNo + "-3", 404, "customs_declaration_not_found"},
		{"?order_no=", 400, "invalid_order_no"},
		{"?order_no=" + strings.Repeat("M", 61), 400, "invalid_order_no"},
	} {
		if r := s.e.Do(t, "POST", "", base+c.query, nil, s.owner...); r.Status != c.status || r.ErrorCode() != c.code {
			t.Errorf("redeclare%s: %d %s", c.query, r.Status, r.Body)
		}
	}
	r := s.e.Do(t, "POST", "", base+"?order_no="+second, nil, s.owner...)
	if r.Status != 202 {
		t.Fatalf("redeclare: %d %s", r.Status, r.Body)
	}
	s.run(t, shop.TaskCustomsDeclare, s.e.App.Shop.DeclareOrder)
	v = s.view(t, o.ID)
	if v.OrderStatus != shop.OrderDeclaring || splitJSON(t, v.SubOrders[0]) != splitJSON(t, first) {
		t.Fatalf("after declaring %s again: %s; customs order -1 %+v, was %+v", second, v.OrderStatus, v.SubOrders[0], first)
	}
	if d := v.SubOrders[1].Documents[0]; d.State != shop.DeclSent || d.Attempt != 2 || d.GUID != shop.DeclarationGUID(s.t.ID, second, 2) {
		t.Errorf("declared again: %+v", d)
	}
	if _, err := s.e.App.Shop.PollCustoms(ctx, o.ID); err != nil {
		t.Fatal(err)
	}
	v = s.view(t, o.ID)
	if got := subStates(v); v.OrderStatus != shop.OrderDeclared || got != "-1: "+all+"; -2: "+all {
		t.Fatalf("after the new attempt: %s %s", v.OrderStatus, got)
	}
	if d := v.SubOrders[0].Documents[0]; d.Attempt != 1 || d.GUID != first.Documents[0].GUID {
		t.Errorf("customs order -1 was declared again: %+v", d)
	}
	if inv := v.SubOrders[1].Documents[3]; inv.Attempt != 2 || len(inv.Receipts) != 6 {
		t.Errorf("inventory list of %s: %+v", second, inv)
	}
}

// The sandbox's customs compares each customs order with the payment
// declaration of its number: a payment split other than the order's
// (a fen moved from one sub-order to the other) is refused at the
// inventory list, for both customs orders.
func TestCustomsSplitOrderAmountsMustMatch(t *testing.T) {
	s := newSplitShop(t)
	o := s.order(t, "fay", 53, func(tx *gorm.DB, o shop.Order) error {
		if err := tx.Exec(`UPDATE customs_payment_orders SET order_fee = order_fee + 1, product_fee = product_fee + 1
			WHERE tenant_id = ? AND order_id = ? AND sub_order_no = ?`, s.t.ID, o.ID, o.OutTradeNo+"-1").Error; err != nil {
			return err
		}
		return tx.Exec(`UPDATE customs_payment_orders SET order_fee = order_fee - 1, product_fee = product_fee - 1
			WHERE tenant_id = ? AND order_id = ? AND sub_order_no = ?`, s.t.ID, o.ID, o.OutTradeNo+"-2").Error
	})
	s.declare(t)
	if _, err := s.e.App.Shop.PollCustoms(s.ctx(), o.ID); err != nil {
		t.Fatal(err)
	}
	v := s.view(t, o.ID)
	if v.OrderStatus != shop.OrderCustomsRejected {
		t.Fatalf("amounts that differ from the payment's: %s %s", v.OrderStatus, subStates(v))
	}
	for _, sub := range v.SubOrders {
		if inv := sub.Documents[3]; inv.State != shop.DeclRejected || inv.LastReceipt == nil || !strings.Contains(inv.LastReceipt.Info, "三单对碰失败") {
			t.Errorf("inventory list of %s: %+v", sub.OrderNo, inv)
		}
	}
}

// For orders of every shape priced by the checkout's rules (1 to 6 lines
// over 1 to 3 warehouses, freight and discounts that do not divide
// evenly), the customs orders are numbered by first appearance of their
// warehouse, carry exactly their warehouse's lines, satisfy acturalPaid =
// goodsValue + freight + taxTotal − discount each, and add up to the
// order's totals to the fen.
func TestSplitCustomsAddsUp(t *testing.T) {
	rng := rand.New(rand.NewPCG(18, 311))
	rates := []*big.Rat{big.NewRat(91, 1000), big.NewRat(2306, 10000), big.NewRat(0, 1)}
	for n := range 500 {
		var lines []shop.OrderLine
		var pl []shop.PricedLine
		for i := range 1 + rng.IntN(6) {
			l := shop.OrderLine{LineNo: i + 1, WarehouseID: int64(100 + rng.IntN(3)), Quantity: 1 + rng.IntN(5), UnitPrice: 1 + rng.Int64N(60000)}
			l.Goods = l.UnitPrice * int64(l.Quantity)
			lines = append(lines, l)
			pl = append(pl, shop.PricedLine{Goods: l.Goods, Rate: rates[rng.IntN(len(rates))]})
		}
		freight := rng.Int64N(3000)
		var goods int64
		for _, l := range lines {
			goods += l.Goods
		}
		discount := rng.Int64N(goods / 2)
		pr := shop.PriceOrder(pl, freight, discount)
		for i := range lines {
			l := &lines[i]
			l.FreightShare, l.DiscountShare, l.Tax = pr.FreightShares[i], pr.DiscountShares[i], pr.Taxes[i]
			l.Total = l.Goods + l.FreightShare + l.Tax - l.DiscountShare
		}
		o := &shop.Order{OutTradeNo: fmt.Sprintf("M%d", n), GoodsValue: pr.GoodsValue, Freight: freight, Discount: discount, TaxTotal: pr.TaxTotal,
			ActuralPaid: pr.ActuralPaid, Lines: lines}
		parts, err := shop.SplitCustoms(o)
		if err != nil {
			t.Fatalf("order %d: %v", n, err)
		}
		var order []int64 // warehouses by first appearance
		for _, l := range lines {
			if !slices.Contains(order, l.WarehouseID) {
				order = append(order, l.WarehouseID)
			}
		}
		if len(parts) != len(order) {
			t.Fatalf("order %d: %d customs orders for %d warehouses", n, len(parts), len(order))
		}
		var sum [5]int64
		for i, p := range parts {
			no := o.OutTradeNo
			if len(parts) > 1 {
				no = fmt.Sprintf("%s-%d", o.OutTradeNo, i+1)
			}
			var total int64
			var nos []int
			for _, l := range lines {
				if l.WarehouseID == order[i] {
					nos = append(nos, l.LineNo)
					total += l.Total
				}
			}
			if p.OrderNo != no || !slices.Equal(p.LineNos, nos) || p.ActuralPaid != total ||
				p.ActuralPaid != p.GoodsValue+p.Freight+p.TaxTotal-p.Discount || (len(parts) > 1) != (p.WarehouseID != nil) {
				t.Fatalf("order %d, customs order %d: %+v; want %s, lines %v, paid %d", n, i, p, no, nos, total)
			}
			sum[0], sum[1], sum[2], sum[3], sum[4] = sum[0]+p.GoodsValue, sum[1]+p.Freight, sum[2]+p.Discount, sum[3]+p.TaxTotal, sum[4]+p.ActuralPaid
		}
		if sum != [5]int64{o.GoodsValue, o.Freight, o.Discount, o.TaxTotal, o.ActuralPaid} {
			t.Fatalf("order %d: customs orders add up to %v, the order is %+v", n, sum, o)
		}
	}
}
