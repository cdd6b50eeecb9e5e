package shop

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"gorm.io/gorm"

	"github.com/minishop/minishop/internal/errs"
)

// ImportSummary counts what an import did (all zero when it failed: a file
// with any bad row writes nothing).
type ImportSummary struct {
	Products          int `json:"products"`
	ProductsCreated   int `json:"products_created"`
	ProductsUpdated   int `json:"products_updated"`
	ProductsUnchanged int `json:"products_unchanged"`
	SKUs              int `json:"skus"`
	SKUsCreated       int `json:"skus_created"`
	SKUsUpdated       int `json:"skus_updated"`
	SKUsUnchanged     int `json:"skus_unchanged"`
	SKUsArchived      int `json:"skus_archived"`
	StockAdjusted     int `json:"stock_adjusted"`
}

const maxStoredErrors = 1000

// autoHandle is how products without a handle are named in files: P<id>.
var autoHandle = regexp.MustCompile(`^P([0-9]{1,18})$`)

var optionField = regexp.MustCompile(`^options\[([0-2])\]\.(name|values)`)

// importer applies one file to the catalog in one transaction. It validates
// every row and stops writing at the first bad one, so the caller can roll
// back and report all of them.
type importer struct {
	s        *Service
	ctx      context.Context
	tx       *gorm.DB
	tid      int64
	ref      string // stock movement ref, e.g. import:7
	h        *header
	whByCol  map[int]int64 // file column → warehouse id
	cats     map[string]int64
	handles  map[string]int // handle → first line
	codes    map[string]int // SKU code → line
	errs     []RowError
	nerr     int
	sum      ImportSummary
	done     int
	progress func(done int)
}

func (im *importer) fail(e RowError) {
	im.nerr++
	if len(im.errs) < maxStoredErrors {
		im.errs = append(im.errs, e)
	}
}

func (im *importer) failed() bool { return im.nerr > 0 }

// run reads the records of rr (header first) and applies them.
func (im *importer) run(rr rowReader) error {
	line, rec, err := rr.Next()
	if err != nil {
		return im.readErr(err, "the file is empty: the first line must name the columns (download the template)")
	}
	h, herrs := parseHeader(line, rec)
	for _, e := range herrs {
		im.fail(e)
	}
	im.h = h
	if err := im.loadRefs(line); err != nil {
		return err
	}
	if im.failed() {
		return nil // a bad header makes every row wrong: report the header only
	}
	var g []cells
	flush := func() error {
		if len(g) == 0 {
			return nil
		}
		err := im.product(g)
		im.done += len(g)
		if im.progress != nil {
			im.progress(im.done)
		}
		g = g[:0]
		return err
	}
	for {
		line, rec, err := rr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return im.readErr(err, "")
		}
		c, cerrs, empty := h.split(line, rec)
		if empty && len(cerrs) == 0 {
			continue
		}
		for _, e := range cerrs {
			im.fail(e)
		}
		handle := c.get("handle")
		if len(g) > 0 && g[0].get("handle") != handle {
			if err := flush(); err != nil {
				return err
			}
		}
		if len(g) == 0 && handle != "" {
			if first, seen := im.handles[handle]; seen {
				im.fail(RowError{Line: line, Column: "handle", SKU: c.get("sku"), Message: fmt.Sprintf("the rows of product %s must be next to each other; it also starts at line %d", handle, first)})
				continue
			}
			im.handles[handle] = line
		}
		g = append(g, c)
	}
	if err := flush(); err != nil {
		return err
	}
	if im.done == 0 && !im.failed() {
		im.fail(RowError{Line: line + 1, Message: "the file has no rows below the header"})
	}
	return nil
}

func (im *importer) readErr(err error, emptyMsg string) error {
	var fe *fileErr
	switch {
	case errors.As(err, &fe):
		im.fail(fe.RowError)
		return nil
	case err == io.EOF:
		im.fail(RowError{Line: 1, Message: emptyMsg})
		return nil
	}
	return err
}

