package shop

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/microcosm-cc/bluemonday"
	"gorm.io/gorm"

	"github.com/minishop/minishop/internal/db"
	"github.com/minishop/minishop/internal/errs"
	"github.com/minishop/minishop/internal/httpx"
	"github.com/minishop/minishop/internal/scope"
	"github.com/minishop/minishop/tenant"
)

// Limits of a product.
const (
	maxOptions      = 3
	maxOptionValues = 30
	maxSKUs         = 200
	maxImages       = 20
	maxTags         = 20
	maxLocales      = 6
)

var (
	localePattern = regexp.MustCompile(`^[a-z]{2}(-[A-Z]{2})?$`)
	codePattern   = regexp.MustCompile(`^[A-Za-z0-9._/-]{1,64}$`)
	digits        = func(n int) *regexp.Regexp { return regexp.MustCompile(`^[0-9]{` + strconv.Itoa(n) + `}$`) }
	hsPattern     = digits(10)
	code3Pattern  = digits(3)
	htmlPolicy    = bluemonday.UGCPolicy()
)

func tenantID(ctx context.Context) (int64, error) {
	tid, ok := scope.TenantID(ctx)
	if !ok {
		return 0, errs.Wrap(db.ErrNoTenant, "shop")
	}
	return tid, nil
}

func invalid(field, msg string) error {
	return errs.E(errs.Invalid, "invalid_field", msg).WithDetails(map[string]string{"field": field})
}

// ProductInput is what a brand edits on a product. Saving it replaces these
// fields; SKUs are regenerated from Options without losing the SKUs whose
// option combination still exists.
type ProductInput struct {
	CategoryID *int64             `json:"category_id"`
	Brand      string             `json:"brand"`
	Tags       []string           `json:"tags"`
	Sort       int                `json:"sort"`
	Content    map[string]Content `json:"content"`
	Options    []Option           `json:"options"`
	Images     []Image            `json:"images"`
}

// optionKey is the stable key of an option value: its English text, or its
// Chinese one when no English is given.
func optionKey(t Text) string {
	if v := strings.TrimSpace(t[LocaleEN]); v != "" {
		return v
	}
	return strings.TrimSpace(t[LocaleZH])
}

func (in *ProductInput) validate() error {
	if len(in.Content) == 0 {
		return invalid("content", "write the product's title in at least one language (en or zh-CN)")
	}
	if len(in.Content) > maxLocales {
		return invalid("content", fmt.Sprintf("at most %d languages", maxLocales))
	}
	for loc, c := range in.Content {
		if !localePattern.MatchString(loc) {
			return invalid("content", fmt.Sprintf("%q is not a language tag such as en or zh-CN", loc))
		}
		c.Title = strings.TrimSpace(c.Title)
		c.Subtitle = strings.TrimSpace(c.Subtitle)
		if utf8.RuneCountInString(c.Title) > 120 {
			return invalid("content."+loc+".title", "the title must be at most 120 characters")
		}
		if utf8.RuneCountInString(c.Subtitle) > 200 {
			return invalid("content."+loc+".subtitle", "the subtitle must be at most 200 characters")
		}
		if len(c.Description) > 100_000 {
			return invalid("content."+loc+".description", "the description must be at most 100,000 bytes")
		}
		c.Description = htmlPolicy.Sanitize(c.Description)
		in.Content[loc] = c
	}
	if in.Content[LocaleEN].Title == "" && in.Content[LocaleZH].Title == "" {
		return invalid("content", "give the product a title in en or zh-CN")
	}
	in.Brand = strings.TrimSpace(in.Brand)
	if utf8.RuneCountInString(in.Brand) > 120 {
		return invalid("brand", "the brand must be at most 120 characters")
	}
	if len(in.Tags) > maxTags {
		return invalid("tags", fmt.Sprintf("at most %d tags", maxTags))
	}
	for i, t := range in.Tags {
		in.Tags[i] = strings.TrimSpace(t)
		if in.Tags[i] == "" || utf8.RuneCountInString(in.Tags[i]) > 40 {
			return invalid("tags", "each tag must be 1 to 40 characters")
		}
	}
	if in.Tags == nil {
		in.Tags = []string{}
	}
	if len(in.Options) > maxOptions {
		return invalid("options", fmt.Sprintf("at most %d options (e.g. colour, size)", maxOptions))
	}
	combos := 1
	for i, o := range in.Options {
		if optionKey(o.Name) == "" {
			return invalid(fmt.Sprintf("options[%d].name", i), "name the option in en or zh-CN, e.g. Colour / 颜色")
		}
		if len(o.Values) == 0 || len(o.Values) > maxOptionValues {
			return invalid(fmt.Sprintf("options[%d].values", i), fmt.Sprintf("an option needs 1 to %d values", maxOptionValues))
		}
		seen := map[string]bool{}
		for j, v := range o.Values {
			k := strings.ToLower(optionKey(v))
			if k == "" {
				return invalid(fmt.Sprintf("options[%d].values[%d]", i, j), "each value needs a text in en or zh-CN")
			}
			if seen[k] {
				return invalid(fmt.Sprintf("options[%d].values[%d]", i, j), "the value "+optionKey(v)+" appears twice")
			}
			seen[k] = true
		}
		combos *= len(o.Values)
	}
	if combos > maxSKUs {
		return invalid("options", fmt.Sprintf("these options make %d combinations; at most %d SKUs per product", combos, maxSKUs))
	}
	if in.Options == nil {
		in.Options = []Option{}
	}
	if len(in.Images) > maxImages {
		return invalid("images", fmt.Sprintf("at most %d images", maxImages))
	}
	for i, im := range in.Images {
		if !hashPattern.MatchString(im.Hash) {
			return invalid(fmt.Sprintf("images[%d].hash", i), "upload the image first and use the hash it returns")
		}
		in.Images[i].URL = ""
	}
	if in.Images == nil {
		in.Images = []Image{}
	}
	return nil
}

