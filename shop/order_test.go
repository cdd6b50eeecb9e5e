package shop_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"gorm.io/gorm"

	"github.com/minishop/minishop/internal/db"
	"github.com/minishop/minishop/internal/errs"
	"github.com/minishop/minishop/internal/scope"
	"github.com/minishop/minishop/internal/testenv"
	"github.com/minishop/minishop/shop"
)

// idNumber is a valid resident ID number for sequence n (the check digit
// of GB 11643 computed here, as a person's card carries it).
func idNumber(n int) string {
	base := fmt.Sprintf("11010519900101%03d", n%1000)
	w := []int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	sum := 0
	for i := range 17 {
		sum += int(base[i]-'0') * w[i]
	}
	return base + string("10X98765432"[sum%11])
}

// compliant completes the customs data of SKUs, as a brand does before selling.
func (m *miniShop) compliant(t *testing.T, skuIDs ...int64) {
	t.Helper()
	m.sql(t, func(tx *gorm.DB) error {
		return tx.Exec(`UPDATE skus SET hs_code = '3304990099', origin_country = '330', gname = '面霜', gmodel = 'Brand 50ml',
			unit = '007', legal_unit1 = '035', legal_qty1 = 0.05, net_weight_g = 50, gross_weight_g = 400, item_record_no = 'REC0001',
			positive_list = true WHERE tenant_id = ? AND id IN ?`, m.t.ID, skuIDs).Error
	})
}

// sellable seeds a published, compliant product and returns its SKU ids.
func (m *miniShop) sellable(t *testing.T, title string, skus ...cartSKU) []int64 {
	t.Helper()
	_, ids := m.seedProduct(t, "published", title, skus...)
	m.compliant(t, ids...)
	return ids
}

func (m *miniShop) stock(t *testing.T, skuID int64) (onHand, reserved int64) {
	t.Helper()
	var r struct{ OnHand, Reserved int64 }
	m.sql(t, func(tx *gorm.DB) error {
		return tx.Raw(`SELECT sum(on_hand)::bigint AS on_hand, sum(reserved)::bigint AS reserved FROM stock_levels WHERE tenant_id = ? AND sku_id = ?`, m.t.ID, skuID).Scan(&r).Error
	})
	return r.OnHand, r.Reserved
}

func (m *miniShop) count(t *testing.T, q string, args ...any) int64 {
	t.Helper()
	var n int64
	m.sql(t, func(tx *gorm.DB) error { return tx.Raw(q, args...).Scan(&n).Error })
	return n
}

// shopper is a signed-in customer with a delivery address and a buyer identity.
type shopper struct {
	*buyer
	address, identity int64
}

func (m *miniShop) shopper(t *testing.T, user, idNo string) *shopper {
	t.Helper()
	b := m.signIn(t, user)
	var a shop.Address
	if r := b.do(t, "POST", "/api/v1/me/addresses", address("漕溪北路 1 号")); r.Status != 201 {
		t.Fatalf("address: %d %s", r.Status, r.Body)
	} else {
		r.JSON(t, &a)
	}
	var id shop.Identity
	if r := b.do(t, "POST", "/api/v1/me/identities", map[string]string{"name": "张三", "id_number": idNo}); r.Status != 201 {
		t.Fatalf("identity: %d %s", r.Status, r.Body)
	} else {
		r.JSON(t, &id)
	}
	return &shopper{buyer: b, address: a.ID, identity: id.ID}
}

// body is an order of explicit lines (sku, quantity, sku, quantity, …).
func (s *shopper) body(lines ...int64) map[string]any {
	ls := []map[string]int64{}
	for i := 0; i+1 < len(lines); i += 2 {
		ls = append(ls, map[string]int64{"sku_id": lines[i], "quantity": lines[i+1]})
	}
	return map[string]any{"lines": ls, "address_id": s.address, "identity_id": s.identity}
}

func (s *shopper) order(t *testing.T, key string, body any, headers ...string) *testenv.Response {
	t.Helper()
	h := append([]string{"Authorization", "Bearer " + s.token, "Idempotency-Key", key}, headers...)
	return s.m.e.Do(t, "POST", s.m.host, "/api/v1/orders", body, h...)
}

func (s *shopper) place(t *testing.T, key string, body any) shop.Order {
	t.Helper()
	r := s.order(t, key, body)
	if r.Status != 201 {
		t.Fatalf("order %s: %d %s", key, r.Status, r.Body)
	}
	var o shop.Order
	r.JSON(t, &o)
	return o
}

func checkTotals(t *testing.T, o shop.Order) {
	t.Helper()
	var goods, freight, tax, total int64
	for _, l := range o.Lines {
		goods += l.Goods
		freight += l.FreightShare
		tax += l.Tax
		total += l.Total
		if l.Total != l.Goods+l.FreightShare+l.Tax-l.DiscountShare {
			t.Errorf("line %d: total %d ≠ goods + freight + tax − discount", l.LineNo, l.Total)
		}
	}
	if goods != o.GoodsValue || freight != o.Freight || tax != o.TaxTotal || total != o.ActuralPaid {
		t.Errorf("lines add up to goods %d freight %d tax %d total %d; order says %d %d %d %d", goods, freight, tax, total, o.GoodsValue, o.Freight, o.TaxTotal, o.ActuralPaid)
	}
	if o.ActuralPaid != o.GoodsValue+o.Freight+o.TaxTotal-o.Discount {
		t.Errorf("acturalPaid %d ≠ %d + %d + %d − %d", o.ActuralPaid, o.GoodsValue, o.Freight, o.TaxTotal, o.Discount)
	}
}

