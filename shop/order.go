package shop

// Orders: what a customer bought, priced, taxed and checked at checkout,
// and what became of it. The checkout itself is in checkout.go, payments in
// order_pay.go, the state machine in order_state.go.

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/minishop/minishop/internal/db"
	"github.com/minishop/minishop/internal/errs"
)

// Tax modes of an order.
const (
	TaxModeCBEC         = "cbec"          // the CBEC composite rate (70% of VAT and consumption tax)
	TaxModeGeneralTrade = "general_trade" // the single indivisible item above the per-order limit: full tax
)

// OrderAddress is the delivery address as it was at checkout.
type OrderAddress struct {
	Consignee    string `json:"consignee"`
	Phone        string `json:"phone"`
	ProvinceCode string `json:"province_code"`
	CityCode     string `json:"city_code"`
	DistrictCode string `json:"district_code"`
	Province     string `json:"province"`
	City         string `json:"city"`
	District     string `json:"district"`
	Detail       string `json:"detail"`
}

// OrderBuyer is the order's buyer identity, masked.
type OrderBuyer struct {
	IdentityID     int64  `json:"identity_id"`
	NameMasked     string `json:"name_masked"`
	IDNumberMasked string `json:"id_number_masked"`
}

// OrderLine is one SKU of an order. Its freight and discount shares are the
// order's freight and discount split over the lines in proportion to their
// goods value; its tax is the composite rate on goods + freight share −
// discount share, rounded once, half up, to the fen.
type OrderLine struct {
	LineNo        int      `json:"line_no"`
	SKUID         int64    `json:"sku_id"`
	ProductID     int64    `json:"product_id"`
	WarehouseID   int64    `json:"warehouse_id"`
	SKUCode       string   `json:"sku_code"`
	Title         Text     `json:"title"`
	OptionValues  []string `json:"option_values"`
	Quantity      int      `json:"quantity"`
	UnitPrice     int64    `json:"unit_price"`
	Goods         int64    `json:"goods"`
	FreightShare  int64    `json:"freight_share"`
	DiscountShare int64    `json:"discount_share"`
	TaxCategory   string   `json:"tax_category"`
	TaxRate       string   `json:"tax_rate"`
	Tax           int64    `json:"tax"`
	Total         int64    `json:"total"`
	HSCode        string   `json:"hs_code"`
	GName         string   `json:"gname"`
	ItemRecordNo  string   `json:"item_record_no"`
	OriginCountry string   `json:"origin_country"`
	Unit          string   `json:"unit"`
	TradeMode     string   `json:"trade_mode"`
}

// OrderEvent is one entry of an order's timeline.
type OrderEvent struct {
	ID         int64          `json:"id"`
	Kind       string         `json:"kind"`
	FromStatus *string        `json:"from_status"`
	ToStatus   *string        `json:"to_status"`
	Actor      string         `json:"actor"`
	Data       map[string]any `json:"data"`
	CreatedAt  time.Time      `json:"created_at"`
}

// Order is an order. Amounts are fen; ActuralPaid (the CEB311 spelling) =
// GoodsValue + Freight + TaxTotal − Discount, always, to the fen.
type Order struct {
	ID          int64        `json:"id"`
	OutTradeNo  string       `json:"out_trade_no"`
	CustomerID  int64        `json:"customer_id"`
	Status      string       `json:"status"`
	Currency    string       `json:"currency"`
	GoodsValue  int64        `json:"goods_value"`
	Freight     int64        `json:"freight"`
	Discount    int64        `json:"discount"`
	TaxTotal    int64        `json:"tax_total"`
	ActuralPaid int64        `json:"actural_paid"`
	TaxMode     string       `json:"tax_mode"`
	TradeMode   string       `json:"trade_mode"`
	WeightG     int64        `json:"weight_g"`
	Address     OrderAddress `json:"address"`
	Buyer       OrderBuyer   `json:"buyer"`
	Note        string       `json:"note"`
	ExpiresAt   time.Time    `json:"expires_at"`
	PaidAt      *time.Time   `json:"paid_at"`
	NeedsRefund bool         `json:"needs_refund"`
	CreatedAt   time.Time    `json:"created_at"`
	UpdatedAt   time.Time    `json:"updated_at"`
	Lines       []OrderLine  `json:"lines,omitempty"`
	Events      []OrderEvent `json:"events,omitempty"`

	// For the payment side; never in responses.
	TransactionID string     `json:"-"`
	PrepayAt      *time.Time `json:"-"`
	OpenID        string     `json:"-"`
}

