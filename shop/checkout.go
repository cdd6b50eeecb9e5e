package shop

// Checkout: POST /api/v1/orders. Everything is recomputed on the server
// from the catalog as it is now: prices, stock, freight and the CBEC tax.
// Before the order exists, the rules of cross-border retail are checked:
// product data (positive list, HS code, customs fields), a real-name buyer
// identity, one trade mode per order, the per-order limit and the annual
// limit per buyer across every shop of the platform. Stock is reserved in
// the same transaction with a conditional UPDATE, so it never oversells.

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/big"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"

	"github.com/minishop/minishop/internal/db"
	"github.com/minishop/minishop/internal/errs"
	"github.com/minishop/minishop/internal/scope"
)

// OrderConfig are the numbers of checkout that change by regulation or by
// choice. Zero values take the defaults.
type OrderConfig struct {
	PaymentTimeout time.Duration // unpaid orders close after this; default 30m
	OrderLimit     int64         // fen, per order incl. tax and freight; default ¥5,000
	AnnualLimit    int64         // fen, per buyer ID number and calendar year, all shops; default ¥26,000
}

func (c OrderConfig) withDefaults() OrderConfig {
	if c.PaymentTimeout <= 0 {
		c.PaymentTimeout = 30 * time.Minute
	}
	if c.OrderLimit <= 0 {
		c.OrderLimit = 5_000_00
	}
	if c.AnnualLimit <= 0 {
		c.AnnualLimit = 26_000_00
	}
	return c
}

// ParsePaymentTimeout reads MINISHOP_ORDER_PAYMENT_TIMEOUT ("30m"; empty is
// the default). It must be from 1 minute to 24 hours.
func ParsePaymentTimeout(s string) (time.Duration, error) {
	if strings.TrimSpace(s) == "" {
		return 30 * time.Minute, nil
	}
	d, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil || d < time.Minute || d > 24*time.Hour {
		return 0, fmt.Errorf("%q is not a duration from 1m to 24h such as 30m", s)
	}
	return d, nil
}

// Checkout limits.
const (
	MaxOrderLines = 50
	maxKeyLen     = 64
)

// OrderLineInput is one line of an order placed with explicit lines.
type OrderLineInput struct {
	SKUID    int64 `json:"sku_id" gorm:"column:sku_id"`
	Quantity int   `json:"quantity"`
}

// OrderInput places an order: explicit lines, or (without lines) the
// available lines of the cart; the delivery address and the buyer identity
// are the customer's own.
type OrderInput struct {
	Lines      []OrderLineInput `json:"lines"`
	AddressID  int64            `json:"address_id"`
	IdentityID int64            `json:"identity_id"`
	Note       string           `json:"note"`
}

// refuse is a refusal of checkout with its message in English and Chinese;
// the error writer picks the language the client asked for (Accept-Language).
func refuse(kind errs.Kind, code, en, zh string, details any) error {
	e := errs.L(kind, code, en, zh)
	if details != nil {
		e = e.WithDetails(details)
	}
	return e
}

func yuan(fen int64) string {
	return strconv.FormatInt(fen/100, 10) + "." + fmt.Sprintf("%02d", fen%100)
}

var keyPattern = regexp.MustCompile(`^[A-Za-z0-9_.:-]{1,64}$`)

// ErrKeyRequired is the answer to a checkout without an Idempotency-Key.
var ErrKeyRequired = errs.E(errs.Invalid, "idempotency_key_required",
	"send an Idempotency-Key header (1 to 64 letters, digits, _ . : -), the same on every retry of this order")

func (in *OrderInput) normalize() error {
	if len(in.Lines) > MaxOrderLines {
		return invalid("lines", fmt.Sprintf("an order has at most %d lines", MaxOrderLines))
	}
	seen := map[int64]bool{}
	for i, l := range in.Lines {
		if l.SKUID <= 0 {
			return invalid("lines["+strconv.Itoa(i)+"].sku_id", "sku_id is required")
		}
		if err := checkQuantity(l.Quantity); err != nil {
			return invalid("lines["+strconv.Itoa(i)+"].quantity", fmt.Sprintf("the quantity must be 1 to %d", MaxLineQuantity))
		}
		if seen[l.SKUID] {
			return invalid("lines", "each SKU appears once; add up its quantities")
		}
		seen[l.SKUID] = true
	}
	if len(in.Lines) == 0 {
		in.Lines = nil // "lines": [] and no lines are the same request: the cart
	}
	in.Note = cleanText(in.Note)
	if utf8.RuneCountInString(in.Note) > 200 || hasControl(in.Note) {
		return invalid("note", "the note is at most 200 characters")
	}
	return nil
}

