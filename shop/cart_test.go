package shop_test

import (
	"fmt"
	"testing"

	"gorm.io/gorm"

	"github.com/minishop/minishop/internal/testenv"
	"github.com/minishop/minishop/shop"
)

// cartSKU describes a SKU to seed: its price in fen, tax category and stock
// per warehouse.
type cartSKU struct {
	price int64
	tax   string
	stock []int64
}

// seedProduct inserts a product with SKUs and stock, as the catalog admin
// would leave them, and returns the SKU ids.
func (m *miniShop) seedProduct(t *testing.T, status, title string, skus ...cartSKU) (productID int64, skuIDs []int64) {
	t.Helper()
	m.sql(t, func(tx *gorm.DB) error {
		if err := tx.Raw(`INSERT INTO products (tenant_id, status, content, images, published_at)
			VALUES (?, ?, ?, '[{"hash":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}]', now()) RETURNING id`,
			m.t.ID, status, fmt.Sprintf(`{"en":{"title":%q},"zh-CN":{"title":"%s 中文"}}`, title, title)).Scan(&productID).Error; err != nil {
			return err
		}
		var warehouses []int64
		for i, k := range skus {
			var id int64
			if err := tx.Raw(`INSERT INTO skus (tenant_id, product_id, code, option_values, price, tax_category) VALUES (?, ?, ?, '["30ml"]', ?, ?) RETURNING id`,
				m.t.ID, productID, fmt.Sprintf("P%d-%d", productID, i), k.price, k.tax).Scan(&id).Error; err != nil {
				return err
			}
			for w, n := range k.stock {
				for len(warehouses) <= w {
					var wid int64
					if err := tx.Raw(`INSERT INTO warehouses (tenant_id, code, name, kind) VALUES (?, ?, 'Warehouse', 'bonded')
						ON CONFLICT (tenant_id, code) DO UPDATE SET name = EXCLUDED.name RETURNING id`, m.t.ID, fmt.Sprintf("W%d", len(warehouses))).Scan(&wid).Error; err != nil {
						return err
					}
					warehouses = append(warehouses, wid)
				}
				if err := tx.Exec(`INSERT INTO stock_levels (tenant_id, sku_id, warehouse_id, on_hand) VALUES (?, ?, ?, ?)`, m.t.ID, id, warehouses[w], n).Error; err != nil {
					return err
				}
			}
			skuIDs = append(skuIDs, id)
		}
		return nil
	})
	return productID, skuIDs
}

func (b *buyer) cart(t *testing.T) shop.Cart {
	t.Helper()
	var c shop.Cart
	r := b.do(t, "GET", "/api/v1/cart", nil)
	r.JSON(t, &c)
	if r.Status != 200 || c.Items == nil {
		t.Fatalf("cart: %d %s", r.Status, r.Body)
	}
	return c
}

func line(c shop.Cart, skuID int64) *shop.CartLine {
	for i := range c.Items {
		if c.Items[i].SKUID == skuID {
			return &c.Items[i]
		}
	}
	return nil
}