// combinations lists every option combination (English keys), in order.
func combinations(opts []Option) [][]string {
	out := [][]string{{}}
	for _, o := range opts {
		var next [][]string
		for _, prefix := range out {
			for _, v := range o.Values {
				c := append(append([]string{}, prefix...), optionKey(v))
				next = append(next, c)
			}
		}
		out = next
	}
	return out
}

func comboKey(vals []string) string {
	b, _ := json.Marshal(vals)
	return strings.ToLower(string(b))
}

func jsonOf(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// CreateProduct creates a draft product with one SKU per option combination.
func (s *Service) CreateProduct(ctx context.Context, in ProductInput) (*Product, error) {
	tid, err := tenantID(ctx)
	if err != nil {
		return nil, err
	}
	if err := in.validate(); err != nil {
		return nil, err
	}
	var id int64
	err = db.InTenant(ctx, s.DB, func(tx *gorm.DB) error {
		if err := s.checkRefs(tx, tid, &in); err != nil {
			return err
		}
		if err := tx.Raw(`INSERT INTO products (tenant_id, category_id, brand, tags, sort, content, options, images)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, tid, in.CategoryID, in.Brand, textArray(in.Tags), in.Sort,
			jsonOf(in.Content), jsonOf(in.Options), jsonOf(in.Images)).Scan(&id).Error; err != nil {
			return err
		}
		if err := s.regenerate(tx, tid, id, in.Options); err != nil {
			return err
		}
		return tenant.Audit(ctx, tx, "product.created", "product:"+strconv.FormatInt(id, 10), map[string]any{"title": titleOf(in.Content)})
	})
	if err != nil {
		return nil, err
	}
	s.cache.Invalidate(ctx, tid)
	return s.Product(ctx, id)
}

func titleOf(c map[string]Content) string {
	if t := c[LocaleEN].Title; t != "" {
		return t
	}
	return c[LocaleZH].Title
}

// textArray formats a Postgres text[] literal.
func textArray(xs []string) string {
	b, _ := json.Marshal(xs)
	s := string(b)
	return "{" + s[1:len(s)-1] + "}"
}

// checkRefs checks the category and images exist in this tenant.
func (s *Service) checkRefs(tx *gorm.DB, tid int64, in *ProductInput) error {
	if in.CategoryID != nil {
		var n int64
		if err := tx.Raw(`SELECT count(*) FROM categories WHERE tenant_id = ? AND id = ?`, tid, *in.CategoryID).Scan(&n).Error; err != nil {
			return err
		}
		if n == 0 {
			return invalid("category_id", "no such category")
		}
	}
	if len(in.Images) > 0 {
		hashes := make([]string, len(in.Images))
		for i, im := range in.Images {
			hashes[i] = im.Hash
		}
		var found []string
		if err := tx.Raw(`SELECT hash FROM images WHERE tenant_id = ? AND hash IN ?`, tid, hashes).Scan(&found).Error; err != nil {
			return err
		}
		have := map[string]bool{}
		for _, h := range found {
			have[h] = true
		}
		for i, h := range hashes {
			if !have[h] {
				return invalid(fmt.Sprintf("images[%d].hash", i), "no uploaded image has this hash; upload it first")
			}
		}
	}
	return nil
}

// regenerate makes the SKUs match the option combinations: existing
// combinations keep their SKU (un-archived if needed), new ones get a SKU
// that copies price and customs data from a sibling, vanished ones are
// archived (orders may still name them).
func (s *Service) regenerate(tx *gorm.DB, tid, productID int64, opts []Option) error {
	var existing []struct {
		ID           int64
		OptionValues string
		ArchivedAt   *time.Time
	}
	if err := tx.Raw(`SELECT id, option_values, archived_at FROM skus WHERE tenant_id = ? AND product_id = ? ORDER BY archived_at NULLS FIRST, sort, id FOR UPDATE`,
		tid, productID).Scan(&existing).Error; err != nil {
		return err
	}
	byKey := map[string]int64{}
	var template int64
	for _, e := range existing {
		var vals []string
		_ = json.Unmarshal([]byte(e.OptionValues), &vals)
		k := comboKey(vals)
		if _, dup := byKey[k]; !dup {
			byKey[k] = e.ID
		}
		if template == 0 && e.ArchivedAt == nil {
			template = e.ID
		}
	}
	var used []string
	if err := tx.Raw(`SELECT code FROM skus WHERE tenant_id = ? AND code LIKE ?`, tid, fmt.Sprintf("P%d-%%", productID)).Scan(&used).Error; err != nil {
		return err
	}
	taken := map[string]bool{}
	for _, c := range used {
		taken[c] = true
	}
	n := 0
	nextCode := func() string {
		for {
			n++
			c := fmt.Sprintf("P%d-%d", productID, n)
			if !taken[c] {
				taken[c] = true
				return c
			}
		}
	}
	keep := map[int64]bool{}
	for i, combo := range combinations(opts) {
		if id, ok := byKey[comboKey(combo)]; ok {
			keep[id] = true
			if err := tx.Exec(`UPDATE skus SET archived_at = NULL, sort = ?, option_values = ?, updated_at = now() WHERE tenant_id = ? AND id = ?`,
				i, jsonOf(combo), tid, id).Error; err != nil {
				return err
			}
			continue
		}
		code := nextCode()
		var id int64
		var err error
		if template != 0 {
			err = tx.Raw(`INSERT INTO skus (tenant_id, product_id, code, option_values, sort, price, compare_at_price, weight_g,
				hs_code, origin_country, gname, gmodel, unit, legal_unit1, legal_qty1, legal_unit2, legal_qty2, net_weight_g, gross_weight_g,
				item_record_no, trade_mode, tax_category, positive_list)
				SELECT tenant_id, product_id, ?, ?, ?, price, compare_at_price, weight_g,
				hs_code, origin_country, gname, gmodel, unit, legal_unit1, legal_qty1, legal_unit2, legal_qty2, net_weight_g, gross_weight_g,
				item_record_no, trade_mode, tax_category, positive_list
				FROM skus WHERE tenant_id = ? AND id = ? RETURNING id`, code, jsonOf(combo), i, tid, template).Scan(&id).Error
		} else {
			err = tx.Raw(`INSERT INTO skus (tenant_id, product_id, code, option_values, sort) VALUES (?, ?, ?, ?, ?) RETURNING id`,
				tid, productID, code, jsonOf(combo), i).Scan(&id).Error
		}
		if err != nil {
			return err
		}
		keep[id] = true
	}
	for _, e := range existing {
		if !keep[e.ID] && e.ArchivedAt == nil {
			if err := tx.Exec(`UPDATE skus SET archived_at = now(), updated_at = now() WHERE tenant_id = ? AND id = ?`, tid, e.ID).Error; err != nil {
				return err
			}
		}
	}
	return s.touch(tx, tid, productID)
}

// touch recomputes the product's lowest price and bumps its version.
func (s *Service) touch(tx *gorm.DB, tid, productID int64) error {
	return tx.Exec(`UPDATE products SET version = version + 1, updated_at = now(),
		min_price = (SELECT min(price) FROM skus WHERE tenant_id = ? AND product_id = ? AND archived_at IS NULL)
		WHERE tenant_id = ? AND id = ?`, tid, productID, tid, productID).Error
}

// UpdateProduct replaces a product's fields and regenerates its SKUs.
func (s *Service) UpdateProduct(ctx context.Context, id int64, in ProductInput) (*Product, error) {
	tid, err := tenantID(ctx)
	if err != nil {
		return nil, err
	}
	if err := in.validate(); err != nil {
		return nil, err
	}
	err = db.InTenant(ctx, s.DB, func(tx *gorm.DB) error {
		var status string
		if err := tx.Raw(`SELECT status FROM products WHERE tenant_id = ? AND id = ? FOR UPDATE`, tid, id).Scan(&status).Error; err != nil {
			return err
		}
		if status == "" {
			return errProductNotFound
		}
		if err := s.checkRefs(tx, tid, &in); err != nil {
			return err
		}
		if err := tx.Exec(`UPDATE products SET category_id = ?, brand = ?, tags = ?, sort = ?, content = ?, options = ?, images = ?, updated_at = now()
			WHERE tenant_id = ? AND id = ?`, in.CategoryID, in.Brand, textArray(in.Tags), in.Sort, jsonOf(in.Content), jsonOf(in.Options),
			jsonOf(in.Images), tid, id).Error; err != nil {
			return err
		}
		if err := s.regenerate(tx, tid, id, in.Options); err != nil {
			return err
		}
		if status == StatusPublished {
			// A published product must stay publishable after an edit.
			if probs, err := s.checklist(tx, tid, id); err != nil {
				return err
			} else if len(probs) > 0 {
				return notPublishable(probs, "this change would leave the published product incomplete")
			}
		}
		return tenant.Audit(ctx, tx, "product.updated", "product:"+strconv.FormatInt(id, 10), map[string]any{"title": titleOf(in.Content)})
	})
	if err != nil {
		return nil, err
	}
	s.cache.Invalidate(ctx, tid)
	return s.Product(ctx, id)
}

var errProductNotFound = errs.E(errs.NotFound, "product_not_found", "no such product")

func notPublishable(p []Problem, msg string) error {
	parts := make([]string, 0, 3)
	for i, x := range p {
		if i == 3 {
			parts = append(parts, fmt.Sprintf("and %d more", len(p)-3))
			break
		}
		if x.SKU != "" {
			parts = append(parts, "SKU "+x.SKU+": "+x.Message)
		} else {
			parts = append(parts, x.Message)
		}
	}
	return errs.E(errs.Unprocessable, "not_publishable", msg+": "+strings.Join(parts, "; ")).WithDetails(p)
}

// SKUEdit is a SKU's editable fields. Every field is written as given.
type SKUEdit struct {
	ID             int64  `json:"id" binding:"required"`
	Code           string `json:"code" binding:"required"`
	Barcode        string `json:"barcode"`
	Price          int64  `json:"price"`
	CompareAtPrice *int64 `json:"compare_at_price"`
	WeightG        *int   `json:"weight_g"`
	Customs
}

func (e *SKUEdit) validate(rates TaxRates, i int) error {
	f := func(name string) string { return fmt.Sprintf("skus[%d].%s", i, name) }
	e.Code = strings.TrimSpace(e.Code)
	switch {
	case !codePattern.MatchString(e.Code):
		return invalid(f("code"), "a SKU code is 1 to 64 letters, digits or . _ / -")
	case len(e.Barcode) > 64:
		return invalid(f("barcode"), "the barcode must be at most 64 characters")
	case e.Price < 0 || e.Price > 100_000_000_00:
		return invalid(f("price"), "the price is in fen (¥1 = 100) and must be from 0 to ¥100,000,000")
	case e.CompareAtPrice != nil && *e.CompareAtPrice <= e.Price:
		return invalid(f("compare_at_price"), "the compare-at price must be higher than the price (or empty)")
	case e.WeightG != nil && *e.WeightG < 0, e.NetWeightG != nil && *e.NetWeightG < 0, e.GrossWeightG != nil && *e.GrossWeightG < 0:
		return invalid(f("weight"), "weights are grams and cannot be negative")
	case e.NetWeightG != nil && e.GrossWeightG != nil && *e.GrossWeightG < *e.NetWeightG:
		return invalid(f("gross_weight_g"), "the gross weight cannot be less than the net weight")
	case e.HSCode != "" && !hsPattern.MatchString(e.HSCode):
		return invalid(f("hs_code"), "the HS code has 10 digits, e.g. 3304990099")
	case e.OriginCountry != "" && !code3Pattern.MatchString(e.OriginCountry):
		return invalid(f("origin_country"), "the country of origin is a 3-digit customs code, e.g. 330 for Sweden")
	case e.Unit != "" && !code3Pattern.MatchString(e.Unit):
		return invalid(f("unit"), "the declared unit is a 3-digit customs unit code, e.g. 007 for piece")
	case e.LegalUnit1 != "" && !code3Pattern.MatchString(e.LegalUnit1), e.LegalUnit2 != "" && !code3Pattern.MatchString(e.LegalUnit2):
		return invalid(f("legal_unit"), "legal units are 3-digit customs unit codes, e.g. 035 for kilogram")
	case e.LegalQty1 != nil && *e.LegalQty1 <= 0, e.LegalQty2 != nil && *e.LegalQty2 <= 0:
		return invalid(f("legal_qty"), "legal quantities must be greater than 0")
	case utf8.RuneCountInString(e.GName) > 250 || utf8.RuneCountInString(e.GModel) > 250:
		return invalid(f("gname"), "the declared name and specification are at most 250 characters")
	case len(e.ItemRecordNo) > 64:
		return invalid(f("item_record_no"), "the product record number is at most 64 characters")
	}
	if e.TradeMode == "" {
		e.TradeMode = "1210"
	}
	if e.TradeMode != "1210" && e.TradeMode != "9610" {
		return invalid(f("trade_mode"), "the trade mode is 1210 (bonded stock) or 9610 (direct mail)")
	}
	if e.TaxCategory == "" {
		e.TaxCategory = TaxGeneral
	}
	if _, ok := rates.Consumption[e.TaxCategory]; !ok {
		return invalid(f("tax_category"), "the tax category is one of "+strings.Join(rates.Categories(), ", "))
	}
	return nil
}

// UpdateSKUs writes the given SKUs of a product in one transaction: all or
// nothing. SKUs of other products are not_found.
func (s *Service) UpdateSKUs(ctx context.Context, productID int64, edits []SKUEdit) (*Product, error) {
	tid, err := tenantID(ctx)
	if err != nil {
		return nil, err
	}
	if len(edits) == 0 || len(edits) > maxSKUs {
		return nil, invalid("skus", fmt.Sprintf("send 1 to %d SKUs", maxSKUs))
	}
	seen := map[int64]bool{}
	for i := range edits {
		if err := edits[i].validate(s.Rates, i); err != nil {
			return nil, err
		}
		if seen[edits[i].ID] {
			return nil, invalid(fmt.Sprintf("skus[%d].id", i), "this SKU appears twice")
		}
		seen[edits[i].ID] = true
	}
	err = db.InTenant(ctx, s.DB, func(tx *gorm.DB) error {
		var status string
		if err := tx.Raw(`SELECT status FROM products WHERE tenant_id = ? AND id = ? FOR UPDATE`, tid, productID).Scan(&status).Error; err != nil {
			return err
		}
		if status == "" {
			return errProductNotFound
		}
		for i, e := range edits {
			res := tx.Exec(`UPDATE skus SET code = ?, barcode = ?, price = ?, compare_at_price = ?, weight_g = ?, hs_code = ?, origin_country = ?,
				gname = ?, gmodel = ?, unit = ?, legal_unit1 = ?, legal_qty1 = ?, legal_unit2 = ?, legal_qty2 = ?, net_weight_g = ?, gross_weight_g = ?,
				item_record_no = ?, trade_mode = ?, tax_category = ?, positive_list = ?, updated_at = now()
				WHERE tenant_id = ? AND product_id = ? AND id = ?`,
				e.Code, e.Barcode, e.Price, e.CompareAtPrice, e.WeightG, e.HSCode, e.OriginCountry, strings.TrimSpace(e.GName), strings.TrimSpace(e.GModel),
				e.Unit, e.LegalUnit1, e.LegalQty1, e.LegalUnit2, e.LegalQty2, e.NetWeightG, e.GrossWeightG, strings.TrimSpace(e.ItemRecordNo),
				e.TradeMode, e.TaxCategory, e.PositiveList, tid, productID, e.ID)
			if res.Error != nil {
				if db.IsUniqueViolation(res.Error, "") {
					return errs.E(errs.Conflict, "sku_code_taken", "the SKU code "+e.Code+" is already used by another SKU of this shop").
						WithDetails(map[string]string{"field": fmt.Sprintf("skus[%d].code", i)})
				}
				return res.Error
			}
			if res.RowsAffected == 0 {
				return errs.E(errs.NotFound, "sku_not_found", fmt.Sprintf("SKU %d is not a SKU of this product", e.ID))
			}
		}
		if err := s.touch(tx, tid, productID); err != nil {
			return err
		}
		if status == StatusPublished {
			if probs, err := s.checklist(tx, tid, productID); err != nil {
				return err
			} else if len(probs) > 0 {
				return notPublishable(probs, "this change would leave the published product incomplete")
			}
		}
		codes := make([]string, len(edits))
		for i, e := range edits {
			codes[i] = e.Code
		}
		return tenant.Audit(ctx, tx, "product.skus_updated", "product:"+strconv.FormatInt(productID, 10), map[string]any{"skus": codes})
	})
	if err != nil {
		return nil, err
	}
	s.cache.Invalidate(ctx, tid)
	return s.Product(ctx, productID)
}

// checklist lists what stops the product from being sold cross-border to a
// Mini Program: the Chinese title, a price and complete customs data on
// every active SKU, positive-list confirmation, and the product record number
// for bonded stock.
func (s *Service) checklist(tx *gorm.DB, tid, productID int64) ([]Problem, error) {
	var p struct {
		Content string
		Images  string
	}
	if err := tx.Raw(`SELECT content, images FROM products WHERE tenant_id = ? AND id = ?`, tid, productID).Scan(&p).Error; err != nil {
		return nil, err
	}
	var content map[string]Content
	_ = json.Unmarshal([]byte(p.Content), &content)
	probs := []Problem{}
	if strings.TrimSpace(content[LocaleZH].Title) == "" {
		probs = append(probs, Problem{Field: "content.zh-CN.title", Message: "the Chinese (zh-CN) title is required: the Mini Program shows it"})
	}
	skus, err := s.skus(tx, tid, []int64{productID}, false)
	if err != nil {
		return nil, err
	}
	if len(skus) == 0 {
		probs = append(probs, Problem{Field: "skus", Message: "the product has no SKU"})
	}
	for _, k := range skus {
		add := func(field, msg string) { probs = append(probs, Problem{SKU: k.Code, Field: field, Message: msg}) }
		if k.Price <= 0 {
			add("price", "set a price")
		}
		if k.HSCode == "" {
			add("hs_code", "the HS code (10 digits) is missing")
		}
		if k.OriginCountry == "" {
			add("origin_country", "the country of origin (customs code) is missing")
		}
		if k.GName == "" {
			add("gname", "the customs declared name (gname) is missing")
		}
		if k.GModel == "" {
			add("gmodel", "the customs specification (gmodel: brand, model, ingredients, size) is missing")
		}
		if k.Unit == "" {
			add("unit", "the declared unit (customs unit code) is missing")
		}
		if k.LegalUnit1 == "" || k.LegalQty1 == nil {
			add("legal_unit1", "the first legal unit and quantity are missing")
		}
		if k.NetWeightG == nil || k.GrossWeightG == nil {
			add("net_weight_g", "the net and gross weights are missing")
		}
		if k.TradeMode == "1210" && k.ItemRecordNo == "" {
			add("item_record_no", "bonded stock (1210) needs the product record number (itemRecordNo)")
		}
		if !k.PositiveList {
			add("positive_list", "confirm the goods are on the CBEC positive list")
		}
		if _, err := s.Rates.Composite(k.TaxCategory); err != nil {
			add("tax_category", "the tax category is not configured: "+k.TaxCategory)
		}
	}
	return probs, nil
}

// SetStatus publishes, unpublishes (back to draft) or archives a product.
// Publishing refuses (422 not_publishable) with the checklist of what is
// missing.
func (s *Service) SetStatus(ctx context.Context, id int64, status string) (*Product, error) {
	tid, err := tenantID(ctx)
	if err != nil {
		return nil, err
	}
	err = db.InTenant(ctx, s.DB, func(tx *gorm.DB) error {
		var cur string
		if err := tx.Raw(`SELECT status FROM products WHERE tenant_id = ? AND id = ? FOR UPDATE`, tid, id).Scan(&cur).Error; err != nil {
			return err
		}
		if cur == "" {
			return errProductNotFound
		}
		if status == StatusPublished {
			probs, err := s.checklist(tx, tid, id)
			if err != nil {
				return err
			}
			if len(probs) > 0 {
				return notPublishable(probs, "the product cannot be sold cross-border yet")
			}
		}
		if err := tx.Exec(`UPDATE products SET status = ?, version = version + 1, updated_at = now(),
			published_at = CASE WHEN ? = 'published' THEN coalesce(published_at, now()) ELSE published_at END
			WHERE tenant_id = ? AND id = ?`, status, status, tid, id).Error; err != nil {
			return err
		}
		return tenant.Audit(ctx, tx, "product."+status, "product:"+strconv.FormatInt(id, 10), map[string]any{"from": cur})
	})
	if err != nil {
		return nil, err
	}
	s.cache.Invalidate(ctx, tid)
	return s.Product(ctx, id)
}

// BulkResult is the outcome of a bulk action on one product.
type BulkResult struct {
	ID      int64     `json:"id"`
	OK      bool      `json:"ok"`
	Code    string    `json:"code,omitempty"`
	Message string    `json:"message,omitempty"`
	Details []Problem `json:"details,omitempty"`
}

// Bulk applies a status change to several products, each on its own: one
// product's problem does not stop the others.
func (s *Service) Bulk(ctx context.Context, ids []int64, status string) ([]BulkResult, error) {
	if len(ids) == 0 || len(ids) > 200 {
		return nil, invalid("ids", "send 1 to 200 product ids")
	}
	out := make([]BulkResult, 0, len(ids))
	for _, id := range ids {
		_, err := s.SetStatus(ctx, id, status)
		r := BulkResult{ID: id, OK: err == nil}
		if e := errs.As(err); e != nil && e.Kind != errs.Internal {
			r.Code, r.Message = e.CodeString(), httpx.Localize(ctx, e.Message) // in the client's language, as errors are
			if p, ok := e.Details.([]Problem); ok {
				r.Details = p
			}
		} else if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

type productRow struct {
	ID          int64
	Status      string
	CategoryID  *int64
	Brand       string
	Tags        string
	Sort        int
	Content     string
	Options     string
	Images      string
	MinPrice    *int64
	SalesCount  int64
	Version     int64
	PublishedAt *time.Time
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

const productCols = `id, status, category_id, brand, array_to_json(tags)::text AS tags, sort, content::text, options::text, images::text,
	min_price, sales_count, version, published_at, created_at, updated_at`

func (r productRow) product(imageURL func(string) string) Product {
	p := Product{ID: r.ID, Status: r.Status, CategoryID: r.CategoryID, Brand: r.Brand, Sort: r.Sort, MinPrice: r.MinPrice,
		SalesCount: r.SalesCount, Version: r.Version, PublishedAt: r.PublishedAt, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
	_ = json.Unmarshal([]byte(r.Tags), &p.Tags)
	_ = json.Unmarshal([]byte(r.Content), &p.Content)
	_ = json.Unmarshal([]byte(r.Options), &p.Options)
	_ = json.Unmarshal([]byte(r.Images), &p.Images)
	if p.Tags == nil {
		p.Tags = []string{}
	}
	for i := range p.Images {
		p.Images[i].URL = imageURL(p.Images[i].Hash)
	}
	return p
}

// adminImageURL is where the console loads a tenant's image.
func adminImageURL(slug string) func(string) string {
	return func(h string) string { return "/api/admin/v1/tenants/" + slug + "/images/" + h }
}

type skuRow struct {
	SKU
	OptionValuesJSON string `gorm:"column:option_values_json"`
	OnHand           int64
	Reserved         int64
}

// skus returns the SKUs of products (archived ones too when all is set),
// with stock summed over warehouses and landed prices: one query for any
// number of products.
func (s *Service) skus(tx *gorm.DB, tid int64, productIDs []int64, all bool) ([]SKU, error) {
	var rows []skuRow
	q := `SELECT k.id, k.product_id, k.code, k.barcode, k.option_values::text AS option_values_json, k.price, k.compare_at_price, k.weight_g,
		k.hs_code, k.origin_country, k.gname, k.gmodel, k.unit, k.legal_unit1, k.legal_qty1, k.legal_unit2, k.legal_qty2,
		k.net_weight_g, k.gross_weight_g, k.item_record_no, k.trade_mode, k.tax_category, k.positive_list, k.sort, k.archived_at,
		coalesce(st.on_hand, 0) AS on_hand, coalesce(st.reserved, 0) AS reserved
		FROM skus k LEFT JOIN LATERAL (SELECT sum(l.on_hand) AS on_hand, sum(l.reserved) AS reserved FROM stock_levels l
			WHERE l.tenant_id = k.tenant_id AND l.sku_id = k.id) st ON true
		WHERE k.tenant_id = ? AND k.product_id IN ?`
	if !all {
		q += ` AND k.archived_at IS NULL`
	}
	if err := tx.Raw(q+` ORDER BY k.product_id, k.archived_at NULLS FIRST, k.sort, k.id`, tid, productIDs).Scan(&rows).Error; err != nil {
		return nil, err
	}
	out := make([]SKU, len(rows))
	for i, r := range rows {
		k := r.SKU
		_ = json.Unmarshal([]byte(r.OptionValuesJSON), &k.OptionValues)
		if k.OptionValues == nil {
			k.OptionValues = []string{}
		}
		k.Stock = &Stock{OnHand: r.OnHand, Reserved: r.Reserved, Available: r.OnHand - r.Reserved}
		if l, err := s.Rates.LandedPrice(k.TaxCategory, k.Price); err == nil {
			k.Landed = &l
		}
		out[i] = k
	}
	return out, nil
}

// Product returns a product of the tenant in ctx with its SKUs (archived
// ones last), stock, landed prices and publishing checklist.
func (s *Service) Product(ctx context.Context, id int64) (*Product, error) {
	tid, err := tenantID(ctx)
	if err != nil {
		return nil, err
	}
	slug, err := s.slug(ctx, tid)
	if err != nil {
		return nil, err
	}
	var out Product
	err = db.InTenant(ctx, s.DB, func(tx *gorm.DB) error {
		var rows []productRow
		if err := tx.Raw(`SELECT `+productCols+` FROM products WHERE tenant_id = ? AND id = ?`, tid, id).Scan(&rows).Error; err != nil {
			return err
		}
		if len(rows) == 0 {
			return errProductNotFound
		}
		out = rows[0].product(adminImageURL(slug))
		if out.SKUs, err = s.skus(tx, tid, []int64{id}, true); err != nil {
			return err
		}
		out.Checklist, err = s.checklist(tx, tid, id)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

func (s *Service) slug(ctx context.Context, tid int64) (string, error) {
	var slug string
	err := s.DB.WithContext(ctx).Raw(`SELECT slug FROM tenants WHERE id = ?`, tid).Scan(&slug).Error
	return slug, err
}

// ProductFilter selects products in the admin list.
type ProductFilter struct {
	Status     string
	CategoryID *int64
	Query      string
	Cursor     string
	Limit      int
}

// Products lists the tenant's products, newest first, with their SKUs'
// summary, and the cursor of the next page ("" at the end).
func (s *Service) Products(ctx context.Context, f ProductFilter) ([]Product, string, error) {
	tid, err := tenantID(ctx)
	if err != nil {
		return nil, "", err
	}
	if f.Limit == 0 {
		f.Limit = 50
	}
	if f.Limit < 1 || f.Limit > 100 {
		return nil, "", errs.E(errs.Invalid, "invalid_limit", "limit must be from 1 to 100")
	}
	var before int64
	if f.Cursor != "" {
		b, err := base64.RawURLEncoding.DecodeString(f.Cursor)
		if err == nil {
			before, err = strconv.ParseInt(string(b), 10, 64)
		}
		if err != nil || before <= 0 {
			return nil, "", errs.E(errs.Invalid, "invalid_cursor", "the cursor is not one this API returned")
		}
	}
	where := []string{"tenant_id = ?"}
	args := []any{tid}
	if f.Status != "" {
		if f.Status != StatusDraft && f.Status != StatusPublished && f.Status != StatusArchived {
			return nil, "", errs.E(errs.Invalid, "invalid_status", "status must be draft, published or archived")
		}
		where, args = append(where, "status = ?"), append(args, f.Status)
	}
	if f.CategoryID != nil {
		where, args = append(where, "category_id = ?"), append(args, *f.CategoryID)
	}
	if q := strings.TrimSpace(f.Query); q != "" {
		esc := strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`).Replace(strings.ToLower(q))
		where, args = append(where, "(title_search LIKE ? OR EXISTS (SELECT 1 FROM skus k WHERE k.tenant_id = products.tenant_id AND k.product_id = products.id AND k.code ILIKE ?))"),
			append(args, "%"+esc+"%", esc+"%")
	}
	if before > 0 {
		where, args = append(where, "id < ?"), append(args, before)
	}
	slug, err := s.slug(ctx, tid)
	if err != nil {
		return nil, "", err
	}
	var out []Product
	err = db.InTenant(ctx, s.DB, func(tx *gorm.DB) error {
		var rows []productRow
		if err := tx.Raw(`SELECT `+productCols+` FROM products WHERE `+strings.Join(where, " AND ")+` ORDER BY id DESC LIMIT ?`,
			append(args, f.Limit+1)...).Scan(&rows).Error; err != nil {
			return err
		}
		ids := make([]int64, 0, len(rows))
		for _, r := range rows {
			out = append(out, r.product(adminImageURL(slug)))
			ids = append(ids, r.ID)
		}
		if len(ids) == 0 {
			return nil
		}
		skus, err := s.skus(tx, tid, ids, false)
		if err != nil {
			return err
		}
		by := map[int64][]SKU{}
		for _, k := range skus {
			by[k.ProductID] = append(by[k.ProductID], k)
		}
		for i := range out {
			out[i].SKUs = by[out[i].ID]
			if out[i].SKUs == nil {
				out[i].SKUs = []SKU{}
			}
		}
		return nil
	})
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(out) > f.Limit {
		out = out[:f.Limit]
		next = base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(out[len(out)-1].ID, 10)))
	}
	if out == nil {
		out = []Product{}
	}
	return out, next, nil
}