func TestCheckoutTaxFreightAndStock(t *testing.T) {
	e := testenv.New(t)
	m := newMiniShop(t, e, "nordic-skin").provision(t)
	owner := e.Member(t, m.t.ID, "owner@nordic.test", "owner")
	general := m.sellable(t, "Socks", cartSKU{12900, "general", []int64{10}})[0]
	cream := m.sellable(t, "Cream", cartSKU{45000, "premium_cosmetics", []int64{10}})[0]
	small := m.sellable(t, "Soap", cartSKU{10000, "general", []int64{10}})[0]
	serum := m.sellable(t, "Serum", cartSKU{30000, "premium_cosmetics", []int64{10}})[0]
	alice := m.shopper(t, "alice", idZhang)

	// No shipping template yet: free shipping. ¥450 premium cream: 45000 × 23.06% = 10376.47 → 10376.
	o := alice.place(t, "k1", alice.body(cream, 1))
	if o.Status != shop.OrderPendingPayment || o.Freight != 0 || o.TaxTotal != 10376 || o.ActuralPaid != 55376 || o.TaxMode != shop.TaxModeCBEC ||
		o.Lines[0].TaxRate != "23.06%" || o.Buyer.IDNumberMasked != "1101**********002X" || o.Address.Consignee != "张三" {
		t.Fatalf("cream order: %+v", o)
	}
	checkTotals(t, o)

	// A flat ¥10 template becomes the default.
	tpl := map[string]any{"name": "Standard", "kind": "flat", "rule": map[string]int64{"fee": 1000}}
	if r := e.Do(t, "POST", "", "/api/admin/v1/tenants/nordic-skin/shipping-templates", tpl, owner...); r.Status != 201 || !strings.Contains(string(r.Body), `"is_default":true`) {
		t.Fatalf("template: %d %s", r.Status, r.Body)
	}
	// ¥129 × 2 + ¥10: 26800 × 9.1% = 2438.8 → 2439; 25800 + 1000 + 2439 = 29239.
	o = alice.place(t, "k2", alice.body(general, 2))
	if o.GoodsValue != 25800 || o.Freight != 1000 || o.TaxTotal != 2439 || o.ActuralPaid != 29239 || o.Lines[0].TaxRate != "9.1%" {
		t.Fatalf("general order: %+v", o)
	}
	checkTotals(t, o)
	// ¥100 general + ¥300 cosmetics + ¥10 split 250/750: 933 + 7091 = 8024; 49024.
	o = alice.place(t, "k3", alice.body(small, 1, serum, 1))
	if o.TaxTotal != 8024 || o.ActuralPaid != 49024 || o.Lines[0].FreightShare != 250 || o.Lines[1].FreightShare != 750 ||
		o.Lines[0].Tax != 933 || o.Lines[1].Tax != 7091 {
		t.Fatalf("mixed order: %+v", o)
	}
	checkTotals(t, o)

	// Stock is reserved, with a movement per line.
	if on, res := m.stock(t, general); on != 10 || res != 2 {
		t.Errorf("socks: on hand %d reserved %d", on, res)
	}
	if n := m.count(t, `SELECT count(*) FROM stock_movements WHERE tenant_id = ? AND kind = 'reserved' AND ref = ?`, m.t.ID, fmt.Sprintf("order:%d", o.ID)); n != 2 {
		t.Errorf("%d reserved movements for the mixed order", n)
	}

	// From the cart: the cart's lines become the order and leave the cart.
	alice.do(t, "POST", "/api/v1/cart/items", map[string]any{"sku_id": small, "quantity": 3})
	o = alice.place(t, "k4", map[string]any{"address_id": alice.address, "identity_id": alice.identity})
	if len(o.Lines) != 1 || o.Lines[0].SKUID != small || o.Lines[0].Quantity != 3 {
		t.Fatalf("cart order: %+v", o)
	}
	if c := alice.cart(t); len(c.Items) != 0 {
		t.Errorf("cart after ordering: %+v", c.Items)
	}
	if r := alice.order(t, "k4", map[string]any{"lines": []any{}, "address_id": alice.address, "identity_id": alice.identity}); r.Status != 200 {
		t.Errorf("the cart order again, with lines []: %d %s", r.Status, r.Body)
	}
	if r := alice.order(t, "k5", map[string]any{"address_id": alice.address, "identity_id": alice.identity}); r.Status != 422 || r.ErrorCode() != "cart_empty" {
		t.Errorf("empty cart: %d %s", r.Status, r.Body)
	}

	// The customer's list and detail; another customer sees none of it.
	var page struct {
		Orders     []shop.Order
		NextCursor *string `json:"next_cursor"`
	}
	r := alice.do(t, "GET", "/api/v1/orders?limit=3", nil)
	r.JSON(t, &page)
	if r.Status != 200 || len(page.Orders) != 3 || page.NextCursor == nil || page.Orders[0].ID != o.ID || page.Orders[0].Lines != nil {
		t.Fatalf("my orders: %d %s", r.Status, r.Body)
	}
	r = alice.do(t, "GET", "/api/v1/orders?limit=3&cursor="+*page.NextCursor, nil)
	r.JSON(t, &page)
	if len(page.Orders) != 1 || page.NextCursor != nil {
		t.Fatalf("second page: %s", r.Body)
	}
	if r := alice.do(t, "GET", fmt.Sprintf("/api/v1/orders/%d", o.ID), nil); r.Status != 200 || !strings.Contains(string(r.Body), `"lines"`) {
		t.Errorf("detail: %d %s", r.Status, r.Body)
	}
	bob := m.signIn(t, "bob")
	if r := bob.do(t, "GET", fmt.Sprintf("/api/v1/orders/%d", o.ID), nil); r.Status != 404 || r.ErrorCode() != "order_not_found" {
		t.Errorf("bob reads alice's order: %d %s", r.Status, r.Body)
	}
	if r := bob.do(t, "POST", fmt.Sprintf("/api/v1/orders/%d/cancel", o.ID), nil); r.Status != 404 {
		t.Errorf("bob cancels alice's order: %d %s", r.Status, r.Body)
	}

	// Cancelling releases the stock; a second cancel is refused.
	r = alice.do(t, "POST", fmt.Sprintf("/api/v1/orders/%d/cancel", o.ID), nil)
	var cancelled shop.Order
	r.JSON(t, &cancelled)
	if r.Status != 200 || cancelled.Status != shop.OrderCancelled {
		t.Fatalf("cancel: %d %s", r.Status, r.Body)
	}
	if _, res := m.stock(t, small); res != 1 {
		t.Errorf("soap reserved after cancel: %d", res)
	}
	if r := alice.do(t, "POST", fmt.Sprintf("/api/v1/orders/%d/cancel", o.ID), nil); r.Status != 409 || r.ErrorCode() != "order_not_cancellable" {
		t.Errorf("second cancel: %d %s", r.Status, r.Body)
	}
	// Pay without a payment provider: 503 with a code.
	e.App.Shop.SetPaymentGateway(nil)
	if r := alice.do(t, "POST", fmt.Sprintf("/api/v1/orders/%d/pay", page.Orders[0].ID), nil); r.Status != 503 || r.ErrorCode() != "payments_unavailable" {
		t.Errorf("pay without gateway: %d %s", r.Status, r.Body)
	}

	// The admin list, filtered, and the detail with the timeline, identity masked.
	var admin struct{ Orders []shop.Order }
	r = e.Do(t, "GET", "", "/api/admin/v1/tenants/nordic-skin/orders?status=cancelled", nil, owner...)
	r.JSON(t, &admin)
	if r.Status != 200 || len(admin.Orders) != 1 || admin.Orders[0].ID != o.ID {
		t.Fatalf("admin list: %d %s", r.Status, r.Body)
	}
	today := time.Now().In(time.FixedZone("CST", 8*3600)).Format("2006-01-02")
	r = e.Do(t, "GET", "", fmt.Sprintf("/api/admin/v1/tenants/nordic-skin/orders?from=%s&to=%s&customer_id=%d", today, today, alice.id), nil, owner...)
	r.JSON(t, &admin)
	if len(admin.Orders) != 4 {
		t.Errorf("admin list of today for alice: %d orders %s", len(admin.Orders), r.Body)
	}
	r = e.Do(t, "GET", "", "/api/admin/v1/tenants/nordic-skin/orders?from=2001-01-01&to=2001-01-02", nil, owner...)
	r.JSON(t, &admin)
	if len(admin.Orders) != 0 {
		t.Errorf("orders in 2001: %s", r.Body)
	}
	if r := e.Do(t, "GET", "", "/api/admin/v1/tenants/nordic-skin/orders?status=lost", nil, owner...); r.Status != 400 || r.ErrorCode() != "invalid_status" {
		t.Errorf("bad status filter: %d %s", r.Status, r.Body)
	}
	var detail shop.Order
	r = e.Do(t, "GET", "", fmt.Sprintf("/api/admin/v1/tenants/nordic-skin/orders/%d", o.ID), nil, owner...)
	r.JSON(t, &detail)
	if r.Status != 200 || len(detail.Events) != 2 || detail.Events[0].Kind != "created" || *detail.Events[1].ToStatus != shop.OrderCancelled ||
		strings.Contains(string(r.Body), idZhang) || detail.Buyer.NameMasked != "张*" {
		t.Fatalf("admin detail: %d %s", r.Status, r.Body)
	}
}

