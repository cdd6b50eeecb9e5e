package shop

// Refunds asked by staff: full or partial, each with its own out_refund_no
// (the provider's idempotency key), submitted to the provider by an outbox
// task and settled by the provider's notification (RefundNotified).

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"gorm.io/gorm"

	"github.com/minishop/minishop/internal/db"
	"github.com/minishop/minishop/internal/errs"
	"github.com/minishop/minishop/internal/outbox"
	"github.com/minishop/minishop/internal/scope"
	"github.com/minishop/minishop/tenant"
)

// TaskRefundSubmit hands a staff refund to the payment provider.
const TaskRefundSubmit = "order.refund_submit"

// Refund kinds and statuses.
const (
	RefundKindStaff         = "staff"          // asked by the shop's staff
	RefundKindPaymentReturn = "payment_return" // a payment the order could not keep, returned automatically

	RefundRequested  = "requested"  // written, not yet accepted by the provider
	RefundProcessing = "processing" // accepted, outcome not yet known
	RefundSucceeded  = "succeeded"
	RefundAbnormal   = "abnormal" // the payer's account could not take it; handle in the merchant platform
	RefundClosed     = "closed"   // refused or closed: nothing was returned
)

// Refund is a refund of an order. Amount is fen.
type Refund struct {
	OutRefundNo string    `json:"out_refund_no"`
	OrderID     int64     `json:"order_id"`
	Kind        string    `json:"kind"`
	Amount      int64     `json:"amount"`
	Reason      string    `json:"reason"`
	Status      string    `json:"status"`
	RefundID    string    `json:"refund_id"`
	Actor       string    `json:"actor"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

const refundColumns = `out_refund_no, order_id, kind, amount, reason, status, refund_id, actor, created_at, updated_at`

// RefundInput is a staff refund request.
type RefundInput struct {
	AmountFen int64  `json:"amount_fen" binding:"required,gt=0"`
	Reason    string `json:"reason" binding:"max=80"`
}

// refundable are the statuses from which staff may refund (paid, and what
// follows payment; not while customs is deciding).
var refundable = map[string]bool{OrderPaid: true, OrderCustomsRejected: true, OrderDeclared: true, OrderShipped: true,
	OrderDelivered: true, OrderCompleted: true, OrderPartiallyRefunded: true}

// RequestRefund asks for a refund of amount fen of order id of the tenant
// in ctx. Under the order's row lock it checks that the order was paid and
// that the amount is at most what is left (paid minus refunds not failed),
// writes the refund with out_refund_no "<out_trade_no>R<n>", moves the
// order to refunding and queues the submission to the provider, all in one
// transaction. 404 for an unknown order; 409 refund_not_allowed (not paid,
// or being declared), refund_in_progress (another refund is running);
// 422 refund_exceeds_paid; 503 without a payment provider.
//
// key, the request's Idempotency-Key, is optional: with one, a retry of the
// same request returns the refund it made (and another request under the
// same key is refused) instead of refunding again.
func (s *Service) RequestRefund(ctx context.Context, id int64, key string, in RefundInput) (*Refund, error) {
	tid, err := tenantID(ctx)
	if err != nil {
		return nil, err
	}
	in.Reason = strings.TrimSpace(in.Reason)
	if in.AmountFen <= 0 {
		return nil, errs.E(errs.Invalid, "invalid_amount", "amount_fen must be a positive number of fen")
	}
	if key != "" && !keyPattern.MatchString(key) {
		return nil, errs.E(errs.Invalid, "invalid_idempotency_key", "the Idempotency-Key is 1 to 64 letters, digits, _ . : -")
	}
	if s.gateway() == nil {
		return nil, errNoGateway
	}
	hash := fmt.Sprintf("%d/%s", in.AmountFen, in.Reason)
	var out Refund
	err = db.InTenant(ctx, s.DB, func(tx *gorm.DB) error {
		o, err := loadOrder(tx, tid, id, 0, true)
		if err != nil {
			return err
		}
		if key != "" { // the order row is locked: no concurrent request with this key gets past here
			var prev []struct {
				Refund
				RequestHash string
			}
			if err := tx.Raw(`SELECT `+refundColumns+`, request_hash FROM order_refunds WHERE tenant_id = ? AND order_id = ? AND idempotency_key = ?`,
				tid, id, key).Scan(&prev).Error; err != nil {
				return err
			}
			if len(prev) > 0 {
				if prev[0].RequestHash != hash {
					return errs.E(errs.Conflict, "idempotency_key_reused",
						"this Idempotency-Key was used for a different refund; use a new key for a new refund")
				}
				out = prev[0].Refund
				return nil
			}
		}
		if o.Status == OrderRefunding {
			return errs.E(errs.Conflict, "refund_in_progress", "a refund of this order is being processed; wait for its outcome")
		}
		if o.Status == OrderDeclaring {
			return errs.E(errs.Conflict, "refund_not_allowed",
				"this order is being declared to customs; refund it once customs has answered (the order is then declared or customs_rejected)")
		}
		if !refundable[o.Status] {
			return errs.E(errs.Conflict, "refund_not_allowed", "an order that is "+o.Status+" cannot be refunded")
		}
		var st struct {
			PaidFen int64
			Used    int64
			N       int64
		}
		if err := tx.Raw(`SELECT coalesce(o.paid_fen, 0) AS paid_fen,
			coalesce((SELECT sum(amount) FROM order_refunds r WHERE r.tenant_id = o.tenant_id AND r.order_id = o.id AND r.kind = 'staff' AND r.status NOT IN ('abnormal', 'closed')), 0) AS used,
			(SELECT count(*) FROM order_refunds r WHERE r.tenant_id = o.tenant_id AND r.order_id = o.id AND r.kind = 'staff') AS n
			FROM orders o WHERE o.tenant_id = ? AND o.id = ?`, tid, id).Scan(&st).Error; err != nil {
			return err
		}
		if left := st.PaidFen - st.Used; in.AmountFen > left {
			return errs.E(errs.Unprocessable, "refund_exceeds_paid",
				fmt.Sprintf("at most %d fen is left to refund on this order", left)).WithDetails(map[string]int64{"refundable": left})
		}
		a := scope.ActorOf(ctx)
		actor := a.Kind
		if a.ID != "" {
			actor += ":" + a.ID
		}
		no := o.OutTradeNo + "R" + strconv.FormatInt(st.N+1, 10)
		if err := tx.Raw(`INSERT INTO order_refunds (tenant_id, out_refund_no, order_id, kind, amount, reason, transaction_id, actor, idempotency_key, request_hash)
			VALUES (?, ?, ?, 'staff', ?, ?, ?, ?, NULLIF(?, ''), ?) RETURNING `+refundColumns, tid, no, id, in.AmountFen, in.Reason, o.TransactionID, actor, key, hash).
			Scan(&out).Error; err != nil {
			return err
		}
		if err := transition(ctx, tx, tid, id, o.Status, OrderRefunding, "refund_requested", map[string]any{
			"out_refund_no": no, "amount": in.AmountFen, "reason": in.Reason}, ""); err != nil {
			return err
		}
		return outbox.Add(ctx, tx, outbox.Message{Kind: TaskRefundSubmit, Queue: outbox.QueueCritical, TenantID: tid,
			Data: refundSubmit{OutRefundNo: no}})
	})
	if err != nil {
		return nil, err
	}
	out.CreatedAt, out.UpdatedAt = out.CreatedAt.UTC(), out.UpdatedAt.UTC()
	return &out, nil
}

type refundSubmit struct {
	OutRefundNo string `json:"out_refund_no"`
}

// SubmitRefund handles an order.refund_submit task: it sends the refund to
// the provider (idempotent there by out_refund_no, so a redelivered task
// refunds once) and marks it processing. A refusal the provider will not
// change its mind about (bad request, not enough balance) closes the
// refund and settles the order; being unreachable is retried.
func (s *Service) SubmitRefund(ctx context.Context, taskID string, data json.RawMessage) error {
	var t refundSubmit
	if err := json.Unmarshal(data, &t); err != nil || t.OutRefundNo == "" {
		return fmt.Errorf("order.refund_submit: bad payload %s", data)
	}
	tid, err := tenantID(ctx)
	if err != nil {
		return err
	}
	gw := s.gateway()
	if gw == nil {
		return errNoGateway
	}
	var rf Refund
	var o *Order
	var paid int64
	if err := db.InTenant(ctx, s.DB, func(tx *gorm.DB) error {
		var rows []Refund
		if err := tx.Raw(`SELECT `+refundColumns+` FROM order_refunds WHERE tenant_id = ? AND out_refund_no = ?`, tid, t.OutRefundNo).Scan(&rows).Error; err != nil {
			return err
		}
		if len(rows) == 0 {
			return nil
		}
		rf = rows[0]
		var err error
		if o, err = loadOrder(tx, tid, rf.OrderID, 0, false); err != nil {
			return err
		}
		return tx.Raw(`SELECT coalesce(paid_fen, 0) FROM orders WHERE tenant_id = ? AND id = ?`, tid, rf.OrderID).Scan(&paid).Error
	}); err != nil {
		return err
	}
	if o == nil || rf.Status != RefundRequested {
		return nil // gone, or submitted already
	}
	err = gw.Refund(ctx, o, RefundRequest{OutRefundNo: rf.OutRefundNo, TransactionID: o.TransactionID, TotalFen: paid, RefundFen: rf.Amount, Reason: rf.Reason})
	refused := errs.Is(err, errs.Unprocessable) || errs.Is(err, errs.Invalid)
	if err != nil && !refused {
		return err
	}
	msg := ""
	if e := errs.As(err); e != nil {
		msg = e.Message
	}
	_, onceErr := outbox.Once(ctx, s.DB, taskID, TaskRefundSubmit, func(tx *gorm.DB) error {
		var ids []int64
		if err := tx.Raw(`SELECT id FROM orders WHERE tenant_id = ? AND id = ? FOR UPDATE`, tid, rf.OrderID).Scan(&ids).Error; err != nil {
			return err
		}
		if !refused {
			if err := tx.Exec(`UPDATE order_refunds SET status = 'processing', updated_at = now() WHERE tenant_id = ? AND out_refund_no = ? AND status = 'requested'`,
				tid, rf.OutRefundNo).Error; err != nil {
				return err
			}
			return orderEvent(ctx, tx, tid, rf.OrderID, "refund_submitted", "", "", map[string]any{"out_refund_no": rf.OutRefundNo, "amount": rf.Amount})
		}
		res := tx.Exec(`UPDATE order_refunds SET status = 'closed', updated_at = now() WHERE tenant_id = ? AND out_refund_no = ? AND status = 'requested'`, tid, rf.OutRefundNo)
		if res.Error != nil || res.RowsAffected == 0 {
			return res.Error
		}
		if err := orderEvent(ctx, tx, tid, rf.OrderID, "refund_refused", "", "", map[string]any{"out_refund_no": rf.OutRefundNo, "amount": rf.Amount,
			"message": msg}); err != nil {
			return err
		}
		return s.settleRefunds(ctx, tx, tid, rf.OrderID)
	})
	return onceErr
}

// OrderRefunds lists the refunds of order id of the tenant in ctx, oldest first.
func (s *Service) OrderRefunds(ctx context.Context, id int64) ([]Refund, error) {
	tid, err := tenantID(ctx)
	if err != nil {
		return nil, err
	}
	out := []Refund{}
	err = db.InTenant(ctx, s.DB, func(tx *gorm.DB) error {
		if _, err := loadOrder(tx, tid, id, 0, false); err != nil {
			return err
		}
		return tx.Raw(`SELECT `+refundColumns+` FROM order_refunds WHERE tenant_id = ? AND order_id = ? ORDER BY created_at, out_refund_no`, tid, id).Scan(&out).Error
	})
	for i := range out {
		out[i].CreatedAt, out[i].UpdatedAt = out[i].CreatedAt.UTC(), out[i].UpdatedAt.UTC()
	}
	return out, err
}

// registerRefundAdmin mounts refunds under /tenants/:slug/orders/:id.
func (h *Handler) registerRefundAdmin(r tenant.Router) {
	s := h.S
	r.POST("/orders/:id/refunds", "orders:refund", func(c *gin.Context) {
		var in RefundInput
		id, ok := orderParam(c)
		if !ok || !bindJSON(c, &in) {
			return
		}
		rf, err := s.RequestRefund(c.Request.Context(), id, c.GetHeader("Idempotency-Key"), in)
		respond(c, http.StatusAccepted, rf, err)
	})
	r.GET("/orders/:id/refunds", "orders:read", func(c *gin.Context) {
		id, ok := orderParam(c)
		if !ok {
			return
		}
		rs, err := s.OrderRefunds(c.Request.Context(), id)
		respond(c, http.StatusOK, gin.H{"refunds": rs}, err)
	})
}
