package shop

// Shipments: the parcels an order leaves in. An order may ship in several
// parcels (split delivery, at most wechat.MaxSplitParcels, what WeChat's
// shipping information takes); each names its carrier (a Kuaidi100 company
// code), its tracking number and the quantities of the order lines it
// carries, and no line ships more than was ordered. The first parcel moves
// the order declared → shipped.
//
// Every order ships from declared: bonded (1210) goods may leave the
// bonded warehouse only once customs released the order, and direct-mail
// (9610) orders follow the same rule here, because the order model has no
// paid → shipped move and the 三单 view expects customs' decision before the
// parcel. A direct-mail shop records its parcels once the order is declared.
//
// A shipment is created by staff (admin API), by a CSV import of tracking
// numbers or by the warehouse's webhook; the same carrier and tracking
// number for the same order again returns the existing shipment, so every
// path is safe to retry. In the same transaction the shipment queues its
// Kuaidi100 subscription and the order's WeChat shipping-information upload
// (outbox).

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/minishop/minishop/internal/db"
	"github.com/minishop/minishop/internal/errs"
	"github.com/minishop/minishop/internal/kuaidi100"
	"github.com/minishop/minishop/internal/outbox"
	"github.com/minishop/minishop/internal/wechat"
)

// Shipment sources.
const (
	ShipFromAdmin     = "admin"
	ShipFromImport    = "import"
	ShipFromWarehouse = "warehouse"
)

// Shipment tracking states.
const (
	ShipCreated    = "created"
	ShipInTransit  = "in_transit"
	ShipCustoms    = "customs"
	ShipDelivering = "delivering"
	ShipDelivered  = "delivered"
	ShipException  = "exception"
	ShipReturned   = "returned"
)

// ShipmentLine is a quantity of an order line in a parcel.
type ShipmentLine struct {
	LineNo   int `json:"line_no"`
	Quantity int `json:"quantity"`
}

// ShipmentInput is a parcel to record. Lines left out means everything of
// the order not shipped yet.
type ShipmentInput struct {
	Carrier    string         `json:"carrier"`
	TrackingNo string         `json:"tracking_no"`
	Lines      []ShipmentLine `json:"lines"`
}

// Shipment is a parcel of an order and where it is.
type Shipment struct {
	ID           int64          `json:"id"`
	OrderID      int64          `json:"order_id"`
	Carrier      string         `json:"carrier"`
	CarrierName  string         `json:"carrier_name"`
	TrackingNo   string         `json:"tracking_no"`
	Source       string         `json:"source"`
	Lines        []ShipmentLine `json:"lines"`
	State        string         `json:"state"`
	CarrierState *int           `json:"carrier_state"` // Kuaidi100 state code (10–14: customs clearance)
	LastTrace    string         `json:"last_trace"`
	LastTraceAt  *time.Time     `json:"last_trace_at"`
	DeliveredAt  *time.Time     `json:"delivered_at"`
	Subscription string         `json:"subscription"`
	TrackingNote string         `json:"tracking_error"`
	CreatedAt    time.Time      `json:"created_at"`
}

// ShippingUpload is the state of the order's shipping information at WeChat.
type ShippingUpload struct {
	State         string     `json:"state"` // pending, uploaded, failed
	Uploads       int        `json:"uploads"`
	Attempts      int        `json:"attempts"`
	LastErrcode   *int       `json:"last_errcode"`
	LastError     string     `json:"last_error"`
	NextAttemptAt *time.Time `json:"next_attempt_at"`
	UploadedAt    *time.Time `json:"uploaded_at"`
}

// OrderShipments is an order's parcels, what is left to ship and its
// WeChat shipping-information upload (null before the first parcel).
type OrderShipments struct {
	OrderID     int64           `json:"order_id"`
	OrderStatus string          `json:"order_status"`
	Shipments   []Shipment      `json:"shipments"`
	Unshipped   []ShipmentLine  `json:"unshipped"`
	WeChat      *ShippingUpload `json:"wechat_shipping"`
}

// Tasks of logistics.
const (
	// TaskShippingUpload uploads an order's shipping information to WeChat.
	TaskShippingUpload = "logistics.upload_shipping"
	// TaskTrackSubscribe subscribes a shipment at Kuaidi100.
	TaskTrackSubscribe = "logistics.subscribe"
	// TaskLogisticsSweep is the periodic task: fallback queries, new
	// subscriptions, upload retries and auto-completion, in every shop.
	TaskLogisticsSweep = "logistics.sweep"
)

type orderTask struct {
	OrderID int64 `json:"order_id"`
}

type shipmentTask struct {
	ShipmentID int64 `json:"shipment_id"`
}

