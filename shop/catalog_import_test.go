package shop_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"mime/multipart"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
	"gorm.io/gorm"

	"github.com/minishop/minishop/internal/db"
	"github.com/minishop/minishop/internal/scope"
	"github.com/minishop/minishop/internal/testenv"
	"github.com/minishop/minishop/shop"
)

func (b *brand) importFile(t *testing.T, name string, data []byte) (*testenv.Response, shop.Import) {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, _ := mw.CreateFormFile("file", name)
	fw.Write(data)
	mw.Close()
	r := b.e.Do(t, "POST", "", b.base+"/catalog/imports", body.Bytes(), append([]string{"Content-Type", mw.FormDataContentType()}, b.auth...)...)
	var job shop.Import
	if r.Status == 201 || r.Status == 202 {
		r.JSON(t, &job)
	}
	return r, job
}

// setup gives the brand the warehouse and category good.csv names.
func (b *brand) setup(t *testing.T) (warehouseID, categoryID int64) {
	t.Helper()
	var w shop.Warehouse
	if r := b.do(t, "POST", "/warehouses", map[string]string{"code": "BONDED-HZ", "name": "Hangzhou bonded", "kind": "bonded"}); r.Status != 201 {
		t.Fatalf("warehouse: %d %s", r.Status, r.Body)
	} else {
		r.JSON(t, &w)
	}
	var parent, child shop.Category
	b.do(t, "POST", "/categories", map[string]any{"name": map[string]string{"en": "Skincare", "zh-CN": "护肤"}}).JSON(t, &parent)
	b.do(t, "POST", "/categories", map[string]any{"name": map[string]string{"en": "Serums"}, "parent_id": parent.ID}).JSON(t, &child)
	return w.ID, child.ID
}

func (b *brand) products(t *testing.T) []shop.Product {
	t.Helper()
	var out []shop.Product
	cursor := ""
	for {
		r := b.do(t, "GET", "/products?limit=100&cursor="+cursor, nil)
		var page struct {
			Products   []shop.Product `json:"products"`
			NextCursor *string        `json:"next_cursor"`
		}
		r.JSON(t, &page)
		if r.Status != 200 {
			t.Fatalf("products: %d %s", r.Status, r.Body)
		}
		out = append(out, page.Products...)
		if page.NextCursor == nil {
			return out
		}
		cursor = *page.NextCursor
	}
}

