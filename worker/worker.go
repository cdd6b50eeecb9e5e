// Package worker runs Minishop's background work on asynq: the outbox relay
// that feeds the queues, and the handlers, each a few lines that call into
// tenant/, shop/ or billing/. Business rules never live here.
package worker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/hibiken/asynq"
	"gorm.io/gorm"

	"github.com/minishop/minishop/billing"
	"github.com/minishop/minishop/internal/outbox"
	"github.com/minishop/minishop/internal/scope"
	"github.com/minishop/minishop/shop"
	"github.com/minishop/minishop/tenant"
)

// Queues and their weights: a critical task is picked six times as often as a
// low one, and no queue starves.
var Queues = map[string]int{outbox.QueueCritical: 6, outbox.QueueDefault: 3, outbox.QueueLow: 1}

// Deps are what the handlers need.
type Deps struct {
	DB      *gorm.DB
	Tenants *tenant.Service
	Shop    *shop.Service
	Log     *slog.Logger
	// Reconcile runs the daily WeChat Pay reconciliation (nil: its tasks fail).
	Reconcile *billing.Reconciler
}

// Mux routes each task kind to its handler.
func Mux(d Deps) *asynq.ServeMux {
	mux := asynq.NewServeMux()
	mux.Handle(tenant.TaskProvision, tenantTask(d, d.Tenants.Provision))
	mux.Handle(tenant.TaskVerifyCredentials, tenantTask(d, d.Tenants.VerifyCredentials))
	mux.Handle(shop.TaskImport, tenantTask(d, func(ctx context.Context, taskID string) error {
		return d.Shop.RunImport(ctx, taskID, taskData(ctx))
	}))
	mux.Handle(shop.TaskOrderPaid, tenantTask(d, func(ctx context.Context, taskID string) error {
		if err := d.Shop.OrderPaid(ctx, taskID, taskData(ctx)); err != nil {
			return err
		}
		if err := d.Shop.QueueCustoms(ctx, taskID, taskData(ctx)); err != nil {
			return err
		}
		return d.Shop.QueueCustomsPayment(ctx, taskID, taskData(ctx))
	}))
	mux.Handle(shop.TaskCustomsPaymentDeclare, tenantTask(d, func(ctx context.Context, taskID string) error {
		return d.Shop.DeclarePayment(ctx, taskID, taskData(ctx))
	}))
	mux.Handle(shop.TaskCustomsPaymentModify, tenantTask(d, func(ctx context.Context, taskID string) error {
		return d.Shop.ModifyPayment(ctx, taskID, taskData(ctx))
	}))
	mux.Handle(shop.TaskCustomsPaymentPoll, asynq.HandlerFunc(func(ctx context.Context, t *asynq.Task) error {
		_, err := d.Shop.PollOpenPaymentCustoms(ctx, time.Now(), 200)
		return err
	}))
	mux.Handle(shop.TaskCustomsDeclare, tenantTask(d, func(ctx context.Context, taskID string) error {
		return d.Shop.DeclareOrder(ctx, taskID, taskData(ctx))
	}))
	mux.Handle(shop.TaskCustomsPoll, asynq.HandlerFunc(func(ctx context.Context, t *asynq.Task) error {
		_, err := d.Shop.PollOpenCustoms(ctx, time.Now(), 200)
		return err
	}))
	mux.Handle(shop.TaskOrderRefund, tenantTask(d, func(ctx context.Context, taskID string) error {
		return d.Shop.RefundPayment(ctx, taskID, taskData(ctx))
	}))
	mux.Handle(shop.TaskRefundSubmit, tenantTask(d, func(ctx context.Context, taskID string) error {
		return d.Shop.SubmitRefund(ctx, taskID, taskData(ctx))
	}))
	mux.Handle(shop.TaskCloseExpired, closeExpired(d))
	mux.Handle(shop.TaskQueryPending, queryPending(d))
	mux.Handle(shop.TaskShippingUpload, tenantTask(d, func(ctx context.Context, taskID string) error {
		return d.Shop.UploadShipping(ctx, taskID, taskData(ctx))
	}))
	mux.Handle(shop.TaskTrackSubscribe, tenantTask(d, func(ctx context.Context, taskID string) error {
		return d.Shop.SubscribeTask(ctx, taskID, taskData(ctx))
	}))
	mux.Handle(shop.TaskLogisticsSweep, asynq.HandlerFunc(func(ctx context.Context, t *asynq.Task) error {
		_, err := d.Shop.SweepLogistics(ctx, time.Now(), 200)
		return err
	}))
	mux.Handle(billing.TaskReconcileDaily, asynq.HandlerFunc(func(ctx context.Context, t *asynq.Task) error {
		n, err := d.Reconcile.FanOut(ctx, time.Now())
		d.Log.InfoContext(ctx, "daily reconciliation queued", "shops", n, "err", err)
		return err
	}))
	mux.Handle(billing.TaskReconcileDay, tenantTask(d, func(ctx context.Context, taskID string) error {
		return d.Reconcile.RunDayTask(ctx, taskData(ctx))
	}))
	return mux
}

// tenantTask adapts a tenant-scoped handler: it decodes the outbox envelope,
// scopes the context to its tenant and request id, and passes the task id
// the handler uses for its once-only marker. It records the outcome on the
// outbox row: done, or failed with the error (for the brand, in its terms).
func tenantTask(d Deps, fn func(ctx context.Context, taskID string) error) asynq.HandlerFunc {
	return TenantTask(d.DB, d.Log, fn)
}

