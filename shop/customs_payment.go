package shop

// The WeChat Pay customs declaration of a paid cross-border order's payment
// (支付报关), the second of the three documents of 三单对碰. After order.paid
// the order gets a customs_declarations row of kind 'payment' (pending) and
// a declare task; the task asks WeChat Pay to push the payment to customs
// (v2 XML for direct merchants and service providers, v3 for WeChat Pay
// Global), once per customs order: the order itself, or one sub-order per
// warehouse when the order ships from several. WeChat Pay answers
// UNDECLARED and moves on in batches; a periodic task polls it until
// SUCCESS (accepted) or FAIL (failed, with WeChat Pay's explanation). An
// identity check that finds the buyer is not the payer (DIFFERENT) makes
// the row rejected: customs would refuse the 三单 comparison, so the brand
// must act. A partial refund modifies the declared amounts; staff can
// declare again after a failure or rejection.
//
// Every call is idempotent at WeChat Pay: a declaration is keyed by
// out_trade_no and sub_order_no, and the same content sent twice answers
// the existing declaration.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"gorm.io/gorm"

	"github.com/minishop/minishop/billing/wechatpay"
	"github.com/minishop/minishop/internal/db"
	"github.com/minishop/minishop/internal/errs"
	"github.com/minishop/minishop/internal/outbox"
	"github.com/minishop/minishop/internal/scope"
)

// Tasks of the payment declaration.
const (
	TaskCustomsPaymentDeclare = "customs.declare_payment"
	TaskCustomsPaymentModify  = "customs.modify_payment"
	TaskCustomsPaymentPoll    = "customs.poll_payments" // periodic
)

// Receipt statuses of payment declarations in customs_receipts and
// last_status: WeChat Pay's states on the scale of customs receipts.
const (
	PayStatusUndeclared = 1
	PayStatusSubmitted  = 2
	PayStatusProcessing = 3
	PayStatusSuccess    = 120
	PayStatusDifferent  = 100 // identity check: the buyer is not the payer
	PayStatusFail       = -1
	PayStatusExcept     = -2
)

// PaymentCustomsOffice is the customs office payments are declared to in
// test mode.
const PaymentCustomsOffice = "HANGZHOU_ZS"

// WeChatPayClients returns the WeChat Pay client of the tenant in ctx
// (billing.Clients.Client).
type WeChatPayClients func(ctx context.Context) (*wechatpay.Client, error)

type wxClientsSlot struct{ v atomic.Value }

// SetWeChatPayClients installs where payment declarations get the tenant's
// WeChat Pay client. Safe while serving.
func (s *Service) SetWeChatPayClients(f WeChatPayClients) { s.wxClients.v.Store(f) }

func (s *Service) payCustomsClient(ctx context.Context) (*wechatpay.CustomsClient, error) {
	f, _ := s.wxClients.v.Load().(WeChatPayClients)
	if f == nil {
		return nil, errs.E(errs.Unavailable, "payments_unavailable", "WeChat Pay is not available yet")
	}
	c, err := f(ctx)
	if err != nil {
		return nil, err
	}
	return c.Customs(""), nil
}

// paymentCustomsFor returns the customs office and merchant customs number
// payments of the shop are declared with: in live mode those of the shop's
// live customs credentials (conflict customs_not_configured without them);
// in test mode the sandbox's office and the shop's test e-commerce
// enterprise code, the code its order declarations carry.
func (s *Service) paymentCustomsFor(ctx context.Context, tid int64) (office, mchCustomsNo string, err error) {
	lc, live, err := s.liveCustoms(ctx, tid)
	switch {
	case err != nil:
		return "", "", err
	case live && lc == nil:
		return "", "", errCustomsNotConfigured
	case live:
		return lc.CustomsOffice, lc.CustomsMchNo, nil
	}
	codes, _, err := s.customsFor(tid)
	if err != nil {
		return "", "", err
	}
	return PaymentCustomsOffice, codes.EBCCode, nil
}

type payCustomsRow struct {
	OrderID                 int64
	API                     string `gorm:"column:api"`
	Customs                 string
	MchCustomsNo            string
	OutTradeNo              string
	TransactionID           string
	PaidFen                 int64
	RefundedFen             int64
	CertCheckResult         string
	VerifyDepartment        string
	VerifyDepartmentTradeID string
	Modifications           int
}

type paySubOrder struct {
	SubOrderNo   string     `json:"sub_order_no"`
	SubOrderID   string     `json:"sub_order_id"`
	WarehouseID  *int64     `json:"warehouse_id"`
	OrderFee     int64      `json:"order_fee"`
	TransportFee int64      `json:"transport_fee"`
	ProductFee   int64      `json:"product_fee"`
	Duty         int64      `json:"duty"`
	State        string     `json:"state"`
	Explanation  string     `json:"explanation"`
	ModifyTime   *time.Time `json:"modify_time"`
}