type orderRow struct {
	ID            int64
	OutTradeNo    string
	CustomerID    int64
	Status        string
	Currency      string
	GoodsValue    int64
	Freight       int64
	Discount      int64
	TaxTotal      int64
	ActuralPaid   int64
	TaxMode       string
	TradeMode     string
	WeightG       int64
	Address       string
	IdentityID    int64
	BuyerNameMask string `gorm:"column:buyer_name_masked"`
	BuyerIDMask   string `gorm:"column:buyer_id_masked"`
	Note          string
	ExpiresAt     time.Time
	PrepayAt      *time.Time
	PaidAt        *time.Time
	TransactionID *string
	NeedsRefund   bool
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

const orderColumns = `id, out_trade_no, customer_id, status, currency, goods_value, freight, discount, tax_total, actural_paid,
	tax_mode, trade_mode, weight_g, address::text AS address, identity_id, buyer_name_masked, buyer_id_masked, note,
	expires_at, prepay_at, paid_at, transaction_id, needs_refund, created_at, updated_at`

func (r orderRow) order() Order {
	o := Order{ID: r.ID, OutTradeNo: r.OutTradeNo, CustomerID: r.CustomerID, Status: r.Status, Currency: r.Currency,
		GoodsValue: r.GoodsValue, Freight: r.Freight, Discount: r.Discount, TaxTotal: r.TaxTotal, ActuralPaid: r.ActuralPaid,
		TaxMode: r.TaxMode, TradeMode: r.TradeMode, WeightG: r.WeightG, Note: r.Note,
		Buyer:     OrderBuyer{IdentityID: r.IdentityID, NameMasked: r.BuyerNameMask, IDNumberMasked: r.BuyerIDMask},
		ExpiresAt: r.ExpiresAt.UTC(), PaidAt: utcPtr(r.PaidAt), PrepayAt: r.PrepayAt, NeedsRefund: r.NeedsRefund,
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC()}
	if r.TransactionID != nil {
		o.TransactionID = *r.TransactionID
	}
	_ = json.Unmarshal([]byte(r.Address), &o.Address)
	return o
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

var errNoOrder = errs.E(errs.NotFound, "order_not_found", "no such order")

// loadOrder reads order id of tid in tx (FOR UPDATE when lock), with its
// lines; customerID > 0 restricts it to that customer's orders.
func loadOrder(tx *gorm.DB, tid, id, customerID int64, lock bool) (*Order, error) {
	q := `SELECT ` + orderColumns + ` FROM orders WHERE tenant_id = ? AND id = ?`
	args := []any{tid, id}
	if customerID > 0 {
		q += ` AND customer_id = ?`
		args = append(args, customerID)
	}
	if lock {
		q += ` FOR UPDATE`
	}
	var rows []orderRow
	if err := tx.Raw(q, args...).Scan(&rows).Error; err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, errNoOrder
	}
	o := rows[0].order()
	lines, err := orderLines(tx, tid, id)
	if err != nil {
		return nil, err
	}
	o.Lines = lines
	return &o, nil
}

type lineRow struct {
	LineNo        int
	SKUID         int64 `gorm:"column:sku_id"`
	ProductID     int64
	WarehouseID   int64
	SKUCode       string `gorm:"column:sku_code"`
	Title         string
	OptionValues  string
	Quantity      int
	UnitPrice     int64
	Goods         int64
	FreightShare  int64
	DiscountShare int64
	TaxCategory   string
	TaxRate       string
	Tax           int64
	Total         int64
	HSCode        string `gorm:"column:hs_code"`
	GName         string `gorm:"column:gname"`
	ItemRecordNo  string
	OriginCountry string
	Unit          string
	TradeMode     string
}

func orderLines(tx *gorm.DB, tid, id int64) ([]OrderLine, error) {
	var rows []lineRow
	if err := tx.Raw(`SELECT line_no, sku_id, product_id, warehouse_id, sku_code, title::text AS title, option_values::text AS option_values,
		quantity, unit_price, goods, freight_share, discount_share, tax_category, tax_rate, tax, total, hs_code, gname,
		item_record_no, origin_country, unit, trade_mode
		FROM order_lines WHERE tenant_id = ? AND order_id = ? ORDER BY line_no`, tid, id).Scan(&rows).Error; err != nil {
		return nil, err
	}
	out := make([]OrderLine, 0, len(rows))
	for _, r := range rows {
		l := OrderLine{LineNo: r.LineNo, SKUID: r.SKUID, ProductID: r.ProductID, WarehouseID: r.WarehouseID, SKUCode: r.SKUCode,
			Quantity: r.Quantity, UnitPrice: r.UnitPrice, Goods: r.Goods, FreightShare: r.FreightShare, DiscountShare: r.DiscountShare,
			TaxCategory: r.TaxCategory, TaxRate: r.TaxRate, Tax: r.Tax, Total: r.Total, HSCode: r.HSCode, GName: r.GName,
			ItemRecordNo: r.ItemRecordNo, OriginCountry: r.OriginCountry, Unit: r.Unit, TradeMode: r.TradeMode,
			Title: Text{}, OptionValues: []string{}}
		_ = json.Unmarshal([]byte(r.Title), &l.Title)
		_ = json.Unmarshal([]byte(r.OptionValues), &l.OptionValues)
		out = append(out, l)
	}
	return out, nil
}

func orderEvents(tx *gorm.DB, tid, id int64) ([]OrderEvent, error) {
	var rows []struct {
		ID         int64
		Kind       string
		FromStatus *string
		ToStatus   *string
		Actor      string
		Data       string
		CreatedAt  time.Time
	}
	if err := tx.Raw(`SELECT id, kind, from_status, to_status, actor, data::text AS data, created_at FROM order_events
		WHERE tenant_id = ? AND order_id = ? ORDER BY id LIMIT 500`, tid, id).Scan(&rows).Error; err != nil {
		return nil, err
	}
	out := make([]OrderEvent, 0, len(rows))
	for _, r := range rows {
		e := OrderEvent{ID: r.ID, Kind: r.Kind, FromStatus: r.FromStatus, ToStatus: r.ToStatus, Actor: r.Actor, CreatedAt: r.CreatedAt.UTC(), Data: map[string]any{}}
		_ = json.Unmarshal([]byte(r.Data), &e.Data)
		out = append(out, e)
	}
	return out, nil
}

// MyOrder returns an order of the signed-in customer, with its lines.
// Another customer's order, or another shop's, is not found.
func (s *Service) MyOrder(ctx context.Context, id int64) (*Order, error) {
	tid, cid, err := customerScope(ctx)
	if err != nil {
		return nil, err
	}
	var o *Order
	err = db.InTenant(ctx, s.DB, func(tx *gorm.DB) error {
		var err error
		o, err = loadOrder(tx, tid, id, cid, false)
		return err
	})
	return o, err
}

// AdminOrder returns an order of the shop with its lines and timeline; the
// buyer identity is masked.
func (s *Service) AdminOrder(ctx context.Context, id int64) (*Order, error) {
	tid, err := tenantID(ctx)
	if err != nil {
		return nil, err
	}
	var o *Order
	err = db.InTenant(ctx, s.DB, func(tx *gorm.DB) error {
		var err error
		if o, err = loadOrder(tx, tid, id, 0, false); err != nil {
			return err
		}
		o.Events, err = orderEvents(tx, tid, id)
		return err
	})
	return o, err
}

// OrderFilter selects orders of a shop. Cursor is the next_cursor of the
// previous page.
type OrderFilter struct {
	Status     string
	From, To   *time.Time // created at or after From, before To
	CustomerID int64
	Cursor     string
	Limit      int
}

func encodeCursor(id int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(id, 10)))
}