// TenantTask is the adapter of every outbox task handler (see tenantTask),
// for handlers registered outside Mux.
func TenantTask(g *gorm.DB, log *slog.Logger, fn func(ctx context.Context, taskID string) error) asynq.HandlerFunc {
	return func(ctx context.Context, t *asynq.Task) (err error) {
		var env outbox.Envelope
		if err := json.Unmarshal(t.Payload(), &env); err != nil || env.TenantID <= 0 {
			// Retrying cannot fix a malformed payload.
			return fmt.Errorf("task %s: bad payload: %v: %w", t.Type(), err, asynq.SkipRetry)
		}
		taskID, _ := asynq.GetTaskID(ctx)
		ctx = scope.WithTenant(ctx, env.TenantID)
		ctx = scope.WithRequestID(ctx, env.RequestID)
		ctx = context.WithValue(ctx, taskDataKey{}, env.Data)
		start := time.Now()
		defer func() {
			if p := recover(); p != nil {
				err = fmt.Errorf("task %s panicked: %v", t.Type(), p)
			}
			record(ctx, g, log, env.OutboxID, taskID, err)
			log.InfoContext(ctx, "task", "type", t.Type(), "task_id", taskID, "tenant_id", env.TenantID,
				"request_id", env.RequestID, "ms", time.Since(start).Milliseconds(), "err", err)
		}()
		return fn(ctx, taskID)
	}
}

// record writes the outcome of a task on its outbox row. Losing this write
// is harmless: a success not recorded is offered again and finds its work
// done; a failure not recorded is retried by asynq all the same.
func record(ctx context.Context, g *gorm.DB, log *slog.Logger, outboxID int64, taskID string, err error) {
	ctx = context.WithoutCancel(ctx)
	if err == nil {
		if derr := outbox.Done(ctx, g, outboxID); derr != nil {
			log.WarnContext(ctx, "task done but not recorded; it may be offered again, harmlessly", "task_id", taskID, "err", derr)
		}
		return
	}
	retried, _ := asynq.GetRetryCount(ctx)
	max, _ := asynq.GetMaxRetry(ctx)
	final := retried >= max || errors.Is(err, asynq.SkipRetry)
	if ferr := outbox.Failed(ctx, g, outboxID, err, final); ferr != nil {
		log.WarnContext(ctx, "task failure not recorded", "task_id", taskID, "err", ferr)
	}
}

type taskDataKey struct{}

// taskData is the data of the outbox envelope of the task being handled.
func taskData(ctx context.Context) json.RawMessage {
	d, _ := ctx.Value(taskDataKey{}).(json.RawMessage)
	return d
}

// Server returns the asynq server. On shutdown it waits up to grace for
// running tasks, then hands the rest back to the queue.
func Server(r asynq.RedisConnOpt, concurrency int, grace time.Duration, log *slog.Logger) *asynq.Server {
	return asynq.NewServer(r, asynq.Config{
		Concurrency:     concurrency,
		Queues:          Queues,
		ShutdownTimeout: grace,
		// The relay keeps few tasks of each shop in Redis (outbox.Relay.InFlight),
		// so queues run empty often; an idle worker looks again after about
		// this long (asynq's default, 1s, would cap a shop's flood at a few
		// dozen tasks a second and delay every task by up to a second).
		TaskCheckInterval: 100 * time.Millisecond,
		// A task whose worker died (lease expired) did not fail: run it again
		// soon instead of backing off as for an error.
		RetryDelayFunc: func(n int, err error, t *asynq.Task) time.Duration {
			if errors.Is(err, asynq.ErrLeaseExpired) {
				return time.Second
			}
			return asynq.DefaultRetryDelayFunc(n, err, t)
		},
		Logger:   asynqLogger{log},
		LogLevel: asynq.WarnLevel,
		ErrorHandler: asynq.ErrorHandlerFunc(func(ctx context.Context, t *asynq.Task, err error) {
			retried, _ := asynq.GetRetryCount(ctx)
			max, _ := asynq.GetMaxRetry(ctx)
			id, _ := asynq.GetTaskID(ctx)
			lvl := slog.LevelWarn
			if retried >= max || errors.Is(err, asynq.SkipRetry) {
				lvl = slog.LevelError // archived: visible in `minishop tasks list` and the queue UI
			}
			log.Log(ctx, lvl, "task failed", "type", t.Type(), "task_id", id, "retry", retried, "max_retry", max, "err", err)
		}),
	})
}

// Run runs the relay, the task server and the schedulers given (see
// NewScheduler) until ctx ends, then shuts down gracefully.
func Run(ctx context.Context, srv *asynq.Server, mux *asynq.ServeMux, relay *outbox.Relay, scheds ...*asynq.Scheduler) error {
	if err := srv.Start(mux); err != nil {
		return fmt.Errorf("starting the worker: %w", err)
	}
	for _, sc := range scheds {
		if err := sc.Start(); err != nil {
			srv.Shutdown()
			return fmt.Errorf("starting the scheduler: %w", err)
		}
		defer sc.Shutdown()
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = relay.Run(ctx)
	}()
	<-ctx.Done()
	<-done
	srv.Shutdown()
	return nil
}

type asynqLogger struct{ l *slog.Logger }

func (a asynqLogger) Debug(args ...any) { a.l.Debug(fmt.Sprint(args...), "component", "asynq") }
func (a asynqLogger) Info(args ...any)  { a.l.Info(fmt.Sprint(args...), "component", "asynq") }
func (a asynqLogger) Warn(args ...any)  { a.l.Warn(fmt.Sprint(args...), "component", "asynq") }
func (a asynqLogger) Error(args ...any) { a.l.Error(fmt.Sprint(args...), "component", "asynq") }
func (a asynqLogger) Fatal(args ...any) {
	a.l.Error(fmt.Sprint(args...), "component", "asynq", "fatal", true)
}