func loadPayCustoms(tx *gorm.DB, tid, orderID int64) (*payCustomsRow, []paySubOrder, error) {
	var rows []payCustomsRow
	if err := tx.Raw(`SELECT order_id, api, customs, mch_customs_no, out_trade_no, transaction_id, paid_fen, refunded_fen, cert_check_result,
		verify_department, verify_department_trade_id, modifications FROM customs_payments WHERE tenant_id = ? AND order_id = ?`, tid, orderID).
		Scan(&rows).Error; err != nil || len(rows) == 0 {
		return nil, nil, err
	}
	var subs []paySubOrder
	if err := tx.Raw(`SELECT sub_order_no, sub_order_id, warehouse_id, order_fee, transport_fee, product_fee, duty, state, explanation, modify_time
		FROM customs_payment_orders WHERE tenant_id = ? AND order_id = ? ORDER BY sub_order_no`, tid, orderID).Scan(&subs).Error; err != nil {
		return nil, nil, err
	}
	return &rows[0], subs, nil
}

func loadPayDecl(tx *gorm.DB, tid, orderID int64, lock bool) (*declRow, error) {
	q := `SELECT ` + declColumns + ` FROM customs_declarations WHERE tenant_id = ? AND order_id = ? AND kind = 'payment'`
	if lock {
		q += ` FOR UPDATE`
	}
	var rows []declRow
	if err := tx.Raw(q, tid, orderID).Scan(&rows).Error; err != nil || len(rows) == 0 {
		return nil, err
	}
	return &rows[0], nil
}

// splitPayment cuts a payment into the order's customs orders (see
// SplitCustoms: one per warehouse, sub_order_no = out_trade_no when there
// is one, out_trade_no-N otherwise), each with order_fee = its acturalPaid
// = transport_fee + product_fee and duty = its tax, the sum of order_fee
// being the amount paid.
func splitPayment(tx *gorm.DB, tid, orderID int64, paid int64) ([]paySubOrder, error) {
	o, err := loadOrder(tx, tid, orderID, 0, false)
	if err != nil {
		return nil, err
	}
	parts, err := SplitCustoms(o)
	if err != nil {
		return nil, err
	}
	subs := make([]paySubOrder, len(parts))
	var sum int64
	for i, c := range parts {
		w := c.WarehouseID
		if w == nil { // one customs order: the warehouse of all its lines
			w = &o.Lines[0].WarehouseID
		}
		subs[i] = paySubOrder{SubOrderNo: c.OrderNo, WarehouseID: w, OrderFee: c.ActuralPaid,
			TransportFee: c.Freight, ProductFee: c.ActuralPaid - c.Freight, Duty: c.TaxTotal}
		sum += c.ActuralPaid
	}
	// The customs amounts must add up to what was paid whatever happens:
	// the last part takes any difference.
	last := &subs[len(subs)-1]
	last.OrderFee += paid - sum
	last.ProductFee += paid - sum
	for _, sub := range subs {
		if sub.ProductFee < 0 || sub.OrderFee <= 0 {
			return nil, fmt.Errorf("customs payment: order %d does not split into positive amounts", orderID)
		}
	}
	return subs, nil
}