func TestCheckoutIdempotency(t *testing.T) {
	e := testenv.New(t)
	m := newMiniShop(t, e, "nordic-skin").provision(t)
	sku := m.sellable(t, "Cream", cartSKU{9900, "general", []int64{100}})[0]
	alice := m.shopper(t, "alice", idZhang)

	first := alice.order(t, "order-1", alice.body(sku, 1))
	if first.Status != 201 {
		t.Fatalf("first: %d %s", first.Status, first.Body)
	}
	// The same key and body, even written differently: the same answer.
	again := alice.order(t, "order-1", fmt.Sprintf(` { "identity_id": %d, "address_id": %d, "lines": [ {"quantity": 1, "sku_id": %d} ] }`, alice.identity, alice.address, sku))
	if again.Status != 200 || string(again.Body) != string(first.Body) || again.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("replay: %d %s\nfirst: %s", again.Status, again.Body, first.Body)
	}
	// The same key for another order: 409, nothing made.
	if r := alice.order(t, "order-1", alice.body(sku, 2)); r.Status != 409 || r.ErrorCode() != "idempotency_key_reused" {
		t.Errorf("reused key: %d %s", r.Status, r.Body)
	}
	// No key, or a malformed one: 400.
	r := e.Do(t, "POST", m.host, "/api/v1/orders", alice.body(sku, 1), "Authorization", "Bearer "+alice.token)
	if r.Status != 400 || r.ErrorCode() != "idempotency_key_required" {
		t.Errorf("no key: %d %s", r.Status, r.Body)
	}
	if r := alice.order(t, strings.Repeat("x", 65), alice.body(sku, 1)); r.Status != 400 {
		t.Errorf("long key: %d %s", r.Status, r.Body)
	}
	// Keys are the customer's own: bob may use the same one.
	bob := m.shopper(t, "bob", idLi)
	if r := bob.order(t, "order-1", bob.body(sku, 1)); r.Status != 201 {
		t.Errorf("bob's order-1: %d %s", r.Status, r.Body)
	}
	// Ten concurrent copies of a new request: one order.
	var wg sync.WaitGroup
	statuses := make([]int, 10)
	bodies := make([]string, 10)
	for i := range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := alice.order(t, "order-2", alice.body(sku, 3))
			statuses[i], bodies[i] = r.Status, string(r.Body)
		}()
	}
	wg.Wait()
	created := 0
	for i := range statuses {
		if statuses[i] == 201 {
			created++
		} else if statuses[i] != 200 {
			t.Errorf("copy %d: %d %s", i, statuses[i], bodies[i])
		}
		if bodies[i] != bodies[0] {
			t.Errorf("copy %d answered differently:\n%s\n%s", i, bodies[i], bodies[0])
		}
	}
	if created != 1 {
		t.Errorf("%d copies created an order", created)
	}
	if n := m.count(t, `SELECT count(*) FROM orders WHERE tenant_id = ?`, m.t.ID); n != 3 {
		t.Errorf("%d orders, want 3", n)
	}
	if _, res := m.stock(t, sku); res != 5 {
		t.Errorf("reserved %d, want 1 + 1 + 3", res)
	}
}

