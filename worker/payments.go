package worker

import (
	"context"
	"time"

	"github.com/hibiken/asynq"

	"github.com/minishop/minishop/internal/outbox"
	"github.com/minishop/minishop/shop"
)

// PaymentQueryAge is how long after its prepay an unpaid order is asked
// about: long enough for the notification to have come in the usual case.
const PaymentQueryAge = 3 * time.Minute

// queryBatch is how many orders one run asks about at most.
const queryBatch = 200

// RegisterPaymentQuery adds the periodic query of pending payments to a
// scheduler made by NewScheduler (same schedule, same period task ids).
func RegisterPaymentQuery(s *asynq.Scheduler, sc Schedule) error {
	_, err := s.Register(sc.Spec, asynq.NewTask(shop.TaskQueryPending, nil),
		asynq.TaskID(shop.TaskQueryPending), asynq.Queue(outbox.QueueCritical), asynq.MaxRetry(0),
		asynq.Timeout(50*time.Second), asynq.Retention(3*sc.Period))
	return err
}

// queryPending handles the periodic task: it asks the payment provider
// about orders still pending PaymentQueryAge after their prepay and
// records the payments it finds.
func queryPending(d Deps) asynq.HandlerFunc {
	return func(ctx context.Context, t *asynq.Task) error {
		start := time.Now()
		n, err := d.Shop.QueryPending(ctx, start.Add(-PaymentQueryAge), queryBatch)
		if n > 0 || err != nil {
			d.Log.InfoContext(ctx, "queried pending payments", "found", n, "ms", time.Since(start).Milliseconds(), "err", err)
		}
		return err
	}
}
