package shop

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
	"gorm.io/gorm"

	"github.com/minishop/minishop/internal/db"
	"github.com/minishop/minishop/internal/errs"
	"github.com/minishop/minishop/internal/httpx"
)

// The storefront's catalog reads: what a brand's Mini Program shows. Every
// response is rendered once per catalog version and kept in the catalog
// cache (catalog_cache.go); clients revalidate with the ETag.

// Storefront list limits and stock levels.
const (
	defaultPageSize = 20
	maxPageSize     = 50
	maxQueryRunes   = 64
	lowStock        = 5 // at most this many available: "low"
)

// Sorts of the product list.
const (
	SortNewest    = "newest"     // the brand's order (sort), then latest published
	SortPriceAsc  = "price_asc"  // lowest price first
	SortPriceDesc = "price_desc" // highest price first
	SortSales     = "sales"      // best sellers first
)

// Availability of a product or SKU: never the exact stock.
const (
	InStock  = "in_stock"
	LowStock = "low"
	SoldOut  = "sold_out"
)

// Cache-Control of catalog responses: Mini Programs and shared caches may
// reuse a response for 30 s and, while revalidating, for a minute more.
// Content-addressed media never change.
var (
	catalogCacheControl = []string{"public, max-age=30, stale-while-revalidate=60"}
	mediaCacheControl   = []string{"public, max-age=31536000, immutable"}
	jsonContentType     = []string{"application/json; charset=utf-8"}
	varyAcceptEncoding  = []string{"Accept-Encoding"}
	gzipEncoding        = []string{"gzip"}
)

func availability(n int64) string {
	switch {
	case n <= 0:
		return SoldOut
	case n <= lowStock:
		return LowStock
	}
	return InStock
}

// mediaURL is where a Mini Program loads an image of the shop: a path on the
// shop's own host.
func mediaURL(hash string) string { return "/api/v1/media/" + hash }

// registerCatalogReads mounts the storefront catalog on rg (/api/v1, tenant
// resolved from the Host).
func (h *Handler) registerCatalogReads(rg *gin.RouterGroup) {
	rg.GET("/categories", h.categories)
	rg.GET("/products", h.products)
	rg.GET("/products/:id", h.product)
	rg.GET("/media/:hash", h.media)
}

func (h *Handler) categories(c *gin.Context) {
	loc, err := parseLocale(c.Query("locale"))
	if err != nil {
		httpx.Error(c, err)
		return
	}
	h.S.serveCatalog(c, "c/"+loc, "", entryTTL, func(ctx context.Context) (*rendered, error) { return h.S.renderCategories(ctx, loc) })
}

func (h *Handler) products(c *gin.Context) {
	q, err := parseListQuery(c)
	if err != nil {
		httpx.Error(c, err)
		return
	}
	// A page shows each product's band (versioned by the list field) and,
	// sorted by sales, an order that follows payments only within salesLag.
	ttl := entryTTL
	if q.sort == SortSales {
		ttl = salesLag
	}
	h.S.serveCatalog(c, q.key(), listField, ttl, func(ctx context.Context) (*rendered, error) { return h.S.renderList(ctx, q) })
}

func (h *Handler) product(c *gin.Context) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		httpx.Error(c, errProductNotFound)
		return
	}
	loc, err := parseLocale(c.Query("locale"))
	if err != nil {
		httpx.Error(c, err)
		return
	}
	h.S.serveCatalog(c, "p/"+loc+"/"+strconv.FormatInt(id, 10), productField(id), entryTTL, func(ctx context.Context) (*rendered, error) {
		return h.S.renderProduct(ctx, id, loc)
	})
}

// media serves an uploaded image of the shop. Images are content-addressed
// (the path is the SHA-256 of the bytes), so they are cacheable forever.
func (h *Handler) media(c *gin.Context) {
	hash := c.Param("hash")
	f, ct, err := h.S.ImageFile(c.Request.Context(), hash)
	if err != nil {
		httpx.Error(c, err)
		return
	}
	defer f.Close()
	hd := c.Writer.Header()
	hd["Content-Type"] = []string{ct}
	hd["Cache-Control"] = mediaCacheControl
	hd["Etag"] = []string{`"` + hash + `"`}
	hd["X-Content-Type-Options"] = []string{"nosniff"}
	http.ServeContent(c.Writer, c.Request, "", startOfTime, f)
}

