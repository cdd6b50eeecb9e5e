package worker

// Periodic tasks. Every `work` process runs an asynq Scheduler with the same
// entries, so the schedule survives any process dying; each tick enqueues
// its task with a task id named after the period ("orders.close_expired:
// 2026-11-30T15:04Z"), kept for a while after the task ran (Retention), so
// however many processes tick, asynq refuses every copy after the first and
// the task runs once per period. The handlers are idempotent anyway.

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/hibiken/asynq"

	"github.com/minishop/minishop/internal/outbox"
	"github.com/minishop/minishop/shop"
)

// Schedule is when periodic tasks run: Spec (a cron spec) ticks, Period is
// the length of the period a tick's task id names. Ticks of every process
// within one period enqueue one task.
type Schedule struct {
	Spec   string
	Period time.Duration
}

// EveryMinute is the schedule of closing expired unpaid orders.
func EveryMinute() Schedule { return Schedule{Spec: "* * * * *", Period: time.Minute} }

// closeBatch is how many orders one run closes at most; the rest wait a minute.
const closeBatch = 500

// PeriodTaskID is the task id of a periodic task of kind for the period
// around at: the period whose midpoint is nearest, so processes whose
// clocks differ by less than half a period agree.
func PeriodTaskID(kind string, at time.Time, period time.Duration) string {
	return kind + ":" + at.Add(period/2).Truncate(period).UTC().Format("2006-01-02T15:04:05Z")
}

// NewScheduler returns the scheduler of the periodic tasks (not started),
// ticking on sc (EveryMinute() in production).
func NewScheduler(r asynq.RedisConnOpt, log *slog.Logger, sc Schedule) (*asynq.Scheduler, error) {
	// Ticks run in goroutines of their own; the mutex, taken before the
	// option is set and released after asynq enqueued with it, orders each
	// tick's write of the option after the previous tick's read.
	var mu sync.Mutex
	s := asynq.NewScheduler(r, &asynq.SchedulerOpts{
		Location: time.UTC,
		Logger:   asynqLogger{log},
		LogLevel: asynq.WarnLevel,
		// The options registered below start with a placeholder TaskID;
		// the scheduler hands us its own slice, so setting the element
		// gives this tick's enqueue the id of its period.
		PreEnqueueFunc: func(t *asynq.Task, opts []asynq.Option) {
			mu.Lock() // released by PostEnqueueFunc, which asynq always calls after the enqueue
			if len(opts) > 0 && opts[0].Type() == asynq.TaskIDOpt {
				opts[0] = asynq.TaskID(PeriodTaskID(t.Type(), time.Now(), sc.Period))
			}
		},
		PostEnqueueFunc: func(*asynq.TaskInfo, error) { mu.Unlock() },
		EnqueueErrorHandler: func(t *asynq.Task, _ []asynq.Option, err error) {
			if errors.Is(err, asynq.ErrTaskIDConflict) || errors.Is(err, asynq.ErrDuplicateTask) {
				log.Debug("periodic task already enqueued by another process", "type", t.Type())
				return
			}
			log.Warn("enqueueing a periodic task failed; the next tick retries", "type", t.Type(), "err", err)
		},
	})
	_, err := s.Register(sc.Spec, asynq.NewTask(shop.TaskCloseExpired, nil),
		asynq.TaskID(shop.TaskCloseExpired), asynq.Queue(outbox.QueueCritical), asynq.MaxRetry(0),
		asynq.Timeout(50*time.Second), asynq.Retention(3*sc.Period))
	if err != nil {
		return nil, err
	}
	return s, nil
}

// closeExpired handles the periodic task: it closes unpaid orders past their
// deadline in every shop.
func closeExpired(d Deps) asynq.HandlerFunc {
	return func(ctx context.Context, t *asynq.Task) error {
		start := time.Now()
		n, err := d.Shop.CloseExpired(ctx, start, closeBatch)
		if n > 0 || err != nil {
			d.Log.InfoContext(ctx, "closed expired orders", "closed", n, "ms", time.Since(start).Milliseconds(), "err", err)
		}
		return err
	}
}