// hash is what makes two requests "the same body": the decoded input, so
// whitespace and key order do not matter.
func (in OrderInput) hash() string {
	b, _ := json.Marshal(in)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

var errKeyReused = errs.E(errs.Conflict, "idempotency_key_reused",
	"this Idempotency-Key was used for a different order; use a new key for a new order")

// replay returns the stored answer of key, if any.
func replay(tx *gorm.DB, tid, cid int64, key, hash string) (*Order, bool, error) {
	var rows []struct {
		RequestHash string
		Response    string
	}
	if err := tx.Raw(`SELECT request_hash, response FROM idempotency_keys WHERE tenant_id = ? AND customer_id = ? AND key = ?`,
		tid, cid, key).Scan(&rows).Error; err != nil {
		return nil, false, err
	}
	if len(rows) == 0 {
		return nil, false, nil
	}
	if rows[0].RequestHash != hash {
		return nil, true, errKeyReused
	}
	var o Order
	if err := json.Unmarshal([]byte(rows[0].Response), &o); err != nil {
		return nil, true, fmt.Errorf("stored answer of idempotency key: %w", err)
	}
	return &o, true, nil
}

// checkoutSKU is a SKU as checkout needs it.
type checkoutSKU struct {
	ID            int64
	ProductID     int64
	Code          string
	OptionValues  string
	Price         int64
	TaxCategory   string
	ArchivedAt    *time.Time
	Status        string
	TitleZH       string `gorm:"column:title_zh"`
	TitleEN       string `gorm:"column:title_en"`
	HSCode        string `gorm:"column:hs_code"`
	OriginCountry string
	GName         string `gorm:"column:gname"`
	GModel        string `gorm:"column:gmodel"`
	Unit          string
	LegalUnit1    string   `gorm:"column:legal_unit1"`
	LegalQty1     *float64 `gorm:"column:legal_qty1"`
	NetWeightG    *int64
	GrossWeightG  *int64
	WeightG       *int64
	ItemRecordNo  string
	TradeMode     string
	PositiveList  bool
}

// Problem of a SKU's cross-border data, for product_not_compliant.
func (k checkoutSKU) problems(rates TaxRates) []Problem {
	var p []Problem
	add := func(field, msg string) { p = append(p, Problem{SKU: k.Code, Field: field, Message: msg}) }
	if k.Price <= 0 {
		add("price", "no price")
	}
	if !k.PositiveList {
		add("positive_list", "not confirmed on the CBEC positive list")
	}
	if k.HSCode == "" {
		add("hs_code", "no HS code")
	}
	if k.OriginCountry == "" {
		add("origin_country", "no country of origin")
	}
	if k.GName == "" || k.GModel == "" {
		add("gname", "no customs name or specification")
	}
	if k.Unit == "" || k.LegalUnit1 == "" || k.LegalQty1 == nil {
		add("unit", "no declared or legal unit")
	}
	if k.NetWeightG == nil || k.GrossWeightG == nil {
		add("net_weight_g", "no net or gross weight")
	}
	if k.TradeMode == "1210" && k.ItemRecordNo == "" {
		add("item_record_no", "bonded stock without a product record number")
	}
	if _, err := rates.Composite(k.TaxCategory); err != nil {
		add("tax_category", "tax category not configured: "+k.TaxCategory)
	}
	return p
}

func (k checkoutSKU) weight() int64 {
	switch {
	case k.GrossWeightG != nil:
		return *k.GrossWeightG
	case k.WeightG != nil:
		return *k.WeightG
	}
	return 0
}

// fullRate is the tax rate of general trade for the single indivisible item
// above the per-order limit: import VAT and consumption tax in full,
// (ct + VAT) / (1 − ct). The MFN tariff of the HS code is not modelled.
func (t TaxRates) fullRate(category string) (*big.Rat, error) {
	ct, ok := t.Consumption[category]
	if !ok {
		return nil, fmt.Errorf("unknown tax category %q", category)
	}
	num := new(big.Rat).Add(ct, t.VAT)
	return num.Quo(num, new(big.Rat).Sub(big.NewRat(1, 1), ct)), nil
}

// allocate splits total over weights in proportion (largest remainder,
// ties to the earlier line), so the parts add up to total exactly. With no
// weight at all, the first part takes everything.
func allocate(total int64, weights []int64) []int64 {
	out := make([]int64, len(weights))
	if len(weights) == 0 || total == 0 {
		return out
	}
	var sum int64
	for _, w := range weights {
		sum += w
	}
	if sum == 0 {
		out[0] = total
		return out
	}
	type rem struct {
		i int
		r *big.Int
	}
	rems := make([]rem, len(weights))
	left := total
	T, S := big.NewInt(total), big.NewInt(sum)
	for i, w := range weights {
		q, r := new(big.Int).QuoRem(new(big.Int).Mul(T, big.NewInt(w)), S, new(big.Int))
		out[i] = q.Int64()
		left -= out[i]
		rems[i] = rem{i, r}
	}
	sort.SliceStable(rems, func(a, b int) bool { return rems[a].r.Cmp(rems[b].r) > 0 })
	for k := 0; left > 0; k = (k + 1) % len(rems) {
		out[rems[k].i]++
		left--
	}
	return out
}

// PricedLine is a line's value and tax rate, the input of PriceOrder.
type PricedLine struct {
	Goods int64
	Rate  *big.Rat
}

// Pricing is the tax computation of an order.
type Pricing struct {
	FreightShares  []int64
	DiscountShares []int64
	Taxes          []int64
	GoodsValue     int64
	Freight        int64
	Discount       int64
	TaxTotal       int64
	ActuralPaid    int64
}

// PriceOrder computes the CBEC tax of an order: the dutiable value of each
// line is its goods value plus its share of the freight minus its share of
// the discount (shares in proportion to goods value, adding up exactly);
// its tax is that value times the line's rate, rounded half up to the fen
// once per line. taxTotal is the sum of the line taxes, so
// acturalPaid = goodsValue + freight + taxTotal − discount holds exactly.
func PriceOrder(lines []PricedLine, freight, discount int64) Pricing {
	p := Pricing{Freight: freight, Discount: discount}
	goods := make([]int64, len(lines))
	for i, l := range lines {
		goods[i] = l.Goods
		p.GoodsValue += l.Goods
	}
	p.FreightShares = allocate(freight, goods)
	p.DiscountShares = allocate(discount, goods)
	p.Taxes = make([]int64, len(lines))
	for i, l := range lines {
		base := l.Goods + p.FreightShares[i] - p.DiscountShares[i]
		if base < 0 {
			base = 0
		}
		p.Taxes[i] = roundHalfUp(new(big.Rat).Mul(l.Rate, new(big.Rat).SetInt64(base)))
		p.TaxTotal += p.Taxes[i]
	}
	p.ActuralPaid = p.GoodsValue + freight + p.TaxTotal - discount
	return p
}

func newOutTradeNo(tid int64) (string, error) {
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return "M" + strconv.FormatInt(tid, 36) + "x" + hex.EncodeToString(b), nil
}

func orderBuyerPurpose(outTradeNo, field string) string {
	return "order-buyer/" + outTradeNo + "/" + field
}

// CreateOrder places an order for the signed-in customer under an
// idempotency key. The same key with the same input returns the order it
// made (created=false) exactly as it was first returned; with another input
// it is a conflict (idempotency_key_reused). Refusals: 400 for malformed
// input, 409 for stock (sold_out, insufficient_stock), 422 for the
// cross-border rules (see the codes in the refuse calls), none of which
// changes anything.
func (s *Service) CreateOrder(ctx context.Context, key string, in OrderInput) (order *Order, created bool, err error) {
	tid, cid, err := customerScope(ctx)
	if err != nil {
		return nil, false, err
	}
	if !keyPattern.MatchString(key) {
		return nil, false, ErrKeyRequired
	}
	if err := in.normalize(); err != nil {
		return nil, false, err
	}
	hash := in.hash()
	// A retry of a placed order needs nothing else.
	err = db.InTenant(ctx, s.DB, func(tx *gorm.DB) error {
		var err error
		order, _, err = replay(tx, tid, cid, key, hash)
		return err
	})
	if err != nil || order != nil {
		return order, false, err
	}
	if in.AddressID <= 0 {
		return nil, false, refuse(errs.Unprocessable, "address_required", "choose a delivery address (address_id)", "请选择收货地址", nil)
	}
	if in.IdentityID <= 0 {
		return nil, false, refuse(errs.Unprocessable, "identity_required",
			"cross-border orders need the buyer's real name and ID number: choose a buyer identity (identity_id)",
			"跨境订单需要订购人实名信息：请选择订购人身份（identity_id）", nil)
	}
	buyer, err := s.OpenIdentity(ctx, cid, in.IdentityID)
	if errs.Is(err, errs.NotFound) {
		return nil, false, refuse(errs.Unprocessable, "identity_not_found", "no such buyer identity", "订购人身份不存在", nil)
	}
	if err != nil {
		return nil, false, err
	}
	now := time.Now()
	if _, nerr := validateName(buyer.Name); nerr != nil {
		return nil, false, refuse(errs.Unprocessable, "identity_invalid", "the buyer identity is not valid: add it again", "订购人身份无效，请重新添加", nil)
	}
	if _, nerr := validateIDNumber(buyer.IDNumber, now); nerr != nil {
		return nil, false, refuse(errs.Unprocessable, "identity_invalid", "the buyer identity is not valid: add it again", "订购人身份无效，请重新添加", nil)
	}
	outTradeNo, err := newOutTradeNo(tid)
	if err != nil {
		return nil, false, err
	}
	cfg := s.Checkout.withDefaults()
	var snapshot []byte
	ctx, moved := withStockChanges(ctx) // the availability bands the reservations move
	err = db.InTenant(ctx, s.DB, func(tx *gorm.DB) error {
		if err := lockCustomer(tx, tid, cid); err != nil {
			return err
		}
		res := tx.Exec(`INSERT INTO idempotency_keys (tenant_id, customer_id, key, request_hash) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING`,
			tid, cid, key, hash)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 { // a concurrent request with this key committed first
			var err error
			order, _, err = replay(tx, tid, cid, key, hash)
			return err
		}
		var err error
		snapshot, err = s.placeOrder(ctx, tx, tid, cid, key, outTradeNo, in, buyer, cfg, now)
		return err
	})
	if err != nil {
		return nil, false, err
	}
	if order != nil {
		return order, false, nil
	}
	s.stockMoved(ctx, tid, moved) // only a band that changed invalidates
	var o Order
	if err := json.Unmarshal(snapshot, &o); err != nil {
		return nil, false, err
	}
	return &o, true, nil
}

// placeOrder does the checkout in tx and returns the order as it will be
// answered (and replayed).
func (s *Service) placeOrder(ctx context.Context, tx *gorm.DB, tid, cid int64, key, outTradeNo string, in OrderInput,
	buyer *BuyerIdentity, cfg OrderConfig, now time.Time) ([]byte, error) {
	lines := in.Lines
	fromCart := len(lines) == 0
	if fromCart {
		if err := tx.Raw(`SELECT sku_id, quantity FROM cart_items WHERE tenant_id = ? AND customer_id = ? ORDER BY added_at, sku_id`,
			tid, cid).Scan(&lines).Error; err != nil {
			return nil, err
		}
		if len(lines) == 0 {
			return nil, refuse(errs.Unprocessable, "cart_empty", "the cart is empty: add items, or send lines", "购物车是空的", nil)
		}
		if len(lines) > MaxOrderLines {
			return nil, invalid("lines", fmt.Sprintf("an order has at most %d lines", MaxOrderLines))
		}
	}
	// The address.
	var addrs []Address
	if err := tx.Raw(`SELECT `+addressColumns+` FROM addresses WHERE tenant_id = ? AND customer_id = ? AND id = ?`,
		tid, cid, in.AddressID).Scan(&addrs).Error; err != nil {
		return nil, err
	}
	if len(addrs) == 0 {
		return nil, refuse(errs.Unprocessable, "address_not_found", "no such delivery address", "收货地址不存在", nil)
	}
	a := addrs[0]
	addr := OrderAddress{Consignee: a.Consignee, Phone: a.Phone, ProvinceCode: a.ProvinceCode, CityCode: a.CityCode,
		DistrictCode: a.DistrictCode, Province: a.Province, City: a.City, District: a.District, Detail: a.Detail}

	// The SKUs, as they are now.
	ids := make([]int64, len(lines))
	for i, l := range lines {
		ids[i] = l.SKUID
	}
	var skus []checkoutSKU
	if err := tx.Raw(`SELECT s.id, s.product_id, s.code, s.option_values::text AS option_values, s.price, s.tax_category, s.archived_at,
			p.status, COALESCE(p.content -> 'zh-CN' ->> 'title', '') AS title_zh, COALESCE(p.content -> 'en' ->> 'title', '') AS title_en,
			s.hs_code, s.origin_country, s.gname, s.gmodel, s.unit, s.legal_unit1, s.legal_qty1::float8 AS legal_qty1,
			s.net_weight_g, s.gross_weight_g, s.weight_g, s.item_record_no, s.trade_mode, s.positive_list
		FROM skus s JOIN products p ON p.tenant_id = s.tenant_id AND p.id = s.product_id
		WHERE s.tenant_id = ? AND s.id IN ?`, tid, ids).Scan(&skus).Error; err != nil {
		return nil, err
	}
	byID := map[int64]checkoutSKU{}
	for _, k := range skus {
		byID[k.ID] = k
	}
	var unavailable []map[string]any
	var problems []Problem
	tradeModes := map[string]bool{}
	for _, l := range lines {
		k, ok := byID[l.SKUID]
		switch {
		case !ok || k.Status == StatusDraft:
			unavailable = append(unavailable, map[string]any{"sku_id": l.SKUID, "reason": "sku_not_found"})
		case k.Status != StatusPublished || k.ArchivedAt != nil:
			unavailable = append(unavailable, map[string]any{"sku_id": l.SKUID, "reason": "not_for_sale"})
		default:
			problems = append(problems, k.problems(s.Rates)...)
			tradeModes[k.TradeMode] = true
		}
	}
	if len(unavailable) > 0 {
		return nil, refuse(errs.Unprocessable, "not_for_sale", "some items are no longer for sale; remove them and try again",
			"部分商品已下架，请移除后重试", map[string]any{"items": unavailable})
	}
	if len(problems) > 0 {
		return nil, refuse(errs.Unprocessable, "product_not_compliant",
			"some items cannot be sold cross-border at the moment (incomplete customs data); the shop has been told",
			"部分商品的跨境申报信息不完整，暂时无法购买", map[string]any{"problems": problems})
	}
	if len(tradeModes) > 1 {
		return nil, refuse(errs.Unprocessable, "mixed_trade_modes",
			"bonded-warehouse items and direct-mail items ship under different customs modes: order them separately",
			"保税仓商品与直邮商品须分开下单", nil)
	}
	tradeMode := ""
	for m := range tradeModes {
		tradeMode = m
	}

	// Freight, then the tax per line.
	var goods, weight int64
	for _, l := range lines {
		k := byID[l.SKUID]
		goods += k.Price * int64(l.Quantity)
		weight += k.weight() * int64(l.Quantity)
	}
	tpl, err := defaultTemplate(tx, tid)
	if err != nil {
		return nil, err
	}
	freight := tpl.Freight(goods, weight, addr.ProvinceCode)
	const discount = 0 // no promotions yet; the formulas carry it
	taxMode := TaxModeCBEC
	price := func(full bool) (Pricing, []string, error) {
		pl := make([]PricedLine, len(lines))
		rates := make([]string, len(lines))
		for i, l := range lines {
			k := byID[l.SKUID]
			r, err := s.Rates.Composite(k.TaxCategory)
			if full {
				r, err = s.Rates.fullRate(k.TaxCategory)
			}
			if err != nil {
				return Pricing{}, nil, err
			}
			pl[i] = PricedLine{Goods: k.Price * int64(l.Quantity), Rate: r}
			rates[i] = RatePercent(r)
		}
		return PriceOrder(pl, freight, discount), rates, nil
	}
	pr, rateText, err := price(false)
	if err != nil {
		return nil, err
	}
	if pr.ActuralPaid > cfg.OrderLimit {
		if len(lines) != 1 || lines[0].Quantity != 1 {
			return nil, refuse(errs.Unprocessable, "order_limit_exceeded",
				fmt.Sprintf("a cross-border order may total at most ¥%s including tax and freight; this one is ¥%s: split it into several orders",
					yuan(cfg.OrderLimit), yuan(pr.ActuralPaid)),
				fmt.Sprintf("跨境电商单笔交易限值为 ¥%s（含税费与运费），本订单为 ¥%s，请分开下单", yuan(cfg.OrderLimit), yuan(pr.ActuralPaid)),
				map[string]int64{"limit": cfg.OrderLimit, "total": pr.ActuralPaid})
		}
		// A single indivisible item may exceed the limit, taxed in full as general trade.
		taxMode = TaxModeGeneralTrade
		if pr, rateText, err = price(true); err != nil {
			return nil, err
		}
	}

	// The order row.
	nameSealed, err := s.Keys.Seal(ctx, tx, tid, orderBuyerPurpose(outTradeNo, "name"), []byte(buyer.Name))
	if err != nil {
		return nil, err
	}
	idSealed, err := s.Keys.Seal(ctx, tx, tid, orderBuyerPurpose(outTradeNo, "id_number"), []byte(buyer.IDNumber))
	if err != nil {
		return nil, err
	}
	addrJSON, _ := json.Marshal(addr)
	var tplID *int64
	if tpl != nil {
		tplID = &tpl.ID
	}
	var orderID int64
	if err := tx.Raw(`INSERT INTO orders (tenant_id, out_trade_no, customer_id, goods_value, freight, discount, tax_total, actural_paid,
			tax_mode, trade_mode, weight_g, shipping_template_id, address, identity_id, buyer_name_masked, buyer_id_masked, buyer_id_hash,
			buyer_name_sealed, buyer_id_sealed, note, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, now() + ?::interval) RETURNING id`,
		tid, outTradeNo, cid, pr.GoodsValue, pr.Freight, pr.Discount, pr.TaxTotal, pr.ActuralPaid,
		taxMode, tradeMode, weight, tplID, string(addrJSON), buyer.ID, maskName(buyer.Name), maskIDNumber(buyer.IDNumber), buyer.IDHash,
		db.Bytes(nameSealed), db.Bytes(idSealed), in.Note, fmt.Sprintf("%d milliseconds", cfg.PaymentTimeout.Milliseconds())).Scan(&orderID).Error; err != nil {
		return nil, err
	}

	// The annual limit, across every shop (see cbec_annual_hold in 00007).
	var used int64
	if err := tx.Raw(`SELECT cbec_annual_hold(?, ?, ?, ?, ?, ?)`, tid, orderID, buyer.IDHash, now.In(cst).Year(),
		pr.ActuralPaid, cfg.AnnualLimit).Scan(&used).Error; err != nil {
		return nil, err
	}
	if used+pr.ActuralPaid > cfg.AnnualLimit {
		remaining := cfg.AnnualLimit - used
		if remaining < 0 {
			remaining = 0
		}
		return nil, refuse(errs.Unprocessable, "annual_limit_exceeded",
			fmt.Sprintf("cross-border purchases are limited to ¥%s per person per calendar year; this buyer has ¥%s left this year and the order is ¥%s",
				yuan(cfg.AnnualLimit), yuan(remaining), yuan(pr.ActuralPaid)),
			fmt.Sprintf("跨境电商个人年度交易限值为 ¥%s，该订购人今年剩余额度 ¥%s，本订单为 ¥%s", yuan(cfg.AnnualLimit), yuan(remaining), yuan(pr.ActuralPaid)),
			map[string]int64{"limit": cfg.AnnualLimit, "remaining": remaining, "total": pr.ActuralPaid})
	}

	// Stock, in SKU order so concurrent orders lock rows in one order.
	order := make([]int, len(lines))
	for i := range order {
		order[i] = i
	}
	sort.Slice(order, func(a, b int) bool { return lines[order[a]].SKUID < lines[order[b]].SKUID })
	warehouses := make([]int64, len(lines))
	ref := "order:" + strconv.FormatInt(orderID, 10)
	for _, i := range order {
		w, err := s.reserve(ctx, tx, tid, lines[i].SKUID, int64(lines[i].Quantity), ref)
		if err != nil {
			return nil, err
		}
		warehouses[i] = w
	}

	// Lines.
	out := Order{}
	for i, l := range lines {
		k := byID[l.SKUID]
		title := Text{}
		if k.TitleZH != "" {
			title[LocaleZH] = k.TitleZH
		}
		if k.TitleEN != "" {
			title[LocaleEN] = k.TitleEN
		}
		tj, _ := json.Marshal(title)
		g := k.Price * int64(l.Quantity)
		total := g + pr.FreightShares[i] + pr.Taxes[i] - pr.DiscountShares[i]
		if err := tx.Exec(`INSERT INTO order_lines (tenant_id, order_id, line_no, sku_id, product_id, warehouse_id, sku_code, title, option_values,
				quantity, unit_price, goods, freight_share, discount_share, tax_category, tax_rate, tax, total, hs_code, gname,
				item_record_no, origin_country, unit, trade_mode)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			tid, orderID, i+1, k.ID, k.ProductID, warehouses[i], k.Code, string(tj), k.OptionValues,
			l.Quantity, k.Price, g, pr.FreightShares[i], pr.DiscountShares[i], k.TaxCategory, rateText[i], pr.Taxes[i], total,
			k.HSCode, k.GName, k.ItemRecordNo, k.OriginCountry, k.Unit, k.TradeMode).Error; err != nil {
			return nil, err
		}
	}
	if fromCart {
		if err := tx.Exec(`DELETE FROM cart_items WHERE tenant_id = ? AND customer_id = ? AND sku_id IN ?`, tid, cid, ids).Error; err != nil {
			return nil, err
		}
	}
	if err := orderEvent(ctx, tx, tid, orderID, "created", "", OrderPendingPayment, map[string]any{
		"actural_paid": pr.ActuralPaid, "tax_mode": taxMode, "lines": len(lines), "from_cart": fromCart}); err != nil {
		return nil, err
	}
	o, err := loadOrder(tx, tid, orderID, cid, false)
	if err != nil {
		return nil, err
	}
	out = *o
	snapshot, err := json.Marshal(out)
	if err != nil {
		return nil, err
	}
	if err := tx.Exec(`UPDATE idempotency_keys SET order_id = ?, response = ? WHERE tenant_id = ? AND customer_id = ? AND key = ?`,
		orderID, string(snapshot), tid, cid, key).Error; err != nil {
		return nil, err
	}
	return snapshot, nil
}

// reserve holds qty of a SKU in the warehouse with the most available, with
// a conditional UPDATE that cannot take more than is available however many
// checkouts run at once, and logs the movement.
func (s *Service) reserve(ctx context.Context, tx *gorm.DB, tid, skuID, qty int64, ref string) (int64, error) {
	a := scope.ActorOf(ctx)
	for attempt := 0; attempt < 5; attempt++ {
		var got []struct {
			WarehouseID int64
			OnHand      int64
			Reserved    int64
		}
		if err := tx.Raw(`UPDATE stock_levels SET reserved = reserved + ?, updated_at = now()
			WHERE tenant_id = ? AND sku_id = ? AND on_hand - reserved >= ? AND warehouse_id = (
				SELECT warehouse_id FROM stock_levels WHERE tenant_id = ? AND sku_id = ? AND on_hand - reserved >= ?
				ORDER BY on_hand - reserved DESC, warehouse_id LIMIT 1)
			RETURNING warehouse_id, on_hand, reserved`, qty, tid, skuID, qty, tid, skuID, qty).Scan(&got).Error; err != nil {
			return 0, err
		}
		if len(got) == 1 {
			g := got[0]
			if err := tx.Exec(`INSERT INTO stock_movements (tenant_id, sku_id, warehouse_id, kind, quantity, on_hand_after, reserved_after, reason, ref, actor)
				VALUES (?, ?, ?, ?, ?, ?, ?, 'order placed', ?, ?)`, tid, skuID, g.WarehouseID, MoveReserved, qty, g.OnHand, g.Reserved, ref, a.Kind+":"+a.ID).Error; err != nil {
				return 0, err
			}
			if err := tx.Exec(`UPDATE products SET version = version + 1 WHERE tenant_id = ? AND id = (SELECT product_id FROM skus WHERE tenant_id = ? AND id = ?)`,
				tid, tid, skuID).Error; err != nil {
				return 0, err
			}
			return g.WarehouseID, noteStockMove(ctx, tx, tid, skuID, -qty) // after the product's row lock
		}
		// Nothing matched: either no warehouse has enough, or the one we
		// picked lost it to a concurrent order since; look again.
		var best []int64
		if err := tx.Raw(`SELECT COALESCE(max(on_hand - reserved), 0) FROM stock_levels WHERE tenant_id = ? AND sku_id = ?`, tid, skuID).Scan(&best).Error; err != nil {
			return 0, err
		}
		if len(best) == 0 || best[0] < qty {
			var avail int64
			if len(best) > 0 {
				avail = best[0]
			}
			if avail <= 0 {
				return 0, refuse(errs.Conflict, "sold_out", "an item is sold out", "商品已售罄", map[string]int64{"sku_id": skuID, "available": 0})
			}
			return 0, refuse(errs.Conflict, "insufficient_stock", fmt.Sprintf("only %d left of an item", avail),
				fmt.Sprintf("商品库存仅剩 %d 件", avail), map[string]int64{"sku_id": skuID, "available": avail})
		}
	}
	return 0, errs.E(errs.Conflict, "insufficient_stock", "the item is in high demand; try again")
}

// moveOrderStock releases (kind released) or sells (kind sold) what the
// order reserved, line by line, and logs each movement.
func moveOrderStock(ctx context.Context, tx *gorm.DB, tid int64, o *Order, kind string) error {
	a := scope.ActorOf(ctx)
	ref := "order:" + strconv.FormatInt(o.ID, 10)
	lines := append([]OrderLine(nil), o.Lines...)
	sort.Slice(lines, func(i, j int) bool { return lines[i].SKUID < lines[j].SKUID })
	for _, l := range lines {
		q := `UPDATE stock_levels SET reserved = reserved - ?, updated_at = now()
			WHERE tenant_id = ? AND sku_id = ? AND warehouse_id = ? AND reserved >= ? RETURNING on_hand, reserved`
		args := []any{l.Quantity, tid, l.SKUID, l.WarehouseID, l.Quantity}
		qty := int64(l.Quantity) // positive, as Move logs releases and sales
		reason := "order closed"
		if kind == MoveSold {
			q = `UPDATE stock_levels SET reserved = reserved - ?, on_hand = on_hand - ?, updated_at = now()
				WHERE tenant_id = ? AND sku_id = ? AND warehouse_id = ? AND reserved >= ? AND on_hand >= ? RETURNING on_hand, reserved`
			args = []any{l.Quantity, l.Quantity, tid, l.SKUID, l.WarehouseID, l.Quantity, l.Quantity}
			reason = "order paid"
		}
		var got []struct{ OnHand, Reserved int64 }
		if err := tx.Raw(q, args...).Scan(&got).Error; err != nil {
			return err
		}
		if len(got) != 1 {
			return fmt.Errorf("order %d: the reservation of SKU %d in warehouse %d is missing", o.ID, l.SKUID, l.WarehouseID)
		}
		if err := tx.Exec(`INSERT INTO stock_movements (tenant_id, sku_id, warehouse_id, kind, quantity, on_hand_after, reserved_after, reason, ref, actor)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, tid, l.SKUID, l.WarehouseID, kind, qty, got[0].OnHand, got[0].Reserved, reason, ref, a.Kind+":"+a.ID).Error; err != nil {
			return err
		}
		if err := tx.Exec(`UPDATE products SET version = version + 1 WHERE tenant_id = ? AND id = ?`, tid, l.ProductID).Error; err != nil {
			return err
		}
		if kind == MoveReleased { // a sale leaves on hand − reserved as it was
			if err := noteStockMove(ctx, tx, tid, l.SKUID, qty); err != nil {
				return err
			}
		}
	}
	return nil
}
