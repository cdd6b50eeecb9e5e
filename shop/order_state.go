package shop

// The order state machine. One table of legal transitions, one function
// that applies a transition: it updates the row only if it still has the
// status the caller read (UPDATE … WHERE status = from), and writes the
// event row in the same transaction. migrations/00007_orders.sql holds the
// same table and a trigger that refuses any other change of status, so an
// illegal transition is impossible even for a query that bypasses this file.

import (
	"context"
	"encoding/json"
	"fmt"

	"gorm.io/gorm"

	"github.com/minishop/minishop/internal/errs"
	"github.com/minishop/minishop/internal/scope"
)

// Order statuses.
const (
	OrderPendingPayment    = "pending_payment"
	OrderPaid              = "paid"
	OrderDeclaring         = "declaring"        // customs declaration sent (三单)
	OrderDeclared          = "declared"         // customs released the goods
	OrderCustomsRejected   = "customs_rejected" // customs refused; fix and declare again, or refund
	OrderShipped           = "shipped"
	OrderDelivered         = "delivered"
	OrderCompleted         = "completed"
	OrderCancelled         = "cancelled" // by the customer or the shop, before payment
	OrderClosed            = "closed"    // not paid in time
	OrderRefunding         = "refunding"
	OrderPartiallyRefunded = "partially_refunded"
	OrderRefunded          = "refunded"
)

// OrderStatuses lists every status.
var OrderStatuses = []string{OrderPendingPayment, OrderPaid, OrderDeclaring, OrderDeclared, OrderCustomsRejected,
	OrderShipped, OrderDelivered, OrderCompleted, OrderCancelled, OrderClosed, OrderRefunding, OrderPartiallyRefunded, OrderRefunded}

// orderTransitions are the legal moves: from → the statuses it may become.
var orderTransitions = map[string][]string{
	OrderPendingPayment:    {OrderPaid, OrderCancelled, OrderClosed},
	OrderPaid:              {OrderDeclaring, OrderRefunding},
	OrderDeclaring:         {OrderDeclared, OrderCustomsRejected},
	OrderCustomsRejected:   {OrderDeclaring, OrderRefunding},
	OrderDeclared:          {OrderShipped, OrderRefunding},
	OrderShipped:           {OrderDelivered, OrderRefunding},
	OrderDelivered:         {OrderCompleted, OrderRefunding},
	OrderCompleted:         {OrderRefunding},
	OrderRefunding:         {OrderRefunded, OrderPartiallyRefunded},
	OrderPartiallyRefunded: {OrderRefunding, OrderDeclaring, OrderShipped, OrderDelivered, OrderCompleted},
}

// OrderTransitions returns the legal transitions as from → to pairs.
func OrderTransitions() [][2]string {
	var out [][2]string
	for _, from := range OrderStatuses {
		for _, to := range orderTransitions[from] {
			out = append(out, [2]string{from, to})
		}
	}
	return out
}

// CanTransition reports whether an order in status from may move to to.
func CanTransition(from, to string) bool {
	for _, s := range orderTransitions[from] {
		if s == to {
			return true
		}
	}
	return false
}

// errStaleOrder: the order is no longer in the status the caller read.
var errStaleOrder = errs.E(errs.Conflict, "order_state_changed", "the order changed meanwhile; reload it")

// transition moves order id of tenant tid from → to in tx, with the extra
// column assignments in set (e.g. "paid_at = now()"), and records the event
// kind with data. It fails with a conflict, changing nothing, when the move
// is not legal or the order is no longer in status from. Callers hold the
// order's row lock or accept losing the race.
func transition(ctx context.Context, tx *gorm.DB, tid, id int64, from, to, kind string, data map[string]any, set string, args ...any) error {
	if !CanTransition(from, to) {
		return errs.E(errs.Conflict, "illegal_transition", fmt.Sprintf("an order that is %s cannot become %s", from, to)).
			WithDetails(map[string]string{"from": from, "to": to})
	}
	q := `UPDATE orders SET status = ?, updated_at = now()`
	if set != "" {
		q += `, ` + set
	}
	q += ` WHERE tenant_id = ? AND id = ? AND status = ?`
	all := append([]any{to}, args...)
	all = append(all, tid, id, from)
	res := tx.Exec(q, all...)
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected != 1 {
		return errStaleOrder
	}
	return orderEvent(ctx, tx, tid, id, kind, from, to, data)
}

// orderEvent appends an event to the order's timeline.
func orderEvent(ctx context.Context, tx *gorm.DB, tid, id int64, kind, from, to string, data map[string]any) error {
	if data == nil {
		data = map[string]any{}
	}
	b, err := json.Marshal(data)
	if err != nil {
		return err
	}
	a := scope.ActorOf(ctx)
	actor := a.Kind
	if a.ID != "" {
		actor += ":" + a.ID
	}
	var f, t any
	if from != "" {
		f = from
	}
	if to != "" {
		t = to
	}
	return tx.Exec(`INSERT INTO order_events (tenant_id, order_id, kind, from_status, to_status, actor, data) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		tid, id, kind, f, t, actor, string(b)).Error
}