func decodeCursor(s string) (int64, error) {
	if s == "" {
		return 0, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	id, perr := strconv.ParseInt(string(b), 10, 64)
	if err != nil || perr != nil || id <= 0 {
		return 0, errs.E(errs.Invalid, "invalid_cursor", "cursor must be the next_cursor of the previous page")
	}
	return id, nil
}

// Orders lists the shop's orders, newest first, filtered. For the customer
// list (MyOrders) the customer in ctx is the filter.
func (s *Service) Orders(ctx context.Context, f OrderFilter) ([]Order, string, error) {
	tid, err := tenantID(ctx)
	if err != nil {
		return nil, "", err
	}
	return s.orders(ctx, tid, f)
}

// MyOrders lists the signed-in customer's orders, newest first.
func (s *Service) MyOrders(ctx context.Context, cursor string, limit int) ([]Order, string, error) {
	tid, cid, err := customerScope(ctx)
	if err != nil {
		return nil, "", err
	}
	return s.orders(ctx, tid, OrderFilter{CustomerID: cid, Cursor: cursor, Limit: limit})
}

func (s *Service) orders(ctx context.Context, tid int64, f OrderFilter) ([]Order, string, error) {
	if f.Limit == 0 {
		f.Limit = defaultPageSize
	}
	if f.Limit < 1 || f.Limit > 100 {
		return nil, "", errs.E(errs.Invalid, "invalid_limit", "limit must be from 1 to 100")
	}
	before, err := decodeCursor(f.Cursor)
	if err != nil {
		return nil, "", err
	}
	q := `SELECT ` + orderColumns + ` FROM orders WHERE tenant_id = ?`
	args := []any{tid}
	if f.Status != "" {
		known := false
		for _, st := range OrderStatuses {
			known = known || st == f.Status
		}
		if !known {
			return nil, "", errs.E(errs.Invalid, "invalid_status", "status is one of "+strings.Join(OrderStatuses, ", "))
		}
		q += ` AND status = ?`
		args = append(args, f.Status)
	}
	if f.CustomerID > 0 {
		q += ` AND customer_id = ?`
		args = append(args, f.CustomerID)
	}
	if f.From != nil {
		q += ` AND created_at >= ?`
		args = append(args, *f.From)
	}
	if f.To != nil {
		q += ` AND created_at < ?`
		args = append(args, *f.To)
	}
	if before > 0 {
		q += ` AND id < ?`
		args = append(args, before)
	}
	q += ` ORDER BY id DESC LIMIT ?`
	args = append(args, f.Limit+1)
	var rows []orderRow
	err = db.InTenant(ctx, s.DB, func(tx *gorm.DB) error { return tx.Raw(q, args...).Scan(&rows).Error })
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(rows) > f.Limit {
		rows = rows[:f.Limit]
		next = encodeCursor(rows[len(rows)-1].ID)
	}
	out := make([]Order, 0, len(rows))
	for _, r := range rows {
		out = append(out, r.order())
	}
	return out, next, nil
}