func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/import/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestImportCreatesProductsVisibleInAdminAPI(t *testing.T) {
	e := testenv.New(t)
	b := newBrand(t, e, "nordic-skin")
	whID, catID := b.setup(t)
	// A byte-order mark and CRLF line ends, as Excel writes CSV.
	file := append([]byte{0xEF, 0xBB, 0xBF}, bytes.ReplaceAll(readTestdata(t, "good.csv"), []byte("\n"), []byte("\r\n"))...)
	r, job := b.importFile(t, "catalog.csv", file)
	if r.Status != 201 || job.Status != "succeeded" || job.Progress != 100 {
		t.Fatalf("import: %d %s", r.Status, r.Body)
	}
	if s := job.Summary; s.ProductsCreated != 2 || s.SKUsCreated != 5 || s.StockAdjusted != 3 {
		t.Fatalf("summary: %+v", s)
	}
	ps := b.products(t)
	if len(ps) != 2 {
		t.Fatalf("%d products", len(ps))
	}
	var serum, soap shop.Product
	for _, p := range ps {
		switch p.Content["en"].Title {
		case "Cloudberry Serum":
			serum = p
		case "Birch Soap":
			soap = p
		}
	}
	r = b.do(t, "GET", fmt.Sprintf("/products/%d", serum.ID), nil)
	r.JSON(t, &serum)
	if serum.Status != "published" || len(serum.Checklist) != 0 || serum.CategoryID == nil || *serum.CategoryID != catID {
		t.Fatalf("serum: %s", r.Body)
	}
	if serum.Content["zh-CN"].Title != "云莓精华" || !reflect.DeepEqual(serum.Tags, []string{"serum", "bestseller"}) || serum.Brand != "Nordic Skin" {
		t.Fatalf("serum content: %s", r.Body)
	}
	if len(serum.Options) != 2 || serum.Options[0].Name["zh-CN"] != "颜色" || serum.Options[0].Values[1]["zh-CN"] != "蓝" || len(serum.Options[1].Values) != 2 {
		t.Fatalf("serum options: %+v", serum.Options)
	}
	byCode := map[string]shop.SKU{}
	for _, k := range serum.SKUs {
		byCode[k.Code] = k
	}
	red30 := byCode["NS-RED-30"]
	if red30.Price != 29990 || red30.CompareAtPrice == nil || *red30.CompareAtPrice != 34900 || red30.HSCode != "3304990099" ||
		red30.LegalQty1 == nil || *red30.LegalQty1 != 0.05 || red30.ItemRecordNo != "ITEM0001" || !red30.PositiveList ||
		strings.Join(red30.OptionValues, "/") != "Red/30ml" || red30.Barcode != "6901234567892" {
		t.Fatalf("NS-RED-30: %+v", red30)
	}
	if byCode["NS-BLUE-50"].Price != 39900 || strings.Join(byCode["NS-BLUE-50"].OptionValues, "/") != "Blue/50ml" {
		t.Fatalf("NS-BLUE-50: %+v", byCode["NS-BLUE-50"])
	}
	if red30.Stock == nil || red30.Stock.OnHand != 40 {
		t.Fatalf("stock of NS-RED-30: %+v", red30.Stock)
	}
	var sv shop.StockView
	b.do(t, "GET", fmt.Sprintf("/skus/%d/stock", byCode["NS-RED-50"].ID), nil).JSON(t, &sv)
	if len(sv.Levels) != 1 || sv.Levels[0].WarehouseID != whID || sv.Levels[0].OnHand != 25 || len(sv.Movements) != 1 ||
		sv.Movements[0].Kind != "adjusted" || sv.Movements[0].Ref != fmt.Sprintf("import:%d", job.ID) {
		t.Fatalf("stock of NS-RED-50: %+v", sv)
	}
	if soap.Status != "draft" || len(soap.SKUs) != 1 || soap.SKUs[0].Price != 4500 || soap.SKUs[0].TradeMode != "9610" || soap.SKUs[0].PositiveList {
		t.Fatalf("soap: %+v", soap)
	}
	// The job is there to read later.
	r = b.do(t, "GET", fmt.Sprintf("/catalog/imports/%d", job.ID), nil)
	if r.Status != 200 || !strings.Contains(string(r.Body), `"status":"succeeded"`) {
		t.Fatalf("job: %d %s", r.Status, r.Body)
	}
}

