package shop

// The 三单 view of an order (its four customs documents side by side) and
// the queue of orders whose customs documents need a person: rejected,
// failed, detained, or silent for too long, each with the reason in the
// brand's terms and what to do.

import (
	"context"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/minishop/minishop/internal/db"
	"github.com/minishop/minishop/internal/errs"
)

// DocNotStarted is the state the view gives a document the order has no
// row for yet (the payment declaration before WeChat Pay was asked, the
// waybill and inventory list before customs accepted the order).
const DocNotStarted = "not_started"

// customsStuckAfter is how long a document may wait for customs' next
// answer before the queue shows it.
const customsStuckAfter = 2 * time.Hour

// CustomsReceipt is a receipt as the admin view shows it.
type CustomsReceipt struct {
	GUID         string    `json:"guid"`
	ReturnStatus int       `json:"return_status"`
	ReturnTime   time.Time `json:"return_time"`
	ReturnInfo   string    `json:"return_info"`
}

// CustomsDeclaration is the order declaration of an order, as the view
// showed it before the other documents existed (kept for its readers).
type CustomsDeclaration struct {
	Kind          string           `json:"kind"`
	OrderNo       string           `json:"order_no"`
	State         string           `json:"state"`
	Attempt       int              `json:"attempt"`
	GUID          string           `json:"guid"`
	Sends         int              `json:"sends"`
	LastStatus    *int             `json:"last_status"`
	LastInfo      string           `json:"last_info"`
	LastReceiptAt *time.Time       `json:"last_receipt_at"`
	LastError     string           `json:"last_error"`
	SentAt        *time.Time       `json:"sent_at"`
	UpdatedAt     time.Time        `json:"updated_at"`
	Receipts      []CustomsReceipt `json:"receipts"`
}

// LastReceipt is the receipt that set a document's state.
type LastReceipt struct {
	Status int       `json:"status"`
	Info   string    `json:"info"`
	Time   time.Time `json:"time"`
}

// CustomsAttention says why a document needs a person and what to do.
// Problem is rejected, failed, not_sent, detained or stuck. Action is one
// of redeclare, ask_buyer_or_refund, fix_identity, fix_product, refund,
// configure_customs, contact_agent, wait.
type CustomsAttention struct {
	Problem    string `json:"problem"`
	Reason     string `json:"reason"`
	Action     string `json:"action"`
	ActionText string `json:"action_text"`
}

// CustomsDocument is one of the four documents of an order (of one of
// its customs orders, named by OrderNo, when the order is split).
type CustomsDocument struct {
	Kind        string            `json:"kind"`
	OrderNo     string            `json:"order_no,omitempty"`
	State       string            `json:"state"` // a declaration state, or not_started
	Attempt     int               `json:"attempt"`
	GUID        string            `json:"guid"`
	Sends       int               `json:"sends"`
	LastReceipt *LastReceipt      `json:"last_receipt"`
	LastError   string            `json:"last_error"`
	SentAt      *time.Time        `json:"sent_at"`
	UpdatedAt   *time.Time        `json:"updated_at"`
	Receipts    []CustomsReceipt  `json:"receipts"`
	Attention   *CustomsAttention `json:"attention"`
}

// CustomsView is the 三单 view of an order: its four documents (order,
// payment, waybill, inventory list, always in that order) and, for the
// readers of the first version, the order declaration alone (null until
// the order is paid).
type CustomsView struct {
	OrderID     int64               `json:"order_id"`
	OrderNo     string              `json:"order_no"`
	OrderStatus string              `json:"order_status"`
	Order       *CustomsDeclaration `json:"order_declaration"`
	Documents   []CustomsDocument   `json:"documents"`
	SubOrders   []CustomsSubOrder   `json:"sub_orders,omitempty"` // only for an order split into customs orders (customs_split_view.go)
}

// Customs returns the customs view of order orderID of the shop in ctx;
// not_found for another shop's order.
func (s *Service) Customs(ctx context.Context, orderID int64) (*CustomsView, error) {
	tid, err := tenantID(ctx)
	if err != nil {
		return nil, err
	}
	var v *CustomsView
	err = db.InTenant(ctx, s.DB, func(tx *gorm.DB) error {
		v, err = customsView(tx, tid, orderID)
		return err
	})
	return v, err
}