func TestCheckoutRefusals(t *testing.T) {
	e := testenv.New(t)
	a := newMiniShop(t, e, "nordic-skin").provision(t)
	b := newMiniShop(t, e, "tokyo-tea").provision(t)
	cream := a.sellable(t, "Cream", cartSKU{200000, "general", []int64{50}})[0] // ¥2,000
	watch := a.sellable(t, "Watch", cartSKU{2000000, "general", []int64{5}})[0] // ¥20,000: one indivisible item
	draft := a.sellable(t, "Raw", cartSKU{1000, "general", []int64{5}})[0]
	a.sql(t, func(tx *gorm.DB) error {
		return tx.Exec(`UPDATE skus SET positive_list = false WHERE tenant_id = ? AND id = ?`, a.t.ID, draft).Error
	})
	direct := a.sellable(t, "Direct", cartSKU{1000, "general", []int64{5}})[0]
	a.sql(t, func(tx *gorm.DB) error {
		return tx.Exec(`UPDATE skus SET trade_mode = '9610' WHERE tenant_id = ? AND id = ?`, a.t.ID, direct).Error
	})
	tea := b.sellable(t, "Tea", cartSKU{400000, "general", []int64{5}})[0] // ¥4,000 at another shop

	alice := a.shopper(t, "alice", idZhang)
	refused := func(r *testenv.Response, code string) {
		t.Helper()
		if r.Status != 422 || r.ErrorCode() != code {
			t.Errorf("want 422 %s, got %d %s", code, r.Status, r.Body)
		}
	}
	// ¥2,000 × 3 with tax is over ¥5,000: refused, in English or Chinese.
	r := alice.order(t, "r1", alice.body(cream, 3))
	refused(r, "order_limit_exceeded")
	if !strings.Contains(string(r.Body), "at most ¥5000.00") {
		t.Errorf("english message: %s", r.Body)
	}
	r = alice.order(t, "r1", alice.body(cream, 3), "Accept-Language", "zh-CN,zh;q=0.9,en;q=0.8")
	if !strings.Contains(string(r.Body), "跨境电商单笔交易限值为 ¥5000.00") || !strings.Contains(string(r.Body), `"total":654600`) {
		t.Errorf("chinese message: %s", r.Body)
	}
	refused(alice.order(t, "r2", alice.body(draft, 1)), "product_not_compliant")
	refused(alice.order(t, "r3", alice.body(cream, 1, direct, 1)), "mixed_trade_modes")
	refused(alice.order(t, "r4", map[string]any{"lines": []map[string]int64{{"sku_id": cream, "quantity": 1}}, "address_id": alice.address}), "identity_required")
	refused(alice.order(t, "r5", map[string]any{"lines": []map[string]int64{{"sku_id": cream, "quantity": 1}}, "identity_id": alice.identity}), "address_required")
	bob := a.shopper(t, "bob", idLi)
	refused(alice.order(t, "r6", map[string]any{"lines": []map[string]int64{{"sku_id": cream, "quantity": 1}}, "address_id": bob.address, "identity_id": alice.identity}), "address_not_found")
	refused(alice.order(t, "r7", map[string]any{"lines": []map[string]int64{{"sku_id": cream, "quantity": 1}}, "address_id": alice.address, "identity_id": bob.identity}), "identity_not_found")
	if r := alice.order(t, "r8", alice.body(cream, 1, cream, 1)); r.Status != 400 {
		t.Errorf("duplicate lines: %d %s", r.Status, r.Body)
	}
	if r := alice.order(t, "r9", alice.body(direct, 6)); r.Status != 409 || r.ErrorCode() != "insufficient_stock" {
		t.Errorf("more than the stock: %d %s", r.Status, r.Body)
	}
	if n := a.count(t, `SELECT count(*) FROM orders WHERE tenant_id = ?`, a.t.ID); n != 0 {
		t.Fatalf("refusals made %d orders", n)
	}
	if _, res := a.stock(t, cream); res != 0 {
		t.Fatalf("refusals reserved %d", res)
	}

	// One indivisible item above ¥5,000: allowed, taxed in full (13%), and
	// it counts toward the annual ¥26,000: 2000000 × 1.13 = 2260000.
	watchOrder := alice.place(t, "w1", alice.body(watch, 1))
	if watchOrder.TaxMode != shop.TaxModeGeneralTrade || watchOrder.TaxTotal != 260000 || watchOrder.ActuralPaid != 2260000 || watchOrder.Lines[0].TaxRate != "13%" {
		t.Fatalf("single item: %+v", watchOrder)
	}
	if r := alice.order(t, "w2", alice.body(watch, 2)); r.Status != 422 || r.ErrorCode() != "order_limit_exceeded" {
		t.Errorf("two watches: %d %s", r.Status, r.Body)
	}
	// The same person at another shop: ¥4,000 + 9.1% = ¥4,364; 22,600 + 4,364 > 26,000.
	carol := b.shopper(t, "carol", strings.ToLower(idZhang))
	r = carol.order(t, "t1", carol.body(tea, 1))
	refused(r, "annual_limit_exceeded")
	if !strings.Contains(string(r.Body), `"remaining":340000`) {
		t.Errorf("remaining quota: %s", r.Body)
	}
	// Another person at that shop is not affected.
	dave := b.shopper(t, "dave", idLi)
	dave.place(t, "t1", dave.body(tea, 1))
	// Once the watch order is cancelled, its hold is released.
	if r := alice.do(t, "POST", fmt.Sprintf("/api/v1/orders/%d/cancel", watchOrder.ID), nil); r.Status != 200 {
		t.Fatalf("cancel: %d %s", r.Status, r.Body)
	}
	carol.place(t, "t2", carol.body(tea, 1))
	// The tenant role cannot read the platform ledger, nor add to it for another shop.
	var n int64
	err := e.App.DB.Transaction(func(tx *gorm.DB) error {
		return tx.Raw(`SELECT count(*) FROM buyer_annual_spend`).Scan(&n).Error
	})
	if err == nil || !strings.Contains(err.Error(), "permission denied") {
		t.Errorf("app role reading the ledger: %v", err)
	}
	err = db.InTenant(a.ctx(), e.App.DB, func(tx *gorm.DB) error {
		return tx.Raw(`SELECT cbec_annual_hold(?, 1, 'x', 2026, 1, 100)`, b.t.ID).Scan(&n).Error
	})
	if err == nil || !strings.Contains(err.Error(), "not the current tenant") {
		t.Errorf("a shop held quota in another shop's name: %v", err)
	}
}