// loadRefs loads the shop's warehouses (for the stock columns) and category
// paths.
func (im *importer) loadRefs(line int) error {
	var whs []Warehouse
	if err := im.tx.Raw(`SELECT id, code FROM warehouses WHERE tenant_id = ?`, im.tid).Scan(&whs).Error; err != nil {
		return err
	}
	im.whByCol = map[int]int64{}
	for i, code := range im.h.stock {
		if im.h.cols[i] != -1 {
			continue
		}
		found := false
		for _, w := range whs {
			if strings.EqualFold(w.Code, code) {
				im.whByCol[i], found = w.ID, true
			}
		}
		if !found {
			im.fail(RowError{Line: line, Column: im.h.names[i], Message: "the shop has no warehouse " + code + "; create it first or remove the column"})
		}
	}
	paths, err := categoryPaths(im.tx, im.tid)
	if err != nil {
		return err
	}
	im.cats = map[string]int64{}
	for id, p := range paths {
		k := strings.ToLower(p)
		if _, dup := im.cats[k]; dup {
			im.cats[k] = -1
		} else {
			im.cats[k] = id
		}
	}
	return nil
}

// categoryPaths returns each category's path of names ("Skincare > Serums"),
// English names where given, else Chinese.
func categoryPaths(tx *gorm.DB, tid int64) (map[int64]string, error) {
	var rows []struct {
		ID       int64
		ParentID *int64
		Name     string
	}
	if err := tx.Raw(`SELECT id, parent_id, name::text FROM categories WHERE tenant_id = ?`, tid).Scan(&rows).Error; err != nil {
		return nil, err
	}
	name := map[int64]string{}
	parent := map[int64]*int64{}
	for _, r := range rows {
		var t Text
		_ = json.Unmarshal([]byte(r.Name), &t)
		name[r.ID] = optionKey(t)
		parent[r.ID] = r.ParentID
	}
	out := map[int64]string{}
	for id := range name {
		parts := []string{}
		for cur, n := &id, 0; cur != nil && n < 100; cur, n = parent[*cur], n+1 {
			parts = append([]string{name[*cur]}, parts...)
		}
		out[id] = strings.Join(parts, " > ")
	}
	return out, nil
}

func normPath(p string) string {
	parts := strings.Split(p, ">")
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
	}
	return strings.ToLower(strings.Join(parts, " > "))
}

// skuLine is a parsed SKU row.
type skuLine struct {
	c     cells
	edit  SKUEdit
	vals  []string // option values' keys, in option order
	combo string
	stock map[int64]int64 // warehouse → on hand wanted
	sort  int
}

// productLevel returns the product's value of column name: its non-blank
// cell, which must be the same wherever it is given.
func (im *importer) productLevel(g []cells, name string) (string, int) {
	val, at := "", g[0].line
	for _, c := range g {
		v := c.get(name)
		if v == "" {
			continue
		}
		if val == "" {
			val, at = v, c.line
		} else if v != val {
			im.fail(RowError{Line: c.line, Column: name, SKU: c.get("sku"), Message: fmt.Sprintf("%s is a product column: this row says %q but line %d says %q; write it once or the same on every row", name, v, at, val)})
		}
	}
	return val, at
}

