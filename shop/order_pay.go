package shop

// The seam between orders and the payment side (billing/wechatpay). The shop
// defines what it needs from a payment provider (PaymentGateway) and the
// hooks the provider calls back (MarkPaid). Nothing here knows WeChat Pay's
// wire format.

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"gorm.io/gorm"

	"github.com/minishop/minishop/internal/db"
	"github.com/minishop/minishop/internal/errs"
	"github.com/minishop/minishop/internal/outbox"
	"github.com/minishop/minishop/internal/scope"
)

// Tasks of orders (outbox kinds and the periodic task).
const (
	// TaskOrderPaid follows a payment: customs declaration, shipping
	// information upload (handled by fulfilment when it lands).
	TaskOrderPaid = "order.paid"
	// TaskOrderRefund refunds money the order cannot keep: a payment after
	// the order closed or was cancelled, a second payment, a wrong amount.
	TaskOrderRefund = "order.refund_required"
	// TaskCloseExpired closes unpaid orders past their deadline (periodic).
	TaskCloseExpired = "orders.close_expired"
)

// PayParams are what the Mini Program passes to wx.requestPayment.
type PayParams struct {
	TimeStamp string `json:"timeStamp"`
	NonceStr  string `json:"nonceStr"`
	Package   string `json:"package"` // "prepay_id=…"
	SignType  string `json:"signType"`
	PaySign   string `json:"paySign"`
}

// RefundRequest asks the provider to refund a payment. OutRefundNo is the
// idempotency key at the provider: the same request twice refunds once.
type RefundRequest struct {
	OutRefundNo   string
	TransactionID string
	TotalFen      int64 // what the payment was
	RefundFen     int64 // what to give back
	Reason        string
}

// PaymentGateway is the payment provider, as orders use it. The tenant is in
// ctx (scope.TenantID); the implementation finds the tenant's merchant
// credentials (test mode: the sandbox) itself. Errors should be *errs.Error
// (Unavailable when the provider cannot be reached: the caller retries).
//
//   - Prepay creates (or, for the same order, re-creates: out_trade_no is
//     the provider's idempotency key) a JSAPI/Mini Program prepay for
//     order.ActuralPaid fen, order.OutTradeNo, payer openid, expiring at
//     order.ExpiresAt, and returns the signed parameters of
//     wx.requestPayment.
//   - Close closes the provider's order for order.OutTradeNo so it can no
//     longer be paid. It must return nil if the provider has no such order,
//     and an error if the order was paid meanwhile (the order stays open
//     here and the payment notice will arrive).
//   - Refund refunds a payment, idempotently by r.OutRefundNo, and returns
//     once the provider accepted the request.
type PaymentGateway interface {
	Prepay(ctx context.Context, order *Order, openid string) (*PayParams, error)
	Close(ctx context.Context, order *Order) error
	Refund(ctx context.Context, order *Order, r RefundRequest) error
}

// paymentSlot holds the payment provider; it may be installed after the
// service is built (the provider may need the service for its hooks).
type paymentSlot struct{ v atomic.Value }

type gatewayBox struct{ g PaymentGateway }

// SetPaymentGateway installs the payment provider (nil removes it). Safe
// while serving.
func (s *Service) SetPaymentGateway(g PaymentGateway) { s.pay.v.Store(gatewayBox{g}) }

// gateway returns the payment provider, or nil.
func (s *Service) gateway() PaymentGateway {
	b, _ := s.pay.v.Load().(gatewayBox)
	return b.g
}

var errNoGateway = errs.E(errs.Unavailable, "payments_unavailable", "payments are not available in this shop yet; try again later")

