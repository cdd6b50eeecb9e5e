package shop_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/redis/go-redis/v9"
	"gorm.io/gorm"

	"github.com/minishop/minishop/internal/db"
	"github.com/minishop/minishop/internal/scope"
	"github.com/minishop/minishop/internal/testenv"
	"github.com/minishop/minishop/shop"
	"github.com/minishop/minishop/tenant"
)

// storefront is a shop seeded with SQL, as the storefront sees it.
type storefront struct {
	e         *testenv.Env
	t         *tenant.Tenant
	host      string
	warehouse int64
}

func newStorefront(t *testing.T, e *testenv.Env, slug string) *storefront {
	t.Helper()
	tn, err := e.App.Tenants.Create(context.Background(), tenant.CreateInput{Slug: slug, Name: slug})
	if err != nil {
		t.Fatal(err)
	}
	s := &storefront{e: e, t: tn, host: slug + ".shop.test"}
	s.sql(t, func(tx *gorm.DB) error {
		return tx.Raw(`INSERT INTO warehouses (tenant_id, code, name, kind) VALUES (?, 'HZ', 'Hangzhou bonded', 'bonded') RETURNING id`, tn.ID).Scan(&s.warehouse).Error
	})
	return s
}

func (s *storefront) ctx() context.Context { return scope.WithTenant(context.Background(), s.t.ID) }

// sql runs fn in a transaction scoped to the shop, as RLS demands.
func (s *storefront) sql(t *testing.T, fn func(tx *gorm.DB) error) {
	t.Helper()
	if err := db.InTenant(s.ctx(), s.e.App.DB, fn); err != nil {
		t.Fatal(err)
	}
}

func (s *storefront) get(t *testing.T, path string, headers ...string) *testenv.Response {
	t.Helper()
	return s.e.Do(t, "GET", s.host, path, nil, headers...)
}

type sku struct {
	price     int64
	compareAt *int64
	stock     int64
	opts      []string
	tax       string
	archived  bool
}

type product struct {
	status               string // default published
	zh, en, subZH, subEN string
	descZH, descEN       string
	category             *int64
	sort                 int
	sales                int64
	published            time.Time // default: now
	images               []string
	options              []shop.Option
	skus                 []sku // default: one SKU at ¥100, 100 in stock
}