func TestImportBadRowsReportsEachAndWritesNothing(t *testing.T) {
	e := testenv.New(t)
	b := newBrand(t, e, "nordic-skin")
	b.setup(t)
	lines := strings.Split(strings.TrimSpace(string(readTestdata(t, "good.csv"))), "\n")
	set := func(line int, col string, v string) {
		h := strings.Split(lines[0], ",")
		rec, err := csv.NewReader(strings.NewReader(lines[line-1])).Read()
		if err != nil {
			t.Fatal(err)
		}
		for i, name := range h {
			if name == col {
				rec[i] = v
			}
		}
		var buf bytes.Buffer
		w := csv.NewWriter(&buf)
		w.Write(rec)
		w.Flush()
		lines[line-1] = strings.TrimSpace(buf.String())
	}
	set(2, "price", "12.345")           // three decimals
	set(3, "hs_code", "33049900X")      // not digits
	set(4, "tax_category", "fireworks") // not configured
	set(5, "compare_at_price", "100")   // lower than the price
	set(6, "stock:BONDED-HZ", "-3")     // negative stock
	file := strings.Join(lines, "\n") + "\n" + "lonely,,,,,,,,,,,,,,,,,,,NS-LONE,,5,,,,,,,,,,,,,,,,,,\n"
	r, job := b.importFile(t, "bad.csv", []byte(file))
	if r.Status != 201 || job.Status != "failed" {
		t.Fatalf("import: %d %s", r.Status, r.Body)
	}
	want := map[string]string{
		"2 price":            "2 decimals",
		"3 hs_code":          "10 digits",
		"4 tax_category":     "tax category",
		"5 compare_at_price": "higher than the price",
		"6 stock:BONDED-HZ":  "stock count",
		"7 title_en":         "title",
	}
	got := map[string]string{}
	for _, er := range job.Errors {
		got[fmt.Sprintf("%d %s", er.Line, er.Column)] = er.Message
	}
	for k, msg := range want {
		if !strings.Contains(got[k], msg) {
			t.Errorf("line/column %s: want a message about %q, got %q (all: %+v)", k, msg, got[k], job.Errors)
		}
	}
	if job.ErrorCount != len(want) || job.Summary.SKUsCreated != 0 {
		t.Errorf("%d errors, summary %+v: %+v", job.ErrorCount, job.Summary, job.Errors)
	}
	if ps := b.products(t); len(ps) != 0 {
		t.Fatalf("a file with bad rows must write nothing; found %d products", len(ps))
	}
	var moves int64
	_ = db.InTenant(scope.WithTenant(context.Background(), b.t.ID), e.App.DB, func(tx *gorm.DB) error {
		return tx.Raw(`SELECT count(*) FROM stock_movements`).Scan(&moves).Error
	})
	if moves != 0 {
		t.Fatalf("%d stock movements written by a failed import", moves)
	}
	// The report as CSV.
	r = b.do(t, "GET", fmt.Sprintf("/catalog/imports/%d/errors", job.ID), nil)
	if r.Status != 200 || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/csv") {
		t.Fatalf("error report: %d %s", r.Status, r.Body)
	}
	recs, err := csv.NewReader(bytes.NewReader(r.Body)).ReadAll()
	if err != nil || len(recs) != len(want)+1 || !strings.HasSuffix(recs[0][0], "line") {
		t.Fatalf("error report: %v %q", err, r.Body)
	}
	// A broken header is refused before any job exists.
	r, _ = b.importFile(t, "typo.csv", []byte("handle,sku,prise\nx,y,1\n"))
	if r.Status != 400 || r.ErrorCode() != "invalid_import" || !strings.Contains(string(r.Body), "prise") {
		t.Fatalf("unknown column: %d %s", r.Status, r.Body)
	}
}

func TestImportTwiceIsNoOp(t *testing.T) {
	e := testenv.New(t)
	b := newBrand(t, e, "nordic-skin")
	b.setup(t)
	file := readTestdata(t, "good.csv")
	if _, job := b.importFile(t, "catalog.csv", file); job.Status != "succeeded" {
		t.Fatalf("first import: %+v", job)
	}
	before := b.products(t)
	_, job := b.importFile(t, "catalog.csv", file)
	if job.Status != "succeeded" || job.Summary.ProductsUnchanged != 2 || job.Summary.SKUsUnchanged != 5 ||
		job.Summary.ProductsUpdated+job.Summary.SKUsUpdated+job.Summary.SKUsCreated+job.Summary.StockAdjusted != 0 {
		t.Fatalf("second import: %+v", job)
	}
	if after := b.products(t); !reflect.DeepEqual(before, after) {
		t.Fatalf("re-importing changed the catalog:\n%+v\n%+v", before, after)
	}
	// A change is picked up: one price and one stock count.
	changed := strings.Replace(string(file), "NS-SOAP,,45,", "NS-SOAP,,49.5,", 1)
	changed = strings.Replace(changed, "general,no,12", "general,no,10", 1)
	_, job = b.importFile(t, "catalog.csv", []byte(changed))
	if job.Status != "succeeded" || job.Summary.ProductsUpdated != 1 || job.Summary.SKUsUpdated != 1 || job.Summary.StockAdjusted != 1 {
		t.Fatalf("import with a change: %+v", job)
	}
}