// 200 buyers at once for 50 units of one SKU: exactly 50 orders.
func TestCheckoutNeverOversells(t *testing.T) {
	e := testenv.New(t)
	m := newMiniShop(t, e, "nordic-skin").provision(t)
	sku := m.sellable(t, "Limited", cartSKU{1000, "general", []int64{30, 20}})[0] // two warehouses
	const buyers = 200
	shoppers := make([]*shopper, buyers)
	for i := range shoppers {
		shoppers[i] = m.shopper(t, fmt.Sprintf("buyer-%d", i), idNumber(i))
	}
	var wg sync.WaitGroup
	statuses := make([]int, buyers)
	codes := make([]string, buyers)
	start := make(chan struct{})
	for i, s := range shoppers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			r := s.order(t, "rush", s.body(sku, 1))
			statuses[i], codes[i] = r.Status, r.ErrorCode()
		}()
	}
	t0 := time.Now()
	close(start)
	wg.Wait()
	t.Logf("%d concurrent checkouts for 50 units over HTTP in %s", buyers, time.Since(t0).Round(time.Millisecond))
	created, soldOut := 0, 0
	for i := range statuses {
		switch {
		case statuses[i] == 201:
			created++
		case statuses[i] == 409 && (codes[i] == "sold_out" || codes[i] == "insufficient_stock"):
			soldOut++
		default:
			t.Errorf("buyer %d: %d %s", i, statuses[i], codes[i])
		}
	}
	if created != 50 || soldOut != 150 {
		t.Fatalf("%d orders and %d refusals, want 50 and 150", created, soldOut)
	}
	if on, res := m.stock(t, sku); on != 50 || res != 50 {
		t.Errorf("on hand %d reserved %d", on, res)
	}
	if n := m.count(t, `SELECT count(*) FROM stock_levels WHERE tenant_id = ? AND (reserved > on_hand OR on_hand < 0)`, m.t.ID); n != 0 {
		t.Errorf("%d stock levels oversold", n)
	}
	if n := m.count(t, `SELECT count(*) FROM stock_movements WHERE tenant_id = ? AND sku_id = ? AND kind = 'reserved'`, m.t.ID, sku); n != 50 {
		t.Errorf("%d reservations logged", n)
	}
	if n := m.count(t, `SELECT count(*) FROM orders WHERE tenant_id = ?`, m.t.ID); n != 50 {
		t.Errorf("%d orders", n)
	}
}

// gateway stands in for the payment side (billing/wechatpay) at the seam
// the shop defines; it records what the shop asked.
type gateway struct {
	mu       sync.Mutex
	prepays  []string
	closes   []string
	refunds  []shop.RefundRequest
	closeErr error
}

func (g *gateway) Prepay(ctx context.Context, o *shop.Order, openid string) (*shop.PayParams, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if _, ok := scope.TenantID(ctx); !ok || openid == "" {
		return nil, fmt.Errorf("prepay without tenant or openid")
	}
	g.prepays = append(g.prepays, o.OutTradeNo)
	return &shop.PayParams{TimeStamp: "1700000000", NonceStr: "n", Package: "prepay_id=wx" + o.OutTradeNo, SignType: "RSA", PaySign: "sig"}, nil
}

func (g *gateway) Close(_ context.Context, o *shop.Order) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closeErr != nil {
		return g.closeErr
	}
	g.closes = append(g.closes, o.OutTradeNo)
	return nil
}

func (g *gateway) Refund(_ context.Context, _ *shop.Order, r shop.RefundRequest) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.refunds = append(g.refunds, r)
	return nil
}

