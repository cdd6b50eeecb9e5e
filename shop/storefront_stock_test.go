package shop_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/minishop/minishop/internal/config"
	"github.com/minishop/minishop/internal/testenv"
	"github.com/minishop/minishop/shop"
)

// view is a storefront response as a client keeps it.
type view struct {
	etag string
	item *shop.ListItem   // the product in the list (list reads)
	prod shop.ProductView // detail reads
}

func (m *miniShop) detailView(t *testing.T, id int64) view {
	t.Helper()
	r := m.e.Do(t, "GET", m.host, fmt.Sprintf("/api/v1/products/%d?locale=en", id), nil)
	if r.Status != 200 {
		t.Fatalf("detail %d: %d %s", id, r.Status, r.Body)
	}
	v := view{etag: r.Header.Get("ETag")}
	r.JSON(t, &v.prod)
	return v
}

// listView reads the first page and picks product id out of it.
func (m *miniShop) listView(t *testing.T, id int64) view {
	t.Helper()
	r := m.e.Do(t, "GET", m.host, "/api/v1/products?locale=en", nil)
	if r.Status != 200 {
		t.Fatalf("list: %d %s", r.Status, r.Body)
	}
	v := view{etag: r.Header.Get("ETag")}
	var p shop.ListPage
	r.JSON(t, &p)
	for i := range p.Products {
		if p.Products[i].ID == id {
			v.item = &p.Products[i]
		}
	}
	if v.item == nil {
		t.Fatalf("product %d is not in the list: %s", id, r.Body)
	}
	return v
}

func skuBand(v shop.ProductView, sku int64) string {
	for _, k := range v.SKUs {
		if k.ID == sku {
			return k.Availability
		}
	}
	return "missing"
}

// TestStorefrontStockInvalidatesOnlyChangedBands: checkouts and cancels
// through the API. An order that leaves every band as it was leaves the
// cache alone (same ETags, served from the cache); one that moves a band
// shows on the very next read, on the detail and, when the product's own
// band moved, in the list; a SKU's band alone does not touch the list.
func TestStorefrontStockInvalidatesOnlyChangedBands(t *testing.T) {
	e := testenv.New(t)
	m := newMiniShop(t, e, "nordic-skin").provision(t)
	plenty, ps := m.seedProduct(t, "published", "Serum", cartSKU{1000, "general", []int64{100}})
	scarce, ss := m.seedProduct(t, "published", "Cream", cartSKU{1000, "general", []int64{12}})
	pair, pairSKUs := m.seedProduct(t, "published", "Duo", cartSKU{1000, "general", []int64{3}}, cartSKU{1200, "general", []int64{50}})
	m.compliant(t, append(append(ps, ss...), pairSKUs...)...)
	alice := m.shopper(t, "alice", idZhang)

	read := func() (plentyD, scarceD, pairD, list view) {
		t.Helper()
		return m.detailView(t, plenty), m.detailView(t, scarce), m.detailView(t, pair), m.listView(t, scarce)
	}
	read() // render everything once
	pd, sd, qd, l := read()
	stats := e.App.Shop.CatalogCacheStats
	before := stats()

	// 1 unit of 100: no band moves. Everything stays cached.
	alice.place(t, "o1", alice.body(ps[0], 1))
	pd2, sd2, qd2, l2 := read()
	after := stats()
	if pd2.etag != pd.etag || sd2.etag != sd.etag || qd2.etag != qd.etag || l2.etag != l.etag {
		t.Fatalf("an order that moved no band changed ETags: %v %v %v %v", pd2.etag != pd.etag, sd2.etag != sd.etag, qd2.etag != qd.etag, l2.etag != l.etag)
	}
	if after.Hits-before.Hits != 4 || after.Misses != before.Misses {
		t.Fatalf("after an order that moved no band: %d hits, %d misses; want 4 from the cache", after.Hits-before.Hits, after.Misses-before.Misses)
	}
	if on, res := m.stock(t, ps[0]); on != 100 || res != 1 {
		t.Fatalf("stock of the ordered SKU: %d on hand, %d reserved", on, res)
	}

	// 12 → 10: still in stock, still cached.
	alice.place(t, "o2", alice.body(ss[0], 2))
	if v := m.detailView(t, scarce); v.etag != sd.etag || v.prod.Availability != shop.InStock {
		t.Fatalf("12 → 10 changed the detail: %+v", v.prod)
	}
	// 10 → 4: low, at once, in the detail and in the list; the others stay cached.
	before = stats()
	six := alice.place(t, "o3", alice.body(ss[0], 6))
	if v := m.detailView(t, scarce); v.prod.Availability != shop.LowStock || skuBand(v.prod, ss[0]) != shop.LowStock {
		t.Fatalf("10 → 4: detail %+v", v.prod)
	}
	if v := m.listView(t, scarce); v.item.Availability != shop.LowStock || v.etag == l.etag {
		t.Fatalf("10 → 4: list item %+v", v.item)
	}
	if v := m.detailView(t, plenty); v.etag != pd.etag {
		t.Fatal("another product's band moved: this one's detail was invalidated")
	}
	if st := stats(); st.Misses-before.Misses != 2 || st.Hits-before.Hits != 1 {
		t.Fatalf("after 10 → 4: %d misses (want the changed detail and the list), %d hits", st.Misses-before.Misses, st.Hits-before.Hits)
	}
	// 4 → 0: sold out at once.
	alice.place(t, "o4", alice.body(ss[0], 4))
	if v := m.detailView(t, scarce); v.prod.Availability != shop.SoldOut || skuBand(v.prod, ss[0]) != shop.SoldOut {
		t.Fatalf("4 → 0: detail %+v", v.prod)
	}
	if v := m.listView(t, scarce); v.item.Availability != shop.SoldOut {
		t.Fatalf("4 → 0: list item %+v", v.item)
	}
	// The customer cancels the order of 6: 0 → 6, in stock again.
	if r := alice.do(t, "POST", fmt.Sprintf("/api/v1/orders/%d/cancel", six.ID), nil); r.Status != 200 {
		t.Fatalf("cancel: %d %s", r.Status, r.Body)
	}
	if v := m.detailView(t, scarce); v.prod.Availability != shop.InStock || skuBand(v.prod, ss[0]) != shop.InStock {
		t.Fatalf("cancelled back to 6: detail %+v", v.prod)
	}
	if v := m.listView(t, scarce); v.item.Availability != shop.InStock {
		t.Fatalf("cancelled back to 6: list item %+v", v.item)
	}

	// A SKU sells out while its product stays in stock (3 + 50 → 0 + 50):
	// the detail shows it; the list, which shows only the product's band,
	// keeps its entry.
	l = m.listView(t, pair)
	before = stats()
	alice.place(t, "o5", alice.body(pairSKUs[0], 3))
	v := m.detailView(t, pair)
	if v.etag == qd.etag || skuBand(v.prod, pairSKUs[0]) != shop.SoldOut || skuBand(v.prod, pairSKUs[1]) != shop.InStock || v.prod.Availability != shop.InStock {
		t.Fatalf("a SKU sold out: detail %+v", v.prod)
	}
	if v := m.listView(t, pair); v.etag != l.etag {
		t.Fatal("a SKU's band moved, the product's did not: the list was invalidated")
	}
	if st := stats(); st.Misses-before.Misses != 1 || st.Hits-before.Hits != 1 {
		t.Fatalf("after a SKU sold out: %d misses (want the detail only), %d hits", st.Misses-before.Misses, st.Hits-before.Hits)
	}

	// A stock receipt in the console moves the band back.
	if _, err := e.App.Shop.RecordMovement(m.ctx(), shop.MoveInput{SKUID: pairSKUs[0], WarehouseID: warehouseOf(t, m, pairSKUs[0]), Kind: shop.MoveReceived, Quantity: 2}); err != nil {
		t.Fatal(err)
	}
	if v := m.detailView(t, pair); skuBand(v.prod, pairSKUs[0]) != shop.LowStock {
		t.Fatalf("after a receipt of 2: %+v", v.prod)
	}
}