// QueueCustomsPayment follows an order.paid task: for a paid cross-border
// order it writes the payment declaration (pending), its customs orders and
// a declare task, once per task id and once per order.
func (s *Service) QueueCustomsPayment(ctx context.Context, taskID string, data json.RawMessage) error {
	ctx, tid, t, err := payTask(ctx, data)
	if err != nil {
		return err
	}
	cc, err := s.payCustomsClient(ctx)
	if errs.Is(err, errs.Conflict) {
		// No WeChat Pay account (payments_not_configured): the order was not
		// paid through WeChat Pay, so there is no payment to declare.
		s.Log.WarnContext(ctx, "customs payment: the shop has no WeChat Pay account; payment not declared", "order_id", t.OrderID)
		return nil
	}
	if err != nil {
		return err
	}
	api := "v2"
	if cc.Global() {
		api = "v3"
	}
	office, mchNo, err := s.paymentCustomsFor(ctx, tid)
	if err != nil {
		return err
	}
	_, err = outbox.Once(ctx, s.DB, taskID+"/customs-payment", TaskCustomsPaymentDeclare, func(tx *gorm.DB) error {
		var os []struct {
			OutTradeNo    string
			TransactionID *string
			PaidFen       *int64
			TaxMode       string
		}
		if err := tx.Raw(`SELECT out_trade_no, transaction_id, paid_fen, tax_mode FROM orders WHERE tenant_id = ? AND id = ?`, tid, t.OrderID).
			Scan(&os).Error; err != nil || len(os) == 0 {
			return err
		}
		o := os[0]
		if o.TaxMode != "cbec" || o.TransactionID == nil || o.PaidFen == nil || *o.PaidFen <= 0 {
			return nil // not a cross-border payment: nothing to declare
		}
		res := tx.Exec(`INSERT INTO customs_declarations (tenant_id, order_id, kind, order_no, guid) VALUES (?, ?, 'payment', ?, ?)
			ON CONFLICT DO NOTHING`, tid, t.OrderID, o.OutTradeNo, DeclarationGUID(tid, o.OutTradeNo+"/payment", 1))
		if res.Error != nil || res.RowsAffected == 0 {
			return res.Error
		}
		subs, err := splitPayment(tx, tid, t.OrderID, *o.PaidFen)
		if err != nil {
			return err
		}
		if err := tx.Exec(`INSERT INTO customs_payments (tenant_id, order_id, api, customs, mch_customs_no, out_trade_no, transaction_id, paid_fen)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, tid, t.OrderID, api, office, mchNo, o.OutTradeNo, *o.TransactionID, *o.PaidFen).Error; err != nil {
			return err
		}
		for _, sub := range subs {
			if err := tx.Exec(`INSERT INTO customs_payment_orders (tenant_id, order_id, sub_order_no, warehouse_id, order_fee, transport_fee, product_fee, duty)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, tid, t.OrderID, sub.SubOrderNo, sub.WarehouseID, sub.OrderFee, sub.TransportFee, sub.ProductFee, sub.Duty).Error; err != nil {
				return err
			}
		}
		return outbox.Add(ctx, tx, outbox.Message{Kind: TaskCustomsPaymentDeclare, Queue: outbox.QueueCritical, TenantID: tid,
			Data: customsTask{OrderID: t.OrderID}})
	})
	return err
}

// payTask reads the payload of a payment declaration task (an order.paid
// payload also has the order id) and returns the context the task runs
// in, as the customs system actor unless someone else acts.
func payTask(ctx context.Context, data json.RawMessage) (context.Context, int64, customsTask, error) {
	var t customsTask
	if err := json.Unmarshal(data, &t); err != nil || t.OrderID <= 0 {
		return ctx, 0, t, fmt.Errorf("customs payment: bad payload %s", data)
	}
	tid, err := tenantID(ctx)
	if scope.ActorOf(ctx) == scope.System {
		ctx = scope.WithActor(ctx, scope.Actor{Kind: "system", ID: "customs"})
	}
	return ctx, tid, t, err
}

// customsOrder is what WeChat Pay is sent for one customs order.
func (p *payCustomsRow) customsOrder(sub paySubOrder, buyer *BuyerIdentity) wechatpay.CustomsOrder {
	o := wechatpay.CustomsOrder{OutTradeNo: p.OutTradeNo, TransactionID: p.TransactionID, Customs: p.Customs, MchCustomsNo: p.MchCustomsNo,
		Duty: sub.Duty, SubOrderNo: sub.SubOrderNo, OrderFee: sub.OrderFee, TransportFee: sub.TransportFee, ProductFee: sub.ProductFee}
	if buyer != nil {
		o.CertID, o.Name = strings.ToUpper(buyer.IDNumber), buyer.Name
	}
	return o
}

// payCallError sorts out a failed call: retry (transport, 5xx: the error
// is returned) or a refusal to record (the human reason).
func payCallError(err error) (refusal string, retry error) {
	var ae *wechatpay.APIError
	switch {
	case errors.Is(err, wechatpay.ErrUnavailable), errors.Is(err, wechatpay.ErrInvalidSignature):
		return "", err
	case errors.As(err, &ae):
		return fmt.Sprintf("WeChat Pay refused the payment declaration: %s %s", ae.Code, ae.Message), nil
	case errors.Is(err, wechatpay.ErrConfig):
		return "the payment declaration could not be made: " + strings.TrimPrefix(err.Error(), "wechatpay: bad configuration: "), nil
	}
	return "", err
}