var trackingPattern = regexp.MustCompile(`^[A-Za-z0-9-]{4,40}$`)

// checkShipmentInput normalises and checks the carrier and tracking number.
func checkShipmentInput(in *ShipmentInput) error {
	in.Carrier = strings.ToLower(strings.TrimSpace(in.Carrier))
	in.TrackingNo = strings.TrimSpace(in.TrackingNo)
	if _, ok := kuaidi100.CarrierOf(in.Carrier); !ok {
		return errs.E(errs.Invalid, "invalid_carrier", "carrier must be a Kuaidi100 company code: "+strings.Join(kuaidi100.CarrierCodes(), ", ")).
			WithDetails(map[string]any{"field": "carrier"})
	}
	if !trackingPattern.MatchString(in.TrackingNo) {
		return errs.E(errs.Invalid, "invalid_tracking_no", "tracking_no must be 4 to 40 letters, digits or dashes").
			WithDetails(map[string]any{"field": "tracking_no"})
	}
	if len(in.Lines) > 200 {
		return errs.E(errs.Invalid, "invalid_lines", "a parcel names at most 200 lines")
	}
	return nil
}

// CreateShipment records a parcel of order id (source: ShipFromAdmin,
// ShipFromImport or ShipFromWarehouse). created is false when the order
// already had this carrier and tracking number: that shipment is returned
// and nothing changes. Refusals: order_not_found (404), customs_not_released
// (409: not declared yet), order_not_shippable (409), tracking_in_use (409:
// another order's parcel), nothing_to_ship, unknown_line, over_shipped,
// too_many_shipments (422).
func (s *Service) CreateShipment(ctx context.Context, orderID int64, in ShipmentInput, source string) (sh *Shipment, created bool, err error) {
	tid, err := tenantID(ctx)
	if err != nil {
		return nil, false, err
	}
	if err := checkShipmentInput(&in); err != nil {
		return nil, false, err
	}
	err = db.InTenant(ctx, s.DB, func(tx *gorm.DB) error {
		sh, created, err = s.createShipment(ctx, tx, tid, orderID, in, source)
		return err
	})
	return sh, created, err
}

// createShipment does CreateShipment in tx; in is already checked.
func (s *Service) createShipment(ctx context.Context, tx *gorm.DB, tid, orderID int64, in ShipmentInput, source string) (*Shipment, bool, error) {
	o, err := loadOrder(tx, tid, orderID, 0, true)
	if err != nil {
		return nil, false, err
	}
	var existing []struct{ ID, OrderID int64 }
	if err := tx.Raw(`SELECT id, order_id FROM shipments WHERE tenant_id = ? AND carrier = ? AND tracking_no = ?`, tid, in.Carrier, in.TrackingNo).
		Scan(&existing).Error; err != nil {
		return nil, false, err
	}
	if len(existing) > 0 {
		if existing[0].OrderID != orderID {
			return nil, false, errs.E(errs.Conflict, "tracking_in_use", "this tracking number is already recorded for another order")
		}
		sh, err := loadShipment(tx, tid, existing[0].ID)
		return sh, false, err
	}
	switch o.Status {
	case OrderDeclared, OrderShipped:
	case OrderPaid, OrderDeclaring, OrderCustomsRejected:
		return nil, false, errs.E(errs.Conflict, "customs_not_released",
			"the order cannot ship before customs released it (status declared); it is "+o.Status).
			WithDetails(map[string]string{"status": o.Status})
	default:
		return nil, false, errs.E(errs.Conflict, "order_not_shippable", "an order that is "+o.Status+" does not ship").
			WithDetails(map[string]string{"status": o.Status})
	}
	var parcels int64
	if err := tx.Raw(`SELECT count(*) FROM shipments WHERE tenant_id = ? AND order_id = ?`, tid, orderID).Scan(&parcels).Error; err != nil {
		return nil, false, err
	}
	if parcels >= wechat.MaxSplitParcels {
		return nil, false, errs.E(errs.Unprocessable, "too_many_shipments",
			fmt.Sprintf("an order ships in at most %d parcels (WeChat's limit for split delivery)", wechat.MaxSplitParcels))
	}
	left, err := unshipped(tx, tid, o)
	if err != nil {
		return nil, false, err
	}
	lines, err := parcelLines(in.Lines, left)
	if err != nil {
		return nil, false, err
	}
	var id int64
	if err := tx.Raw(`INSERT INTO shipments (tenant_id, order_id, carrier, tracking_no, source) VALUES (?, ?, ?, ?, ?) RETURNING id`,
		tid, orderID, in.Carrier, in.TrackingNo, source).Scan(&id).Error; err != nil {
		return nil, false, err
	}
	for _, l := range lines {
		if err := tx.Exec(`INSERT INTO shipment_lines (tenant_id, shipment_id, order_id, line_no, quantity) VALUES (?, ?, ?, ?, ?)`,
			tid, id, orderID, l.LineNo, l.Quantity).Error; err != nil {
			return nil, false, err
		}
	}
	data := map[string]any{"shipment_id": id, "carrier": in.Carrier, "tracking_no": in.TrackingNo, "lines": lines, "source": source}
	if o.Status == OrderDeclared {
		err = transition(ctx, tx, tid, orderID, OrderDeclared, OrderShipped, "shipped", data, "")
	} else {
		err = orderEvent(ctx, tx, tid, orderID, "shipment_added", "", "", data)
	}
	if err != nil {
		return nil, false, err
	}
	if err := tx.Exec(`INSERT INTO order_shipping (tenant_id, order_id) VALUES (?, ?)
		ON CONFLICT (tenant_id, order_id) DO UPDATE SET state = 'pending', attempts = 0, next_attempt_at = NULL, updated_at = now()`,
		tid, orderID).Error; err != nil {
		return nil, false, err
	}
	if err := outbox.Add(ctx, tx, outbox.Message{Kind: TaskShippingUpload, TenantID: tid, Data: orderTask{OrderID: orderID}}); err != nil {
		return nil, false, err
	}
	if err := outbox.Add(ctx, tx, outbox.Message{Kind: TaskTrackSubscribe, TenantID: tid, Data: shipmentTask{ShipmentID: id}}); err != nil {
		return nil, false, err
	}
	sh, err := loadShipment(tx, tid, id)
	return sh, true, err
}