func loadDocs(tx *gorm.DB, tid int64, orderIDs []int64) ([]declRow, error) {
	var rows []declRow
	err := tx.Raw(`SELECT order_id, kind, `+declColumns[len("order_id, "):]+` FROM customs_declarations
		WHERE tenant_id = ? AND order_id IN ? ORDER BY order_id, kind, length(order_no), order_no`, tid, orderIDs).Scan(&rows).Error
	return rows, err
}

func customsView(tx *gorm.DB, tid, orderID int64) (*CustomsView, error) {
	var os []struct {
		OutTradeNo string
		Status     string
	}
	if err := tx.Raw(`SELECT out_trade_no, status FROM orders WHERE tenant_id = ? AND id = ?`, tid, orderID).Scan(&os).Error; err != nil {
		return nil, err
	}
	if len(os) == 0 {
		return nil, errNoOrder
	}
	v := &CustomsView{OrderID: orderID, OrderNo: os[0].OutTradeNo, OrderStatus: os[0].Status}
	if err := fillCustomsDocs(tx, tid, v); err != nil {
		return nil, err
	}
	v.localizeTexts(tx.Statement.Context)
	return v, nil
}

func documentOf(d *declRow, orderStatus string, now time.Time) CustomsDocument {
	doc := CustomsDocument{Kind: d.Kind, State: d.State, Attempt: d.Attempt, GUID: d.GUID, Sends: d.Attempts, LastError: d.LastError,
		SentAt: utcPtr(d.SentAt), UpdatedAt: utcPtr(&d.UpdatedAt), Receipts: []CustomsReceipt{}}
	if d.LastStatus != nil {
		lr := &LastReceipt{Status: *d.LastStatus, Info: d.LastInfo}
		if d.LastReceiptAt != nil {
			lr.Time = d.LastReceiptAt.UTC()
		}
		doc.LastReceipt = lr
	}
	if !settledOrder(orderStatus) {
		doc.Attention = attentionOf(d, now)
	}
	return doc
}

// settledOrder: an order whose customs documents no longer matter (money
// returned, or never paid).
func settledOrder(status string) bool {
	switch status {
	case OrderRefunding, OrderRefunded, OrderCancelled, OrderClosed, OrderPendingPayment:
		return true
	}
	return false
}

var docNames = map[string]string{DocOrder: "order declaration", DocPayment: "payment declaration", DocWaybill: "waybill", DocInventory: "inventory list"}

// customsProblems are customs' reasons (receipt texts), recognised by
// their words, with what they mean for the brand and what to do.
var customsProblems = []struct {
	any                []string // one of these
	all                []string // and all of these (may be empty)
	reason, action, do string
}{
	{[]string{"not the payer", "DIFFERENT"}, nil, "The buyer is not the payer: customs requires the person who pays to be the buyer named on the order.",
		"ask_buyer_or_refund", "Ask the buyer to pay with their own WeChat account, or refund the order."},
	{[]string{"支付人", "payer"}, []string{"不一致"}, "The buyer is not the payer: customs requires the person who pays to be the buyer named on the order.",
		"ask_buyer_or_refund", "Ask the buyer to pay with their own WeChat account, or refund the order."},
	{[]string{"支付人", "payer"}, []string{"不符"}, "The buyer is not the payer: customs requires the person who pays to be the buyer named on the order.",
		"ask_buyer_or_refund", "Ask the buyer to pay with their own WeChat account, or refund the order."},
	{[]string{"限额", "额度", "limit"}, nil, "The buyer is over the yearly cross-border allowance (¥26,000) or the per-order limit.",
		"refund", "Refund the order: customs will not clear it."},
	{[]string{"身份", "identity"}, nil, "The buyer's real name and ID number do not match the national register.",
		"fix_identity", "Ask the buyer to correct their real name and ID number, then declare again."},
	{[]string{"备案", "正面清单", "商品编码", "HS"}, nil, "A product is not registered for cross-border import, or not on the positive list.",
		"fix_product", "Correct the product's customs data (item record number, HS code), then declare again."},
	{[]string{"金额", "价格", "amount"}, nil, "The amounts of the documents do not match each other (price, freight, tax or amount paid).",
		"redeclare", "Declare again; if customs rejects it again, check the order's prices, freight and tax."},
}

