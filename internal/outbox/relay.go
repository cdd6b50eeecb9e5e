package outbox

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"sort"
	"strings"
	"sync"
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
	MaxRetry  int           // asynq retries per task, default 25 (about 3 weeks with asynq's backoff); negative: none
	// Redeliver is how long a sent task may stay unfinished before the relay
	// offers it to asynq again, in case Redis lost it (a restart without
	// persistence, a failover). While asynq still holds the task, the offer
	// is refused as a duplicate id; handlers are idempotent besides. Default 2m.
	Redeliver time.Duration
	// InFlight is how many tasks of one lane (queue, tenant) may be in
	// flight at once: relayed and neither done nor failing. The rest wait in
	// Postgres, so one tenant's flood never queues in front of another
	// tenant's tasks in Redis. Default DefaultInFlight.
	InFlight int
	// Gap is the least time between two flushes woken by notifications
	// (each finished task notifies), so a stream of them costs one flush per
	// Gap. Default 20ms.
	Gap time.Duration

	mu           sync.Mutex
	cursorQueue  string // the lane the last flush stopped at
	cursorTenant int64
}

// DefaultInFlight is the default cap on a lane's tasks in flight: enough to
// keep several workers busy with one tenant's work, few enough that another
// tenant's task waits behind at most this many in its queue.
const DefaultInFlight = 20

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
		started := time.Now()
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
			// Let a burst of notifications gather into one flush.
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(r.Gap - time.Since(started)):
			}
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
	if r.InFlight <= 0 {
		r.InFlight = DefaultInFlight
	}
	if r.Gap == 0 {
		r.Gap = 20 * time.Millisecond
	}
}

type row struct {
	ID        int64
	TenantID  *int64
	Kind      string
	Queue     string
	Payload   []byte
	RequestID string
	Lane      int // index of the row's lane in this flush
}

// lane is a (queue, tenant) pair with rows waiting; tenant 0 is the platform.
type lane struct {
	Queue    string
	Tenant   int64
	InFlight int
	take     int
}

func (l lane) after(q string, t int64) bool {
	return l.Queue > q || (l.Queue == q && l.Tenant > t)
}

// relayLock is the advisory lock one flush holds, so that flushes of several
// relays do not overshoot a lane's cap together.
const relayLock = 7_274_001