// unshipped returns, per order line, the quantity not in any parcel yet.
func unshipped(tx *gorm.DB, tid int64, o *Order) (map[int]int, error) {
	var rows []struct {
		LineNo int
		Qty    int
	}
	if err := tx.Raw(`SELECT line_no, sum(quantity)::int AS qty FROM shipment_lines WHERE tenant_id = ? AND order_id = ? GROUP BY line_no`,
		tid, o.ID).Scan(&rows).Error; err != nil {
		return nil, err
	}
	left := map[int]int{}
	for _, l := range o.Lines {
		left[l.LineNo] = l.Quantity
	}
	for _, r := range rows {
		left[r.LineNo] -= r.Qty
	}
	return left, nil
}

// parcelLines checks a parcel's lines against what is left to ship; no
// lines means all of it.
func parcelLines(in []ShipmentLine, left map[int]int) ([]ShipmentLine, error) {
	if len(in) == 0 {
		var all []ShipmentLine
		for no, q := range left {
			if q > 0 {
				all = append(all, ShipmentLine{LineNo: no, Quantity: q})
			}
		}
		if len(all) == 0 {
			return nil, errs.E(errs.Unprocessable, "nothing_to_ship", "every line of the order is already in a parcel")
		}
		sort.Slice(all, func(i, j int) bool { return all[i].LineNo < all[j].LineNo })
		return all, nil
	}
	seen := map[int]bool{}
	out := make([]ShipmentLine, 0, len(in))
	for _, l := range in {
		rem, ok := left[l.LineNo]
		switch {
		case !ok:
			return nil, errs.E(errs.Unprocessable, "unknown_line", fmt.Sprintf("the order has no line %d", l.LineNo)).
				WithDetails(map[string]any{"line_no": l.LineNo})
		case seen[l.LineNo]:
			return nil, errs.E(errs.Unprocessable, "unknown_line", fmt.Sprintf("line %d is named twice", l.LineNo)).
				WithDetails(map[string]any{"line_no": l.LineNo})
		case l.Quantity < 1:
			return nil, errs.E(errs.Unprocessable, "over_shipped", fmt.Sprintf("line %d: the quantity must be at least 1", l.LineNo)).
				WithDetails(map[string]any{"line_no": l.LineNo, "left": rem, "quantity": l.Quantity})
		case l.Quantity > rem:
			return nil, errs.E(errs.Unprocessable, "over_shipped", fmt.Sprintf("line %d: %d left to ship, %d requested", l.LineNo, max(rem, 0), l.Quantity)).
				WithDetails(map[string]any{"line_no": l.LineNo, "left": max(rem, 0), "quantity": l.Quantity})
		}
		seen[l.LineNo] = true
		out = append(out, l)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].LineNo < out[j].LineNo })
	return out, nil
}

