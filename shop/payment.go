package shop

// Payments beyond the checkout seam of order_pay.go: healing a payment whose
// notification never came (a periodic query), and the outcome of refunds
// as the provider notifies it.

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/minishop/minishop/internal/db"
	"github.com/minishop/minishop/internal/errs"
	"github.com/minishop/minishop/internal/scope"
)

// TaskQueryPending is the periodic task that asks the payment provider
// about orders still waiting for payment some minutes after their prepay.
const TaskQueryPending = "payments.query_pending"

// PaymentReport is a payment the provider confirmed in answer to a query.
type PaymentReport struct {
	TransactionID string
	AmountFen     int64
	PaidAt        time.Time
}

// PaymentQuerier is implemented by a PaymentGateway that can be asked
// whether an order was paid. QueryPayment returns nil (and no error) when
// it was not, or not yet.
type PaymentQuerier interface {
	QueryPayment(ctx context.Context, order *Order) (*PaymentReport, error)
}

// QueryPending asks the provider about orders of every shop still waiting
// for payment whose prepay was requested before `before`, at most limit of
// them, and records each payment found with MarkPaid (which makes it paid
// exactly once, whatever notification comes later). It returns how many
// payments it recorded. An order whose query fails is left for the next run.
func (s *Service) QueryPending(ctx context.Context, before time.Time, limit int) (int, error) {
	q, _ := s.gateway().(PaymentQuerier)
	if q == nil {
		return 0, nil
	}
	var due []struct {
		TenantID int64
		OrderID  int64
	}
	if err := s.DB.WithContext(ctx).Raw(`SELECT tenant_id, order_id FROM orders_pending_payment_query(?, ?)`, before, limit).Scan(&due).Error; err != nil {
		return 0, err
	}
	found := 0
	var failed []string
	for _, d := range due {
		tctx := scope.WithActor(scope.WithTenant(ctx, d.TenantID), scope.Actor{Kind: "system", ID: "payment-query"})
		var o *Order
		err := db.InTenant(tctx, s.DB, func(tx *gorm.DB) error {
			var err error
			o, err = loadOrder(tx, d.TenantID, d.OrderID, 0, false)
			return err
		})
		if err == nil && o.Status != OrderPendingPayment {
			continue
		}
		var p *PaymentReport
		if err == nil {
			p, err = q.QueryPayment(tctx, o)
		}
		if err == nil && p != nil {
			err = s.MarkPaid(tctx, d.TenantID, o.OutTradeNo, p.TransactionID, p.AmountFen, p.PaidAt)
			if err == nil {
				found++
				s.Log.InfoContext(tctx, "shop: payment found by query (its notification never came)", "order_id", o.ID)
			}
		}
		if err != nil {
			s.Log.WarnContext(tctx, "shop: querying a pending payment failed; next run retries", "tenant_id", d.TenantID, "order_id", d.OrderID, "err", err)
			failed = append(failed, strconv.FormatInt(d.OrderID, 10))
		}
	}
	if len(failed) > 0 && found == 0 && len(failed) == len(due) {
		return 0, fmt.Errorf("querying pending payments failed for %s", strings.Join(failed, ", "))
	}
	return found, nil
}

// RefundOutcome is a refund's result as the provider notifies it. Status is
// the provider's: SUCCESS, ABNORMAL, CLOSED (PROCESSING changes nothing).
type RefundOutcome struct {
	OutRefundNo   string
	OutTradeNo    string
	RefundID      string
	TransactionID string
	Status        string
	AmountFen     int64
	At            time.Time
}

var refundStatuses = map[string]string{"SUCCESS": RefundSucceeded, "ABNORMAL": RefundAbnormal, "CLOSED": RefundClosed}

