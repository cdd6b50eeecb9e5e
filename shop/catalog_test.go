package shop_test

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"

	"github.com/minishop/minishop/internal/testenv"
	"github.com/minishop/minishop/shop"
	"github.com/minishop/minishop/tenant"
)

type brand struct {
	e    *testenv.Env
	t    *tenant.Tenant
	auth []string
	base string
}

func newBrand(t *testing.T, e *testenv.Env, slug string) *brand {
	t.Helper()
	tn, err := e.App.Tenants.Create(context.Background(), tenant.CreateInput{Slug: slug, Name: slug})
	if err != nil {
		t.Fatal(err)
	}
	return &brand{e: e, t: tn, auth: e.Member(t, tn.ID, "owner@"+slug+".test", tenant.RoleOwner), base: "/api/admin/v1/tenants/" + slug}
}

func (b *brand) do(t *testing.T, method, path string, body any) *testenv.Response {
	t.Helper()
	return b.e.Do(t, method, "", b.base+path, body, b.auth...)
}

func pngBytes(w, h int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	img.Set(0, 0, color.RGBA{200, 30, 30, 255})
	var buf bytes.Buffer
	_ = png.Encode(&buf, img)
	return buf.Bytes()
}

func (b *brand) upload(t *testing.T, name string, data []byte) *testenv.Response {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, _ := mw.CreateFormFile("file", name)
	fw.Write(data)
	mw.Close()
	return b.e.Do(t, "POST", "", b.base+"/images", body.Bytes(), append([]string{"Content-Type", mw.FormDataContentType()}, b.auth...)...)
}

var serum = map[string]any{
	"brand": "Nordic Skin",
	"content": map[string]any{
		"en":    map[string]string{"title": "Cloudberry Serum", "description": `<p>Arctic <b>cloudberry</b>.</p><script>alert(1)</script>`},
		"zh-CN": map[string]string{"title": "云莓精华"},
	},
	"options": []any{
		map[string]any{"name": map[string]string{"en": "Colour", "zh-CN": "颜色"}, "values": []any{map[string]string{"en": "Red", "zh-CN": "红"}, map[string]string{"en": "Blue", "zh-CN": "蓝"}}},
		map[string]any{"name": map[string]string{"en": "Size", "zh-CN": "规格"}, "values": []any{map[string]string{"en": "30ml"}, map[string]string{"en": "50ml"}}},
	},
}

func customs(sku shop.SKU, price int64) map[string]any {
	return map[string]any{"id": sku.ID, "code": "NS-" + strings.Join(sku.OptionValues, "-"), "price": price,
		"hs_code": "3304990099", "origin_country": "330", "gname": "精华液", "gmodel": "Nordic Skin|30ml|玻璃瓶", "unit": "007",
		"legal_unit1": "035", "legal_qty1": 0.05, "net_weight_g": 50, "gross_weight_g": 120, "item_record_no": "ITEM0001",
		"trade_mode": "1210", "tax_category": "premium_cosmetics", "positive_list": true}
}