func matchProblem(info string) (reason, action, do string, ok bool) {
	for _, p := range customsProblems {
		hit := false
		for _, w := range p.any {
			hit = hit || strings.Contains(info, w)
		}
		for _, w := range p.all {
			hit = hit && strings.Contains(info, w)
		}
		if hit {
			return p.reason, p.action, p.do, true
		}
	}
	return "", "", "", false
}

// attentionOf says whether document d needs a person at now, why, and
// what to do; nil when it does not.
func attentionOf(d *declRow, now time.Time) *CustomsAttention {
	name := docNames[d.Kind]
	redo := "Declare again."
	if d.Kind == DocWaybill || d.Kind == DocInventory {
		redo = "Declare the order again: the agent declares the " + name + " again once customs accepts it. If it is rejected again, ask your declaration agent."
	}
	status := 0
	if d.LastStatus != nil {
		status = *d.LastStatus
	}
	switch {
	case d.State == DeclRejected:
		if reason, action, do, ok := matchProblem(d.LastInfo); ok {
			return &CustomsAttention{Problem: "rejected", Reason: reason, Action: action, ActionText: do}
		}
		return &CustomsAttention{Problem: "rejected", Reason: "Customs rejected the " + name + ": " + d.LastInfo, Action: "redeclare", ActionText: redo}
	case d.State == DeclFailed && d.LastStatus == nil:
		return &CustomsAttention{Problem: "failed", Reason: "The " + name + " was not sent: " + d.LastError, Action: "redeclare",
			ActionText: "Check the order's customs data and the shop's customs settings, then declare again."}
	case d.State == DeclFailed:
		if reason, action, do, ok := matchProblem(d.LastInfo); ok {
			return &CustomsAttention{Problem: "failed", Reason: reason, Action: action, ActionText: do}
		}
		return &CustomsAttention{Problem: "failed", Reason: "The e-port could not pass the " + name + " to customs: " + d.LastInfo,
			Action: "redeclare", ActionText: redo}
	case d.State == DeclPending && d.LastError != "":
		if strings.Contains(d.LastError, "credentials") {
			return &CustomsAttention{Problem: "not_sent", Reason: d.LastError, Action: "configure_customs",
				ActionText: "Save the shop's live customs credentials; the declaration is then sent by itself."}
		}
		return &CustomsAttention{Problem: "not_sent", Reason: "The " + name + " could not be sent yet: " + d.LastError, Action: "wait",
			ActionText: "Wait: it is sent again automatically until the declaration agent answers."}
	case d.Kind == DocInventory && (status == InvtDetained || status == InvtDetained2):
		return &CustomsAttention{Problem: "detained", Reason: "Customs detained the parcel: " + d.LastInfo, Action: "contact_agent",
			ActionText: "Ask your declaration agent what customs needs to release it."}
	case (d.State == DeclPending || d.State == DeclSent || d.State == DeclReceived) && now.Sub(d.UpdatedAt) > customsStuckAfter:
		since := d.UpdatedAt.UTC().Format("2006-01-02 15:04 UTC")
		switch {
		case d.Kind == DocInventory && (status == InvtInspection || status == InvtReview):
			return &CustomsAttention{Problem: "stuck", Reason: "Customs is reviewing or inspecting the parcel since " + since + ".",
				Action: "wait", ActionText: "Wait: customs decides after its review; nothing to do yet."}
		case d.Kind == DocOrder && d.State == DeclSent && d.Attempts >= maxSends:
			return &CustomsAttention{Problem: "stuck", Reason: "The e-port has not answered the order declaration since " + since + ", after " +
				strconv.Itoa(d.Attempts) + " sends.", Action: "contact_agent", ActionText: "Ask your declaration agent whether the e-port received it."}
		case d.State == DeclPending:
			return &CustomsAttention{Problem: "stuck", Reason: "The " + name + " is waiting to be sent since " + since + ".", Action: "wait",
				ActionText: "Wait: it is sent in the background and retried while the agent cannot be reached."}
		}
		return &CustomsAttention{Problem: "stuck", Reason: "No answer from customs about the " + name + " since " + since + ".", Action: "wait",
			ActionText: "Wait: customs answers are fetched every minute. If nothing comes within a day, ask your declaration agent."}
	}
	return nil
}