// product validates one product's rows and, while the file has no bad row,
// writes them.
func (im *importer) product(g []cells) error {
	before := im.nerr
	handle := g[0].get("handle")
	first := g[0].line
	if handle == "" {
		for _, c := range g {
			im.fail(RowError{Line: c.line, Column: "handle", SKU: c.get("sku"), Message: "the handle is required: it groups the rows of a product"})
		}
		return nil
	}
	if !codePattern.MatchString(handle) {
		im.fail(RowError{Line: first, Column: "handle", Message: "a handle is 1 to 64 letters, digits or . _ / -"})
		return nil
	}
	pv := map[string]string{}
	pl := map[string]int{}
	for _, col := range Columns {
		if col.Product && col.Name != "handle" {
			pv[col.Name], pl[col.Name] = im.productLevel(g, col.Name)
		}
	}

	// Options, from the names of the product and the values of each row.
	var opts []Option
	for i := 1; i <= maxOptions; i++ {
		n := Text{}
		if v := pv[fmt.Sprintf("option%d_name_en", i)]; v != "" {
			n[LocaleEN] = v
		}
		if v := pv[fmt.Sprintf("option%d_name_zh", i)]; v != "" {
			n[LocaleZH] = v
		}
		if len(n) == 0 {
			continue
		}
		if len(opts) != i-1 {
			im.fail(RowError{Line: first, Column: fmt.Sprintf("option%d_name_en", i), Message: fmt.Sprintf("option %d has a name but option %d has none; fill the options in order", i, i-1)})
			return nil
		}
		opts = append(opts, Option{Name: n, Values: []Text{}})
	}
	lines := make([]*skuLine, 0, len(g))
	for i, c := range g {
		n := im.nerr
		l := im.parseSKU(c, len(opts))
		if im.nerr == n {
			// The catalog's own rules, as the admin API applies them.
			if err := l.edit.validate(im.s.Rates, i); err != nil {
				im.failField(err, l.c.line, l.edit.Code, skuColumn)
			}
		}
		lines = append(lines, l)
	}
	if im.nerr > before {
		return nil
	}
	valueIdx := make([]map[string]int, len(opts))
	for i := range opts {
		valueIdx[i] = map[string]int{}
	}
	for _, l := range lines {
		for i, v := range l.vals {
			k := strings.ToLower(v)
			zh := l.c.get(fmt.Sprintf("option%d_value_zh", i+1))
			if j, ok := valueIdx[i][k]; ok {
				have := opts[i].Values[j]
				if zh != "" && have[LocaleZH] != "" && zh != have[LocaleZH] {
					im.fail(RowError{Line: l.c.line, Column: fmt.Sprintf("option%d_value_zh", i+1), SKU: l.edit.Code,
						Message: fmt.Sprintf("the value %s is %q in Chinese on another row; write it the same way", v, have[LocaleZH])})
				} else if zh != "" {
					have[LocaleZH] = zh
				}
				l.vals[i] = optionKey(have)
				continue
			}
			t := Text{}
			if en := l.c.get(fmt.Sprintf("option%d_value_en", i+1)); en != "" {
				t[LocaleEN] = en
			}
			if zh != "" {
				t[LocaleZH] = zh
			}
			valueIdx[i][k] = len(opts[i].Values)
			opts[i].Values = append(opts[i].Values, t)
		}
	}
	order := map[string]int{}
	for i, combo := range combinations(opts) {
		order[comboKey(combo)] = i
	}
	seen := map[string]int{}
	for _, l := range lines {
		l.combo = comboKey(l.vals)
		if at, dup := seen[l.combo]; dup {
			im.fail(RowError{Line: l.c.line, Column: "option1_value_en", SKU: l.edit.Code, Message: fmt.Sprintf("line %d has the same option values (%s); each SKU needs its own combination", at, strings.Join(l.vals, "/"))})
			continue
		}
		seen[l.combo] = l.c.line
		l.sort = order[l.combo]
	}
	if im.nerr > before {
		return nil
	}
	if len(opts) == 0 && len(lines) > 1 {
		im.fail(RowError{Line: g[1].line, Column: "option1_name_en", SKU: lines[1].edit.Code, Message: fmt.Sprintf("product %s has %d rows but no options: name an option (e.g. Size) and give each row its value", handle, len(lines))})
		return nil
	}
	if len(order) > maxSKUs {
		im.fail(RowError{Line: first, Column: "option1_value_en", Message: fmt.Sprintf("these options make %d combinations; at most %d SKUs per product", len(order), maxSKUs)})
		return nil
	}
	if len(lines) < len(order) {
		var missing []string
		for _, combo := range combinations(opts) {
			if _, ok := seen[comboKey(combo)]; !ok && len(missing) < 5 {
				missing = append(missing, strings.Join(combo, "/"))
			}
		}
		im.fail(RowError{Line: first, Column: "option1_value_en", Message: fmt.Sprintf("every combination of the options needs a row (SKU); %d missing, e.g. %s", len(order)-len(lines), strings.Join(missing, ", "))})
		return nil
	}

	in := ProductInput{Brand: pv["brand"], Tags: splitTags(pv["tags"]), Options: opts}
	if p := pv["category"]; p != "" {
		id, ok := im.cats[normPath(p)]
		switch {
		case !ok:
			im.fail(RowError{Line: pl["category"], Column: "category", Message: fmt.Sprintf("the shop has no category %q; create it first (write the path, e.g. Skincare > Serums)", p)})
		case id < 0:
			im.fail(RowError{Line: pl["category"], Column: "category", Message: fmt.Sprintf("two categories are called %q; rename one", p)})
		default:
			in.CategoryID = &id
		}
	}
	status := pv["status"]
	if status != "" && status != StatusDraft && status != StatusPublished && status != StatusArchived {
		im.fail(RowError{Line: pl["status"], Column: "status", Message: "the status is draft, published or archived (blank keeps it)"})
	}

	old, err := im.existing(handle)
	if err != nil {
		return err
	}
	if old == nil && autoHandle.MatchString(handle) {
		im.fail(RowError{Line: first, Column: "handle", Message: fmt.Sprintf("the shop has no product %s; handles P<number> name products made in the console: give a new product another handle", handle)})
		return nil
	}
	in.Content = map[string]Content{}
	in.Images = []Image{}
	if old != nil {
		for k, v := range old.Content {
			in.Content[k] = v
		}
		in.Images = old.Images
		in.Sort = old.Sort
	}
	for loc, suffix := range map[string]string{LocaleEN: "_en", LocaleZH: "_zh"} {
		c := Content{Title: pv["title"+suffix], Subtitle: pv["subtitle"+suffix], Description: pv["description"+suffix]}
		if _, ok := in.Content[loc]; ok || c != (Content{}) {
			in.Content[loc] = c
		}
	}
	if err := in.validate(); err != nil {
		im.failField(err, first, "", productColumn)
	}

	// SKU codes: new in the file, and not another product's.
	codes := make([]string, len(lines))
	for i, l := range lines {
		codes[i] = l.edit.Code
		if at, dup := im.codes[l.edit.Code]; dup {
			im.fail(RowError{Line: l.c.line, Column: "sku", SKU: l.edit.Code, Message: fmt.Sprintf("the SKU code is also on line %d", at)})
		}
		im.codes[l.edit.Code] = l.c.line
	}
	var pid int64
	if old != nil {
		pid = old.ID
	}
	var rows []skuRow
	if err := im.tx.Raw(`SELECT k.id, k.product_id, k.code, k.barcode, k.option_values::text AS option_values_json, k.price, k.compare_at_price, k.weight_g,
		k.hs_code, k.origin_country, k.gname, k.gmodel, k.unit, k.legal_unit1, k.legal_qty1, k.legal_unit2, k.legal_qty2,
		k.net_weight_g, k.gross_weight_g, k.item_record_no, k.trade_mode, k.tax_category, k.positive_list, k.sort, k.archived_at
		FROM skus k WHERE k.tenant_id = ? AND (k.product_id = ? OR k.code IN ?) ORDER BY k.archived_at NULLS FIRST, k.sort, k.id`, im.tid, pid, codes).Scan(&rows).Error; err != nil {
		return err
	}
	mine := []*SKU{}
	for i := range rows {
		k := rows[i].SKU
		_ = json.Unmarshal([]byte(rows[i].OptionValuesJSON), &k.OptionValues)
		if k.OptionValues == nil {
			k.OptionValues = []string{}
		}
		if k.ProductID != pid {
			at := im.codes[k.Code]
			owner, _ := im.handleOf(k.ProductID)
			im.fail(RowError{Line: at, Column: "sku", SKU: k.Code, Message: fmt.Sprintf("the SKU code belongs to product %s; a SKU cannot move to another product (give this one a new code)", owner)})
			continue
		}
		mine = append(mine, &k)
	}
	if im.nerr > before {
		return nil
	}
	if im.failed() {
		return nil // validation only: the file will not be written
	}
	return im.write(old, handle, status, pl["status"], in, lines, mine)
}

