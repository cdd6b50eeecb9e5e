package billing

// The daily reconciliation: a periodic task (once a day, after WeChat Pay
// has published the previous day's bills, around 10:00 China time) fans out
// one task per shop with WeChat Pay credentials through the outbox; each
// (shop, day) is queued once, however often the fan-out runs.

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/minishop/minishop/internal/outbox"
	"github.com/minishop/minishop/internal/scope"
)

// Tasks of reconciliation.
const (
	// TaskReconcileDaily is the periodic fan-out (no tenant).
	TaskReconcileDaily = "billing.reconcile_daily"
	// TaskReconcileDay reconciles one shop's day (outbox, tenant-scoped).
	TaskReconcileDay = "billing.reconcile_day"
)

type dayTask struct {
	Date string `json:"date"`
}

// FanOut queues the reconciliation of the China day before now for every
// shop with WeChat Pay credentials in its current mode. A (shop, day)
// already queued is skipped (its once-marker is the task run
// "billing.reconcile:<date>:<tenant>"). It returns how many it queued.
func (rc *Reconciler) FanOut(ctx context.Context, now time.Time) (int, error) {
	date := now.In(cst).AddDate(0, 0, -1).Format("2006-01-02")
	var ids []int64
	if err := rc.DB.WithContext(ctx).Raw(`SELECT tenant_id FROM reconciliation_tenants()`).Scan(&ids).Error; err != nil {
		return 0, err
	}
	n := 0
	for _, tid := range ids {
		tctx := scope.WithTenant(ctx, tid)
		ran, err := outbox.Once(tctx, rc.DB, fmt.Sprintf("billing.reconcile:%s:%d", date, tid), TaskReconcileDaily, func(tx *gorm.DB) error {
			return outbox.Add(tctx, tx, outbox.Message{Kind: TaskReconcileDay, Queue: outbox.QueueLow, TenantID: tid, Data: dayTask{Date: date}})
		})
		if err != nil {
			return n, err
		}
		if ran {
			n++
		}
	}
	return n, nil
}

// RunDayTask handles a TaskReconcileDay task of the tenant in ctx. A bill
// that cannot be had yet (WeChat Pay down, bill not published) returns the
// error so the queue retries; a failed run is stored on the day either way.
func (rc *Reconciler) RunDayTask(ctx context.Context, data json.RawMessage) error {
	var t dayTask
	if err := json.Unmarshal(data, &t); err != nil {
		return fmt.Errorf("reconcile task: bad data: %w", err)
	}
	day, err := ParseDay(t.Date)
	if err != nil {
		return fmt.Errorf("reconcile task: %w", err)
	}
	_, err = rc.Reconcile(ctx, day)
	return err
}