// Flush relays one batch and reports how many rows it marked sent. The batch
// is shared round-robin among lanes (queue, tenant) that have rows waiting
// and fewer than InFlight tasks in flight, starting after the lane where the
// previous flush stopped; rows are enqueued interleaved (the first row of
// every lane, then the second, ...), so a lane with 100,000 rows waiting
// delays another lane's first row by at most its InFlight tasks already in
// the asynq queue. While another relay flushes, Flush returns 0.
func (r *Relay) Flush(ctx context.Context) (int, error) {
	r.defaults()
	sent := 0
	var enqErr error
	err := r.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var locked bool
		if err := tx.Raw(`SELECT pg_try_advisory_xact_lock(?)`, relayLock).Scan(&locked).Error; err != nil || !locked {
			return err
		}
		lanes, err := r.lanes(tx)
		if err != nil || len(lanes) == 0 {
			return err
		}
		rows, err := r.claim(tx, lanes)
		if err != nil {
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

// lanes lists the lanes with rows waiting and room in flight, rotated to
// start after the cursor, with the number of rows each may take this flush.
// The lanes are found by a skip scan of outbox_pending_lane (one index probe
// per lane, however many rows wait) and their tasks in flight counted up to
// the cap only.
func (r *Relay) lanes(tx *gorm.DB) ([]lane, error) {
	var all []lane
	if err := tx.Raw(`WITH RECURSIVE lanes (queue, tenant) AS (
			(SELECT queue, coalesce(tenant_id, 0) FROM outbox WHERE sent_at IS NULL ORDER BY queue, coalesce(tenant_id, 0) LIMIT 1)
			UNION ALL
			SELECT n.queue, n.tenant FROM lanes l CROSS JOIN LATERAL (
				SELECT o.queue, coalesce(o.tenant_id, 0) AS tenant FROM outbox o
				WHERE o.sent_at IS NULL AND (o.queue, coalesce(o.tenant_id, 0)) > (l.queue, l.tenant)
				ORDER BY o.queue, coalesce(o.tenant_id, 0) LIMIT 1) n
		)
		SELECT l.queue, l.tenant, (SELECT count(*) FROM (SELECT 1 FROM outbox f
			WHERE f.sent_at IS NOT NULL AND f.done_at IS NULL AND f.failed_at IS NULL
			AND f.queue = l.queue AND coalesce(f.tenant_id, 0) = l.tenant LIMIT ?) x) AS in_flight
		FROM lanes l`, r.InFlight).Scan(&all).Error; err != nil {
		return nil, err
	}
	r.mu.Lock()
	cq, ct := r.cursorQueue, r.cursorTenant
	r.mu.Unlock()
	// Rotate: lanes after the cursor first, then the rest.
	start := len(all)
	for i, l := range all {
		if l.after(cq, ct) {
			start = i
			break
		}
	}
	open := make([]lane, 0, len(all))
	for _, l := range append(all[start:len(all):len(all)], all[:start]...) {
		if l.InFlight < r.InFlight {
			open = append(open, l)
		}
	}
	// Deal the batch one row per lane per round; the next flush starts
	// after the last lane dealt to.
	left, last := r.Batch, -1
	for left > 0 {
		dealt := false
		for i := range open {
			if left > 0 && open[i].InFlight+open[i].take < r.InFlight {
				open[i].take++
				left--
				dealt, last = true, i
			}
		}
		if !dealt {
			break
		}
	}
	if last >= 0 {
		r.mu.Lock()
		r.cursorQueue, r.cursorTenant = open[last].Queue, open[last].Tenant
		r.mu.Unlock()
	}
	return open, nil
}

// claim locks the first rows of each lane, as many as the lane may take, and
// returns them in the order to enqueue: round by round across lanes.
func (r *Relay) claim(tx *gorm.DB, lanes []lane) ([]row, error) {
	var vals strings.Builder
	args := make([]any, 0, 4*len(lanes))
	for i, l := range lanes {
		if l.take == 0 {
			continue
		}
		if len(args) > 0 {
			vals.WriteString(", ")
		}
		vals.WriteString("(?::int, ?::text, ?::bigint, ?::int)")
		args = append(args, i, l.Queue, l.Tenant, l.take)
	}
	if len(args) == 0 {
		return nil, nil
	}
	var rows []row
	if err := tx.Raw(`SELECT o.id, o.tenant_id, o.kind, o.queue, o.payload, o.request_id, l.lane
		FROM (VALUES `+vals.String()+`) AS l (lane, queue, tenant, take)
		CROSS JOIN LATERAL (SELECT id, tenant_id, kind, queue, payload, request_id FROM outbox
			WHERE sent_at IS NULL AND queue = l.queue AND coalesce(tenant_id, 0) = l.tenant
			ORDER BY id LIMIT l.take FOR UPDATE SKIP LOCKED) o`, args...).Scan(&rows).Error; err != nil {
		return nil, err
	}
	rank := make(map[int64]int, len(rows))
	seen := map[int]int{}
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].ID < rows[j].ID })
	for _, rw := range rows {
		rank[rw.ID] = seen[rw.Lane]
		seen[rw.Lane]++
	}
	sort.SliceStable(rows, func(i, j int) bool {
		if ri, rj := rank[rows[i].ID], rank[rows[j].ID]; ri != rj {
			return ri < rj
		}
		return rows[i].Lane < rows[j].Lane
	})
	return rows, nil
}

// Sweep offers asynq again every task sent more than Redeliver ago whose
// handler has not reported success, and reports how many it offered.
func (r *Relay) Sweep(ctx context.Context) (int, error) {
	r.defaults()
	offered := 0
	err := r.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var rows []row
		if err := tx.Raw(`SELECT id, tenant_id, kind, queue, payload, request_id FROM outbox
			WHERE sent_at IS NOT NULL AND done_at IS NULL AND archived_at IS NULL AND sent_at < now() - make_interval(secs => ?)
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
// It wakes the relays, since the task's lane has room for another.
func Done(ctx context.Context, g *gorm.DB, id int64) error {
	return g.WithContext(ctx).Exec(`WITH d AS (UPDATE outbox SET done_at = now() WHERE id = ? AND done_at IS NULL RETURNING 1)
		SELECT pg_notify('minishop_outbox', '') FROM d`, id).Error
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