// serveCatalog answers a catalog read from the cache (or render) with the
// caching headers, 304 when the client's If-None-Match still holds. field
// names the version the response depends on besides the catalog's (see
// catalog_cache.go); ttl bounds how long it is kept.
func (s *Service) serveCatalog(c *gin.Context, key, field string, ttl time.Duration, render func(context.Context) (*rendered, error)) {
	ctx := c.Request.Context()
	tid, err := tenantID(ctx)
	if err != nil {
		httpx.Error(c, err)
		return
	}
	cc, _ := s.cache.(*catalogCache)
	r, err := cc.get(ctx, tid, key, field, ttl, render)
	if err == nil && r.notFound != nil {
		err = r.notFound
	}
	if err != nil {
		httpx.Error(c, err)
		return
	}
	hd := c.Writer.Header()
	hd["Cache-Control"] = catalogCacheControl
	body, etag := r.body, r.etag
	if r.gz != nil {
		hd["Vary"] = varyAcceptEncoding
		if acceptsGzip(c.Request.Header.Get("Accept-Encoding")) {
			body, etag = r.gz, gzipETag(r.etag)
			hd["Content-Encoding"] = gzipEncoding
		}
	}
	hd["Etag"] = []string{etag}
	// Either representation's ETag names the same content.
	if inm := c.Request.Header.Get("If-None-Match"); etagMatches(inm, r.etag) || (r.gz != nil && etagMatches(inm, gzipETag(r.etag))) {
		delete(hd, "Content-Encoding")
		c.Status(http.StatusNotModified)
		return
	}
	if body == nil { // kept compressed only; this client wants it plain
		var err error
		if body, err = inflate(r.gz); err != nil {
			delete(hd, "Content-Encoding")
			httpx.Error(c, err)
			return
		}
	}
	hd["Content-Type"] = jsonContentType
	c.Status(http.StatusOK)
	_, _ = c.Writer.Write(body)
}

// jsonResponse renders v with a strong ETag of its bytes: the same catalog
// gives the same bytes on every process, so a client's ETag stays valid
// across processes and across edits that do not change this response.
func jsonResponse(v any) (*rendered, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(b)
	r := &rendered{body: b, etag: `"` + base64.RawURLEncoding.EncodeToString(sum[:18]) + `"`}
	if r.gz = compress(b); r.gz != nil {
		r.body = nil // kept once, compressed
	}
	return r, nil
}

// etagMatches applies If-None-Match's weak comparison to a list of tags.
func etagMatches(header, etag string) bool {
	if header == "" {
		return false
	}
	want := strings.TrimPrefix(etag, "W/")
	for part := range strings.SplitSeq(header, ",") {
		t := strings.TrimSpace(part)
		if t == "*" || strings.TrimPrefix(t, "W/") == want {
			return true
		}
	}
	return false
}

func parseLocale(v string) (string, error) {
	switch {
	case v == "" || strings.EqualFold(v, LocaleZH):
		return LocaleZH, nil
	case strings.EqualFold(v, LocaleEN):
		return LocaleEN, nil
	}
	return "", errs.E(errs.Invalid, "invalid_locale", "locale is zh-CN or en")
}

// pick returns the text in locale, else in the other storefront locale,
// else in any.
func pick(t map[string]string, locale string) string {
	if v := t[locale]; v != "" {
		return v
	}
	other := LocaleEN
	if locale == LocaleEN {
		other = LocaleZH
	}
	if v := t[other]; v != "" {
		return v
	}
	// Any other language, the same one every time (responses are compared
	// by their bytes).
	best := ""
	for k, v := range t {
		if v != "" && (best == "" || k < best) {
			best = k
		}
	}
	return t[best]
}

// listQuery is a validated product list request.
type listQuery struct {
	locale   string
	sort     string
	limit    int
	category int64 // 0: all
	q        string
	after    *cursor
}