// DeclarePayment handles a customs.declare_payment task: it sends each
// customs order of the pending payment declaration to WeChat Pay (declare,
// or redeclare for a later attempt of an order WeChat Pay already has),
// then records the answers. A refusal marks the declaration failed with
// WeChat Pay's reason; an unreachable WeChat Pay is retried by the queue.
func (s *Service) DeclarePayment(ctx context.Context, taskID string, data json.RawMessage) error {
	ctx, tid, t, err := payTask(ctx, data)
	if err != nil {
		return err
	}
	var d *declRow
	var p *payCustomsRow
	var subs []paySubOrder
	err = db.InTenant(ctx, s.DB, func(tx *gorm.DB) error {
		if done, err := taskDone(tx, taskID); err != nil || done {
			return err // delivered again after it ran: WeChat Pay is not asked twice
		}
		if d, err = loadPayDecl(tx, tid, t.OrderID, true); err != nil || d == nil || d.State != DeclPending {
			return err
		}
		var st []string
		if err := tx.Raw(`SELECT status FROM orders WHERE tenant_id = ? AND id = ?`, tid, t.OrderID).Scan(&st).Error; err != nil {
			return err
		}
		if len(st) == 1 && (st[0] == OrderRefunding || st[0] == OrderRefunded) {
			d.State = DeclFailed
			return tx.Exec(`UPDATE customs_declarations SET state = 'failed', last_info = ?, updated_at = now()
				WHERE tenant_id = ? AND order_id = ? AND kind = 'payment'`, "the order is "+st[0]+"; its payment was not declared", tid, t.OrderID).Error
		}
		if p, subs, err = loadPayCustoms(tx, tid, t.OrderID); err != nil || p == nil {
			return err
		}
		return tx.Exec(`UPDATE customs_declarations SET attempts = attempts + 1, updated_at = now() WHERE tenant_id = ? AND order_id = ? AND kind = 'payment'`,
			tid, t.OrderID).Error
	})
	if err != nil || d == nil || d.State != DeclPending || p == nil {
		return err
	}
	buyer, err := s.OpenOrderBuyer(ctx, t.OrderID)
	if err != nil {
		return err
	}
	cc, err := s.payCustomsClient(ctx)
	if err != nil {
		s.recordPayError(ctx, tid, t.OrderID, err)
		return err
	}
	var recs []wechatpay.CustomsRecord
	var refusal string
	for _, sub := range subs {
		var r *wechatpay.CustomsRecord
		if d.Attempt > 1 && sub.State != "" {
			r, err = cc.Redeclare(ctx, p.customsOrder(sub, nil))
			if err != nil && !errors.Is(err, wechatpay.ErrUnavailable) {
				// Refused because it is already being declared again (a
				// redeclaration sent twice): take WeChat Pay's current state.
				if cur := s.payRecordOf(ctx, cc, p, sub.SubOrderNo); cur != nil && cur.State != wechatpay.CustomsFail && cur.State != wechatpay.CustomsExcept {
					r, err = cur, nil
				}
			}
		} else {
			r, err = cc.Declare(ctx, p.customsOrder(sub, buyer))
		}
		if err != nil {
			var retry error
			if refusal, retry = payCallError(err); retry != nil {
				s.recordPayError(ctx, tid, t.OrderID, retry)
				return retry
			}
			break
		}
		if r.SubOrderNo == "" {
			r.SubOrderNo = sub.SubOrderNo
		}
		recs = append(recs, *r)
	}
	_, err = outbox.Once(ctx, s.DB, taskID, TaskCustomsPaymentDeclare, func(tx *gorm.DB) error {
		cur, err := loadPayDecl(tx, tid, t.OrderID, true)
		if err != nil || cur == nil || cur.State != DeclPending || cur.Attempt != d.Attempt {
			return err
		}
		if len(recs) > 0 {
			if err := tx.Exec(`UPDATE customs_declarations SET state = 'sent', sent_at = now(), last_error = '', updated_at = now()
				WHERE tenant_id = ? AND order_id = ? AND kind = 'payment'`, tid, t.OrderID).Error; err != nil {
				return err
			}
			cur.State = DeclSent
			if err := orderEvent(ctx, tx, tid, t.OrderID, "customs_payment_declared", "", "", map[string]any{
				"out_trade_no": p.OutTradeNo, "attempt": d.Attempt, "customs_orders": len(subs)}); err != nil {
				return err
			}
			if err := s.applyPayRecords(ctx, tx, tid, cur, recs); err != nil {
				return err
			}
		}
		if refusal != "" {
			if err := tx.Exec(`UPDATE customs_declarations SET state = 'failed', last_status = NULL, last_info = ?, updated_at = now()
				WHERE tenant_id = ? AND order_id = ? AND kind = 'payment'`, truncRunes(refusal, 500), tid, t.OrderID).Error; err != nil {
				return err
			}
			return orderEvent(ctx, tx, tid, t.OrderID, "customs_payment_failed", "", "", map[string]any{"reason": truncRunes(refusal, 500)})
		}
		return nil
	})
	return err
}