type shipmentRow struct {
	ID           int64
	OrderID      int64
	Carrier      string
	TrackingNo   string
	Source       string
	State        string
	KdState      *int
	LastTrace    string
	LastTraceAt  *time.Time
	DeliveredAt  *time.Time
	Subscription string
	Subscribes   int
	SubError     string
	LastPushAt   *time.Time
	PolledAt     *time.Time
	Lines        string
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

const shipmentColumns = `s.id, s.order_id, s.carrier, s.tracking_no, s.source, s.state, s.kd_state, s.last_trace, s.last_trace_at,
	s.delivered_at, s.subscription, s.subscribes, s.sub_error, s.last_push_at, s.polled_at, s.created_at, s.updated_at,
	coalesce((SELECT json_agg(json_build_object('line_no', l.line_no, 'quantity', l.quantity) ORDER BY l.line_no)
		FROM shipment_lines l WHERE l.tenant_id = s.tenant_id AND l.shipment_id = s.id), '[]')::text AS lines`

func (r shipmentRow) shipment() Shipment {
	c, _ := kuaidi100.CarrierOf(r.Carrier)
	sh := Shipment{ID: r.ID, OrderID: r.OrderID, Carrier: r.Carrier, CarrierName: c.Name, TrackingNo: r.TrackingNo, Source: r.Source,
		State: r.State, CarrierState: r.KdState, LastTrace: r.LastTrace, LastTraceAt: utcPtr(r.LastTraceAt), DeliveredAt: utcPtr(r.DeliveredAt),
		Subscription: r.Subscription, TrackingNote: r.SubError, CreatedAt: r.CreatedAt.UTC(), Lines: []ShipmentLine{}}
	_ = json.Unmarshal([]byte(r.Lines), &sh.Lines)
	return sh
}

func shipmentRows(tx *gorm.DB, where string, args ...any) ([]shipmentRow, error) {
	var rows []shipmentRow
	err := tx.Raw(`SELECT `+shipmentColumns+` FROM shipments s WHERE `+where+` ORDER BY s.id`, args...).Scan(&rows).Error
	return rows, err
}

var errNoShipment = errs.E(errs.NotFound, "shipment_not_found", "no such shipment")

func loadShipment(tx *gorm.DB, tid, id int64) (*Shipment, error) {
	rows, err := shipmentRows(tx, `s.tenant_id = ? AND s.id = ?`, tid, id)
	if err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, errNoShipment
	}
	sh := rows[0].shipment()
	return &sh, nil
}

// Shipments returns the parcels of order id, what is left to ship and the
// state of its WeChat shipping information.
func (s *Service) Shipments(ctx context.Context, orderID int64) (*OrderShipments, error) {
	tid, err := tenantID(ctx)
	if err != nil {
		return nil, err
	}
	var out *OrderShipments
	err = db.InTenant(ctx, s.DB, func(tx *gorm.DB) error {
		var err error
		out, err = orderShipments(tx, tid, orderID)
		return err
	})
	return out, err
}

func orderShipments(tx *gorm.DB, tid, orderID int64) (*OrderShipments, error) {
	o, err := loadOrder(tx, tid, orderID, 0, false)
	if err != nil {
		return nil, err
	}
	rows, err := shipmentRows(tx, `s.tenant_id = ? AND s.order_id = ?`, tid, orderID)
	if err != nil {
		return nil, err
	}
	out := &OrderShipments{OrderID: orderID, OrderStatus: o.Status, Shipments: make([]Shipment, 0, len(rows)), Unshipped: []ShipmentLine{}}
	for _, r := range rows {
		out.Shipments = append(out.Shipments, r.shipment())
	}
	left, err := unshipped(tx, tid, o)
	if err != nil {
		return nil, err
	}
	for _, l := range o.Lines {
		if q := left[l.LineNo]; q > 0 {
			out.Unshipped = append(out.Unshipped, ShipmentLine{LineNo: l.LineNo, Quantity: q})
		}
	}
	var up []struct {
		State         string
		Uploads       int
		Attempts      int
		LastErrcode   *int
		LastError     string
		NextAttemptAt *time.Time
		UploadedAt    *time.Time
	}
	if err := tx.Raw(`SELECT state, uploads, attempts, last_errcode, last_error, next_attempt_at, uploaded_at FROM order_shipping
		WHERE tenant_id = ? AND order_id = ?`, tid, orderID).Scan(&up).Error; err != nil {
		return nil, err
	}
	if len(up) == 1 {
		u := up[0]
		out.WeChat = &ShippingUpload{State: u.State, Uploads: u.Uploads, Attempts: u.Attempts, LastErrcode: u.LastErrcode, LastError: u.LastError,
			NextAttemptAt: utcPtr(u.NextAttemptAt), UploadedAt: utcPtr(u.UploadedAt)}
	}
	return out, nil
}