// Pay starts the payment of a pending order of the signed-in customer and
// returns the parameters of wx.requestPayment. 503 payments_unavailable
// without a payment provider; 409 order_not_payable when the order is not
// pending_payment, order_expired past its deadline.
func (s *Service) Pay(ctx context.Context, id int64) (*Order, *PayParams, error) {
	tid, cid, err := customerScope(ctx)
	if err != nil {
		return nil, nil, err
	}
	gw := s.gateway()
	var o *Order
	err = db.InTenant(ctx, s.DB, func(tx *gorm.DB) error {
		var err error
		if o, err = loadOrder(tx, tid, id, cid, true); err != nil {
			return err
		}
		if gw == nil {
			return errNoGateway
		}
		if o.Status != OrderPendingPayment {
			return errs.E(errs.Conflict, "order_not_payable", "this order is "+o.Status+"; only an order waiting for payment can be paid")
		}
		if !time.Now().Before(o.ExpiresAt) {
			return errs.E(errs.Conflict, "order_expired", "the time to pay this order has passed; place it again")
		}
		if err := tx.Raw(`SELECT openid FROM customers WHERE tenant_id = ? AND id = ?`, tid, cid).Scan(&o.OpenID).Error; err != nil {
			return err
		}
		if o.PrepayAt != nil {
			return nil
		}
		// Recorded before the provider is called: whoever closes the order
		// later knows it must close it at the provider too.
		now := time.Now()
		o.PrepayAt = &now
		if err := tx.Exec(`UPDATE orders SET prepay_at = now() WHERE tenant_id = ? AND id = ?`, tid, id).Error; err != nil {
			return err
		}
		return orderEvent(ctx, tx, tid, id, "prepay_requested", "", "", nil)
	})
	if err != nil {
		return nil, nil, err
	}
	params, err := gw.Prepay(ctx, o, o.OpenID)
	if err != nil {
		return nil, nil, err
	}
	return o, params, nil
}

// MarkPaid is the hook the payment side calls when the provider reports a
// payment of out_trade_no (a verified notification or a query). It is safe
// to call any number of times, concurrently: under the order's row lock,
// the payment is recorded once by transactionID, and a pending order of the
// same amount becomes paid exactly once (stock sold, the annual limit
// counted, an order.paid task queued). A payment the order cannot keep
// (after it closed or was cancelled, a second one, a wrong amount) is
// recorded, the order flagged needs_refund, and an order.refund_required
// task queued. It returns nil in all these cases, so the caller may
// acknowledge the notification; not_found for an unknown out_trade_no,
// invalid for malformed arguments, other errors to retry.
func (s *Service) MarkPaid(ctx context.Context, tenantID int64, outTradeNo, transactionID string, amountFen int64, paidAt time.Time) error {
	if tenantID <= 0 || outTradeNo == "" || transactionID == "" || len(transactionID) > 64 || amountFen <= 0 || paidAt.IsZero() {
		return errs.E(errs.Invalid, "invalid_payment", "MarkPaid needs a tenant, out_trade_no, a transaction id, a positive amount and a time")
	}
	ctx = scope.WithTenant(ctx, tenantID)
	if scope.ActorOf(ctx) == scope.System {
		ctx = scope.WithActor(ctx, scope.Actor{Kind: "system", ID: "payments"})
	}
	return db.InTenant(ctx, s.DB, func(tx *gorm.DB) error {
		var ids []int64
		if err := tx.Raw(`SELECT id FROM orders WHERE tenant_id = ? AND out_trade_no = ? FOR UPDATE`, tenantID, outTradeNo).Scan(&ids).Error; err != nil {
			return err
		}
		if len(ids) == 0 {
			return errNoOrder
		}
		o, err := loadOrder(tx, tenantID, ids[0], 0, false)
		if err != nil {
			return err
		}
		disposition := "applied"
		switch {
		case o.Status == OrderCancelled || o.Status == OrderClosed:
			disposition = "late"
		case o.Status != OrderPendingPayment:
			disposition = "duplicate"
		case amountFen != o.ActuralPaid:
			disposition = "amount_mismatch"
		}
		res := tx.Exec(`INSERT INTO order_payments (tenant_id, transaction_id, order_id, amount, paid_at, disposition)
			VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`, tenantID, transactionID, o.ID, amountFen, paidAt, disposition)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return nil // this payment was reported before
		}
		data := map[string]any{"transaction_id": transactionID, "amount": amountFen, "paid_at": paidAt.UTC()}
		if disposition != "applied" {
			if err := tx.Exec(`UPDATE orders SET needs_refund = true, updated_at = now() WHERE tenant_id = ? AND id = ?`, tenantID, o.ID).Error; err != nil {
				return err
			}
			if err := orderEvent(ctx, tx, tenantID, o.ID, "payment_"+disposition, "", "", data); err != nil {
				return err
			}
			s.Log.WarnContext(ctx, "shop: payment the order cannot keep; refund queued", "order_id", o.ID, "disposition", disposition, "amount", amountFen)
			return outbox.Add(ctx, tx, outbox.Message{Kind: TaskOrderRefund, Queue: outbox.QueueCritical, TenantID: tenantID,
				Data: refundTask{OrderID: o.ID, TransactionID: transactionID, Amount: amountFen, Reason: disposition}})
		}
		if err := transition(ctx, tx, tenantID, o.ID, OrderPendingPayment, OrderPaid, "paid", data,
			`paid_at = ?, transaction_id = ?, paid_fen = ?`, paidAt, transactionID, amountFen); err != nil {
			return err
		}
		if err := moveOrderStock(ctx, tx, tenantID, o, MoveSold); err != nil {
			return err
		}
		if err := annualSet(tx, tenantID, o.ID, "counted"); err != nil {
			return err
		}
		if err := tx.Exec(`UPDATE products SET sales_count = sales_count + l.quantity FROM order_lines l
			WHERE l.tenant_id = ? AND l.order_id = ? AND products.tenant_id = l.tenant_id AND products.id = l.product_id`, tenantID, o.ID).Error; err != nil {
			return err
		}
		return outbox.Add(ctx, tx, outbox.Message{Kind: TaskOrderPaid, Queue: outbox.QueueCritical, TenantID: tenantID,
			Data: paidTask{OrderID: o.ID, OutTradeNo: o.OutTradeNo}})
	})
}