// parseSKU reads the SKU columns of one row.
func (im *importer) parseSKU(c cells, nopts int) *skuLine {
	l := &skuLine{c: c, stock: map[int64]int64{}}
	code := c.get("sku")
	bad := func(col string, err error) {
		im.fail(RowError{Line: c.line, Column: col, SKU: code, Message: err.Error()})
	}
	if code == "" {
		bad("sku", errors.New("the SKU code is required"))
	}
	e := &l.edit
	e.Code, e.Barcode = code, c.get("barcode")
	var err error
	if v := c.get("price"); v == "" {
		bad("price", errors.New("the price is required (in yuan, e.g. 299.00)"))
	} else if e.Price, err = ParseYuan(v); err != nil {
		bad("price", err)
	}
	if v := c.get("compare_at_price"); v != "" {
		n, err := ParseYuan(v)
		if err != nil {
			bad("compare_at_price", err)
		}
		e.CompareAtPrice = &n
	}
	for _, f := range []struct {
		col string
		dst **int
	}{{"weight_g", &e.WeightG}, {"net_weight_g", &e.NetWeightG}, {"gross_weight_g", &e.GrossWeightG}} {
		if *f.dst, err = parseGrams(c.get(f.col)); err != nil {
			bad(f.col, err)
		}
	}
	for _, f := range []struct {
		col string
		dst **float64
	}{{"legal_qty1", &e.LegalQty1}, {"legal_qty2", &e.LegalQty2}} {
		if *f.dst, err = parseQty(c.get(f.col)); err != nil {
			bad(f.col, err)
		}
	}
	e.HSCode = padCode(c.get("hs_code"), 10)
	e.OriginCountry = padCode(c.get("origin_country"), 3)
	e.Unit = padCode(c.get("unit"), 3)
	e.LegalUnit1 = padCode(c.get("legal_unit1"), 3)
	e.LegalUnit2 = padCode(c.get("legal_unit2"), 3)
	e.GName, e.GModel, e.ItemRecordNo = c.get("gname"), c.get("gmodel"), c.get("item_record_no")
	e.TradeMode, e.TaxCategory = c.get("trade_mode"), c.get("tax_category")
	if e.PositiveList, err = parseBool(c.get("positive_list")); err != nil {
		bad("positive_list", err)
	}
	for i := 1; i <= maxOptions; i++ {
		t := Text{}
		if v := c.get(fmt.Sprintf("option%d_value_en", i)); v != "" {
			t[LocaleEN] = v
		}
		if v := c.get(fmt.Sprintf("option%d_value_zh", i)); v != "" {
			t[LocaleZH] = v
		}
		k := optionKey(t)
		switch {
		case i <= nopts && k == "":
			bad(fmt.Sprintf("option%d_value_en", i), fmt.Errorf("give this SKU's value of option %d", i))
		case i > nopts && k != "":
			bad(fmt.Sprintf("option%d_value_en", i), fmt.Errorf("option %d has no name (option%d_name_en) on this product", i, i))
		case i <= nopts:
			l.vals = append(l.vals, k)
		}
	}
	if l.vals == nil {
		l.vals = []string{}
	}
	for i, v := range c.stock {
		if v == "" {
			continue
		}
		n, err := parseStock(v)
		if err != nil {
			bad(im.h.names[i], err)
			continue
		}
		if wid, ok := im.whByCol[i]; ok {
			l.stock[wid] = *n
		}
	}
	return l
}

