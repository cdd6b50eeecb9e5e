// Package outbox delivers tasks exactly once in effect over asynq's
// at-least-once delivery.
//
//   - Add writes a row in the same transaction as the business change, so the
//     task exists if and only if the change committed.
//   - The Relay hands unsent rows to asynq with "outbox:<id>" as the task id
//     and marks them sent; a row whose enqueue is repeated (crash between
//     enqueue and mark) is refused by asynq as a duplicate task id.
//   - Once runs a handler's database effect in one transaction with a
//     task_runs row keyed by the task id, so a redelivered task does nothing.
package outbox

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"gorm.io/gorm"

	"github.com/minishop/minishop/internal/db"
	"github.com/minishop/minishop/internal/scope"
)

// Queues, in priority order.
const (
	QueueCritical = "critical" // money: payment follow-ups, refunds
	QueueDefault  = "default"
	QueueLow      = "low" // bulk work: imports, syncs
)

// Message is a task to deliver after commit.
type Message struct {
	Kind     string // asynq task type, e.g. "tenant.provisioned"
	Queue    string // one of the Queue constants; default QueueDefault
	TenantID int64  // 0 for platform tasks
	Data     any    // JSON-encoded into Envelope.Data
}

// Envelope is the payload of every outbox task.
type Envelope struct {
	OutboxID  int64           `json:"outbox_id"`
	TenantID  int64           `json:"tenant_id,omitempty"`
	RequestID string          `json:"request_id,omitempty"`
	Data      json.RawMessage `json:"data"`
}

// Add writes m in tx. tx must be the transaction of the business change.
func Add(ctx context.Context, tx *gorm.DB, m Message) error {
	if m.Kind == "" {
		return fmt.Errorf("outbox: message without kind")
	}
	q := m.Queue
	if q == "" {
		q = QueueDefault
	}
	data, err := json.Marshal(m.Data)
	if err != nil {
		return fmt.Errorf("outbox: encoding %s: %w", m.Kind, err)
	}
	var tid any
	if m.TenantID > 0 {
		tid = m.TenantID
	}
	return tx.WithContext(ctx).Exec(`INSERT INTO outbox (tenant_id, kind, queue, payload, request_id) VALUES (?, ?, ?, ?, ?)`,
		tid, m.Kind, q, string(data), scope.RequestID(ctx)).Error
}

// TaskID is the asynq task id of outbox row id.
func TaskID(id int64) string { return "outbox:" + strconv.FormatInt(id, 10) }

// OutboxID parses a task id made by TaskID.
func OutboxID(taskID string) (int64, bool) {
	s, ok := strings.CutPrefix(taskID, "outbox:")
	if !ok {
		return 0, false
	}
	id, err := strconv.ParseInt(s, 10, 64)
	return id, err == nil && id > 0
}

// Once runs effect in a transaction scoped to the tenant in ctx together with
// the task_runs row of taskID. It returns ran=false, and does not call
// effect, if that task already committed its effect. Calls to the outside
// world made before Once must be idempotent by their own keys.
func Once(ctx context.Context, g *gorm.DB, taskID, kind string, effect func(tx *gorm.DB) error) (ran bool, err error) {
	tid, _ := scope.TenantID(ctx)
	run := func(tx *gorm.DB) error {
		var tenant any
		if tid > 0 {
			tenant = tid
		}
		res := tx.Exec(`INSERT INTO task_runs (task_id, tenant_id, kind) VALUES (?, ?, ?) ON CONFLICT (task_id) DO NOTHING`,
			taskID, tenant, kind)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return nil
		}
		ran = true
		return effect(tx)
	}
	if tid > 0 {
		err = db.InTenant(ctx, g, run)
	} else {
		err = g.WithContext(ctx).Transaction(run)
	}
	if err != nil {
		ran = false
	}
	return ran, err
}