type paidTask struct {
	OrderID    int64  `json:"order_id"`
	OutTradeNo string `json:"out_trade_no"`
}

type refundTask struct {
	OrderID       int64  `json:"order_id"`
	TransactionID string `json:"transaction_id"`
	Amount        int64  `json:"amount"`
	Reason        string `json:"reason"`
}

// OrderPaid handles an order.paid task. Customs declaration and shipping
// are not built yet: it records on the timeline that the order is waiting
// for fulfilment, once per task.
func (s *Service) OrderPaid(ctx context.Context, taskID string, data json.RawMessage) error {
	var t paidTask
	if err := json.Unmarshal(data, &t); err != nil || t.OrderID <= 0 {
		return fmt.Errorf("order.paid: bad payload %s", data)
	}
	tid, err := tenantID(ctx)
	if err != nil {
		return err
	}
	_, err = outbox.Once(ctx, s.DB, taskID, TaskOrderPaid, func(tx *gorm.DB) error {
		return orderEvent(ctx, tx, tid, t.OrderID, "fulfilment_queued", "", "", nil)
	})
	return err
}

// RefundPayment handles an order.refund_required task: it asks the payment
// provider to refund the payment (idempotent at the provider by
// out_refund_no "R"+transaction id), then records it on the timeline.
// Without a provider it fails, so the task is retried and, in the end,
// visible among failed tasks.
func (s *Service) RefundPayment(ctx context.Context, taskID string, data json.RawMessage) error {
	var t refundTask
	if err := json.Unmarshal(data, &t); err != nil || t.OrderID <= 0 || t.TransactionID == "" {
		return fmt.Errorf("order.refund_required: bad payload %s", data)
	}
	tid, err := tenantID(ctx)
	if err != nil {
		return err
	}
	gw := s.gateway()
	if gw == nil {
		return errNoGateway
	}
	var o *Order
	if err := db.InTenant(ctx, s.DB, func(tx *gorm.DB) error {
		var err error
		o, err = loadOrder(tx, tid, t.OrderID, 0, false)
		return err
	}); err != nil {
		return err
	}
	r := RefundRequest{OutRefundNo: refundNo(t.TransactionID), TransactionID: t.TransactionID, TotalFen: t.Amount, RefundFen: t.Amount, Reason: t.Reason}
	if err := gw.Refund(ctx, o, r); err != nil {
		return err
	}
	_, err = outbox.Once(ctx, s.DB, taskID, TaskOrderRefund, func(tx *gorm.DB) error {
		if err := orderEvent(ctx, tx, tid, t.OrderID, "payment_refund_requested", "", "", map[string]any{
			"transaction_id": t.TransactionID, "amount": t.Amount, "out_refund_no": r.OutRefundNo, "reason": t.Reason}); err != nil {
			return err
		}
		// Clear the flag once every payment to refund has been handed over.
		return tx.Exec(`UPDATE orders SET needs_refund = false, updated_at = now() WHERE tenant_id = ? AND id = ? AND needs_refund
			AND (SELECT count(*) FROM order_payments p WHERE p.tenant_id = ? AND p.order_id = ? AND p.disposition <> 'applied') <=
			    (SELECT count(*) FROM order_events e WHERE e.tenant_id = ? AND e.order_id = ? AND e.kind = 'payment_refund_requested')`,
			tid, t.OrderID, tid, t.OrderID, tid, t.OrderID).Error
	})
	return err
}