// failField reports a validation error of the catalog rules at the column
// its field maps to.
func (im *importer) failField(err error, line int, sku string, column func(string) string) {
	e := errs.As(err)
	if e == nil {
		im.fail(RowError{Line: line, SKU: sku, Message: err.Error()})
		return
	}
	field := ""
	if d, ok := e.Details.(map[string]string); ok {
		field = d["field"]
	}
	im.fail(RowError{Line: line, Column: column(field), SKU: sku, Message: e.Message})
}

func productColumn(field string) string {
	switch {
	case strings.HasPrefix(field, "content."):
		parts := strings.Split(field, ".")
		if len(parts) == 3 {
			suffix := map[string]string{LocaleEN: "_en", LocaleZH: "_zh"}[parts[1]]
			return parts[2] + suffix
		}
		return "title_en"
	case field == "content":
		return "title_en"
	case strings.HasPrefix(field, "options"):
		if m := optionField.FindStringSubmatch(field); m != nil {
			n, _ := strconv.Atoi(m[1])
			if m[2] == "values" {
				return fmt.Sprintf("option%d_value_en", n+1)
			}
			return fmt.Sprintf("option%d_name_en", n+1)
		}
		return "option1_name_en"
	case field == "category_id":
		return "category"
	}
	return field
}

func skuColumn(field string) string {
	_, name, ok := strings.Cut(field, ".")
	if !ok {
		return field
	}
	switch name {
	case "weight":
		return "weight_g"
	case "legal_unit":
		return "legal_unit1"
	case "legal_qty":
		return "legal_qty1"
	case "code":
		return "sku"
	}
	return name
}

// oldProduct is a product as the import compares it.
type oldProduct struct {
	ID         int64
	Handle     *string
	Status     string
	CategoryID *int64
	Brand      string
	Tags       []string
	Sort       int
	Content    map[string]Content
	Options    []Option
	Images     []Image
}