// taskDone reports whether task taskID already committed its effect
// (outbox.Once), so a late redelivery makes no outside call.
func taskDone(tx *gorm.DB, taskID string) (bool, error) {
	var n int64
	err := tx.Raw(`SELECT count(*) FROM task_runs WHERE task_id = ?`, taskID).Scan(&n).Error
	return n > 0, err
}

// payRecordOf is WeChat Pay's current record of one customs order, or nil.
func (s *Service) payRecordOf(ctx context.Context, cc *wechatpay.CustomsClient, p *payCustomsRow, subOrderNo string) *wechatpay.CustomsRecord {
	recs, err := cc.Query(ctx, wechatpay.CustomsQuery{Customs: p.Customs, OutTradeNo: p.OutTradeNo})
	if err != nil {
		return nil
	}
	for i := range recs {
		if recs[i].SubOrderNo == subOrderNo {
			return &recs[i]
		}
	}
	return nil
}

// payStatus maps WeChat Pay's state (and the identity check) to a receipt
// status and a declaration state.
func payStatus(state, cert string) (int, string) {
	if cert == wechatpay.CertDifferent {
		return PayStatusDifferent, DeclRejected
	}
	switch state {
	case wechatpay.CustomsSuccess:
		return PayStatusSuccess, DeclAccepted
	case wechatpay.CustomsFail:
		return PayStatusFail, DeclFailed
	case wechatpay.CustomsExcept:
		return PayStatusExcept, DeclFailed
	case wechatpay.CustomsSubmitted:
		return PayStatusSubmitted, DeclReceived
	case wechatpay.CustomsProcessing:
		return PayStatusProcessing, DeclReceived
	}
	return PayStatusUndeclared, DeclSent
}

// declRank orders the outcomes of customs orders: the declaration takes
// the worst of its parts.
var declRank = map[string]int{DeclRejected: 5, DeclFailed: 4, DeclSent: 3, DeclReceived: 2, DeclAccepted: 1}

// identityReason is the reason a DIFFERENT identity check is shown with.
const identityReason = "identity check failed: the buyer is not the payer (WeChat Pay cert_check_result DIFFERENT). " +
	"WeChat Pay declares the payer's identity, so customs will refuse the 三单 comparison: ask the buyer to pay with their own WeChat account, or cancel and refund the order"

// applyPayRecords records WeChat Pay's answers about the customs orders of
// a declaration that is sent or received (d locked): each part's state,
// a receipt per new state, the identity check, and the declaration's state
// (the worst part: rejected > failed > sent > received > accepted).
func (s *Service) applyPayRecords(ctx context.Context, tx *gorm.DB, tid int64, d *declRow, recs []wechatpay.CustomsRecord) error {
	if len(recs) == 0 {
		return nil
	}
	cert, vd, vdTrade := "", "", ""
	for _, r := range recs {
		modify := utcPtr(nonZero(r.ModifyTime))
		res := tx.Exec(`UPDATE customs_payment_orders SET state = ?, explanation = ?, modify_time = ?, sub_order_id = CASE WHEN ? <> '' THEN ? ELSE sub_order_id END,
			updated_at = now() WHERE tenant_id = ? AND order_id = ? AND sub_order_no = ?`,
			r.State, truncRunes(r.Explanation, 500), modify, r.SubOrderID, r.SubOrderID, tid, d.OrderID, r.SubOrderNo)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			continue // a customs order we did not send (made in the merchant platform)
		}
		if cert != wechatpay.CertDifferent && r.CertCheckResult != "" {
			cert = r.CertCheckResult
		}
		if r.VerifyDepartment != "" {
			vd, vdTrade = r.VerifyDepartment, r.VerifyDepartmentTradeID
		}
		status, _ := payStatus(r.State, "")
		at := r.ModifyTime
		if at.IsZero() {
			at = time.Now()
		}
		info := strings.TrimSpace(r.SubOrderNo + " " + r.State + " " + r.Explanation)
		if err := tx.Exec(`INSERT INTO customs_receipts (tenant_id, order_id, kind, guid, return_status, return_time, return_info)
			VALUES (?, ?, 'payment', ?, ?, ?, ?) ON CONFLICT DO NOTHING`, tid, d.OrderID, d.GUID, status, at, truncRunes(info, 500)).Error; err != nil {
			return err
		}
	}
	if err := tx.Exec(`UPDATE customs_payments SET cert_check_result = CASE WHEN ? <> '' THEN ? ELSE cert_check_result END,
		verify_department = CASE WHEN ? <> '' THEN ? ELSE verify_department END,
		verify_department_trade_id = CASE WHEN ? <> '' THEN ? ELSE verify_department_trade_id END, updated_at = now()
		WHERE tenant_id = ? AND order_id = ?`, cert, cert, vd, vd, vdTrade, vdTrade, tid, d.OrderID).Error; err != nil {
		return err
	}
	var parts []struct{ State, Explanation, SubOrderNo string }
	if err := tx.Raw(`SELECT state, explanation, sub_order_no FROM customs_payment_orders WHERE tenant_id = ? AND order_id = ? ORDER BY sub_order_no`,
		tid, d.OrderID).Scan(&parts).Error; err != nil {
		return err
	}
	var certNow []string
	if err := tx.Raw(`SELECT cert_check_result FROM customs_payments WHERE tenant_id = ? AND order_id = ?`, tid, d.OrderID).Scan(&certNow).Error; err != nil {
		return err
	}
	state, status, info := DeclAccepted, PayStatusSuccess, "WeChat Pay declared the payment to customs"
	for _, p := range parts {
		st, ds := payStatus(p.State, "")
		if declRank[ds] > declRank[state] {
			state, status = ds, st
			switch ds {
			case DeclFailed:
				info = "WeChat Pay could not declare the payment to customs (" + p.State + "): " + p.Explanation
			case DeclReceived:
				info = "WeChat Pay is submitting the payment to customs"
			case DeclSent:
				info = "WeChat Pay accepted the declaration and will submit it in its next batch"
			}
		}
	}
	if len(certNow) == 1 && certNow[0] == wechatpay.CertDifferent {
		state, status, info = DeclRejected, PayStatusDifferent, identityReason
	}
	if state == d.State && d.LastStatus != nil && *d.LastStatus == status {
		return tx.Exec(`UPDATE customs_declarations SET updated_at = now() WHERE tenant_id = ? AND order_id = ? AND kind = 'payment'`, tid, d.OrderID).Error
	}
	if err := tx.Exec(`UPDATE customs_declarations SET state = ?, last_status = ?, last_info = ?, last_receipt_at = now(), updated_at = now()
		WHERE tenant_id = ? AND order_id = ? AND kind = 'payment'`, state, status, truncRunes(info, 500), tid, d.OrderID).Error; err != nil {
		return err
	}
	if state != d.State && (state == DeclAccepted || state == DeclRejected || state == DeclFailed) {
		return orderEvent(ctx, tx, tid, d.OrderID, "customs_payment_"+state, "", "", map[string]any{"status": status, "info": truncRunes(info, 500)})
	}
	return nil
}