func refundNo(transactionID string) string {
	n := "R" + transactionID
	if len(n) > 64 {
		n = n[:64]
	}
	return n
}

// CancelMyOrder cancels a pending order of the signed-in customer.
func (s *Service) CancelMyOrder(ctx context.Context, id int64) (*Order, error) {
	_, cid, err := customerScope(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.endUnpaid(ctx, id, cid, OrderCancelled, "cancelled", time.Time{}); err != nil {
		return nil, err
	}
	return s.MyOrder(ctx, id)
}

// CancelOrder cancels a pending order of the shop (staff).
func (s *Service) CancelOrder(ctx context.Context, id int64) (*Order, error) {
	if err := s.endUnpaid(ctx, id, 0, OrderCancelled, "cancelled", time.Time{}); err != nil {
		return nil, err
	}
	return s.AdminOrder(ctx, id)
}

var errNotCancellable = errs.E(errs.Conflict, "order_not_cancellable", "only an order waiting for payment can be cancelled")

// endUnpaid moves a pending order to cancelled or closed: it closes the
// provider's prepay first (if one was requested), then, under the row lock,
// makes the transition, releases the stock and the annual-limit hold. For
// closing (dueBy set) an order not yet due, or no longer pending, is left
// alone.
func (s *Service) endUnpaid(ctx context.Context, id, customerID int64, to, kind string, dueBy time.Time) (err error) {
	tid, err := tenantID(ctx)
	if err != nil {
		return err
	}
	var o *Order
	if err := db.InTenant(ctx, s.DB, func(tx *gorm.DB) error {
		var err error
		o, err = loadOrder(tx, tid, id, customerID, false)
		return err
	}); err != nil {
		return err
	}
	closing := !dueBy.IsZero()
	if o.Status != OrderPendingPayment {
		if closing {
			return nil
		}
		return errNotCancellable
	}
	if o.PrepayAt != nil {
		if gw := s.gateway(); gw != nil {
			if err := gw.Close(ctx, o); err != nil {
				s.Log.WarnContext(ctx, "shop: closing the prepay of an order failed", "order_id", id, "err", err)
				return errs.E(errs.Unavailable, "payment_close_failed",
					"the payment of this order could not be stopped (it may have just been paid); try again in a moment")
			}
		} else {
			s.Log.WarnContext(ctx, "shop: order had a prepay but no payment gateway is configured to close it", "order_id", id)
		}
	}
	ctx, moved := withStockChanges(ctx) // the availability bands the release moves
	defer func() {
		if err == nil {
			s.stockMoved(ctx, tid, moved)
		}
	}()
	return db.InTenant(ctx, s.DB, func(tx *gorm.DB) error {
		o, err := loadOrder(tx, tid, id, customerID, true)
		if err != nil {
			return err
		}
		if o.Status != OrderPendingPayment {
			if closing {
				return nil
			}
			return errNotCancellable
		}
		if closing && o.ExpiresAt.After(dueBy) {
			return nil
		}
		if err := transition(ctx, tx, tid, id, OrderPendingPayment, to, kind, nil, ""); err != nil {
			return err
		}
		if err := moveOrderStock(ctx, tx, tid, o, MoveReleased); err != nil {
			return err
		}
		return annualSet(tx, tid, id, "released")
	})
}

// CloseExpired closes unpaid orders of every shop whose deadline passed by
// now, at most limit of them, and returns how many it closed. Each order is
// closed in its own tenant transaction; one that fails (its prepay could
// not be closed) is left for the next run.
func (s *Service) CloseExpired(ctx context.Context, now time.Time, limit int) (int, error) {
	var due []struct {
		TenantID int64
		OrderID  int64
	}
	if err := s.DB.WithContext(ctx).Raw(`SELECT tenant_id, order_id FROM orders_due_for_close(?, ?)`, now, limit).Scan(&due).Error; err != nil {
		return 0, err
	}
	closed := 0
	var failed []string
	for _, d := range due {
		tctx := scope.WithActor(scope.WithTenant(ctx, d.TenantID), scope.Actor{Kind: "system", ID: "order-timeout"})
		if err := s.endUnpaid(tctx, d.OrderID, 0, OrderClosed, "closed", now); err != nil {
			s.Log.WarnContext(tctx, "shop: closing an expired order failed; next run retries", "tenant_id", d.TenantID, "order_id", d.OrderID, "err", err)
			failed = append(failed, strconv.FormatInt(d.OrderID, 10))
			continue
		}
		closed++
	}
	if len(failed) > 0 && closed == 0 {
		return 0, fmt.Errorf("closing expired orders failed for %s", strings.Join(failed, ", "))
	}
	return closed, nil
}

// OpenOrderBuyer returns the buyer identity of an order of the tenant in
// ctx in the clear, as it was at checkout, for the customs declaration
// only. It formats and logs masked; never return it to a client.
func (s *Service) OpenOrderBuyer(ctx context.Context, orderID int64) (*BuyerIdentity, error) {
	tid, err := tenantID(ctx)
	if err != nil {
		return nil, err
	}
	var out *BuyerIdentity
	err = db.InTenant(ctx, s.DB, func(tx *gorm.DB) error {
		var rows []struct {
			OutTradeNo      string
			IdentityID      int64
			BuyerIDHash     string `gorm:"column:buyer_id_hash"`
			BuyerNameSealed []byte
			BuyerIDSealed   []byte `gorm:"column:buyer_id_sealed"`
		}
		if err := tx.Raw(`SELECT out_trade_no, identity_id, buyer_id_hash, buyer_name_sealed, buyer_id_sealed FROM orders
			WHERE tenant_id = ? AND id = ?`, tid, orderID).Scan(&rows).Error; err != nil {
			return err
		}
		if len(rows) == 0 {
			return errNoOrder
		}
		r := rows[0]
		name, err := s.Keys.Open(ctx, tx, tid, orderBuyerPurpose(r.OutTradeNo, "name"), r.BuyerNameSealed)
		if err != nil {
			return fmt.Errorf("opening the buyer name of order %d: %w", orderID, err)
		}
		number, err := s.Keys.Open(ctx, tx, tid, orderBuyerPurpose(r.OutTradeNo, "id_number"), r.BuyerIDSealed)
		if err != nil {
			return fmt.Errorf("opening the buyer ID number of order %d: %w", orderID, err)
		}
		out = &BuyerIdentity{ID: r.IdentityID, Name: string(name), IDNumber: string(number), IDHash: r.BuyerIDHash}
		return nil
	})
	return out, err
}

// annualSet moves the order's entry of the annual-limit ledger to state
// (see cbec_annual_set in migrations/00007_orders.sql).
func annualSet(tx *gorm.DB, tid, orderID int64, state string) error {
	var one []int
	return tx.Raw(`SELECT 1 FROM cbec_annual_set(?, ?, ?, NULL)`, tid, orderID, state).Scan(&one).Error
}