func warehouseOf(t *testing.T, m *miniShop, sku int64) int64 {
	t.Helper()
	return m.count(t, `SELECT min(warehouse_id) FROM stock_levels WHERE tenant_id = ? AND sku_id = ?`, m.t.ID, sku)
}

// TestStorefrontConcurrentCheckoutsCrossingABand: checkouts from several
// warehouses at once, none of which alone crosses the threshold, still
// show the band they reach together.
func TestStorefrontConcurrentCheckoutsCrossingABand(t *testing.T) {
	e := testenv.New(t)
	m := newMiniShop(t, e, "nordic-skin").provision(t)
	id, skus := m.seedProduct(t, "published", "Limited", cartSKU{1000, "general", []int64{4, 4}}, cartSKU{1000, "general", []int64{2}})
	m.compliant(t, skus...)
	shoppers := make([]*shopper, 5)
	for i := range shoppers {
		shoppers[i] = m.shopper(t, fmt.Sprintf("buyer-%d", i), idNumber(i))
	}
	order := func(round string, n int, skuOf func(i int) int64) {
		t.Helper()
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				sku := skuOf(i)
				if r := shoppers[i].order(t, round, shoppers[i].body(sku, 1)); r.Status != 201 {
					t.Errorf("%s, buyer %d: %d %s", round, i, r.Status, r.Body)
				}
			}()
		}
		wg.Wait()
	}
	if v := m.detailView(t, id); v.prod.Availability != shop.InStock {
		t.Fatalf("start: %+v", v.prod)
	}
	m.listView(t, id)
	order("a", 5, func(i int) int64 { return skus[i%2] }) // 8 + 2 → 5 + 0: the product is low, the second SKU sold out
	if v := m.detailView(t, id); v.prod.Availability != shop.LowStock {
		t.Fatalf("10 − 5 concurrent orders: detail %+v", v.prod)
	}
	if v := m.listView(t, id); v.item.Availability != shop.LowStock {
		t.Fatalf("10 − 5 concurrent orders: list %+v", v.item)
	}
	if v := m.detailView(t, id); skuBand(v.prod, skus[1]) != shop.SoldOut || skuBand(v.prod, skus[0]) != shop.LowStock {
		t.Fatalf("10 − 5 concurrent orders: SKUs %+v", v.prod.SKUs)
	}
	order("b", 5, func(int) int64 { return skus[0] }) // 5 + 0 → 0 + 0, from both warehouses
	if v := m.detailView(t, id); v.prod.Availability != shop.SoldOut || skuBand(v.prod, skus[0]) != shop.SoldOut {
		t.Fatalf("after the second round: %+v", v.prod)
	}
	if v := m.listView(t, id); v.item.Availability != shop.SoldOut {
		t.Fatalf("after the second round: list %+v", v.item)
	}
}