func parseListQuery(c *gin.Context) (listQuery, error) {
	q := listQuery{sort: SortNewest, limit: defaultPageSize}
	var err error
	if q.locale, err = parseLocale(c.Query("locale")); err != nil {
		return q, err
	}
	if v := c.Query("sort"); v != "" {
		switch v {
		case SortNewest, SortPriceAsc, SortPriceDesc, SortSales:
			q.sort = v
		default:
			return q, errs.E(errs.Invalid, "invalid_sort", "sort is newest, price_asc, price_desc or sales")
		}
	}
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxPageSize {
			return q, errs.E(errs.Invalid, "invalid_limit", "limit must be from 1 to "+strconv.Itoa(maxPageSize))
		}
		q.limit = n
	}
	if v := c.Query("category_id"); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id <= 0 {
			return q, errs.E(errs.Invalid, "invalid_category", "category_id must be a category id")
		}
		q.category = id
	}
	q.q = strings.TrimSpace(c.Query("q"))
	if utf8.RuneCountInString(q.q) > maxQueryRunes || !utf8.ValidString(q.q) {
		return q, errs.E(errs.Invalid, "invalid_query", "the search text is at most "+strconv.Itoa(maxQueryRunes)+" characters")
	}
	if v := c.Query("cursor"); v != "" {
		cur, err := parseCursor(v, q.sort)
		if err != nil {
			return q, err
		}
		q.after = &cur
	}
	return q, nil
}

// key names the request in the cache: every parameter, normalised; the
// free-text search last, so that no other field can be forged through it.
func (q listQuery) key() string {
	var b strings.Builder
	b.Grow(48 + len(q.q))
	b.WriteString("l/")
	b.WriteString(q.locale)
	b.WriteByte('/')
	b.WriteString(q.sort)
	b.WriteByte('/')
	b.WriteString(strconv.Itoa(q.limit))
	b.WriteByte('/')
	b.WriteString(strconv.FormatInt(q.category, 10))
	b.WriteByte('/')
	if q.after != nil {
		b.WriteString(q.after.String())
	}
	b.WriteByte('/')
	b.WriteString(q.q)
	return b.String()
}

// cursor is the position after the last product of a page, in the order of
// its sort: (sort, published_at µs, id) for newest, (price, id), (sales, id).
type cursor struct {
	sort string
	a, b int64
	id   int64
}

var errCursor = errs.E(errs.Invalid, "invalid_cursor", "the cursor is not one this API returned for this sort")

// String returns the opaque form given to clients.
func (c cursor) String() string {
	s := c.sort + "." + strconv.FormatInt(c.a, 10) + "." + strconv.FormatInt(c.b, 10) + "." + strconv.FormatInt(c.id, 10)
	return base64.RawURLEncoding.EncodeToString([]byte(s))
}

func parseCursor(v, sort string) (cursor, error) {
	raw, err := base64.RawURLEncoding.DecodeString(v)
	if err != nil || len(v) > 128 {
		return cursor{}, errCursor
	}
	parts := strings.Split(string(raw), ".")
	if len(parts) != 4 || parts[0] != sort {
		return cursor{}, errCursor
	}
	var n [3]int64
	for i, p := range parts[1:] {
		if n[i], err = strconv.ParseInt(p, 10, 64); err != nil {
			return cursor{}, errCursor
		}
	}
	if n[2] <= 0 || (sort != SortNewest && n[1] != 0) {
		return cursor{}, errCursor
	}
	return cursor{sort: sort, a: n[0], b: n[1], id: n[2]}, nil
}

// listOrder is, for each sort, the ORDER BY of the page query (on its inner
// select and on the outer one) and the keyset condition after a cursor.
var listOrder = map[string]struct{ inner, outer, after string }{
	SortNewest: {"sort DESC, coalesce(published_at, created_at) DESC, id DESC", "p.sort DESC, p.pub DESC, p.id DESC",
		"(sort, coalesce(published_at, created_at), id) < (?, ?, ?)"},
	SortPriceAsc:  {"coalesce(min_price, 0), id", "p.min_price, p.id", "(coalesce(min_price, 0), id) > (?, ?)"},
	SortPriceDesc: {"coalesce(min_price, 0) DESC, id DESC", "p.min_price DESC, p.id DESC", "(coalesce(min_price, 0), id) < (?, ?)"},
	SortSales:     {"sales_count DESC, id DESC", "p.sales_count DESC, p.id DESC", "(sales_count, id) < (?, ?)"},
}

// ListItem is a product in the storefront list.
type ListItem struct {
	ID             int64  `json:"id"`
	CategoryID     *int64 `json:"category_id"`
	Title          string `json:"title"`
	Subtitle       string `json:"subtitle"`
	Image          string `json:"image"`     // URL of the first image; "" when none
	MinPrice       int64  `json:"min_price"` // fen, cheapest SKU
	LandedMinPrice *int64 `json:"landed_min_price"`
	CompareAtPrice *int64 `json:"compare_at_price"` // of the cheapest SKU
	Availability   string `json:"availability"`
}