// CustomsQueueDoc is a document of a queued order that needs a person.
type CustomsQueueDoc struct {
	Kind        string       `json:"kind"`
	OrderNo     string       `json:"order_no,omitempty"` // the customs order, when the order is split
	State       string       `json:"state"`
	Since       time.Time    `json:"since"`
	LastReceipt *LastReceipt `json:"last_receipt"`
	LastError   string       `json:"last_error"`
	CustomsAttention
}

// CustomsQueueItem is an order whose customs documents need a person.
type CustomsQueueItem struct {
	OrderID     int64             `json:"order_id"`
	OrderNo     string            `json:"order_no"`
	OrderStatus string            `json:"order_status"`
	Documents   []CustomsQueueDoc `json:"documents"`
}

// CustomsQueue lists the orders of the shop in ctx with a customs document
// that needs a person (rejected, failed, detained, or without news for
// customsStuckAfter), newest order first, limit per page (1 to 100, 0 for
// 20) after cursor (the previous page's next cursor). Orders refunded,
// cancelled or closed are left out. invalid for a bad limit or cursor.
func (s *Service) CustomsQueue(ctx context.Context, cursor string, limit int) ([]CustomsQueueItem, string, error) {
	tid, err := tenantID(ctx)
	if err != nil {
		return nil, "", err
	}
	if limit == 0 {
		limit = defaultPageSize
	}
	if limit < 1 || limit > 100 {
		return nil, "", errs.E(errs.Invalid, "invalid_limit", "limit must be from 1 to 100")
	}
	before, err := decodeCursor(cursor)
	if err != nil {
		return nil, "", err
	}
	out := []CustomsQueueItem{}
	next := ""
	err = db.InTenant(ctx, s.DB, func(tx *gorm.DB) error {
		now := time.Now()
		q := `SELECT o.id, o.out_trade_no, o.status FROM orders o
			WHERE o.tenant_id = ? AND o.status NOT IN ('refunding', 'refunded', 'cancelled', 'closed', 'pending_payment')
			  AND EXISTS (SELECT 1 FROM customs_declarations d WHERE d.tenant_id = o.tenant_id AND d.order_id = o.id
			    AND (d.state IN ('rejected', 'failed') OR (d.state = 'pending' AND d.last_error <> '')
			      OR (d.state IN ('pending', 'sent', 'received') AND d.updated_at < ?)
			      OR (d.kind = 'inventory' AND d.state = 'received' AND d.last_status IN (501, 502))))`
		args := []any{tid, now.Add(-customsStuckAfter)}
		if before > 0 {
			q += ` AND o.id < ?`
			args = append(args, before)
		}
		q += ` ORDER BY o.id DESC LIMIT ?`
		args = append(args, limit+1)
		var os []struct {
			ID         int64
			OutTradeNo string
			Status     string
		}
		if err := tx.Raw(q, args...).Scan(&os).Error; err != nil {
			return err
		}
		if len(os) > limit {
			os = os[:limit]
			next = encodeCursor(os[len(os)-1].ID)
		}
		if len(os) == 0 {
			return nil
		}
		ids := make([]int64, len(os))
		for i, o := range os {
			ids[i] = o.ID
		}
		rows, err := loadDocs(tx, tid, ids)
		if err != nil {
			return err
		}
		for _, o := range os {
			it := CustomsQueueItem{OrderID: o.ID, OrderNo: o.OutTradeNo, OrderStatus: o.Status, Documents: []CustomsQueueDoc{}}
			for _, kind := range CustomsDocs {
				for i := range rows {
					d := &rows[i]
					if d.OrderID != o.ID || d.Kind != kind {
						continue
					}
					doc := documentOf(d, o.Status, now)
					if doc.Attention == nil {
						continue
					}
					qd := CustomsQueueDoc{Kind: kind, State: d.State, Since: d.UpdatedAt.UTC(),
						LastReceipt: doc.LastReceipt, LastError: d.LastError, CustomsAttention: *doc.Attention}
					if d.OrderNo != o.OutTradeNo {
						qd.OrderNo = d.OrderNo
					}
					it.Documents = append(it.Documents, qd.localized(ctx))
				}
			}
			out = append(out, it)
		}
		return nil
	})
	if err != nil {
		return nil, "", err
	}
	return out, next, nil
}