func TestProductWithOptionsSKUMatrixAndPublishing(t *testing.T) {
	e := testenv.New(t)
	b := newBrand(t, e, "nordic-skin")
	r := b.do(t, "POST", "/products", serum)
	var p shop.Product
	r.JSON(t, &p)
	if r.Status != 201 || len(p.SKUs) != 4 || p.Status != "draft" {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	if strings.Contains(p.Content["en"].Description, "script") || !strings.Contains(p.Content["en"].Description, "<b>cloudberry</b>") {
		t.Fatalf("the description must be sanitised, keeping formatting: %q", p.Content["en"].Description)
	}
	combos := map[string]int64{}
	for _, k := range p.SKUs {
		combos[strings.Join(k.OptionValues, "/")] = k.ID
	}
	if len(combos) != 4 || combos["Red/30ml"] == 0 || combos["Blue/50ml"] == 0 {
		t.Fatalf("SKU matrix: %v", combos)
	}

	// Publishing now fails and says what is missing.
	r = b.do(t, "POST", fmt.Sprintf("/products/%d/publish", p.ID), nil)
	if r.Status != 422 || r.ErrorCode() != "not_publishable" || !strings.Contains(string(r.Body), "HS code") || !strings.Contains(string(r.Body), "positive list") {
		t.Fatalf("publishing an incomplete product: %d %s", r.Status, r.Body)
	}

	// Fill in the SKUs like a spreadsheet.
	var rows []any
	for _, k := range p.SKUs {
		rows = append(rows, customs(k, 29900))
	}
	r = b.do(t, "PUT", fmt.Sprintf("/products/%d/skus", p.ID), map[string]any{"skus": rows})
	r.JSON(t, &p)
	if r.Status != 200 || len(p.Checklist) != 0 {
		t.Fatalf("update SKUs: %d %s", r.Status, r.Body)
	}
	for _, k := range p.SKUs {
		// ¥299 of premium cosmetics: 29900 × 0.230588… = 6894.6 → 6895 fen.
		if k.Landed == nil || k.Landed.Tax != 6895 || k.Landed.Total != 36795 || k.Landed.TaxRate != "23.06%" {
			t.Fatalf("landed price of %s: %+v", k.Code, k.Landed)
		}
	}
	r = b.do(t, "POST", fmt.Sprintf("/products/%d/publish", p.ID), nil)
	if r.Status != 200 || !strings.Contains(string(r.Body), `"status":"published"`) {
		t.Fatalf("publish: %d %s", r.Status, r.Body)
	}

	// Editing the options keeps the SKUs that still exist.
	edited := map[string]any{}
	for k, v := range serum {
		edited[k] = v
	}
	edited["options"] = []any{
		map[string]any{"name": map[string]string{"en": "Colour"}, "values": []any{map[string]string{"en": "Red"}}},
		map[string]any{"name": map[string]string{"en": "Size"}, "values": []any{map[string]string{"en": "30ml"}, map[string]string{"en": "50ml"}, map[string]string{"en": "100ml"}}},
	}
	r = b.do(t, "PUT", fmt.Sprintf("/products/%d", p.ID), edited)
	var p2 shop.Product
	r.JSON(t, &p2)
	if r.Status != 200 {
		t.Fatalf("edit options: %d %s", r.Status, r.Body)
	}
	active := map[string]shop.SKU{}
	archived := 0
	for _, k := range p2.SKUs {
		if k.ArchivedAt != nil {
			archived++
			continue
		}
		active[strings.Join(k.OptionValues, "/")] = k
	}
	if len(active) != 3 || archived != 2 || active["Red/30ml"].ID != combos["Red/30ml"] || active["Red/50ml"].ID != combos["Red/50ml"] {
		t.Fatalf("after editing options: active %v, archived %d", active, archived)
	}
	// The new SKU copied its sibling's customs data, so the product stays publishable.
	if n := active["Red/100ml"]; n.HSCode != "3304990099" || n.Price != 29900 || n.Code == "" {
		t.Fatalf("the new SKU: %+v", n)
	}
	if p2.Status != "published" {
		t.Fatalf("status after edit: %s", p2.Status)
	}
	// A change that would make a published product incomplete is refused and changes nothing.
	bad := customs(active["Red/30ml"], 29900)
	bad["hs_code"] = ""
	if r := b.do(t, "PUT", fmt.Sprintf("/products/%d/skus", p.ID), map[string]any{"skus": []any{bad}}); r.Status != 422 {
		t.Fatalf("emptying the HS code of a published SKU: %d %s", r.Status, r.Body)
	}
	r = b.do(t, "GET", fmt.Sprintf("/products/%d", p.ID), nil)
	if !strings.Contains(string(r.Body), `"hs_code":"3304990099"`) {
		t.Fatal("a refused change must not be half-written")
	}
}

func TestSKUValidation(t *testing.T) {
	e := testenv.New(t)
	b := newBrand(t, e, "nordic-skin")
	var p shop.Product
	b.do(t, "POST", "/products", map[string]any{"content": map[string]any{"en": map[string]string{"title": "Soap"}}}).JSON(t, &p)
	if len(p.SKUs) != 1 {
		t.Fatalf("a product without options has one SKU: %d", len(p.SKUs))
	}
	k := p.SKUs[0]
	cases := []struct {
		field string
		value any
		want  string
	}{
		{"hs_code", "33049900", "10 digits"},
		{"origin_country", "SE", "3-digit"},
		{"trade_mode", "0110", "1210"},
		{"tax_category", "fireworks", "tax category"},
		{"price", -1, "fen"},
		{"compare_at_price", 100, "higher than the price"},
		{"code", "has space", "SKU code"},
		{"legal_qty1", 0, "greater than 0"},
	}
	for _, c := range cases {
		row := customs(k, 5000)
		row[c.field] = c.value
		r := b.do(t, "PUT", fmt.Sprintf("/products/%d/skus", p.ID), map[string]any{"skus": []any{row}})
		if r.Status != 400 || !strings.Contains(string(r.Body), c.want) {
			t.Errorf("%s=%v: %d %s", c.field, c.value, r.Status, r.Body)
		}
	}
	// Codes are unique per shop.
	var p2 shop.Product
	b.do(t, "POST", "/products", map[string]any{"content": map[string]any{"en": map[string]string{"title": "Shampoo"}}}).JSON(t, &p2)
	b.do(t, "PUT", fmt.Sprintf("/products/%d/skus", p.ID), map[string]any{"skus": []any{customs(k, 5000)}})
	row := customs(p2.SKUs[0], 5000)
	row["code"] = customs(k, 5000)["code"]
	if r := b.do(t, "PUT", fmt.Sprintf("/products/%d/skus", p2.ID), map[string]any{"skus": []any{row}}); r.Status != 409 || r.ErrorCode() != "sku_code_taken" {
		t.Fatalf("a duplicate SKU code: %d %s", r.Status, r.Body)
	}
	// Another product's SKU cannot be edited through this product.
	if r := b.do(t, "PUT", fmt.Sprintf("/products/%d/skus", p.ID), map[string]any{"skus": []any{customs(p2.SKUs[0], 5000)}}); r.Status != 404 {
		t.Fatalf("editing a SKU through another product: %d %s", r.Status, r.Body)
	}
	// Too many combinations.
	var vals []any
	for i := range 15 {
		vals = append(vals, map[string]string{"en": fmt.Sprint("v", i)})
	}
	big := map[string]any{"content": map[string]any{"en": map[string]string{"title": "Big"}}, "options": []any{
		map[string]any{"name": map[string]string{"en": "A"}, "values": vals}, map[string]any{"name": map[string]string{"en": "B"}, "values": vals}}}
	if r := b.do(t, "POST", "/products", big); r.Status != 400 || !strings.Contains(string(r.Body), "225 combinations") {
		t.Fatalf("225 combinations: %d %s", r.Status, r.Body)
	}
}

func TestImagesUpload(t *testing.T) {
	e := testenv.New(t)
	b := newBrand(t, e, "nordic-skin")
	r := b.upload(t, "a.png", pngBytes(64, 48))
	var img shop.UploadedImage
	r.JSON(t, &img)
	if r.Status != 201 || img.Width != 64 || img.Height != 48 || img.ContentType != "image/png" || len(img.Hash) != 64 {
		t.Fatalf("upload: %d %s", r.Status, r.Body)
	}
	if r := b.upload(t, "a.png", pngBytes(64, 48)); r.Status != 201 {
		t.Fatalf("the same image twice: %d", r.Status)
	}
	if r := b.upload(t, "evil.png", []byte("<html><script>alert(1)</script></html>")); r.Status != 400 || !strings.Contains(string(r.Body), "JPEG, PNG") {
		t.Fatalf("a non-image: %d %s", r.Status, r.Body)
	}
	big := make([]byte, 6<<20)
	copy(big, pngBytes(10, 10))
	if r := b.upload(t, "big.png", big); r.Status != 413 {
		t.Fatalf("a 6 MiB upload: %d %s", r.Status, r.Body)
	}
	r = b.do(t, "GET", "/images/"+img.Hash, nil)
	if r.Status != 200 || r.Header.Get("Content-Type") != "image/png" || !strings.Contains(r.Header.Get("Cache-Control"), "immutable") || !bytes.Equal(r.Body, pngBytes(64, 48)) {
		t.Fatalf("serving the image: %d %v", r.Status, r.Header)
	}
	prod := map[string]any{"content": map[string]any{"en": map[string]string{"title": "Soap"}}, "images": []any{map[string]string{"hash": strings.Repeat("a", 64)}}}
	if r := b.do(t, "POST", "/products", prod); r.Status != 400 || !strings.Contains(string(r.Body), "upload it first") {
		t.Fatalf("a product with an image never uploaded: %d %s", r.Status, r.Body)
	}
	prod["images"] = []any{map[string]string{"hash": img.Hash}}
	if r := b.do(t, "POST", "/products", prod); r.Status != 201 || !strings.Contains(string(r.Body), "/images/"+img.Hash) {
		t.Fatalf("a product with an uploaded image: %d %s", r.Status, r.Body)
	}
	// Another shop cannot use or see it.
	other := newBrand(t, e, "dutch-cocoa")
	if r := other.do(t, "POST", "/products", prod); r.Status != 400 {
		t.Fatalf("another shop using this image: %d", r.Status)
	}
	if r := other.do(t, "GET", "/images/"+img.Hash, nil); r.Status != 404 {
		t.Fatalf("another shop reading this image: %d", r.Status)
	}
	_ = http.StatusOK
}

func TestCategoriesTree(t *testing.T) {
	e := testenv.New(t)
	b := newBrand(t, e, "nordic-skin")
	var skin, face shop.Category
	b.do(t, "POST", "/categories", map[string]any{"name": map[string]string{"en": "Skincare", "zh-CN": "护肤"}}).JSON(t, &skin)
	r := b.do(t, "POST", "/categories", map[string]any{"name": map[string]string{"en": "Face"}, "parent_id": skin.ID})
	r.JSON(t, &face)
	if r.Status != 201 || face.ParentID == nil || *face.ParentID != skin.ID {
		t.Fatalf("child category: %d %s", r.Status, r.Body)
	}
	if r := b.do(t, "PUT", fmt.Sprintf("/categories/%d", skin.ID), map[string]any{"name": map[string]string{"en": "Skincare"}, "parent_id": face.ID}); r.Status != 400 {
		t.Fatalf("a cycle: %d %s", r.Status, r.Body)
	}
	if r := b.do(t, "DELETE", fmt.Sprintf("/categories/%d", skin.ID), nil); r.Status != 409 {
		t.Fatalf("deleting a category with children: %d %s", r.Status, r.Body)
	}
	r = b.do(t, "POST", "/products", map[string]any{"category_id": face.ID, "content": map[string]any{"en": map[string]string{"title": "Serum"}}})
	var p shop.Product
	r.JSON(t, &p)
	if r := b.do(t, "DELETE", fmt.Sprintf("/categories/%d", face.ID), nil); r.Status != 204 {
		t.Fatalf("deleting a leaf: %d %s", r.Status, r.Body)
	}
	b.do(t, "GET", fmt.Sprintf("/products/%d", p.ID), nil).JSON(t, &p)
	if p.CategoryID != nil {
		t.Fatal("a deleted category's products keep no category")
	}
	r = b.do(t, "GET", "/products?category_id=abc", nil)
	if r.Status != 400 {
		t.Fatalf("a bad filter: %d", r.Status)
	}
}

func TestInventoryMovementsExplainStock(t *testing.T) {
	e := testenv.New(t)
	b := newBrand(t, e, "nordic-skin")
	var p shop.Product
	b.do(t, "POST", "/products", map[string]any{"content": map[string]any{"en": map[string]string{"title": "Soap"}}}).JSON(t, &p)
	var w shop.Warehouse
	r := b.do(t, "POST", "/warehouses", map[string]string{"code": "HZ-BONDED", "name": "Hangzhou bonded", "kind": "bonded"})
	r.JSON(t, &w)
	if r.Status != 201 {
		t.Fatalf("warehouse: %d %s", r.Status, r.Body)
	}
	sku := p.SKUs[0].ID
	mv := func(kind string, q int64, reason string) *testenv.Response {
		return b.do(t, "POST", "/stock/movements", map[string]any{"sku_id": sku, "warehouse_id": w.ID, "kind": kind, "quantity": q, "reason": reason})
	}
	if r := mv("received", 10, "container 42"); r.Status != 201 {
		t.Fatalf("receive: %d %s", r.Status, r.Body)
	}
	if r := mv("adjusted", -3, ""); r.Status != 400 {
		t.Fatalf("an adjustment without a reason: %d", r.Status)
	}
	if r := mv("adjusted", -3, "damaged in transit"); r.Status != 201 {
		t.Fatalf("adjust: %d %s", r.Status, r.Body)
	}
	if r := mv("adjusted", -8, "stocktake"); r.Status != 409 || r.ErrorCode() != "insufficient_stock" {
		t.Fatalf("going below zero: %d %s", r.Status, r.Body)
	}
	if r := mv("reserved", 1, "x"); r.Status != 400 {
		t.Fatalf("reservations come from orders, not by hand: %d", r.Status)
	}
	var v shop.StockView
	b.do(t, "GET", fmt.Sprintf("/skus/%d/stock", sku), nil).JSON(t, &v)
	if len(v.Levels) != 1 || v.Levels[0].OnHand != 7 || len(v.Movements) != 2 {
		t.Fatalf("stock: %+v", v)
	}
	var sum int64
	for _, m := range v.Movements {
		sum += m.Quantity
	}
	if sum != v.Levels[0].OnHand {
		t.Fatalf("the movements (%d) must explain the stock (%d)", sum, v.Levels[0].OnHand)
	}
	b.do(t, "GET", fmt.Sprintf("/products/%d", p.ID), nil).JSON(t, &p)
	if p.SKUs[0].Stock == nil || p.SKUs[0].Stock.Available != 7 {
		t.Fatalf("product stock: %+v", p.SKUs[0].Stock)
	}
}