func TestExportImportRoundTrip(t *testing.T) {
	e := testenv.New(t)
	b := newBrand(t, e, "nordic-skin")
	b.setup(t)
	// One product from the console (no handle), the others from a file.
	var p shop.Product
	b.do(t, "POST", "/products", serum).JSON(t, &p)
	var rows []any
	for _, k := range p.SKUs {
		rows = append(rows, customs(k, 19900))
	}
	if r := b.do(t, "PUT", fmt.Sprintf("/products/%d/skus", p.ID), map[string]any{"skus": rows}); r.Status != 200 {
		t.Fatalf("skus: %d %s", r.Status, r.Body)
	}
	if _, job := b.importFile(t, "catalog.csv", readTestdata(t, "good.csv")); job.Status != "succeeded" {
		t.Fatalf("import: %+v", job)
	}
	before := b.products(t)
	for _, format := range []string{"csv", "xlsx"} {
		r := b.do(t, "GET", "/catalog/export?format="+format, nil)
		if r.Status != 200 || !strings.Contains(r.Header.Get("Content-Disposition"), "."+format) {
			t.Fatalf("export %s: %d %s", format, r.Status, r.Body)
		}
		if format == "csv" && !bytes.Contains(r.Body, []byte(fmt.Sprintf("P%d,", p.ID))) {
			t.Fatalf("the console's product is exported as P<id>: %s", r.Body)
		}
		_, job := b.importFile(t, "export."+format, r.Body)
		if job.Status != "succeeded" || job.Summary.ProductsUnchanged != 3 || job.Summary.SKUsUnchanged != 9 || job.Summary.Products != 3 {
			t.Fatalf("re-importing the %s export: %+v", format, job)
		}
		if after := b.products(t); !reflect.DeepEqual(before, after) {
			t.Fatalf("export → import (%s) changed the catalog", format)
		}
	}
}

func TestCatalogTemplateDownload(t *testing.T) {
	e := testenv.New(t)
	b := newBrand(t, e, "nordic-skin")
	b.setup(t)
	r := b.do(t, "GET", "/catalog/import/template?format=csv", nil)
	if r.Status != 200 || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/csv") {
		t.Fatalf("csv template: %d %s", r.Status, r.Body)
	}
	recs, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(r.Body, []byte{0xEF, 0xBB, 0xBF}))).ReadAll()
	if err != nil || len(recs) != 1 {
		t.Fatalf("csv template: %v %q", err, r.Body)
	}
	h := strings.Join(recs[0], ",")
	for _, col := range []string{"handle", "title_zh", "price", "hs_code", "gname", "item_record_no", "trade_mode", "positive_list", "stock:BONDED-HZ"} {
		if !strings.Contains(h, col) {
			t.Errorf("the template lacks %s: %s", col, h)
		}
	}
	r = b.do(t, "GET", "/catalog/import/template?format=xlsx", nil)
	if r.Status != 200 || r.Header.Get("Content-Type") != shop.ContentTypeXLSX {
		t.Fatalf("xlsx template: %d %s", r.Status, r.Header)
	}
	f, err := excelize.OpenReader(bytes.NewReader(r.Body))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if sheets := f.GetSheetList(); len(sheets) != 2 || sheets[0] != "Catalog" || sheets[1] != "Columns" {
		t.Fatalf("sheets: %v", sheets)
	}
	xh, _ := f.GetRows("Catalog")
	if len(xh) != 1 || strings.Join(xh[0], ",") != h {
		t.Fatalf("xlsx header %v, csv header %s", xh, h)
	}
	// The empty template imports as an empty file: refused with a clear reason.
	if r := b.do(t, "GET", "/catalog/import/template?format=pdf", nil); r.Status != 400 || r.ErrorCode() != "invalid_format" {
		t.Fatalf("format=pdf: %d %s", r.Status, r.Body)
	}
}