// RefundNotified records a refund's outcome, once, however often and in
// whatever order it is reported, under the order's row lock. A staff refund
// that succeeded moves the order from refunding to refunded (everything
// paid was returned) or partially_refunded; one that failed leaves the
// order refunding (staff decide) or partially_refunded when an earlier
// refund succeeded. The return of a payment the order could not keep
// (order.refund_required) is recorded on the timeline only. not_found for
// an unknown order, invalid for malformed input, other errors to retry.
func (s *Service) RefundNotified(ctx context.Context, tenantID int64, r RefundOutcome) error {
	if tenantID <= 0 || r.OutRefundNo == "" || r.OutTradeNo == "" {
		return errs.E(errs.Invalid, "invalid_refund", "a refund outcome needs a tenant, out_refund_no and out_trade_no")
	}
	status, final := refundStatuses[r.Status]
	if !final {
		return nil
	}
	ctx = scope.WithTenant(ctx, tenantID)
	return db.InTenant(ctx, s.DB, func(tx *gorm.DB) error {
		var ids []int64
		if err := tx.Raw(`SELECT id FROM orders WHERE tenant_id = ? AND out_trade_no = ? FOR UPDATE`, tenantID, r.OutTradeNo).Scan(&ids).Error; err != nil {
			return err
		}
		if len(ids) == 0 {
			return errNoOrder
		}
		orderID := ids[0]
		var rows []Refund
		if err := tx.Raw(`SELECT `+refundColumns+` FROM order_refunds WHERE tenant_id = ? AND out_refund_no = ? AND order_id = ?`,
			tenantID, r.OutRefundNo, orderID).Scan(&rows).Error; err != nil {
			return err
		}
		if len(rows) == 0 {
			// A refund we did not write down: the return of a payment the
			// order could not keep (its out_refund_no is "R" + transaction
			// id), or one made in the merchant platform.
			kind := RefundKindPaymentReturn
			if r.TransactionID == "" || r.OutRefundNo != refundNo(r.TransactionID) {
				kind = RefundKindStaff
			}
			amount := r.AmountFen
			if amount <= 0 {
				return errs.E(errs.Invalid, "invalid_refund", "a refund made outside Minishop must name its amount")
			}
			if err := tx.Exec(`INSERT INTO order_refunds (tenant_id, out_refund_no, order_id, kind, amount, status, transaction_id, actor)
				VALUES (?, ?, ?, ?, ?, 'processing', ?, 'wechatpay') ON CONFLICT DO NOTHING`,
				tenantID, r.OutRefundNo, orderID, kind, amount, r.TransactionID).Error; err != nil {
				return err
			}
			rows = []Refund{{OutRefundNo: r.OutRefundNo, OrderID: orderID, Kind: kind, Amount: amount, Status: RefundProcessing}}
		}
		rf := rows[0]
		if rf.Status != RefundRequested && rf.Status != RefundProcessing {
			return nil // reported before
		}
		if err := tx.Exec(`UPDATE order_refunds SET status = ?, refund_id = ?, updated_at = now() WHERE tenant_id = ? AND out_refund_no = ?`,
			status, r.RefundID, tenantID, r.OutRefundNo).Error; err != nil {
			return err
		}
		if err := orderEvent(ctx, tx, tenantID, orderID, "refund_"+status, "", "", map[string]any{
			"out_refund_no": r.OutRefundNo, "refund_id": r.RefundID, "amount": rf.Amount, "kind": rf.Kind}); err != nil {
			return err
		}
		if rf.Kind != RefundKindStaff {
			return nil
		}
		return s.settleRefunds(ctx, tx, tenantID, orderID)
	})
}

// settleRefunds moves an order out of refunding once no refund of it is in
// flight: refunded when its staff refunds returned all that was paid,
// partially_refunded when they returned some. tx holds the order's lock.
func (s *Service) settleRefunds(ctx context.Context, tx *gorm.DB, tid, orderID int64) error {
	var st struct {
		Status   string
		PaidFen  int64
		Refunded int64
		Pending  int64
	}
	if err := tx.Raw(`SELECT o.status, coalesce(o.paid_fen, 0) AS paid_fen,
		coalesce((SELECT sum(amount) FROM order_refunds r WHERE r.tenant_id = o.tenant_id AND r.order_id = o.id AND r.kind = 'staff' AND r.status = 'succeeded'), 0) AS refunded,
		(SELECT count(*) FROM order_refunds r WHERE r.tenant_id = o.tenant_id AND r.order_id = o.id AND r.kind = 'staff' AND r.status IN ('requested', 'processing')) AS pending
		FROM orders o WHERE o.tenant_id = ? AND o.id = ?`, tid, orderID).Scan(&st).Error; err != nil {
		return err
	}
	if st.Status != OrderRefunding || st.Pending > 0 || st.Refunded == 0 {
		return nil
	}
	data := map[string]any{"refunded": st.Refunded, "paid": st.PaidFen}
	if st.Refunded >= st.PaidFen {
		if err := transition(ctx, tx, tid, orderID, OrderRefunding, OrderRefunded, "refunded", data, ""); err != nil {
			return err
		}
		return annualSet(tx, tid, orderID, "released")
	}
	if err := transition(ctx, tx, tid, orderID, OrderRefunding, OrderPartiallyRefunded, "partially_refunded", data, ""); err != nil {
		return err
	}
	if err := s.queuePaymentModify(ctx, tx, tid, orderID); err != nil { // the customs payment declaration follows the refund
		return err
	}
	var one []int
	return tx.Raw(`SELECT 1 FROM cbec_annual_set(?, ?, 'counted', ?)`, tid, orderID, st.PaidFen-st.Refunded).Scan(&one).Error
}