func nonZero(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// recordPayError keeps the last transport error for the admin view.
func (s *Service) recordPayError(ctx context.Context, tid, orderID int64, cause error) {
	msg := "WeChat Pay could not be reached; the declaration will be retried"
	if e, ok := cause.(*errs.Error); ok {
		msg = e.Message
	}
	err := db.InTenant(ctx, s.DB, func(tx *gorm.DB) error {
		return tx.Exec(`UPDATE customs_declarations SET last_error = ?, updated_at = now() WHERE tenant_id = ? AND order_id = ? AND kind = 'payment'`,
			truncRunes(msg, 500), tid, orderID).Error
	})
	if err != nil {
		s.Log.WarnContext(ctx, "customs payment: recording an error", "order_id", orderID, "err", err)
	}
}

// PollPaymentCustoms asks WeChat Pay about the payment declaration of
// order orderID of the shop in ctx and records the answer (only while the
// declaration is sent or received). not_found without a declaration.
func (s *Service) PollPaymentCustoms(ctx context.Context, orderID int64) error {
	tid, err := tenantID(ctx)
	if err != nil {
		return err
	}
	var d *declRow
	var p *payCustomsRow
	if err := db.InTenant(ctx, s.DB, func(tx *gorm.DB) error {
		if d, err = loadPayDecl(tx, tid, orderID, false); err != nil || d == nil {
			return err
		}
		p, _, err = loadPayCustoms(tx, tid, orderID)
		return err
	}); err != nil {
		return err
	}
	if d == nil || p == nil {
		return errNoPayDeclaration
	}
	if d.State != DeclSent && d.State != DeclReceived {
		return nil
	}
	cc, err := s.payCustomsClient(ctx)
	if err != nil {
		return err
	}
	recs, err := cc.Query(ctx, wechatpay.CustomsQuery{Customs: p.Customs, OutTradeNo: p.OutTradeNo})
	if err != nil && !wechatpay.IsCustomsNotFound(err) {
		s.recordPayError(ctx, tid, orderID, errs.E(errs.Unavailable, "wechatpay_unavailable", "querying WeChat Pay failed: "+truncRunes(err.Error(), 200)))
		return err
	}
	return db.InTenant(ctx, s.DB, func(tx *gorm.DB) error {
		cur, err := loadPayDecl(tx, tid, orderID, true)
		if err != nil || cur == nil || cur.Attempt != d.Attempt || (cur.State != DeclSent && cur.State != DeclReceived) {
			return err
		}
		if len(recs) == 0 {
			return tx.Exec(`UPDATE customs_declarations SET last_error = 'WeChat Pay has no record of this declaration yet', updated_at = now()
				WHERE tenant_id = ? AND order_id = ? AND kind = 'payment'`, tid, orderID).Error
		}
		if err := tx.Exec(`UPDATE customs_declarations SET last_error = '' WHERE tenant_id = ? AND order_id = ? AND kind = 'payment'`, tid, orderID).Error; err != nil {
			return err
		}
		return s.applyPayRecords(ctx, tx, tid, cur, recs)
	})
}

// PollOpenPaymentCustoms polls up to limit payment declarations, in every
// shop, that are sent or received and were last looked at before before.
// A shop that fails does not stop the others (the error names them).
func (s *Service) PollOpenPaymentCustoms(ctx context.Context, before time.Time, limit int) (int, error) {
	var open []struct{ TenantID, OrderID int64 }
	if err := s.DB.WithContext(ctx).Raw(`SELECT tenant_id, order_id FROM customs_payments_awaiting(?, ?)`, before, limit).Scan(&open).Error; err != nil {
		return 0, err
	}
	var failed []string
	for _, d := range open {
		tctx := scope.WithActor(scope.WithTenant(ctx, d.TenantID), scope.Actor{Kind: "system", ID: "customs"})
		if err := s.PollPaymentCustoms(tctx, d.OrderID); err != nil {
			s.Log.WarnContext(ctx, "customs payment: polling", "tenant_id", d.TenantID, "order_id", d.OrderID, "err", err)
			failed = append(failed, fmt.Sprintf("%d/%d", d.TenantID, d.OrderID))
		}
	}
	if len(failed) > 0 {
		return len(open), fmt.Errorf("polling payment declarations failed for %s", strings.Join(failed, ", "))
	}
	return len(open), nil
}

var errNoPayDeclaration = errs.E(errs.NotFound, "customs_payment_not_found", "this order has no payment declaration")

// queuePaymentModify is called, in the refund's transaction, when a
// partial refund completed: the declared amounts must follow. Nothing
// happens for an order without a payment declaration.
func (s *Service) queuePaymentModify(ctx context.Context, tx *gorm.DB, tid, orderID int64) error {
	var n int64
	if err := tx.Raw(`SELECT count(*) FROM customs_payments WHERE tenant_id = ? AND order_id = ?`, tid, orderID).Scan(&n).Error; err != nil || n == 0 {
		return err
	}
	return outbox.Add(ctx, tx, outbox.Message{Kind: TaskCustomsPaymentModify, Queue: outbox.QueueCritical, TenantID: tid,
		Data: customsTask{OrderID: orderID}})
}

// reduceBy takes refunded fen off the customs orders: product amounts
// first, from the last customs order back, then freight. A customs order
// is never taken to zero (WeChat Pay needs a positive order_fee); what
// cannot be taken is left, and reported.
func reduceBy(subs []paySubOrder, refunded int64) ([]paySubOrder, int64) {
	out := append([]paySubOrder(nil), subs...)
	left := refunded
	for _, fee := range []string{"product", "transport"} {
		for i := len(out) - 1; i >= 0 && left > 0; i-- {
			room := out[i].ProductFee
			if fee == "transport" {
				room = out[i].TransportFee
			}
			if room > out[i].OrderFee-1 {
				room = out[i].OrderFee - 1
			}
			take := min(room, left)
			if take <= 0 {
				continue
			}
			if fee == "product" {
				out[i].ProductFee -= take
			} else {
				out[i].TransportFee -= take
			}
			out[i].OrderFee -= take
			left -= take
		}
	}
	return out, left
}

// ModifyPayment handles a customs.modify_payment task: the declared
// amounts are lowered by what staff refunds returned (from the amounts
// split at payment), and WeChat Pay is asked to modify the customs orders
// it already has, which restarts their declaration (the row goes back to
// sent). Modifying to the same amounts again changes nothing there.
func (s *Service) ModifyPayment(ctx context.Context, taskID string, data json.RawMessage) error {
	ctx, tid, t, err := payTask(ctx, data)
	if err != nil {
		return err
	}
	var p *payCustomsRow
	var subs, next []paySubOrder
	var refunded, unapplied int64
	var d *declRow
	err = db.InTenant(ctx, s.DB, func(tx *gorm.DB) error {
		if done, err := taskDone(tx, taskID); err != nil || done {
			return err
		}
		if d, err = loadPayDecl(tx, tid, t.OrderID, false); err != nil || d == nil {
			return err
		}
		if p, subs, err = loadPayCustoms(tx, tid, t.OrderID); err != nil || p == nil {
			return err
		}
		if err := tx.Raw(`SELECT coalesce(sum(amount), 0) FROM order_refunds WHERE tenant_id = ? AND order_id = ? AND kind = 'staff' AND status = 'succeeded'`,
			tid, t.OrderID).Scan(&refunded).Error; err != nil {
			return err
		}
		orig, err := splitPayment(tx, tid, t.OrderID, p.PaidFen)
		if err != nil {
			return err
		}
		next, unapplied = reduceBy(orig, refunded)
		return nil
	})
	if err != nil || d == nil || p == nil || refunded == p.RefundedFen {
		return err
	}
	var recs []wechatpay.CustomsRecord
	changed := 0
	var cc *wechatpay.CustomsClient
	for i, sub := range subs {
		n := next[i]
		if n.SubOrderNo != sub.SubOrderNo || (n.OrderFee == sub.OrderFee && n.ProductFee == sub.ProductFee && n.TransportFee == sub.TransportFee) {
			continue
		}
		changed++
		if sub.State == "" {
			continue // not at WeChat Pay yet: the declaration will carry the new amounts
		}
		if cc == nil {
			if cc, err = s.payCustomsClient(ctx); err != nil {
				return err
			}
		}
		n.Duty = sub.Duty
		r, err := cc.Modify(ctx, p.customsOrder(n, nil))
		if err != nil {
			refusal, retry := payCallError(err)
			if retry != nil {
				s.recordPayError(ctx, tid, t.OrderID, retry)
				return retry
			}
			return s.payModifyRefused(ctx, taskID, tid, t.OrderID, refusal)
		}
		if r.SubOrderNo == "" {
			r.SubOrderNo = sub.SubOrderNo
		}
		recs = append(recs, *r)
	}
	_, err = outbox.Once(ctx, s.DB, taskID, TaskCustomsPaymentModify, func(tx *gorm.DB) error {
		cur, err := loadPayDecl(tx, tid, t.OrderID, true)
		if err != nil || cur == nil {
			return err
		}
		for _, n := range next {
			if err := tx.Exec(`UPDATE customs_payment_orders SET order_fee = ?, transport_fee = ?, product_fee = ?, updated_at = now()
				WHERE tenant_id = ? AND order_id = ? AND sub_order_no = ?`, n.OrderFee, n.TransportFee, n.ProductFee, tid, t.OrderID, n.SubOrderNo).Error; err != nil {
				return err
			}
		}
		inc := 0
		if len(recs) > 0 {
			inc = 1
		}
		if err := tx.Exec(`UPDATE customs_payments SET refunded_fen = ?, modifications = modifications + ?, updated_at = now() WHERE tenant_id = ? AND order_id = ?`,
			refunded, inc, tid, t.OrderID).Error; err != nil {
			return err
		}
		data := map[string]any{"refunded": refunded, "customs_orders_changed": changed, "sent_to_wechat_pay": len(recs)}
		if unapplied > 0 {
			data["not_applied"] = unapplied
		}
		if err := orderEvent(ctx, tx, tid, t.OrderID, "customs_payment_modified", "", "", data); err != nil {
			return err
		}
		if len(recs) == 0 {
			return nil
		}
		// WeChat Pay declares the modified orders again.
		if err := tx.Exec(`UPDATE customs_declarations SET state = 'sent', last_status = NULL, last_info = 'amounts modified after a refund; WeChat Pay declares them again',
			updated_at = now() WHERE tenant_id = ? AND order_id = ? AND kind = 'payment'`, tid, t.OrderID).Error; err != nil {
			return err
		}
		cur.State, cur.LastStatus = DeclSent, nil
		return s.applyPayRecords(ctx, tx, tid, cur, recs)
	})
	return err
}

// payModifyRefused records a modification WeChat Pay refused: the
// declaration keeps its state, the reason is shown and on the timeline.
func (s *Service) payModifyRefused(ctx context.Context, taskID string, tid, orderID int64, refusal string) error {
	_, err := outbox.Once(ctx, s.DB, taskID, TaskCustomsPaymentModify, func(tx *gorm.DB) error {
		msg := truncRunes("the declared amounts could not be modified after a refund: "+refusal, 500)
		if err := tx.Exec(`UPDATE customs_declarations SET last_info = ?, updated_at = now() WHERE tenant_id = ? AND order_id = ? AND kind = 'payment'`,
			msg, tid, orderID).Error; err != nil {
			return err
		}
		return orderEvent(ctx, tx, tid, orderID, "customs_payment_modify_refused", "", "", map[string]any{"reason": msg})
	})
	return err
}