// add inserts a product with complete customs data (so the admin calls can
// edit it) and returns its id.
func (s *storefront) add(t *testing.T, p product) int64 {
	t.Helper()
	if p.status == "" {
		p.status = shop.StatusPublished
	}
	if p.published.IsZero() {
		p.published = time.Now()
	}
	if p.skus == nil {
		p.skus = []sku{{price: 10000, stock: 100}}
	}
	if p.options == nil {
		p.options = []shop.Option{}
	}
	content := map[string]shop.Content{}
	if p.zh != "" {
		content[shop.LocaleZH] = shop.Content{Title: p.zh, Subtitle: p.subZH, Description: p.descZH}
	}
	if p.en != "" {
		content[shop.LocaleEN] = shop.Content{Title: p.en, Subtitle: p.subEN, Description: p.descEN}
	}
	images := []shop.Image{}
	for _, h := range p.images {
		images = append(images, shop.Image{Hash: h, Alt: shop.Text{"en": "photo " + h[:4]}})
	}
	var id int64
	s.sql(t, func(tx *gorm.DB) error {
		if err := tx.Raw(`INSERT INTO products (tenant_id, status, category_id, content, options, images, sort, sales_count, published_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, s.t.ID, p.status, p.category, jsonOf(content), jsonOf(p.options), jsonOf(images),
			p.sort, p.sales, p.published).Scan(&id).Error; err != nil {
			return err
		}
		for i, k := range p.skus {
			if k.tax == "" {
				k.tax = shop.TaxGeneral
			}
			if k.opts == nil {
				k.opts = []string{}
			}
			var archived *time.Time
			if k.archived {
				now := time.Now()
				archived = &now
			}
			var skuID int64
			if err := tx.Raw(`INSERT INTO skus (tenant_id, product_id, code, option_values, price, compare_at_price, tax_category, sort, archived_at,
				hs_code, origin_country, gname, gmodel, unit, legal_unit1, legal_qty1, net_weight_g, gross_weight_g, item_record_no, positive_list)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, '3304990099', '330', '精华液', 'Brand|30ml', '007', '035', 0.05, 50, 120, 'ITEM1', true) RETURNING id`,
				s.t.ID, id, fmt.Sprintf("P%d-%d", id, i), jsonOf(k.opts), k.price, k.compareAt, k.tax, i, archived).Scan(&skuID).Error; err != nil {
				return err
			}
			if err := tx.Exec(`INSERT INTO stock_levels (tenant_id, sku_id, warehouse_id, on_hand) VALUES (?, ?, ?, ?)`,
				s.t.ID, skuID, s.warehouse, k.stock).Error; err != nil {
				return err
			}
		}
		return tx.Exec(`UPDATE products SET min_price = (SELECT min(price) FROM skus WHERE tenant_id = ? AND product_id = ? AND archived_at IS NULL)
			WHERE tenant_id = ? AND id = ?`, s.t.ID, id, s.t.ID, id).Error
	})
	return id
}

func (s *storefront) category(t *testing.T, parent *int64, en, zh string) int64 {
	t.Helper()
	var id int64
	s.sql(t, func(tx *gorm.DB) error {
		return tx.Raw(`INSERT INTO categories (tenant_id, parent_id, name) VALUES (?, ?, ?) RETURNING id`,
			s.t.ID, parent, jsonOf(shop.Text{"en": en, "zh-CN": zh})).Scan(&id).Error
	})
	return id
}

func (s *storefront) skuIDs(t *testing.T, productID int64) []int64 {
	t.Helper()
	var ids []int64
	s.sql(t, func(tx *gorm.DB) error {
		return tx.Raw(`SELECT id FROM skus WHERE tenant_id = ? AND product_id = ? ORDER BY sort, id`, s.t.ID, productID).Scan(&ids).Error
	})
	return ids
}

func jsonOf(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func ptr[T any](v T) *T { return &v }

func (s *storefront) list(t *testing.T, query string) shop.ListPage {
	t.Helper()
	r := s.get(t, "/api/v1/products"+query)
	if r.Status != 200 {
		t.Fatalf("GET /api/v1/products%s: %d %s", query, r.Status, r.Body)
	}
	var p shop.ListPage
	r.JSON(t, &p)
	return p
}

func (s *storefront) detail(t *testing.T, id int64, query string) (shop.ProductView, *testenv.Response) {
	t.Helper()
	r := s.get(t, fmt.Sprintf("/api/v1/products/%d%s", id, query))
	var v shop.ProductView
	if r.Status == 200 {
		r.JSON(t, &v)
	}
	return v, r
}

func ids(p shop.ListPage) []int64 {
	out := make([]int64, len(p.Products))
	for i, it := range p.Products {
		out[i] = it.ID
	}
	return out
}

func TestStorefrontListsOnlyThisShopsPublishedProducts(t *testing.T) {
	e := testenv.New(t)
	a := newStorefront(t, e, "nordic-skin")
	b := newStorefront(t, e, "dutch-cocoa")
	serum := a.add(t, product{zh: "云莓精华", en: "Cloudberry Serum", subEN: "Arctic berries", subZH: "北极浆果",
		skus: []sku{{price: 29900, compareAt: ptr[int64](39900), stock: 100, tax: "premium_cosmetics"}, {price: 35900, stock: 0, tax: "premium_cosmetics"}}})
	cream := a.add(t, product{en: "Night Cream", skus: []sku{{price: 10000, stock: 2}, {price: 12000, stock: 1}}})
	soap := a.add(t, product{zh: "肥皂", skus: []sku{{price: 500, stock: 0}}})
	draft := a.add(t, product{zh: "草稿", status: shop.StatusDraft})
	archived := a.add(t, product{zh: "归档", status: shop.StatusArchived})
	cocoa := b.add(t, product{zh: "可可", en: "Cocoa"})

	p := a.list(t, "")
	if got := ids(p); len(got) != 3 || !slices.Contains(got, serum) || !slices.Contains(got, cream) || !slices.Contains(got, soap) {
		t.Fatalf("list of nordic-skin: %v (serum %d, cream %d, soap %d)", got, serum, cream, soap)
	}
	if p.NextCursor != nil {
		t.Fatalf("a single page has no next cursor: %q", *p.NextCursor)
	}
	items := map[int64]shop.ListItem{}
	for _, it := range p.Products {
		items[it.ID] = it
	}
	// ¥299 of premium cosmetics: 29900 × 23.0588…% = 6894.6 → 6895 fen of tax.
	if it := items[serum]; it.Title != "云莓精华" || it.Subtitle != "北极浆果" || it.MinPrice != 29900 || it.LandedMinPrice == nil ||
		*it.LandedMinPrice != 36795 || it.CompareAtPrice == nil || *it.CompareAtPrice != 39900 || it.Availability != shop.InStock {
		t.Fatalf("serum in the list: %+v", it)
	}
	// General goods: 9.1%.
	if it := items[cream]; it.Title != "Night Cream" || it.MinPrice != 10000 || *it.LandedMinPrice != 10910 || it.CompareAtPrice != nil || it.Availability != shop.LowStock {
		t.Fatalf("cream (only an English title; 3 left): %+v", it)
	}
	if it := items[soap]; it.Availability != shop.SoldOut {
		t.Fatalf("soap (none left): %+v", it)
	}
	if en := a.list(t, "?locale=en"); en.Products[slices.Index(ids(en), serum)].Title != "Cloudberry Serum" {
		t.Fatalf("English list: %+v", en.Products)
	}
	if strings.Contains(string(a.get(t, "/api/v1/products").Body), "on_hand") {
		t.Fatal("the storefront must not show stock figures")
	}

	for _, id := range []int64{draft, archived, cocoa, 999999} {
		if _, r := a.detail(t, id, ""); r.Status != 404 || r.ErrorCode() != "product_not_found" {
			t.Fatalf("product %d at nordic-skin: %d %s", id, r.Status, r.Body)
		}
	}
	if _, r := a.detail(t, 0, ""); r.Status != 404 {
		t.Fatalf("product 0: %d", r.Status)
	}
	if _, r := b.detail(t, cocoa, ""); r.Status != 200 {
		t.Fatalf("cocoa at its own shop: %d %s", r.Status, r.Body)
	}
	if got := ids(b.list(t, "")); !slices.Equal(got, []int64{cocoa}) {
		t.Fatalf("list of dutch-cocoa: %v", got)
	}
	if r := e.Do(t, "GET", "nobody.shop.test", "/api/v1/products", nil); r.Status != 404 || r.ErrorCode() != "tenant_not_found" {
		t.Fatalf("an unknown shop: %d %s", r.Status, r.Body)
	}
	for _, q := range []string{"?limit=0", "?limit=51", "?limit=x", "?cursor=!!!", "?cursor=bm9wZQ", "?sort=cheapest", "?locale=fr", "?category_id=x", "?q=" + strings.Repeat("x", 65)} {
		if r := a.get(t, "/api/v1/products"+q); r.Status != 400 {
			t.Errorf("GET /api/v1/products%s: %d %s", q, r.Status, r.Body)
		}
	}
}

func TestStorefrontPagingAndSorts(t *testing.T) {
	e := testenv.New(t)
	s := newStorefront(t, e, "nordic-skin")
	base := time.Now().Add(-time.Hour).Truncate(time.Second)
	type prod struct {
		id           int64
		price, sales int64
		sort         int
		pub          time.Time
	}
	var all []prod
	for i := range 45 {
		// Ties on purpose: prices repeat, sales repeat, two share a publication time.
		p := prod{price: int64(1000 + 100*(i%7)), sales: int64(i % 5), sort: 0, pub: base.Add(time.Duration(i/2) * time.Minute)}
		if i == 44 {
			p.sort = 10 // pinned first by the brand
		}
		p.id = s.add(t, product{zh: fmt.Sprintf("商品 %d", i), sort: p.sort, sales: p.sales, published: p.pub, skus: []sku{{price: p.price, stock: 10}}})
		all = append(all, p)
	}
	s.add(t, product{zh: "草稿", status: shop.StatusDraft})

	orders := map[string]func(a, b prod) int{
		"newest": func(a, b prod) int {
			if a.sort != b.sort {
				return b.sort - a.sort
			}
			if c := b.pub.Compare(a.pub); c != 0 {
				return c
			}
			return int(b.id - a.id)
		},
		"price_asc": func(a, b prod) int {
			if a.price != b.price {
				return int(a.price - b.price)
			}
			return int(a.id - b.id)
		},
		"price_desc": func(a, b prod) int {
			if a.price != b.price {
				return int(b.price - a.price)
			}
			return int(b.id - a.id)
		},
		"sales": func(a, b prod) int {
			if a.sales != b.sales {
				return int(b.sales - a.sales)
			}
			return int(b.id - a.id)
		},
	}
	for sort, cmp := range orders {
		want := slices.Clone(all)
		slices.SortFunc(want, cmp)
		var wantIDs []int64
		for _, p := range want {
			wantIDs = append(wantIDs, p.id)
		}
		var got []int64
		q := "?sort=" + sort
		if sort == "newest" {
			q = "" // the default
		}
		pages := 0
		for cur := ""; ; pages++ {
			path := q
			if cur != "" {
				path = q + "&cursor=" + cur
				if q == "" {
					path = "?cursor=" + cur
				}
			}
			p := s.list(t, path)
			if len(p.Products) > 20 {
				t.Fatalf("%s: a page of %d", sort, len(p.Products))
			}
			got = append(got, ids(p)...)
			if p.NextCursor == nil {
				break
			}
			cur = *p.NextCursor
			if pages > 5 {
				t.Fatalf("%s: paging does not end", sort)
			}
		}
		if pages != 2 || !slices.Equal(got, wantIDs) {
			t.Fatalf("sort %s: %d pages\n got %v\nwant %v", sort, pages+1, got, wantIDs)
		}
	}
	// Limits, and a cursor of one sort refused by another.
	p := s.list(t, "?limit=50")
	if len(p.Products) != 45 || p.NextCursor != nil {
		t.Fatalf("limit 50: %d products, next %v", len(p.Products), p.NextCursor)
	}
	p = s.list(t, "?limit=7&sort=sales")
	if r := s.get(t, "/api/v1/products?sort=price_asc&cursor="+*p.NextCursor); r.Status != 400 || r.ErrorCode() != "invalid_cursor" {
		t.Fatalf("a sales cursor with price_asc: %d %s", r.Status, r.Body)
	}
}

func TestStorefrontSearchAndCategories(t *testing.T) {
	e := testenv.New(t)
	s := newStorefront(t, e, "nordic-skin")
	skin := s.category(t, nil, "Skincare", "护肤")
	face := s.category(t, &skin, "Face", "面部")
	eyes := s.category(t, &face, "Eyes", "眼部")
	food := s.category(t, nil, "Food", "食品")
	serum := s.add(t, product{zh: "云莓精华", en: "Cloudberry Serum", category: &face})
	eyeCream := s.add(t, product{zh: "眼霜", en: "Eye Cream", category: &eyes})
	mask := s.add(t, product{zh: "面膜", en: "Sheet Mask", category: &skin})
	choc := s.add(t, product{zh: "巧克力 100%", en: "Dark_Chocolate 100%", category: &food})
	s.add(t, product{zh: "草稿精华", en: "Draft Serum", status: shop.StatusDraft, category: &face})

	for q, want := range map[string][]int64{
		"精华":        {serum},
		"云莓":        {serum},
		"serum":     {serum},
		"SERUM":     {serum},
		"  cream  ": {eyeCream},
		"100%":      {choc},
		"%":         {choc}, // a literal percent sign, not a wildcard
		"_":         {choc},
		"k_c":       {choc},
		"nothing":   {},
		"":          {serum, eyeCream, mask, choc},
	} {
		got := ids(s.list(t, "?q="+urlQuery(q)))
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("q=%q: %v, want %v", q, got, want)
		}
	}
	for cat, want := range map[int64][]int64{skin: {serum, eyeCream, mask}, face: {serum, eyeCream}, eyes: {eyeCream}, food: {choc}, 999999: {}} {
		got := ids(s.list(t, fmt.Sprintf("?category_id=%d", cat)))
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("category %d: %v, want %v", cat, got, want)
		}
	}
	if got := ids(s.list(t, fmt.Sprintf("?category_id=%d&q=eye", skin))); !slices.Equal(got, []int64{eyeCream}) {
		t.Errorf("category and search: %v", got)
	}

	r := s.get(t, "/api/v1/categories")
	var tree struct{ Categories []shop.CategoryNode }
	r.JSON(t, &tree)
	if r.Status != 200 || len(tree.Categories) != 2 || tree.Categories[0].Name != "护肤" || tree.Categories[0].Children[0].Name != "面部" ||
		tree.Categories[0].Children[0].Children[0].ID != eyes || len(tree.Categories[1].Children) != 0 || tree.Categories[1].Children == nil {
		t.Fatalf("category tree: %d %s", r.Status, r.Body)
	}
	s.get(t, "/api/v1/categories?locale=en").JSON(t, &tree)
	if tree.Categories[0].Name != "Skincare" {
		t.Fatalf("English category tree: %+v", tree)
	}
	// Another shop's tree is its own.
	other := newStorefront(t, e, "dutch-cocoa")
	if r := other.get(t, "/api/v1/categories"); string(r.Body) != `{"categories":[]}` {
		t.Fatalf("an empty tree: %s", r.Body)
	}
	if got := ids(other.list(t, fmt.Sprintf("?category_id=%d", skin))); len(got) != 0 {
		t.Fatalf("another shop's category: %v", got)
	}
}

func urlQuery(s string) string {
	r := strings.NewReplacer("%", "%25", " ", "%20", "&", "%26", "+", "%2B")
	return r.Replace(s)
}

func TestStorefrontProductDetail(t *testing.T) {
	e := testenv.New(t)
	s := newStorefront(t, e, "nordic-skin")
	img, err := e.App.Shop.UploadImage(s.ctx(), bytes.NewReader(pngBytes(8, 8)))
	if err != nil {
		t.Fatal(err)
	}
	colour := shop.Option{Name: shop.Text{"en": "Colour", "zh-CN": "颜色"}, Values: []shop.Text{{"en": "Red", "zh-CN": "红"}, {"en": "Blue"}}}
	id := s.add(t, product{zh: "云莓精华", en: "Cloudberry Serum", descEN: "<p>Arctic</p>", images: []string{img.Hash}, options: []shop.Option{colour},
		skus: []sku{
			{price: 29900, stock: 4, opts: []string{"Red"}, tax: "premium_cosmetics", compareAt: ptr[int64](31900)},
			{price: 25900, stock: 0, opts: []string{"Blue"}, tax: "premium_cosmetics"},
			{price: 100, stock: 50, opts: []string{"Green"}, archived: true},
		}})
	v, r := s.detail(t, id, "")
	if r.Status != 200 {
		t.Fatalf("detail: %d %s", r.Status, r.Body)
	}
	if v.Title != "云莓精华" || v.Description != "<p>Arctic</p>" || len(v.Images) != 1 || v.Images[0].URL != "/api/v1/media/"+img.Hash ||
		len(v.Options) != 1 || v.Options[0].Name != "颜色" || v.Options[0].Values[0] != (shop.OptionValue{Value: "Red", Label: "红"}) ||
		v.Options[0].Values[1] != (shop.OptionValue{Value: "Blue", Label: "Blue"}) {
		t.Fatalf("detail: %s", r.Body)
	}
	if len(v.SKUs) != 2 || v.SKUs[0].Availability != shop.LowStock || v.SKUs[1].Availability != shop.SoldOut ||
		*v.SKUs[0].LandedPrice != 36795 || *v.SKUs[0].Tax != 6895 || v.SKUs[0].TaxRate != "23.06%" || *v.SKUs[0].CompareAtPrice != 31900 ||
		!slices.Equal(v.SKUs[1].OptionValues, []string{"Blue"}) {
		t.Fatalf("SKUs (the archived one left out): %s", r.Body)
	}
	if v.MinPrice != 25900 || v.CompareAtPrice != nil || v.Availability != shop.LowStock {
		t.Fatalf("product summary: %s", r.Body)
	}
	if strings.Contains(string(r.Body), "hs_code") || strings.Contains(string(r.Body), `"stock"`) {
		t.Fatalf("customs data and stock figures stay private: %s", r.Body)
	}
	if v, _ := s.detail(t, id, "?locale=en"); v.Title != "Cloudberry Serum" || v.Options[0].Name != "Colour" || v.Images[0].Alt != "photo "+img.Hash[:4] {
		t.Fatalf("English detail: %+v", v)
	}

	// The image, at the shop's host only.
	r = s.get(t, "/api/v1/media/"+img.Hash)
	if r.Status != 200 || r.Header.Get("Content-Type") != "image/png" || r.Header.Get("Cache-Control") != "public, max-age=31536000, immutable" ||
		!bytes.Equal(r.Body, pngBytes(8, 8)) {
		t.Fatalf("media: %d %v", r.Status, r.Header)
	}
	if r := s.get(t, "/api/v1/media/"+img.Hash, "If-None-Match", `"`+img.Hash+`"`); r.Status != 304 {
		t.Fatalf("media revalidation: %d", r.Status)
	}
	other := newStorefront(t, e, "dutch-cocoa")
	for _, h := range []string{img.Hash, strings.Repeat("0", 64), "../../etc/passwd", "x"} {
		if r := other.get(t, "/api/v1/media/"+h); r.Status != 404 {
			t.Fatalf("media %q at another shop: %d", h, r.Status)
		}
	}
}

func TestStorefrontETagsAndCaching(t *testing.T) {
	e := testenv.New(t)
	s := newStorefront(t, e, "nordic-skin")
	id := s.add(t, product{zh: "云莓精华", en: "Cloudberry Serum", skus: []sku{{price: 29900, stock: 100}}})
	for _, path := range []string{"/api/v1/products", fmt.Sprintf("/api/v1/products/%d", id), "/api/v1/categories"} {
		r := s.get(t, path)
		etag := r.Header.Get("ETag")
		if r.Status != 200 || etag == "" || r.Header.Get("Cache-Control") != "public, max-age=30, stale-while-revalidate=60" ||
			r.Header.Get("Content-Type") != "application/json; charset=utf-8" {
			t.Fatalf("%s: %d %v", path, r.Status, r.Header)
		}
		for _, inm := range []string{etag, "W/" + etag, `"other", ` + etag, "*"} {
			if r := s.get(t, path, "If-None-Match", inm); r.Status != 304 || len(r.Body) != 0 || r.Header.Get("ETag") != etag {
				t.Fatalf("%s with If-None-Match %s: %d %s", path, inm, r.Status, r.Body)
			}
		}
		if r := s.get(t, path, "If-None-Match", `"other"`); r.Status != 200 {
			t.Fatalf("%s with another ETag: %d", path, r.Status)
		}
	}
	// Different requests, different responses.
	if a, b := s.get(t, "/api/v1/products").Header.Get("ETag"), s.get(t, "/api/v1/products?locale=en").Header.Get("ETag"); a == b {
		t.Fatalf("zh-CN and en lists share ETag %s", a)
	}
	// Errors are not cacheable by clients.
	if r := s.get(t, "/api/v1/products/999999"); r.Status != 404 || r.Header.Get("Cache-Control") != "" || r.Header.Get("ETag") != "" {
		t.Fatalf("a 404: %d %v", r.Status, r.Header)
	}
	st := e.App.Shop.CatalogCacheStats()
	if st.Hits == 0 || st.Misses == 0 || st.Entries == 0 || st.Bytes <= 0 || st.Bytes > st.Limit {
		t.Fatalf("cache stats: %+v", st)
	}
}

// TestStorefrontGzip: a client that accepts gzip gets the cached compressed
// bytes, one that does not gets the same JSON plain, and either
// representation's ETag revalidates.
func TestStorefrontGzip(t *testing.T) {
	e := testenv.New(t)
	s := newStorefront(t, e, "nordic-skin")
	desc := strings.Repeat("Cold-pressed cloudberry seed oil from Lapland, for dry and sensitive skin. ", 20)
	id := s.add(t, product{zh: "云莓精华", en: "Cloudberry Serum", descEN: desc, descZH: desc, skus: []sku{{price: 29900, stock: 100}}})
	path := fmt.Sprintf("/api/v1/products/%d?locale=en", id)

	plain := s.get(t, path, "Accept-Encoding", "identity")
	if plain.Status != 200 || plain.Header.Get("Content-Encoding") != "" || !strings.Contains(string(plain.Body), "Lapland") {
		t.Fatalf("plain: %d %v %.80s", plain.Status, plain.Header, plain.Body)
	}
	zipped := s.get(t, path, "Accept-Encoding", "br, gzip;q=0.8")
	if zipped.Status != 200 || zipped.Header.Get("Content-Encoding") != "gzip" || zipped.Header.Get("Vary") != "Accept-Encoding" {
		t.Fatalf("gzip: %d %v", zipped.Status, zipped.Header)
	}
	if len(zipped.Body) >= len(plain.Body)/2 {
		t.Errorf("gzip body %d bytes for %d plain", len(zipped.Body), len(plain.Body))
	}
	zr, err := gzip.NewReader(bytes.NewReader(zipped.Body))
	if err != nil {
		t.Fatal(err)
	}
	inflated, err := io.ReadAll(zr)
	if err != nil || !bytes.Equal(inflated, plain.Body) {
		t.Fatalf("gzip body inflates to %d bytes (%v), plain is %d", len(inflated), err, len(plain.Body))
	}
	ep, ez := plain.Header.Get("ETag"), zipped.Header.Get("ETag")
	if ep == "" || ez == "" || ep == ez {
		t.Fatalf("ETags: plain %q, gzip %q", ep, ez)
	}
	for _, inm := range []string{ep, ez} {
		if r := s.get(t, path, "If-None-Match", inm, "Accept-Encoding", "gzip"); r.Status != 304 || r.Header.Get("Content-Encoding") != "" {
			t.Fatalf("If-None-Match %s: %d %v", inm, r.Status, r.Header)
		}
	}
	if r := s.get(t, path, "Accept-Encoding", "gzip;q=0, identity"); r.Header.Get("Content-Encoding") != "" || !bytes.Equal(r.Body, plain.Body) {
		t.Fatalf("gzip refused with q=0, still got %v", r.Header)
	}
	// Small bodies are not worth compressing.
	if r := s.get(t, "/api/v1/categories", "Accept-Encoding", "gzip"); r.Status != 200 || r.Header.Get("Content-Encoding") != "" {
		t.Fatalf("categories: %d %v", r.Status, r.Header)
	}
}

// TestStorefrontFreshAfterEveryEditOnEveryProcess runs two server processes
// on one database and Redis: once an admin change has returned, neither
// serves what was there before, from its cache or under an old ETag.
func TestStorefrontFreshAfterEveryEditOnEveryProcess(t *testing.T) {
	e1 := testenv.New(t)
	cfg := *e1.Cfg
	e2 := testenv.Start(t, &cfg)
	s := newStorefront(t, e1, "nordic-skin")
	s2 := &storefront{e: e2, t: s.t, host: s.host, warehouse: s.warehouse}
	id := s.add(t, product{zh: "云莓精华", skus: []sku{{price: 29900, stock: 100}}})
	skuID := s.skuIDs(t, id)[0]
	other := s.add(t, product{zh: "眼霜", skus: []sku{{price: 19900, stock: 100}}})
	ctx := s.ctx()
	detail := fmt.Sprintf("/api/v1/products/%d", id)

	// Readers on both processes keep their caches busy during the edits.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for _, x := range []*storefront{s, s2} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				for _, p := range []string{detail, "/api/v1/products", fmt.Sprintf("/api/v1/products/%d", other)} {
					req, _ := http.NewRequest("GET", x.e.API.URL+p, nil)
					req.Host = x.host
					if resp, err := http.DefaultClient.Do(req); err == nil {
						resp.Body.Close()
					}
				}
			}
		}()
	}
	defer func() { close(stop); wg.Wait() }()

	etags := map[string]string{}
	check := func(step string, wantPrice int64, wantAvail string) {
		t.Helper()
		for i, x := range []*storefront{s, s2} {
			v, r := x.detail(t, id, "")
			if r.Status != 200 || v.MinPrice != wantPrice || v.Availability != wantAvail {
				t.Fatalf("%s, process %d: detail %d %s", step, i+1, r.Status, r.Body)
			}
			var item shop.ListItem
			for _, it := range x.list(t, "").Products {
				if it.ID == id {
					item = it
				}
			}
			if item.MinPrice != wantPrice || item.Availability != wantAvail {
				t.Fatalf("%s, process %d: list item %+v", step, i+1, item)
			}
			if old := etags[step]; old != "" && old != r.Header.Get("ETag") {
				t.Fatalf("%s: the processes disagree on the ETag: %s, %s", step, old, r.Header.Get("ETag"))
			}
			etags[step] = r.Header.Get("ETag")
		}
	}
	check("start", 29900, shop.InStock)
	before := etags["start"]
	otherETag := s.get(t, fmt.Sprintf("/api/v1/products/%d", other)).Header.Get("ETag")

	for i := range 10 {
		price := int64(30000 + 100*i)
		if _, err := e1.App.Shop.UpdateSKUs(ctx, id, []shop.SKUEdit{{ID: skuID, Code: fmt.Sprintf("P%d-0", id), Price: price, Customs: shop.Customs{
			HSCode: "3304990099", OriginCountry: "330", GName: "精华液", GModel: "Brand|30ml", Unit: "007", LegalUnit1: "035", LegalQty1: ptr(0.05),
			NetWeightG: ptr(50), GrossWeightG: ptr(120), ItemRecordNo: "ITEM1", TradeMode: "1210", TaxCategory: shop.TaxGeneral, PositiveList: true}}}); err != nil {
			t.Fatal(err)
		}
		check(fmt.Sprintf("price %d", price), price, shop.InStock)
		// The old ETag no longer holds, on either process.
		for n, x := range []*storefront{s, s2} {
			if r := x.get(t, detail, "If-None-Match", before); r.Status != 200 {
				t.Fatalf("after a price change, process %d answers the old ETag with %d", n+1, r.Status)
			}
		}
	}
	// Stock: availability changes.
	if _, err := e2.App.Shop.RecordMovement(ctx, shop.MoveInput{SKUID: skuID, WarehouseID: s.warehouse, Kind: shop.MoveAdjusted, Quantity: -97, Reason: "stocktake"}); err != nil {
		t.Fatal(err)
	}
	check("low stock", 30900, shop.LowStock)
	// An unchanged product keeps its ETag across the edits of another: clients revalidate for free.
	if r := s2.get(t, fmt.Sprintf("/api/v1/products/%d", other), "If-None-Match", otherETag); r.Status != 304 {
		t.Fatalf("an unchanged product after another's edit: %d", r.Status)
	}
	// Unpublished: gone everywhere at once.
	if _, err := e1.App.Shop.SetStatus(ctx, id, shop.StatusDraft); err != nil {
		t.Fatal(err)
	}
	for n, x := range []*storefront{s, s2} {
		if _, r := x.detail(t, id, ""); r.Status != 404 {
			t.Fatalf("unpublished, process %d: %d %s", n+1, r.Status, r.Body)
		}
		if slices.Contains(ids(x.list(t, "")), id) {
			t.Fatalf("unpublished, process %d still lists it", n+1)
		}
	}
	// And back.
	if _, err := e2.App.Shop.SetStatus(ctx, id, shop.StatusPublished); err != nil {
		t.Fatal(err)
	}
	check("republished", 30900, shop.LowStock)
}

// TestStorefrontConstantQueries proves there is no N+1: a page of 40
// products with 3 SKUs each takes as many SQL statements as a page of 2, and a
// product with 30 SKUs as many as one with 1.
func TestStorefrontConstantQueries(t *testing.T) {
	e := testenv.New(t)
	s := newStorefront(t, e, "nordic-skin")
	skus := func(n int) []sku {
		out := make([]sku, n)
		for i := range out {
			out[i] = sku{price: int64(1000 + i), stock: int64(i)}
		}
		return out
	}
	cat := s.category(t, nil, "All", "全部")
	var small, big int64
	for i := range 40 {
		s.add(t, product{zh: fmt.Sprintf("商品 %d", i), en: "Thing", category: &cat, images: []string{strings.Repeat("a", 64)}, skus: skus(3)})
	}
	small = s.add(t, product{zh: "一个", skus: skus(1)})
	big = s.add(t, product{zh: "三十个", skus: skus(30)})
	s.get(t, "/api/v1/categories") // resolve the host once

	var n atomic.Int64
	count := func(*gorm.DB) { n.Add(1) }
	cb := e.App.DB.Callback()
	for _, err := range []error{
		cb.Query().After("gorm:query").Register("test:count", count),
		cb.Row().After("gorm:row").Register("test:count", count),
		cb.Raw().After("gorm:raw").Register("test:count", count),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	queries := func(path string) int64 {
		t.Helper()
		before := n.Load()
		if r := s.get(t, path); r.Status != 200 {
			t.Fatalf("%s: %d %s", path, r.Status, r.Body)
		}
		return n.Load() - before
	}
	// Every request below is a cache miss: each has its own key.
	q2, q40 := queries("/api/v1/products?limit=2"), queries("/api/v1/products?limit=40")
	qs := queries(fmt.Sprintf("/api/v1/products?limit=40&sort=price_asc&category_id=%d&q=thing", cat))
	if q2 != q40 || q2 != qs || q2 > 2 {
		t.Fatalf("statements for a page of 2: %d, of 40: %d, filtered: %d (want the same, at most set_config + 1)", q2, q40, qs)
	}
	d1, d30 := queries(fmt.Sprintf("/api/v1/products/%d", small)), queries(fmt.Sprintf("/api/v1/products/%d", big))
	if d1 != d30 || d1 > 3 {
		t.Fatalf("statements for a product with 1 SKU: %d, with 30: %d (want the same, at most set_config + 2)", d1, d30)
	}
	// A cached response takes none.
	if q := queries("/api/v1/products?limit=40"); q != 0 {
		t.Fatalf("a cached page ran %d statements", q)
	}
}

// TestStorefrontWithoutRedis serves from Postgres when Redis cannot be read:
// slower, never stale.
func TestStorefrontWithoutRedis(t *testing.T) {
	e := testenv.New(t)
	s := newStorefront(t, e, "nordic-skin")
	id := s.add(t, product{zh: "云莓精华", skus: []sku{{price: 29900, stock: 100}}})
	dead := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1})
	defer dead.Close()
	svc := shop.New(shop.Deps{DB: e.App.DB, Redis: dead, Tenants: e.App.Tenants, Media: shop.Disk{Dir: t.TempDir()}, Log: e.App.Log})
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	g := r.Group("/api/v1", func(c *gin.Context) {
		c.Request = c.Request.WithContext(scope.WithTenant(c.Request.Context(), s.t.ID))
	})
	(&shop.Handler{S: svc}).RegisterStorefront(g)
	get := func() shop.ProductView {
		w := httptest.NewRecorder()
		r.ServeHTTP(w, httptest.NewRequest("GET", fmt.Sprintf("/api/v1/products/%d", id), nil))
		var v shop.ProductView
		if w.Code != 200 || json.Unmarshal(w.Body.Bytes(), &v) != nil {
			t.Fatalf("without Redis: %d %s", w.Code, w.Body)
		}
		return v
	}
	get()
	s.sql(t, func(tx *gorm.DB) error {
		return tx.Exec(`UPDATE skus SET price = 31900 WHERE tenant_id = ? AND product_id = ?`, s.t.ID, id).Error
	})
	if v := get(); v.MinPrice != 31900 {
		t.Fatalf("without Redis, a change shows at once: %+v", v)
	}
	if st := svc.CatalogCacheStats(); st.Bypassed != 2 || st.Hits != 0 || st.Entries != 0 {
		t.Fatalf("cache stats without Redis: %+v", st)
	}
}