// bigCatalog writes n products of k SKUs each (sizes), complete enough to publish.
func bigCatalog(n, k int, handlePrefix string) []byte {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.Write([]string{"handle", "status", "title_en", "title_zh", "description_en", "option1_name_en", "option1_value_en", "sku", "price",
		"hs_code", "origin_country", "gname", "gmodel", "unit", "legal_unit1", "legal_qty1", "net_weight_g", "gross_weight_g", "item_record_no", "trade_mode", "positive_list"})
	desc := "<p>" + strings.Repeat("Hand-made in Sweden from birch sap. ", 10) + "</p>"
	for i := range n {
		for j := range k {
			title, titleZH, d, status := "", "", "", ""
			if j == 0 {
				title, titleZH, d, status = fmt.Sprintf("Product %d", i), fmt.Sprintf("商品%d", i), desc, "published"
			}
			w.Write([]string{fmt.Sprintf("%s%d", handlePrefix, i), status, title, titleZH, d, "Size", fmt.Sprintf("S%d", j),
				fmt.Sprintf("%s%d-%d", handlePrefix, i, j), fmt.Sprintf("%d.%02d", 10+i%500, j), "3304990099", "330", "精华液", "Brand|30ml", "007", "035", "0.05", "50", "120", "ITEM0001", "1210", "yes"})
		}
	}
	w.Flush()
	return buf.Bytes()
}

func TestBackgroundImportReachesFullProgress(t *testing.T) {
	e := testenv.New(t)
	e.StartWorker(t)
	b := newBrand(t, e, "nordic-skin")
	file := bigCatalog(400, 3, "bulk-")
	if len(file) <= shop.SyncImportBytes {
		t.Fatalf("the file (%d bytes) must be over the synchronous limit", len(file))
	}
	r, job := b.importFile(t, "big.csv", file)
	if r.Status != 202 || job.Status != "queued" || job.RowsTotal != 1200 {
		t.Fatalf("upload: %d %s", r.Status, r.Body)
	}
	seen := map[string]bool{}
	testenv.Eventually(t, 3*time.Minute, "the import to finish", func() bool {
		r := b.do(t, "GET", fmt.Sprintf("/catalog/imports/%d", job.ID), nil)
		r.JSON(t, &job)
		seen[job.Status] = true
		return job.Status == "succeeded" || job.Status == "failed"
	})
	if job.Status != "succeeded" || job.Progress != 100 || job.RowsDone != 1200 || job.Summary.SKUsCreated != 1200 {
		t.Fatalf("background import: %+v (statuses seen %v)", job, seen)
	}
	ps := b.products(t)
	if len(ps) != 400 || ps[0].Status != "published" || len(ps[0].SKUs) != 3 {
		t.Fatalf("%d products after the import", len(ps))
	}
}

func TestImportTenantIsolation(t *testing.T) {
	e := testenv.New(t)
	a := newBrand(t, e, "nordic-skin")
	a.setup(t)
	other := newBrand(t, e, "dutch-cocoa")
	other.setup(t)
	// B has a product with the same handle and SKU code as A's file.
	file := readTestdata(t, "good.csv")
	if _, job := other.importFile(t, "b.csv", file); job.Status != "succeeded" {
		t.Fatalf("B's import: %+v", job)
	}
	bBefore := other.products(t)
	_, job := a.importFile(t, "a.csv", []byte(strings.ReplaceAll(string(file), "299.90", "279.00")))
	if job.Status != "succeeded" || job.Summary.ProductsCreated != 2 || job.Summary.SKUsCreated != 5 {
		t.Fatalf("A's import must create its own products: %+v", job)
	}
	if after := other.products(t); !reflect.DeepEqual(bBefore, after) {
		t.Fatal("an import of tenant A changed tenant B's catalog")
	}
	// A's import job is not B's to read.
	if r := other.do(t, "GET", fmt.Sprintf("/catalog/imports/%d", job.ID), nil); r.Status != 404 {
		t.Fatalf("B reading A's import: %d %s", r.Status, r.Body)
	}
	if r := a.e.Do(t, "GET", "", other.base+"/catalog/export", nil, a.auth...); r.Status != 404 {
		t.Fatalf("A exporting B's catalog: %d", r.Status)
	}
}
