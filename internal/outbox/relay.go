package outbox

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"time"

	"github.com/hibiken/asynq"
	"github.com/jackc/pgx/v5"
	"gorm.io/gorm"
)

// Enqueuer is the part of *asynq.Client the relay uses.
type Enqueuer interface {
	EnqueueContext(ctx context.Context, t *asynq.Task, opts ...asynq.Option) (*asynq.TaskInfo, error)
}

// Relay moves committed outbox rows into asynq. Several relays may run at
// once (one per `work` process): rows are claimed with SKIP LOCKED.
type Relay struct {
	DB        *gorm.DB
	Enqueuer  Enqueuer
	Log       *slog.Logger
	ListenURL string        // Postgres URL for LISTEN; "" polls only
	Batch     int           // rows per transaction, default 100
	Poll      time.Duration // safety-net poll interval, default 1s
	MaxRetry  int           // asynq retries per task, default 25 (about 3 weeks with asynq's backoff)
	// Redeliver is how long a sent task may stay unfinished before the relay
	// offers it to asynq again, in case Redis lost it (a restart without
	// persistence, a failover). While asynq still holds the task, the offer
	// is refused as a duplicate id; handlers are idempotent besides. Default 2m.
	Redeliver time.Duration
}

// Run relays until ctx ends. Enqueue failures (Redis down) leave rows unsent
// and are retried with backoff; nothing is lost.
func (r *Relay) Run(ctx context.Context) error {
	r.defaults()
	nextSweep := time.Now().Add(r.Redeliver / 2)
	wake := make(chan struct{}, 1)
	if r.ListenURL != "" {
		go r.listen(ctx, wake)
	}
	backoff := 100 * time.Millisecond
	for {
		if time.Now().After(nextSweep) {
			if _, err := r.Sweep(ctx); err != nil && ctx.Err() == nil {
				r.Log.Warn("outbox relay: redelivery sweep failed", "err", err)
			}
			nextSweep = time.Now().Add(r.Redeliver / 2)
		}
		n, err := r.Flush(ctx)
		if ctx.Err() != nil {
			return nil
		}
		wait := r.Poll
		switch {
		case err != nil:
			r.Log.Warn("outbox relay: will retry", "err", err, "in", backoff)
			wait = backoff
			backoff = min(backoff*2, 5*time.Second)
		case n == r.Batch:
			backoff = 100 * time.Millisecond
			continue
		default:
			backoff = 100 * time.Millisecond
		}
		select {
		case <-ctx.Done():
			return nil
		case <-wake:
		case <-time.After(wait):
		}
	}
}

// listen wakes the relay on each NOTIFY from the outbox trigger, reconnecting
// as needed; the poll in Run covers any notification lost meanwhile.
func (r *Relay) listen(ctx context.Context, wake chan<- struct{}) {
	for ctx.Err() == nil {
		err := func() error {
			cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			conn, err := pgx.Connect(cctx, r.ListenURL)
			cancel()
			if err != nil {
				return err
			}
			defer conn.Close(context.Background())
			if _, err := conn.Exec(ctx, "LISTEN minishop_outbox"); err != nil {
				return err
			}
			for {
				if _, err := conn.WaitForNotification(ctx); err != nil {
					return err
				}
				select {
				case wake <- struct{}{}:
				default:
				}
			}
		}()
		if ctx.Err() != nil {
			return
		}
		r.Log.Debug("outbox listen: reconnecting", "err", err)
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}

func (r *Relay) defaults() {
	if r.Batch == 0 {
		r.Batch = 100
	}
	if r.Poll == 0 {
		r.Poll = time.Second
	}
	if r.MaxRetry == 0 {
		r.MaxRetry = 25
	}
	if r.Redeliver == 0 {
		r.Redeliver = 2 * time.Minute
	}
}

type row struct {
	ID        int64
	TenantID  *int64
	Kind      string
	Queue     string
	Payload   []byte
	RequestID string
}

// Flush relays one batch and reports how many rows it marked sent.
func (r *Relay) Flush(ctx context.Context) (int, error) {
	r.defaults()
	sent := 0
	var enqErr error
	err := r.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var rows []row
		if err := tx.Raw(`SELECT id, tenant_id, kind, queue, payload, request_id FROM outbox
			WHERE sent_at IS NULL ORDER BY id LIMIT ? FOR UPDATE SKIP LOCKED`, r.Batch).Scan(&rows).Error; err != nil {
			return err
		}
		ids := make([]int64, 0, len(rows))
		for _, rw := range rows {
			if err := r.enqueue(ctx, rw); err != nil {
				enqErr = err
				_ = tx.Exec(`UPDATE outbox SET attempts = attempts + 1, last_error = ? WHERE id = ?`, truncate(err.Error(), 500), rw.ID).Error
				break
			}
			ids = append(ids, rw.ID)
		}
		if len(ids) == 0 {
			return nil
		}
		sent = len(ids)
		return tx.Exec(`UPDATE outbox SET sent_at = now() WHERE id IN ?`, ids).Error
	})
	if err != nil {
		return 0, err
	}
	return sent, enqErr
}

// Sweep offers asynq again every task sent more than Redeliver ago whose
// handler has not reported success, and reports how many it offered.
func (r *Relay) Sweep(ctx context.Context) (int, error) {
	r.defaults()
	offered := 0
	err := r.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var rows []row
		if err := tx.Raw(`SELECT id, tenant_id, kind, queue, payload, request_id FROM outbox
			WHERE sent_at IS NOT NULL AND done_at IS NULL AND sent_at < now() - make_interval(secs => ?)
			ORDER BY sent_at LIMIT ? FOR UPDATE SKIP LOCKED`, r.Redeliver.Seconds(), r.Batch).Scan(&rows).Error; err != nil {
			return err
		}
		ids := make([]int64, 0, len(rows))
		for _, rw := range rows {
			if err := r.enqueue(ctx, rw); err != nil {
				break
			}
			ids = append(ids, rw.ID)
		}
		offered = len(ids)
		if offered == 0 {
			return nil
		}
		return tx.Exec(`UPDATE outbox SET sent_at = now() WHERE id IN ?`, ids).Error
	})
	return offered, err
}

// Done records that the task of outbox row id succeeded, so Sweep leaves it
// alone. Losing this write is harmless: the task would be offered again and
// its handler would find its work done.
func Done(ctx context.Context, g *gorm.DB, id int64) error {
	return g.WithContext(ctx).Exec(`UPDATE outbox SET done_at = now() WHERE id = ? AND done_at IS NULL`, id).Error
}

func (r *Relay) enqueue(ctx context.Context, rw row) error {
	env := Envelope{OutboxID: rw.ID, RequestID: rw.RequestID, Data: rw.Payload}
	if rw.TenantID != nil {
		env.TenantID = *rw.TenantID
	}
	b, err := json.Marshal(env)
	if err != nil {
		return err
	}
	ectx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	_, err = r.Enqueuer.EnqueueContext(ectx, asynq.NewTask(rw.Kind, b),
		asynq.TaskID(TaskID(rw.ID)), asynq.Queue(rw.Queue), asynq.MaxRetry(r.MaxRetry),
		asynq.Retention(24*time.Hour))
	if errors.Is(err, asynq.ErrTaskIDConflict) {
		return nil // enqueued before; the earlier attempt's mark did not commit
	}
	return err
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