// existing finds the product of handle: by its handle, or P<id> for a
// product without one.
func (im *importer) existing(handle string) (*oldProduct, error) {
	var rows []struct {
		ID         int64
		Handle     *string
		Status     string
		CategoryID *int64
		Brand      string
		Tags       string
		Sort       int
		Content    string
		Options    string
		Images     string
	}
	q := `SELECT id, handle, status, category_id, brand, array_to_json(tags)::text AS tags, sort, content::text, options::text, images::text
		FROM products WHERE tenant_id = ? AND `
	if err := im.tx.Raw(q+`handle = ?`, im.tid, handle).Scan(&rows).Error; err != nil {
		return nil, err
	}
	if m := autoHandle.FindStringSubmatch(handle); len(rows) == 0 && m != nil {
		id, _ := strconv.ParseInt(m[1], 10, 64)
		if err := im.tx.Raw(q+`handle IS NULL AND id = ?`, im.tid, id).Scan(&rows).Error; err != nil {
			return nil, err
		}
	}
	if len(rows) == 0 {
		return nil, nil
	}
	r := rows[0]
	p := &oldProduct{ID: r.ID, Handle: r.Handle, Status: r.Status, CategoryID: r.CategoryID, Brand: r.Brand, Sort: r.Sort}
	_ = json.Unmarshal([]byte(r.Tags), &p.Tags)
	_ = json.Unmarshal([]byte(r.Content), &p.Content)
	_ = json.Unmarshal([]byte(r.Options), &p.Options)
	_ = json.Unmarshal([]byte(r.Images), &p.Images)
	if p.Tags == nil {
		p.Tags = []string{}
	}
	if p.Options == nil {
		p.Options = []Option{}
	}
	if p.Images == nil {
		p.Images = []Image{}
	}
	return p, nil
}

func (im *importer) handleOf(productID int64) (string, error) {
	var h *string
	if err := im.tx.Raw(`SELECT handle FROM products WHERE tenant_id = ? AND id = ?`, im.tid, productID).Scan(&h).Error; err != nil {
		return "", err
	}
	if h != nil {
		return *h, nil
	}
	return "P" + strconv.FormatInt(productID, 10), nil
}

func sameInt(a, b *int) bool         { return (a == nil) == (b == nil) && (a == nil || *a == *b) }
func sameInt64(a, b *int64) bool     { return (a == nil) == (b == nil) && (a == nil || *a == *b) }
func sameFloat(a, b *float64) bool   { return (a == nil) == (b == nil) && (a == nil || *a == *b) }
func sameStrings(a, b []string) bool { return reflect.DeepEqual(a, b) }

// skuSame tells whether writing e would change k.
func skuSame(k *SKU, e *SKUEdit, vals []string, sort int) bool {
	a, b := k.Customs, e.Customs
	return k.Code == e.Code && k.Barcode == e.Barcode && k.Price == e.Price && sameInt64(k.CompareAtPrice, e.CompareAtPrice) &&
		sameInt(k.WeightG, e.WeightG) && a.HSCode == b.HSCode && a.OriginCountry == b.OriginCountry && a.GName == strings.TrimSpace(b.GName) &&
		a.GModel == strings.TrimSpace(b.GModel) && a.Unit == b.Unit && a.LegalUnit1 == b.LegalUnit1 && sameFloat(a.LegalQty1, b.LegalQty1) &&
		a.LegalUnit2 == b.LegalUnit2 && sameFloat(a.LegalQty2, b.LegalQty2) && sameInt(a.NetWeightG, b.NetWeightG) &&
		sameInt(a.GrossWeightG, b.GrossWeightG) && a.ItemRecordNo == strings.TrimSpace(b.ItemRecordNo) && a.TradeMode == b.TradeMode &&
		a.TaxCategory == b.TaxCategory && a.PositiveList == b.PositiveList && sameStrings(k.OptionValues, vals) && k.Sort == sort && k.ArchivedAt == nil
}

