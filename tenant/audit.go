package tenant

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/minishop/minishop/internal/db"
	"github.com/minishop/minishop/internal/errs"
)

// AuditEntry is one line of a tenant's audit log.
type AuditEntry struct {
	ID        int64           `json:"id"`
	ActorKind string          `json:"actor_kind"`
	ActorID   string          `json:"actor_id"`
	Action    string          `json:"action"`
	Object    string          `json:"object"`
	Data      json.RawMessage `json:"data"`
	IP        *string         `json:"ip"`
	RequestID string          `json:"request_id"`
	CreatedAt time.Time       `json:"created_at"`
}

// AuditFilter narrows the audit log. Pages go backwards in time: pass the
// last id of a page as Before to get the next.
type AuditFilter struct {
	Action    string // prefix, e.g. "member." or "put "
	ActorKind string
	ActorID   string
	Since     *time.Time
	Until     *time.Time
	Before    int64
	Limit     int // 1..200, default 50
}

// Audit lists the audit log of the tenant in ctx, newest first, and the
// cursor of the next page (0 at the end).
func (s *Service) Audit(ctx context.Context, f AuditFilter) ([]AuditEntry, int64, error) {
	tid, err := tenantOf(ctx)
	if err != nil {
		return nil, 0, err
	}
	if f.Limit == 0 {
		f.Limit = 50
	}
	if f.Limit < 1 || f.Limit > 200 {
		return nil, 0, errs.E(errs.Invalid, "invalid_limit", "limit must be from 1 to 200")
	}
	q := []string{"tenant_id = ?"}
	args := []any{tid}
	if f.Action != "" {
		q, args = append(q, "action LIKE ?"), append(args, strings.NewReplacer("%", `\%`, "_", `\_`).Replace(f.Action)+"%")
	}
	if f.ActorKind != "" {
		q, args = append(q, "actor_kind = ?"), append(args, f.ActorKind)
	}
	if f.ActorID != "" {
		q, args = append(q, "actor_id LIKE ?"), append(args, f.ActorID+"%")
	}
	if f.Since != nil {
		q, args = append(q, "created_at >= ?"), append(args, *f.Since)
	}
	if f.Until != nil {
		q, args = append(q, "created_at < ?"), append(args, *f.Until)
	}
	if f.Before > 0 {
		q, args = append(q, "id < ?"), append(args, f.Before)
	}
	args = append(args, f.Limit+1)
	out := []AuditEntry{}
	err = db.InTenant(ctx, s.db, func(tx *gorm.DB) error {
		return tx.Raw(`SELECT id, actor_kind, actor_id, action, object, data, host(ip) AS ip, request_id, created_at FROM audit_log
			WHERE `+strings.Join(q, " AND ")+` ORDER BY id DESC LIMIT ?`, args...).Scan(&out).Error
	})
	var next int64
	if len(out) > f.Limit {
		out = out[:f.Limit]
		next = out[len(out)-1].ID
	}
	return out, next, err
}