func TestCart(t *testing.T) {
	e := testenv.New(t)
	a := newMiniShop(t, e, "nordic-skin").provision(t)
	b := newMiniShop(t, e, "tokyo-tea").provision(t)
	alice, bob := a.signIn(t, "alice"), a.signIn(t, "bob")

	serum, serumSKUs := a.seedProduct(t, shop.StatusPublished, "Serum", cartSKU{29900, "premium_cosmetics", []int64{100, 20}})
	_, soapSKUs := a.seedProduct(t, shop.StatusPublished, "Soap", cartSKU{5000, "general", []int64{3}}, cartSKU{6000, "general", []int64{0}})
	_, draftSKUs := a.seedProduct(t, shop.StatusDraft, "Secret", cartSKU{1000, "general", []int64{10}})
	_, otherSKUs := b.seedProduct(t, shop.StatusPublished, "Tea", cartSKU{1000, "general", []int64{10}})
	s1, soap, soldOut := serumSKUs[0], soapSKUs[0], soapSKUs[1]

	if c := alice.cart(t); len(c.Items) != 0 || c.Totals.Total != 0 || c.Totals.Currency != "CNY" {
		t.Fatalf("empty cart: %+v", c)
	}

	add := func(who *buyer, sku int64, q any) *testenv.Response {
		t.Helper()
		body := map[string]any{"sku_id": sku}
		if q != nil {
			body["quantity"] = q
		}
		return who.do(t, "POST", "/api/v1/cart/items", body)
	}
	if r := add(alice, s1, 2); r.Status != 200 {
		t.Fatalf("add: %d %s", r.Status, r.Body)
	}
	var c shop.Cart
	r := add(alice, s1, nil) // adds one to the line
	r.JSON(t, &c)
	l := line(c, s1)
	if r.Status != 200 || len(c.Items) != 1 || l == nil || l.Quantity != 3 {
		t.Fatalf("adding to a line: %d %s", r.Status, r.Body)
	}
	// ¥299 of premium cosmetics (23.06%): one unit 6895 fen of tax; the line
	// of three is taxed once on 89700: 20683.76… → 20684 (not 3 × 6895 = 20685).
	if l.Unit == nil || l.Unit.Price != 29900 || l.Unit.Tax != 6895 || l.Goods != 89700 || l.Tax != 20684 || l.Total != 110384 ||
		!l.Available || l.Stock != "in_stock" || l.ProductID != serum || l.Title["zh-CN"] != "Serum 中文" || l.Image == "" {
		t.Fatalf("line: %+v", l)
	}
	add(alice, soap, 2).JSON(t, &c)
	if l := line(c, soap); l.Stock != "low" || !l.Available || c.Totals.Goods != 89700+10000 || c.Totals.Tax != 20684+910 || c.Totals.Total != c.Totals.Goods+c.Totals.Tax || c.Totals.Quantity != 5 {
		t.Fatalf("totals: %+v, soap %+v", c.Totals, l)
	}

	// Refusals.
	for _, tc := range []struct {
		sku    int64
		q      any
		status int
		code   string
	}{
		{soap, 2, 409, "insufficient_stock"}, // 4 > 3
		{soldOut, 1, 409, "sold_out"},
		{draftSKUs[0], 1, 404, "sku_not_found"},
		{otherSKUs[0], 1, 404, "sku_not_found"},
		{987654321, 1, 404, "sku_not_found"},
		{s1, 0, 400, "invalid_field"},
		{s1, 1000, 400, "invalid_field"},
		{s1, 997, 400, "invalid_field"}, // 3 + 997 > 999
		{s1, "2", 400, "invalid_field"},
	} {
		if r := add(alice, tc.sku, tc.q); r.Status != tc.status || r.ErrorCode() != tc.code {
			t.Errorf("add %d × %v: %d %s", tc.sku, tc.q, r.Status, r.Body)
		}
	}

	// Prices and stock are read afresh every time.
	a.sql(t, func(tx *gorm.DB) error {
		return tx.Exec(`UPDATE skus SET price = 19900 WHERE tenant_id = ? AND id = ?`, a.t.ID, s1).Error
	})
	c = alice.cart(t)
	if l := line(c, s1); l.Unit.Price != 19900 || l.Goods != 59700 || l.Tax != 13766 {
		t.Fatalf("after a price change: %+v", l)
	}
	a.sql(t, func(tx *gorm.DB) error {
		return tx.Exec(`UPDATE stock_levels SET reserved = on_hand WHERE tenant_id = ? AND sku_id = ?`, a.t.ID, soap).Error
	})
	c = alice.cart(t)
	if l := line(c, soap); l.Available || l.Reason != "sold_out" || l.Stock != "sold_out" || c.Unavailable != 1 || c.Totals.Goods != 59700 {
		t.Fatalf("sold out: %+v, totals %+v", l, c.Totals)
	}
	a.sql(t, func(tx *gorm.DB) error {
		return tx.Exec(`UPDATE stock_levels SET reserved = 0, on_hand = 1 WHERE tenant_id = ? AND sku_id = ?`, a.t.ID, soap).Error
	})
	if l := line(alice.cart(t), soap); l.Available || l.Reason != "insufficient_stock" {
		t.Fatalf("fewer left than in the cart: %+v", l)
	}
	// Lowering a quantity is always allowed; raising it needs stock.
	if r := alice.do(t, "PUT", fmt.Sprintf("/api/v1/cart/items/%d", soap), map[string]int{"quantity": 1}); r.Status != 200 {
		t.Fatalf("lowering: %d %s", r.Status, r.Body)
	}
	if r := alice.do(t, "PUT", fmt.Sprintf("/api/v1/cart/items/%d", soap), map[string]int{"quantity": 2}); r.Status != 409 || r.ErrorCode() != "insufficient_stock" {
		t.Fatalf("raising past stock: %d %s", r.Status, r.Body)
	}
	if r := alice.do(t, "PUT", fmt.Sprintf("/api/v1/cart/items/%d", s1), map[string]int{"quantity": 5}); r.Status != 200 || line(alice.cart(t), s1).Quantity != 5 {
		t.Fatalf("raising: %d %s", r.Status, r.Body)
	}
	if r := alice.do(t, "PUT", fmt.Sprintf("/api/v1/cart/items/%d", s1), map[string]any{}); r.Status != 400 {
		t.Fatalf("PUT without a quantity: %d", r.Status)
	}

	// Withdrawn items stay in the cart, marked, out of the totals.
	a.sql(t, func(tx *gorm.DB) error {
		return tx.Exec(`UPDATE skus SET archived_at = now() WHERE tenant_id = ? AND id = ?`, a.t.ID, soap).Error
	})
	if l := line(alice.cart(t), soap); l == nil || l.Available || l.Reason != "sku_unavailable" {
		t.Fatalf("archived SKU: %+v", l)
	}
	a.sql(t, func(tx *gorm.DB) error {
		return tx.Exec(`UPDATE products SET status = 'draft' WHERE tenant_id = ? AND id = ?`, a.t.ID, serum).Error
	})
	c = alice.cart(t)
	if l := line(c, s1); l == nil || l.Available || l.Reason != "product_unavailable" || l.Message == "" || c.Totals.Total != 0 || c.Unavailable != 2 {
		t.Fatalf("unpublished product: %+v, totals %+v", l, c.Totals)
	}
	if r := add(alice, s1, 1); r.Status != 404 {
		t.Fatalf("adding an unpublished product: %d %s", r.Status, r.Body)
	}
	a.sql(t, func(tx *gorm.DB) error {
		return tx.Exec(`UPDATE products SET status = 'archived' WHERE tenant_id = ? AND id = ?`, a.t.ID, serum).Error
	})
	if r := alice.do(t, "PUT", fmt.Sprintf("/api/v1/cart/items/%d", s1), map[string]int{"quantity": 6}); r.Status != 409 || r.ErrorCode() != "not_for_sale" {
		t.Fatalf("raising a withdrawn line: %d %s", r.Status, r.Body)
	}

	// The cart belongs to the customer, not the token: it survives a new login.
	again := a.signIn(t, "alice")
	if c := again.cart(t); len(c.Items) != 2 {
		t.Fatalf("after logging in again: %d lines", len(c.Items))
	}
	// Nobody else sees or touches it.
	if c := bob.cart(t); len(c.Items) != 0 {
		t.Fatalf("bob sees %d lines", len(c.Items))
	}
	for _, req := range [][2]string{{"PUT", "/api/v1/cart/items/%d"}, {"DELETE", "/api/v1/cart/items/%d"}} {
		if r := bob.do(t, req[0], fmt.Sprintf(req[1], s1), map[string]int{"quantity": 1}); r.Status != 404 || r.ErrorCode() != "cart_item_not_found" {
			t.Errorf("%s by bob: %d %s", req[0], r.Status, r.Body)
		}
	}
	if r := alice.do(t, "DELETE", fmt.Sprintf("/api/v1/cart/items/%d", soap), nil); r.Status != 200 || len(alice.cart(t).Items) != 1 {
		t.Fatalf("delete: %d %s", r.Status, r.Body)
	}
	if r := alice.do(t, "DELETE", fmt.Sprintf("/api/v1/cart/items/%d", soap), nil); r.Status != 404 {
		t.Fatalf("delete twice: %d", r.Status)
	}
}