// write applies a validated product. Nothing is written for what did not
// change, so importing the same file twice changes nothing.
func (im *importer) write(old *oldProduct, handle, status string, statusLine int, in ProductInput, lines []*skuLine, mine []*SKU) error {
	tx, tid := im.tx, im.tid
	changed := false
	var pid int64
	cur := StatusDraft
	if old == nil {
		if err := tx.Raw(`INSERT INTO products (tenant_id, handle, category_id, brand, tags, sort, content, options, images)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, tid, handle, in.CategoryID, in.Brand, textArray(in.Tags), in.Sort,
			jsonOf(in.Content), jsonOf(in.Options), jsonOf(in.Images)).Scan(&pid).Error; err != nil {
			return err
		}
		im.sum.ProductsCreated++
		changed = true
	} else {
		pid, cur = old.ID, old.Status
		if !sameInt64(old.CategoryID, in.CategoryID) || old.Brand != in.Brand || !reflect.DeepEqual(old.Tags, in.Tags) ||
			!reflect.DeepEqual(old.Content, in.Content) || !reflect.DeepEqual(old.Options, in.Options) {
			if err := tx.Exec(`UPDATE products SET category_id = ?, brand = ?, tags = ?, content = ?, options = ?, updated_at = now()
				WHERE tenant_id = ? AND id = ?`, in.CategoryID, in.Brand, textArray(in.Tags), jsonOf(in.Content), jsonOf(in.Options), tid, pid).Error; err != nil {
				return err
			}
			changed = true
		}
	}
	im.sum.Products++

	// Rows find their SKU by code, then by option combination (a SKU
	// renamed in the file keeps its stock and order history).
	byCode := map[string]*SKU{}
	byCombo := map[string]*SKU{}
	for _, k := range mine {
		byCode[k.Code] = k
		if _, ok := byCombo[comboKey(k.OptionValues)]; !ok {
			byCombo[comboKey(k.OptionValues)] = k
		}
	}
	used := map[int64]bool{}
	match := make([]*SKU, len(lines))
	for i, l := range lines {
		if k := byCode[l.edit.Code]; k != nil {
			match[i], used[k.ID] = k, true
		}
	}
	for i, l := range lines {
		if match[i] != nil {
			continue
		}
		if k := byCombo[l.combo]; k != nil && !used[k.ID] {
			match[i], used[k.ID] = k, true
		}
	}
	// Archive first, so codes and combinations are free for the rows.
	for _, k := range mine {
		if !used[k.ID] && k.ArchivedAt == nil {
			if err := tx.Exec(`UPDATE skus SET archived_at = now(), updated_at = now() WHERE tenant_id = ? AND id = ?`, tid, k.ID).Error; err != nil {
				return err
			}
			im.sum.SKUsArchived++
			changed = true
		}
	}
	ids := make([]int64, len(lines))
	for i, l := range lines {
		e := &l.edit
		im.sum.SKUs++
		if k := match[i]; k != nil {
			ids[i] = k.ID
			if skuSame(k, e, l.vals, l.sort) {
				im.sum.SKUsUnchanged++
				continue
			}
			if err := tx.Exec(`UPDATE skus SET code = ?, barcode = ?, option_values = ?, sort = ?, archived_at = NULL, price = ?, compare_at_price = ?, weight_g = ?,
				hs_code = ?, origin_country = ?, gname = ?, gmodel = ?, unit = ?, legal_unit1 = ?, legal_qty1 = ?, legal_unit2 = ?, legal_qty2 = ?,
				net_weight_g = ?, gross_weight_g = ?, item_record_no = ?, trade_mode = ?, tax_category = ?, positive_list = ?, updated_at = now()
				WHERE tenant_id = ? AND id = ?`, e.Code, e.Barcode, jsonOf(l.vals), l.sort, e.Price, e.CompareAtPrice, e.WeightG,
				e.HSCode, e.OriginCountry, strings.TrimSpace(e.GName), strings.TrimSpace(e.GModel), e.Unit, e.LegalUnit1, e.LegalQty1, e.LegalUnit2, e.LegalQty2,
				e.NetWeightG, e.GrossWeightG, strings.TrimSpace(e.ItemRecordNo), e.TradeMode, e.TaxCategory, e.PositiveList, tid, k.ID).Error; err != nil {
				return err
			}
			im.sum.SKUsUpdated++
			changed = true
			continue
		}
		if err := tx.Raw(`INSERT INTO skus (tenant_id, product_id, code, barcode, option_values, sort, price, compare_at_price, weight_g,
			hs_code, origin_country, gname, gmodel, unit, legal_unit1, legal_qty1, legal_unit2, legal_qty2, net_weight_g, gross_weight_g,
			item_record_no, trade_mode, tax_category, positive_list)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			tid, pid, e.Code, e.Barcode, jsonOf(l.vals), l.sort, e.Price, e.CompareAtPrice, e.WeightG,
			e.HSCode, e.OriginCountry, strings.TrimSpace(e.GName), strings.TrimSpace(e.GModel), e.Unit, e.LegalUnit1, e.LegalQty1, e.LegalUnit2, e.LegalQty2,
			e.NetWeightG, e.GrossWeightG, strings.TrimSpace(e.ItemRecordNo), e.TradeMode, e.TaxCategory, e.PositiveList).Scan(&ids[i]).Error; err != nil {
			return err
		}
		im.sum.SKUsCreated++
		changed = true
	}
	if changed {
		if err := im.s.touch(tx, tid, pid); err != nil {
			return err
		}
	}

	// Status: publishing needs the checklist, and so does changing a
	// published product.
	want := cur
	if status != "" {
		want = status
	}
	if want == StatusPublished && (want != cur || changed) {
		probs, err := im.s.checklist(tx, tid, pid)
		if err != nil {
			return err
		}
		if len(probs) > 0 {
			msg := "the product cannot be published yet"
			if want == cur {
				msg = "this change would leave the published product incomplete"
			}
			im.fail(RowError{Line: statusLine, Column: "status", Message: errs.As(notPublishable(probs, msg)).Message})
			return nil
		}
	}
	if want != cur {
		if err := tx.Exec(`UPDATE products SET status = ?, version = version + 1, updated_at = now(),
			published_at = CASE WHEN ? = 'published' THEN coalesce(published_at, now()) ELSE published_at END
			WHERE tenant_id = ? AND id = ?`, want, want, tid, pid).Error; err != nil {
			return err
		}
		changed = true
	}

	// Stock: set on hand per warehouse through the movement log.
	if err := im.stock(lines, ids, &changed); err != nil {
		return err
	}
	switch {
	case old == nil:
	case changed:
		im.sum.ProductsUpdated++
	default:
		im.sum.ProductsUnchanged++
	}
	return nil
}