// ListPage is a page of the storefront list; NextCursor is null on the last.
type ListPage struct {
	Products   []ListItem `json:"products"`
	NextCursor *string    `json:"next_cursor"`
}

type listRow struct {
	ID             int64
	CategoryID     *int64
	TitleZH        string `gorm:"column:title_zh"`
	TitleEN        string `gorm:"column:title_en"`
	SubtitleZH     string `gorm:"column:subtitle_zh"`
	SubtitleEN     string `gorm:"column:subtitle_en"`
	Image          *string
	MinPrice       int64
	SalesCount     int64
	Sort           int
	Pub            time.Time
	Price          *int64
	CompareAtPrice *int64
	TaxCategory    *string
	Available      int64
}

// renderList runs one query for a page, whatever its size: the page of
// products, and for each its cheapest SKU and its stock.
func (s *Service) renderList(ctx context.Context, q listQuery) (*rendered, error) {
	tid, err := tenantID(ctx)
	if err != nil {
		return nil, err
	}
	order := listOrder[q.sort]
	where := "tenant_id = ? AND status = 'published'"
	args := []any{tid}
	if q.category != 0 {
		where += ` AND category_id IN (WITH RECURSIVE sub AS (
			SELECT id FROM categories WHERE tenant_id = ? AND id = ?
			UNION ALL SELECT c.id FROM categories c JOIN sub ON c.tenant_id = ? AND c.parent_id = sub.id)
			SELECT id FROM sub)`
		args = append(args, tid, q.category, tid)
	}
	if q.q != "" {
		where += ` AND title_search ILIKE '%' || lower(?) || '%'`
		args = append(args, strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`).Replace(q.q))
	}
	if c := q.after; c != nil {
		where += " AND " + order.after
		if q.sort == SortNewest {
			args = append(args, c.a, time.UnixMicro(c.b).UTC(), c.id)
		} else {
			args = append(args, c.a, c.id)
		}
	}
	args = append(args, q.limit+1)
	sql := `SELECT p.id, p.category_id, p.title_zh, p.title_en, p.subtitle_zh, p.subtitle_en, p.image, p.min_price, p.sales_count, p.sort, p.pub,
		k.price, k.compare_at_price, k.tax_category, coalesce(st.available, 0) AS available
		FROM (SELECT tenant_id, id, category_id,
				coalesce(content #>> '{zh-CN,title}', '') AS title_zh, coalesce(content #>> '{en,title}', '') AS title_en,
				coalesce(content #>> '{zh-CN,subtitle}', '') AS subtitle_zh, coalesce(content #>> '{en,subtitle}', '') AS subtitle_en,
				images -> 0 ->> 'hash' AS image, coalesce(min_price, 0) AS min_price, sales_count, sort,
				coalesce(published_at, created_at) AS pub
			FROM products WHERE ` + where + ` ORDER BY ` + order.inner + ` LIMIT ?) p
		LEFT JOIN LATERAL (SELECT price, compare_at_price, tax_category FROM skus
			WHERE tenant_id = p.tenant_id AND product_id = p.id AND archived_at IS NULL ORDER BY price, sort, id LIMIT 1) k ON true
		LEFT JOIN LATERAL (SELECT sum(l.on_hand - l.reserved) AS available FROM skus x
			JOIN stock_levels l ON l.tenant_id = x.tenant_id AND l.sku_id = x.id
			WHERE x.tenant_id = p.tenant_id AND x.product_id = p.id AND x.archived_at IS NULL) st ON true
		ORDER BY ` + order.outer
	var rows []listRow
	if err := db.InTenant(ctx, s.DB, func(tx *gorm.DB) error { return tx.Raw(sql, args...).Scan(&rows).Error }); err != nil {
		return nil, err
	}
	page := ListPage{Products: make([]ListItem, 0, min(len(rows), q.limit))}
	for i, r := range rows {
		if i == q.limit {
			last := rows[i-1]
			c := cursor{sort: q.sort, id: last.ID}
			switch q.sort {
			case SortNewest:
				c.a, c.b = int64(last.Sort), last.Pub.UnixMicro()
			case SortPriceAsc, SortPriceDesc:
				c.a = last.MinPrice
			case SortSales:
				c.a = last.SalesCount
			}
			next := c.String()
			page.NextCursor = &next
			break
		}
		it := ListItem{ID: r.ID, CategoryID: r.CategoryID, MinPrice: r.MinPrice, CompareAtPrice: r.CompareAtPrice, Availability: availability(r.Available)}
		it.Title = pick(map[string]string{LocaleZH: r.TitleZH, LocaleEN: r.TitleEN}, q.locale)
		it.Subtitle = pick(map[string]string{LocaleZH: r.SubtitleZH, LocaleEN: r.SubtitleEN}, q.locale)
		if r.Image != nil && hashPattern.MatchString(*r.Image) {
			it.Image = mediaURL(*r.Image)
		}
		if r.Price != nil {
			it.MinPrice = *r.Price
			if r.TaxCategory != nil {
				it.LandedMinPrice = s.landedTotal(*r.TaxCategory, *r.Price)
			}
		}
		page.Products = append(page.Products, it)
	}
	return jsonResponse(page)
}

func (s *Service) landedTotal(category string, price int64) *int64 {
	l, err := s.Rates.LandedPrice(category, price)
	if err != nil {
		return nil
	}
	return &l.Total
}

// ProductView is a product as the storefront shows it, in one locale.
type ProductView struct {
	ID             int64        `json:"id"`
	CategoryID     *int64       `json:"category_id"`
	Brand          string       `json:"brand"`
	Title          string       `json:"title"`
	Subtitle       string       `json:"subtitle"`
	Description    string       `json:"description"` // sanitised HTML
	Tags           []string     `json:"tags"`
	Images         []ImageView  `json:"images"`
	Options        []OptionView `json:"options"`
	MinPrice       int64        `json:"min_price"` // fen
	LandedMinPrice *int64       `json:"landed_min_price"`
	CompareAtPrice *int64       `json:"compare_at_price"`
	Availability   string       `json:"availability"`
	SKUs           []SKUView    `json:"skus"`
}

// ImageView is an image of a product.
type ImageView struct {
	URL string `json:"url"`
	Alt string `json:"alt"`
}

// OptionView is an option (colour, size) and its values: Value is the key
// SKUs name in option_values, Label what to show.
type OptionView struct {
	Name   string        `json:"name"`
	Values []OptionValue `json:"values"`
}

// OptionValue is one value of an option.
type OptionValue struct {
	Value string `json:"value"`
	Label string `json:"label"`
}

// SKUView is a SKU the consumer can choose.
type SKUView struct {
	ID             int64    `json:"id"`
	OptionValues   []string `json:"option_values"`
	Price          int64    `json:"price"` // fen
	CompareAtPrice *int64   `json:"compare_at_price"`
	LandedPrice    *int64   `json:"landed_price"` // price + CBEC tax
	Tax            *int64   `json:"tax"`
	TaxRate        string   `json:"tax_rate"`
	Availability   string   `json:"availability"`
}

// renderProduct reads a published product and its SKUs (with stock) in two
// queries, whatever the number of SKUs.
func (s *Service) renderProduct(ctx context.Context, id int64, locale string) (*rendered, error) {
	tid, err := tenantID(ctx)
	if err != nil {
		return nil, err
	}
	var p []struct {
		ID         int64
		CategoryID *int64
		Brand      string
		Tags       string
		Content    string
		Options    string
		Images     string
	}
	var skus []struct {
		ID             int64
		OptionValues   string
		Price          int64
		CompareAtPrice *int64
		TaxCategory    string
		Available      int64
	}
	err = db.InTenant(ctx, s.DB, func(tx *gorm.DB) error {
		if err := tx.Raw(`SELECT id, category_id, brand, array_to_json(tags)::text AS tags, content::text AS content,
			options::text AS options, images::text AS images
			FROM products WHERE tenant_id = ? AND id = ? AND status = 'published'`, tid, id).Scan(&p).Error; err != nil || len(p) == 0 {
			return err
		}
		return tx.Raw(`SELECT k.id, k.option_values::text AS option_values, k.price, k.compare_at_price, k.tax_category,
			coalesce(sum(l.on_hand - l.reserved), 0) AS available
			FROM skus k LEFT JOIN stock_levels l ON l.tenant_id = k.tenant_id AND l.sku_id = k.id
			WHERE k.tenant_id = ? AND k.product_id = ? AND k.archived_at IS NULL
			GROUP BY k.tenant_id, k.id ORDER BY k.sort, k.id`, tid, id).Scan(&skus).Error
	})
	if err != nil {
		return nil, err
	}
	if len(p) == 0 {
		return &rendered{notFound: errProductNotFound}, nil
	}
	row := p[0]
	v := ProductView{ID: row.ID, CategoryID: row.CategoryID, Brand: row.Brand, Tags: []string{}, Images: []ImageView{},
		Options: []OptionView{}, SKUs: make([]SKUView, 0, len(skus))}
	var content map[string]Content
	var options []Option
	var images []Image
	if err := json.Unmarshal([]byte(row.Content), &content); err != nil {
		return nil, err
	}
	_ = json.Unmarshal([]byte(row.Tags), &v.Tags)
	_ = json.Unmarshal([]byte(row.Options), &options)
	_ = json.Unmarshal([]byte(row.Images), &images)
	if v.Tags == nil {
		v.Tags = []string{}
	}
	field := func(get func(Content) string) string {
		return pick(map[string]string{LocaleZH: get(content[LocaleZH]), LocaleEN: get(content[LocaleEN])}, locale)
	}
	v.Title = field(func(c Content) string { return c.Title })
	v.Subtitle = field(func(c Content) string { return c.Subtitle })
	v.Description = field(func(c Content) string { return c.Description })
	for _, im := range images {
		if hashPattern.MatchString(im.Hash) {
			v.Images = append(v.Images, ImageView{URL: mediaURL(im.Hash), Alt: pick(im.Alt, locale)})
		}
	}
	for _, o := range options {
		ov := OptionView{Name: pick(o.Name, locale), Values: make([]OptionValue, 0, len(o.Values))}
		for _, val := range o.Values {
			ov.Values = append(ov.Values, OptionValue{Value: optionKey(val), Label: pick(val, locale)})
		}
		v.Options = append(v.Options, ov)
	}
	var total int64
	cheapest := -1
	for i, k := range skus {
		sv := SKUView{ID: k.ID, OptionValues: []string{}, Price: k.Price, CompareAtPrice: k.CompareAtPrice, Availability: availability(k.Available)}
		_ = json.Unmarshal([]byte(k.OptionValues), &sv.OptionValues)
		if l, err := s.Rates.LandedPrice(k.TaxCategory, k.Price); err == nil {
			sv.LandedPrice, sv.Tax, sv.TaxRate = &l.Total, &l.Tax, l.TaxRate
		}
		v.SKUs = append(v.SKUs, sv)
		total += max(k.Available, 0)
		if cheapest < 0 || k.Price < skus[cheapest].Price {
			cheapest = i
		}
	}
	v.Availability = availability(total)
	if cheapest >= 0 {
		c := v.SKUs[cheapest]
		v.MinPrice, v.LandedMinPrice, v.CompareAtPrice = c.Price, c.LandedPrice, c.CompareAtPrice
	}
	return jsonResponse(v)
}

// CategoryNode is a category of the storefront tree.
type CategoryNode struct {
	ID       int64          `json:"id"`
	Name     string         `json:"name"`
	Children []CategoryNode `json:"children"`
}

func (s *Service) renderCategories(ctx context.Context, locale string) (*rendered, error) {
	tid, err := tenantID(ctx)
	if err != nil {
		return nil, err
	}
	var rows []struct {
		ID       int64
		ParentID *int64
		Name     string
	}
	if err := db.InTenant(ctx, s.DB, func(tx *gorm.DB) error {
		return tx.Raw(`SELECT id, parent_id, name::text AS name FROM categories WHERE tenant_id = ? ORDER BY sort, id LIMIT 5000`, tid).Scan(&rows).Error
	}); err != nil {
		return nil, err
	}
	children := map[int64][]int{} // parent id (0: root) → row indexes, in order
	known := make(map[int64]bool, len(rows))
	for _, r := range rows {
		known[r.ID] = true
	}
	for i, r := range rows {
		parent := int64(0)
		if r.ParentID != nil && known[*r.ParentID] {
			parent = *r.ParentID
		}
		children[parent] = append(children[parent], i)
	}
	var build func(parent int64, depth int) []CategoryNode
	build = func(parent int64, depth int) []CategoryNode {
		out := []CategoryNode{}
		if depth > 32 { // the admin refuses cycles; this bounds a corrupt tree
			return out
		}
		for _, i := range children[parent] {
			var name Text
			_ = json.Unmarshal([]byte(rows[i].Name), &name)
			out = append(out, CategoryNode{ID: rows[i].ID, Name: pick(name, locale), Children: build(rows[i].ID, depth+1)})
		}
		return out
	}
	return jsonResponse(map[string]any{"categories": build(0, 0)})
}