func TestCartLimits(t *testing.T) {
	e := testenv.New(t)
	a := newMiniShop(t, e, "nordic-skin").provision(t)
	alice := a.signIn(t, "alice")
	var skus []cartSKU
	for range shop.MaxCartLines + 1 {
		skus = append(skus, cartSKU{100, "general", []int64{2000}})
	}
	_, ids := a.seedProduct(t, shop.StatusPublished, "Sampler", skus...)
	a.sql(t, func(tx *gorm.DB) error {
		for _, id := range ids[:shop.MaxCartLines-1] {
			if err := tx.Exec(`INSERT INTO cart_items (tenant_id, customer_id, sku_id, quantity) VALUES (?, ?, ?, 1)`, a.t.ID, alice.id, id).Error; err != nil {
				return err
			}
		}
		return nil
	})
	last, extra := ids[shop.MaxCartLines-1], ids[shop.MaxCartLines]
	if r := alice.do(t, "POST", "/api/v1/cart/items", map[string]any{"sku_id": last, "quantity": 999}); r.Status != 200 {
		t.Fatalf("50th line of 999: %d %s", r.Status, r.Body)
	}
	if r := alice.do(t, "POST", "/api/v1/cart/items", map[string]any{"sku_id": extra, "quantity": 1}); r.Status != 422 || r.ErrorCode() != "cart_full" {
		t.Fatalf("51st line: %d %s", r.Status, r.Body)
	}
	if r := alice.do(t, "POST", "/api/v1/cart/items", map[string]any{"sku_id": last, "quantity": 1}); r.Status != 400 {
		t.Fatalf("1000 of one item: %d %s", r.Status, r.Body)
	}
	c := alice.cart(t)
	if len(c.Items) != shop.MaxCartLines || c.Totals.Quantity != shop.MaxCartLines-1+999 {
		t.Fatalf("cart: %d lines, %d items", len(c.Items), c.Totals.Quantity)
	}
}