// TestStorefrontRedisStalls stalls a Redis of the test's own (CLIENT PAUSE):
// the cache keeps serving what Redis confirmed in the last seconds, empties
// nothing, and after that bound reads Postgres, so a change made during the
// stall shows within it; once Redis answers again, the change is served
// from the cache.
func TestStorefrontRedisStalls(t *testing.T) {
	rd := testenv.StartRedis(t)
	e := testenv.New(t, func(c *config.Config) { c.RedisURL = rd.URL() })
	s := newStorefront(t, e, "nordic-skin")
	id := s.add(t, product{zh: "云莓精华", skus: []sku{{price: 29900, stock: 100}}})
	other := s.add(t, product{zh: "眼霜", skus: []sku{{price: 19900, stock: 100}}})
	skuID := s.skuIDs(t, id)[0]
	detail := func(id int64) (shop.ProductView, string) {
		t.Helper()
		v, r := s.detail(t, id, "")
		if r.Status != 200 {
			t.Fatalf("detail %d: %d %s", id, r.Status, r.Body)
		}
		return v, r.Header.Get("ETag")
	}
	detail(id)
	detail(other)
	s.list(t, "")
	_, etag := detail(id) // confirmed by Redis now
	_, otherETag := detail(other)
	before := e.App.Shop.CatalogCacheStats()

	opt, err := redis.ParseURL(rd.URL())
	if err != nil {
		t.Fatal(err)
	}
	admin := redis.NewClient(opt)
	defer admin.Close()
	const pause = 9 * time.Second
	if err := admin.Do(context.Background(), "CLIENT", "PAUSE", pause.Milliseconds(), "ALL").Err(); err != nil {
		t.Fatal(err)
	}
	paused := time.Now()

	// Within the window: served from the cache, nothing emptied.
	if v, tag := detail(id); tag != etag || v.Availability != shop.InStock {
		t.Fatalf("while Redis stalls: %s %+v", tag, v)
	}
	if _, tag := detail(other); tag != otherETag {
		t.Fatal("while Redis stalls, another product was not served from the cache")
	}
	st := e.App.Shop.CatalogCacheStats()
	if st.Stale-before.Stale != 2 || st.Entries != before.Entries || st.Bypassed != before.Bypassed {
		t.Fatalf("while Redis stalls: %+v, before %+v\n%s", st, before, e.Logs)
	}
	if time.Since(paused) > 2*time.Second {
		t.Fatalf("the reads during the stall took %s", time.Since(paused))
	}
	// A stock change during the stall: it commits; its invalidation cannot
	// be published yet and is retried.
	if _, err := e.App.Shop.RecordMovement(s.ctx(), shop.MoveInput{SKUID: skuID, WarehouseID: s.warehouse, Kind: shop.MoveAdjusted, Quantity: -97, Reason: "stocktake"}); err != nil {
		t.Fatal(err)
	}
	// Past the window, Redis still stalled: Postgres, fresh.
	time.Sleep(time.Until(paused.Add(5*time.Second + 100*time.Millisecond)))
	if v, _ := detail(id); v.Availability != shop.LowStock {
		t.Fatalf("5 s into the stall, still served from the cache: %+v", v)
	}
	if st := e.App.Shop.CatalogCacheStats(); st.Bypassed == before.Bypassed || st.Entries != before.Entries {
		t.Fatalf("past the window: %+v", st)
	}
	// Redis answers again: the new version is published, cached, and served.
	time.Sleep(time.Until(paused.Add(pause)))
	testenv.Eventually(t, 15*time.Second, "the change to be served from the cache", func() bool {
		b := e.App.Shop.CatalogCacheStats()
		v, r := s.detail(t, id, "")
		a := e.App.Shop.CatalogCacheStats()
		return r.Status == 200 && v.Availability == shop.LowStock && a.Hits > b.Hits
	})
	if _, tag := detail(other); tag != otherETag {
		t.Fatal("after the stall, another product changed")
	}
}
