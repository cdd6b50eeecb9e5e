package outbox

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/hibiken/asynq"
	"gorm.io/gorm"

	"github.com/minishop/minishop/internal/errs"
)

// Failed records that the handler of outbox row id failed with err: the
// error for operators (last_error), the message for the brand when err is a
// user-facing *errs.Error (error_message), and archived_at when final
// (asynq will not retry it: retries exhausted or not retryable). A failing
// task leaves its lane's count of tasks in flight, so it does not hold up
// the tenant's other tasks while it waits for its retry.
func Failed(ctx context.Context, g *gorm.DB, id int64, err error, final bool) error {
	var msg any
	if e := errs.As(err); e != nil && e.Kind != errs.Internal && e.Message != "" {
		msg = truncate(e.Message, 500)
	}
	var archived any
	if final {
		archived = time.Now()
	}
	return g.WithContext(ctx).Exec(`WITH f AS (UPDATE outbox SET failures = failures + 1, failed_at = now(), last_error = ?,
			error_message = ?, archived_at = ? WHERE id = ? AND done_at IS NULL RETURNING 1)
		SELECT pg_notify('minishop_outbox', '') FROM f`, truncate(err.Error(), 1000), msg, archived, id).Error
}

// Task states a brand sees.
const (
	StateFailed   = "failed"   // asynq gave up; re-run by hand
	StateRetrying = "retrying" // failed at least once, will be retried
)

// FailedTask is a task of a tenant that failed, as stored in the outbox.
type FailedTask struct {
	ID           int64
	Kind         string
	Queue        string
	Payload      json.RawMessage
	Failures     int
	ErrorMessage *string // the brand's terms; nil for an internal error
	CreatedAt    time.Time
	FailedAt     time.Time
	ArchivedAt   *time.Time
}

// State is StateFailed or StateRetrying.
func (f *FailedTask) State() string {
	if f.ArchivedAt != nil {
		return StateFailed
	}
	return StateRetrying
}

// ListFailed returns up to limit tasks of tenantID in state (StateFailed or
// StateRetrying), newest first, with ids below before (0: from the newest).
func ListFailed(ctx context.Context, g *gorm.DB, tenantID int64, state string, before int64, limit int) ([]FailedTask, error) {
	q := `SELECT id, kind, queue, payload, failures, error_message, created_at, failed_at, archived_at FROM outbox
		WHERE tenant_id = ? AND failed_at IS NOT NULL AND done_at IS NULL AND (id < ? OR ? = 0)`
	if state == StateFailed {
		q += ` AND archived_at IS NOT NULL`
	} else {
		q += ` AND archived_at IS NULL`
	}
	var out []FailedTask
	err := g.WithContext(ctx).Raw(q+` ORDER BY id DESC LIMIT ?`, tenantID, before, before, limit).Scan(&out).Error
	return out, err
}

// Remover is the part of *asynq.Inspector that Rerun uses.
type Remover interface {
	DeleteTask(queue, id string) error
}

// Rerun runs a failed task of tenantID again: it removes asynq's archived
// copy and returns the row to the relay, which enqueues it like a new one
// (fairly, under the tenant's cap). check, given the task's kind, may refuse
// (its error is returned). 404 task_not_found for no such task of this
// tenant; 409 task_not_failed for a task that succeeded or has not failed
// for good; 503 when Redis cannot be reached (nothing changes).
func Rerun(ctx context.Context, g *gorm.DB, q Remover, tenantID, id int64, check func(kind string) error) (*FailedTask, error) {
	var t FailedTask
	err := g.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var cur struct {
			FailedTask
			DoneAt *time.Time
		}
		res := tx.Raw(`SELECT id, kind, queue, payload, failures, error_message, created_at, failed_at, archived_at, done_at
			FROM outbox WHERE id = ? AND tenant_id = ? FOR UPDATE`, id, tenantID).Scan(&cur)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return errs.E(errs.NotFound, "task_not_found", "no such task")
		}
		if err := check(cur.Kind); err != nil {
			return err
		}
		switch {
		case cur.DoneAt != nil:
			return errs.E(errs.Conflict, "task_not_failed", "this task succeeded; there is nothing to run again")
		case cur.ArchivedAt == nil:
			return errs.E(errs.Conflict, "task_not_failed", "this task has not failed for good: it is retried automatically")
		}
		// Redis first: if it cannot be reached, the row stays as it was.
		if err := q.DeleteTask(cur.Queue, TaskID(id)); err != nil &&
			!errors.Is(err, asynq.ErrTaskNotFound) && !errors.Is(err, asynq.ErrQueueNotFound) {
			return errs.E(errs.Unavailable, "queue_unavailable", "the task queue cannot be reached; try again in a minute")
		}
		if err := tx.Exec(`UPDATE outbox SET sent_at = NULL, failed_at = NULL, archived_at = NULL WHERE id = ?`, id).Error; err != nil {
			return err
		}
		t = cur.FailedTask
		return tx.Exec(`SELECT pg_notify('minishop_outbox', '')`).Error
	})
	if err != nil {
		return nil, err
	}
	return &t, nil
}