func TestMarkPaidOnce(t *testing.T) {
	e := testenv.New(t)
	m := newMiniShop(t, e, "nordic-skin").provision(t)
	sku := m.sellable(t, "Cream", cartSKU{9900, "general", []int64{10}})[0]
	alice := m.shopper(t, "alice", idZhang)
	gw := &gateway{}
	e.App.Shop.SetPaymentGateway(gw)
	o := alice.place(t, "p1", alice.body(sku, 2))

	var pay struct {
		OutTradeNo string `json:"out_trade_no"`
		Amount     int64
		Params     shop.PayParams
	}
	r := alice.do(t, "POST", fmt.Sprintf("/api/v1/orders/%d/pay", o.ID), nil)
	r.JSON(t, &pay)
	if r.Status != 200 || pay.Amount != o.ActuralPaid || pay.Params.Package != "prepay_id=wx"+o.OutTradeNo || len(gw.prepays) != 1 {
		t.Fatalf("pay: %d %s", r.Status, r.Body)
	}

	ctx := context.Background()
	paidAt := time.Now()
	// 15 duplicates in a row, then 20 concurrent copies.
	for range 15 {
		if err := e.App.Shop.MarkPaid(ctx, m.t.ID, o.OutTradeNo, "4200000001", o.ActuralPaid, paidAt); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := e.App.Shop.MarkPaid(ctx, m.t.ID, o.OutTradeNo, "4200000001", o.ActuralPaid, paidAt); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if n := m.count(t, `SELECT count(*) FROM order_events WHERE tenant_id = ? AND order_id = ? AND to_status = 'paid'`, m.t.ID, o.ID); n != 1 {
		t.Errorf("%d paid transitions", n)
	}
	var outbox int64
	e.App.DB.Raw(`SELECT count(*) FROM outbox WHERE tenant_id = ? AND kind = ?`, m.t.ID, shop.TaskOrderPaid).Scan(&outbox)
	if outbox != 1 {
		t.Errorf("%d order.paid outbox rows", outbox)
	}
	if on, res := m.stock(t, sku); on != 8 || res != 0 {
		t.Errorf("after payment: on hand %d reserved %d", on, res)
	}
	if n := m.count(t, `SELECT count(*) FROM stock_movements WHERE tenant_id = ? AND kind = 'sold'`, m.t.ID); n != 1 {
		t.Errorf("%d sold movements", n)
	}
	paid := alice.get(t, o.ID)
	if paid.Status != shop.OrderPaid || paid.PaidAt == nil {
		t.Fatalf("order after payment: %+v", paid)
	}
	// Paying a paid order, cancelling it, or an unknown order.
	if r := alice.do(t, "POST", fmt.Sprintf("/api/v1/orders/%d/pay", o.ID), nil); r.Status != 409 || r.ErrorCode() != "order_not_payable" {
		t.Errorf("pay again: %d %s", r.Status, r.Body)
	}
	if r := alice.do(t, "POST", fmt.Sprintf("/api/v1/orders/%d/cancel", o.ID), nil); r.Status != 409 {
		t.Errorf("cancel paid: %d %s", r.Status, r.Body)
	}
	if err := e.App.Shop.MarkPaid(ctx, m.t.ID, "Mnope", "4200000009", 1, paidAt); !errs.Is(err, errs.NotFound) {
		t.Errorf("unknown order: %v", err)
	}
	// The order of one shop cannot be paid through another.
	other := newMiniShop(t, e, "tokyo-tea")
	if err := e.App.Shop.MarkPaid(ctx, other.t.ID, o.OutTradeNo, "4200000002", o.ActuralPaid, paidAt); !errs.Is(err, errs.NotFound) {
		t.Errorf("another shop's order: %v", err)
	}

	// A second payment of the paid order: recorded, flagged, refund queued.
	if err := e.App.Shop.MarkPaid(ctx, m.t.ID, o.OutTradeNo, "4200000003", o.ActuralPaid, paidAt); err != nil {
		t.Fatal(err)
	}
	// A payment after the order closed: the same.
	late := alice.place(t, "p2", alice.body(sku, 1))
	alice.do(t, "POST", fmt.Sprintf("/api/v1/orders/%d/pay", late.ID), nil)
	n, err := e.App.Shop.CloseExpired(ctx, time.Now().Add(31*time.Minute), 100)
	if err != nil || n != 1 {
		t.Fatalf("closing: %d %v", n, err)
	}
	if len(gw.closes) != 1 || gw.closes[0] != late.OutTradeNo {
		t.Errorf("prepay closes: %v", gw.closes)
	}
	if _, res := m.stock(t, sku); res != 0 {
		t.Errorf("reserved after close: %d", res)
	}
	for range 3 {
		if err := e.App.Shop.MarkPaid(ctx, m.t.ID, late.OutTradeNo, "4200000004", late.ActuralPaid, paidAt); err != nil {
			t.Fatal(err)
		}
	}
	closed := alice.get(t, late.ID)
	if closed.Status != shop.OrderClosed || !closed.NeedsRefund {
		t.Errorf("late payment: %+v", closed)
	}
	e.App.DB.Raw(`SELECT count(*) FROM outbox WHERE tenant_id = ? AND kind = ?`, m.t.ID, shop.TaskOrderRefund).Scan(&outbox)
	if outbox != 2 {
		t.Errorf("%d refund tasks, want 2 (second payment, late payment)", outbox)
	}

	// The worker refunds through the gateway, once per task.
	e.StartWorker(t)
	testenv.Eventually(t, 10*time.Second, "refunds", func() bool {
		gw.mu.Lock()
		defer gw.mu.Unlock()
		return len(gw.refunds) == 2
	})
	testenv.Eventually(t, 10*time.Second, "refund recorded", func() bool {
		return !alice.get(t, late.ID).NeedsRefund
	})
	gw.mu.Lock()
	for _, rf := range gw.refunds {
		if rf.OutRefundNo != "R"+rf.TransactionID || rf.RefundFen != rf.TotalFen {
			t.Errorf("refund: %+v", rf)
		}
	}
	gw.mu.Unlock()
	testenv.Eventually(t, 10*time.Second, "fulfilment queued", func() bool {
		return m.count(t, `SELECT count(*) FROM order_events WHERE tenant_id = ? AND order_id = ? AND kind = 'fulfilment_queued'`, m.t.ID, o.ID) == 1
	})
}

// get reads an order of the shopper.
func (s *shopper) get(t *testing.T, id int64) shop.Order {
	t.Helper()
	var o shop.Order
	r := s.do(t, "GET", fmt.Sprintf("/api/v1/orders/%d", id), nil)
	r.JSON(t, &o)
	if r.Status != 200 {
		t.Fatalf("order %d: %d %s", id, r.Status, r.Body)
	}
	return o
}

func TestOrderTransitionsInSQL(t *testing.T) {
	e := testenv.New(t)
	m := newMiniShop(t, e, "nordic-skin").provision(t)
	sku := m.sellable(t, "Cream", cartSKU{9900, "general", []int64{10}})[0]
	alice := m.shopper(t, "alice", idZhang)
	o := alice.place(t, "s1", alice.body(sku, 1))

	// The table in SQL is the table in Go.
	var rows []struct{ FromStatus, ToStatus string }
	m.sql(t, func(tx *gorm.DB) error {
		return tx.Raw(`SELECT from_status, to_status FROM order_transitions ORDER BY 1, 2`).Scan(&rows).Error
	})
	sql := map[[2]string]bool{}
	for _, r := range rows {
		sql[[2]string{r.FromStatus, r.ToStatus}] = true
	}
	goT := shop.OrderTransitions()
	if len(goT) != len(sql) {
		t.Errorf("%d transitions in Go, %d in SQL", len(goT), len(sql))
	}
	for _, p := range goT {
		if !sql[p] {
			t.Errorf("%s → %s is legal in Go only", p[0], p[1])
		}
	}
	// An illegal change of status is refused by the database, whatever the query.
	for _, to := range []string{"shipped", "refunded", "completed", "nonsense"} {
		err := e.App.DB.Transaction(func(tx *gorm.DB) error {
			if err := tx.Exec(`SELECT set_config('app.tenant_id', ?, true)`, fmt.Sprint(m.t.ID)).Error; err != nil {
				return err
			}
			return tx.Exec(`UPDATE orders SET status = ? WHERE tenant_id = ? AND id = ?`, to, m.t.ID, o.ID).Error
		})
		if err == nil || !strings.Contains(err.Error(), "illegal order transition") {
			t.Errorf("pending_payment → %s: %v", to, err)
		}
	}
	// Events are append-only for the application.
	err := e.App.DB.Transaction(func(tx *gorm.DB) error {
		tx.Exec(`SELECT set_config('app.tenant_id', ?, true)`, fmt.Sprint(m.t.ID))
		return tx.Exec(`DELETE FROM order_events WHERE tenant_id = ?`, m.t.ID).Error
	})
	if err == nil {
		t.Error("the app deleted order events")
	}
}

func TestShippingTemplatesAdmin(t *testing.T) {
	e := testenv.New(t)
	m := newMiniShop(t, e, "nordic-skin").provision(t)
	owner := e.Member(t, m.t.ID, "owner@nordic.test", "owner")
	viewer := e.Member(t, m.t.ID, "viewer@nordic.test", "viewer")
	base := "/api/admin/v1/tenants/nordic-skin/shipping-templates"
	weight := map[string]any{"name": "By weight", "kind": "weight", "free_above": 29900,
		"rule":    map[string]int64{"first_weight_g": 1000, "first_fee": 1000, "additional_weight_g": 500, "additional_fee": 300},
		"regions": []map[string]any{{"provinces": []string{"540000", "650000"}, "rule": map[string]int64{"first_weight_g": 1000, "first_fee": 3000, "additional_weight_g": 500, "additional_fee": 1000}}}}
	var w shop.ShippingTemplate
	r := e.Do(t, "POST", "", base, weight, owner...)
	r.JSON(t, &w)
	if r.Status != 201 || !w.IsDefault || len(w.Regions) != 1 || *w.FreeAbove != 29900 {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	var flat shop.ShippingTemplate
	r = e.Do(t, "POST", "", base, map[string]any{"name": "Flat", "kind": "flat", "rule": map[string]int64{"fee": 800}, "is_default": true}, owner...)
	r.JSON(t, &flat)
	if r.Status != 201 || !flat.IsDefault {
		t.Fatalf("second: %d %s", r.Status, r.Body)
	}
	var list struct{ Templates []shop.ShippingTemplate }
	e.Do(t, "GET", "", base, nil, viewer...).JSON(t, &list)
	if len(list.Templates) != 2 || list.Templates[0].ID != flat.ID || list.Templates[1].IsDefault {
		t.Fatalf("one default: %+v", list.Templates)
	}
	for _, bad := range []map[string]any{
		with(weight, "kind", "air"),
		with(weight, "rule", map[string]int64{"fee": 100}),
		with(weight, "regions", []map[string]any{{"provinces": []string{"999999"}, "rule": weight["rule"]}}),
		with(weight, "name", ""),
		{"name": "x", "kind": "flat", "rule": map[string]int64{"fee": -1}},
	} {
		if r := e.Do(t, "POST", "", base, bad, owner...); r.Status != 400 {
			t.Errorf("bad template %v: %d %s", bad, r.Status, r.Body)
		}
	}
	if r := e.Do(t, "POST", "", base, weight, viewer...); r.Status != 403 {
		t.Errorf("viewer writes: %d", r.Status)
	}
	// Weight templates price orders: 2 × 400 g = 800 g within the first kilo.
	if r := e.Do(t, "PUT", "", fmt.Sprintf("%s/%d", base, w.ID), with(weight, "is_default", true), owner...); r.Status != 200 {
		t.Fatalf("update: %d %s", r.Status, r.Body)
	}
	sku := m.sellable(t, "Cream", cartSKU{5000, "general", []int64{10}})[0]
	alice := m.shopper(t, "alice", idZhang)
	if o := alice.place(t, "f1", alice.body(sku, 2)); o.Freight != 1000 || o.WeightG != 800 {
		t.Errorf("weight freight: %d for %d g", o.Freight, o.WeightG)
	}
	if o := alice.place(t, "f2", alice.body(sku, 6)); o.Freight != 0 {
		t.Errorf("¥300 of goods ships free: %d", o.Freight)
	}
	if r := e.Do(t, "DELETE", "", fmt.Sprintf("%s/%d", base, w.ID), nil, owner...); r.Status != 204 {
		t.Errorf("delete: %d %s", r.Status, r.Body)
	}
	if r := e.Do(t, "GET", "", fmt.Sprintf("%s/%d", base, w.ID), nil, owner...); r.Status != 404 || r.ErrorCode() != "shipping_template_not_found" {
		t.Errorf("deleted: %d %s", r.Status, r.Body)
	}
	var got map[string]any
	e.Do(t, "GET", "", fmt.Sprintf("%s/%d", base, flat.ID), nil, owner...).JSON(t, &got)
	if b, _ := json.Marshal(got); !strings.Contains(string(b), `"fee":800`) {
		t.Errorf("flat: %s", b)
	}
}

// Unpaid orders close after their deadline, not before; a prepay that cannot
// be closed keeps its order open for the next run; staff cancel with orders:write.
func TestClosingUnpaidOrders(t *testing.T) {
	e := testenv.New(t)
	m := newMiniShop(t, e, "nordic-skin").provision(t)
	owner := e.Member(t, m.t.ID, "owner@nordic.test", "owner")
	viewer := e.Member(t, m.t.ID, "viewer@nordic.test", "viewer")
	sku := m.sellable(t, "Cream", cartSKU{9900, "general", []int64{10}})[0]
	alice := m.shopper(t, "alice", idZhang)
	gw := &gateway{}
	e.App.Shop.SetPaymentGateway(gw)
	plain := alice.place(t, "c1", alice.body(sku, 1))
	prepaid := alice.place(t, "c2", alice.body(sku, 2))
	alice.do(t, "POST", fmt.Sprintf("/api/v1/orders/%d/pay", prepaid.ID), nil)
	staff := alice.place(t, "c3", alice.body(sku, 3))
	if !prepaid.ExpiresAt.After(time.Now().Add(29*time.Minute)) || prepaid.ExpiresAt.After(time.Now().Add(31*time.Minute)) {
		t.Errorf("deadline %s, want 30 minutes from now", prepaid.ExpiresAt)
	}

	ctx := context.Background()
	if n, err := e.App.Shop.CloseExpired(ctx, time.Now(), 100); err != nil || n != 0 {
		t.Fatalf("closed %d before the deadline: %v", n, err)
	}
	// WeChat Pay cannot close the prepay (say it was just paid): that order stays open.
	gw.closeErr = errs.E(errs.Unavailable, "unavailable", "down")
	later := time.Now().Add(31 * time.Minute)
	if n, _ := e.App.Shop.CloseExpired(ctx, later, 100); n != 2 {
		t.Fatalf("closed %d, want the two without a prepay", n)
	}
	if o := alice.get(t, prepaid.ID); o.Status != shop.OrderPendingPayment {
		t.Fatalf("prepaid order: %s", o.Status)
	}
	if o := alice.get(t, plain.ID); o.Status != shop.OrderClosed {
		t.Fatalf("plain order: %s", o.Status)
	}
	gw.closeErr = nil
	if n, err := e.App.Shop.CloseExpired(ctx, later, 100); err != nil || n != 1 || len(gw.closes) != 1 || gw.closes[0] != prepaid.OutTradeNo {
		t.Fatalf("second run: %d %v, closes %v", n, err, gw.closes)
	}
	if _, res := m.stock(t, sku); res != 0 {
		t.Errorf("reserved after closing: %d", res)
	}
	if n := m.count(t, `SELECT count(*) FROM stock_movements WHERE tenant_id = ? AND kind = 'released'`, m.t.ID); n != 3 {
		t.Errorf("%d released movements", n)
	}
	var detail shop.Order
	r := e.Do(t, "GET", "", fmt.Sprintf("/api/admin/v1/tenants/nordic-skin/orders/%d", prepaid.ID), nil, owner...)
	r.JSON(t, &detail)
	kinds := []string{}
	for _, ev := range detail.Events {
		kinds = append(kinds, ev.Kind+"/"+ev.Actor)
	}
	if strings.Join(kinds, " ") != fmt.Sprintf("created/customer:%d prepay_requested/customer:%d closed/system:order-timeout", alice.id, alice.id) {
		t.Errorf("timeline: %v", kinds)
	}

	// Staff cancel an unpaid order (orders:write); viewers may not.
	fresh := alice.place(t, "c4", alice.body(sku, 1))
	path := fmt.Sprintf("/api/admin/v1/tenants/nordic-skin/orders/%d/cancel", fresh.ID)
	if r := e.Do(t, "POST", "", path, nil, viewer...); r.Status != 403 {
		t.Errorf("viewer cancels: %d", r.Status)
	}
	if r := e.Do(t, "POST", "", path, nil, owner...); r.Status != 200 || !strings.Contains(string(r.Body), `"status":"cancelled"`) {
		t.Errorf("owner cancels: %d %s", r.Status, r.Body)
	}
	if r := e.Do(t, "POST", "", fmt.Sprintf("/api/admin/v1/tenants/nordic-skin/orders/%d/cancel", staff.ID), nil, owner...); r.Status != 409 {
		t.Errorf("cancel a closed order: %d %s", r.Status, r.Body)
	}

	// The periodic task, through the queue and the worker, as the scheduler enqueues it.
	due := alice.place(t, "c5", alice.body(sku, 1))
	m.sql(t, func(tx *gorm.DB) error {
		return tx.Exec(`UPDATE orders SET expires_at = now() - interval '1 second' WHERE tenant_id = ? AND id = ?`, m.t.ID, due.ID).Error
	})
	e.StartWorker(t)
	if _, err := e.App.Queue.Enqueue(asynq.NewTask(shop.TaskCloseExpired, nil), asynq.Queue("critical")); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 10*time.Second, "the worker closes the due order", func() bool {
		return alice.get(t, due.ID).Status == shop.OrderClosed
	})
}

// The per-order limit is ¥5,000.00 including tax, to the fen, and tax is
// rounded once per line. Two units of ¥2,291.48 on one line: goods 458,296,
// tax 458,296 × 0.091 = 41,704.936 → 41,705, total 500,001: refused. The same
// two units as two lines: 229,148 × 0.091 = 20,852.468 → 20,852 each, total
// 458,296 + 41,704 = 500,000: allowed. (A single unit above the limit is the
// indivisible-item exception, tested in TestCheckoutRefusals.)
func TestCheckoutOrderLimitToTheFen(t *testing.T) {
	e := testenv.New(t)
	a := newMiniShop(t, e, "fjord-tea").provision(t)
	skus := a.sellable(t, "Boundary", cartSKU{229148, "general", []int64{5}}, cartSKU{229148, "general", []int64{5}})
	wang := a.shopper(t, "wang", "440304198506151237")
	if r := wang.order(t, "over", wang.body(skus[0], 2)); r.Status != 422 || r.ErrorCode() != "order_limit_exceeded" {
		t.Fatalf("¥5,000.01: want 422 order_limit_exceeded, got %d %s", r.Status, r.Body)
	}
	o := wang.place(t, "at", wang.body(skus[0], 1, skus[1], 1))
	if o.TaxTotal != 41704 || o.ActuralPaid != 500000 {
		t.Fatalf("¥5,000.00: tax %d, acturalPaid %d; want 41704 and 500000", o.TaxTotal, o.ActuralPaid)
	}
}