func (im *importer) stock(lines []*skuLine, ids []int64, changed *bool) error {
	var want []int64
	for i, l := range lines {
		if len(l.stock) > 0 {
			want = append(want, ids[i])
		}
	}
	if len(want) == 0 {
		return nil
	}
	var levels []struct {
		SKUID       int64 `gorm:"column:sku_id"`
		WarehouseID int64
		OnHand      int64
	}
	if err := im.tx.Raw(`SELECT sku_id, warehouse_id, on_hand FROM stock_levels WHERE tenant_id = ? AND sku_id IN ?`, im.tid, want).Scan(&levels).Error; err != nil {
		return err
	}
	have := map[[2]int64]int64{}
	for _, l := range levels {
		have[[2]int64{l.SKUID, l.WarehouseID}] = l.OnHand
	}
	for i, l := range lines {
		for wid, n := range l.stock {
			delta := n - have[[2]int64{ids[i], wid}]
			if delta == 0 {
				continue
			}
			if _, err := im.s.Move(im.ctx, im.tx, ids[i], wid, MoveAdjusted, delta, "import", im.ref); err != nil {
				if e := errs.As(err); e != nil && e.Kind != errs.Internal {
					col := ""
					for c, w := range im.whByCol {
						if w == wid {
							col = im.h.names[c]
						}
					}
					im.fail(RowError{Line: l.c.line, Column: col, SKU: l.edit.Code, Message: e.Message})
					return nil
				}
				return err
			}
			im.sum.StockAdjusted++
			*changed = true
		}
	}
	return nil
}

// scanFile checks a file's header and counts its data rows, without the
// database (warehouses are checked when it runs).
func scanFile(format string, ra io.ReaderAt, size int64) (int, []RowError, error) {
	rr, err := openRows(format, ra, size)
	if err != nil {
		var fe *fileErr
		if errors.As(err, &fe) {
			return 0, []RowError{fe.RowError}, nil
		}
		return 0, nil, err
	}
	defer rr.Close()
	line, rec, err := rr.Next()
	if err == io.EOF {
		return 0, []RowError{{Line: 1, Message: "the file is empty: the first line must name the columns (download the template)"}}, nil
	}
	if err != nil {
		var fe *fileErr
		if errors.As(err, &fe) {
			return 0, []RowError{fe.RowError}, nil
		}
		return 0, nil, err
	}
	h, herrs := parseHeader(line, rec)
	if len(herrs) > 0 {
		return 0, herrs, nil
	}
	n := 0
	for {
		line, rec, err = rr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			var fe *fileErr
			if errors.As(err, &fe) {
				return n, []RowError{fe.RowError}, nil
			}
			return n, nil, err
		}
		if _, _, empty := h.split(line, rec); !empty {
			n++
		}
		if n > MaxImportRows {
			return n, []RowError{{Line: line, Message: fmt.Sprintf("the file has more than %d rows; split it", MaxImportRows)}}, nil
		}
	}
	return n, nil, nil
}
