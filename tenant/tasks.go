package tenant

// A shop's failed background tasks, in its own terms: "customs declaration
// failed: the buyer is not the payer", not "customs.declare_order: …". The
// outbox row is the record (Postgres is the source of truth; asynq's
// archive is the operators' view in the queue monitor), and running a task
// again hands the row back to the relay.

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"gorm.io/gorm"

	"github.com/minishop/minishop/internal/errs"
	"github.com/minishop/minishop/internal/httpx"
	"github.com/minishop/minishop/internal/outbox"
	"github.com/minishop/minishop/internal/scope"
)

// Tasks serves a shop's failed tasks.
type Tasks struct {
	DB    *gorm.DB
	Queue outbox.Remover // the asynq inspector
	Authz *Authorizer
}

// Task is a failed background task as the brand sees it.
type Task struct {
	ID        int64     `json:"id"`
	Kind      string    `json:"kind"`  // machine name, e.g. "customs.declare_order"
	Label     string    `json:"label"` // what it is, e.g. "customs declaration"
	State     string    `json:"state"` // failed (re-run by hand), retrying (automatically), queued (re-run requested)
	Message   string    `json:"message"`
	Error     string    `json:"error"`
	Failures  int       `json:"failures"`
	OrderID   *int64    `json:"order_id"`
	CreatedAt time.Time `json:"created_at"`
	FailedAt  time.Time `json:"failed_at"`
}

// TaskPage is a page of tasks, newest first; NextBefore continues it.
type TaskPage struct {
	Tasks      []Task `json:"tasks"`
	NextBefore *int64 `json:"next_before"`
}

// taskKind is how a task kind reads to a brand and who may run it again.
type taskKind struct{ label, perm string }

// taskKinds by exact kind; prefixes follow.
var taskKinds = map[string]taskKind{
	"order.paid":            {"payment follow-up", "orders:write"},
	"order.refund_required": {"automatic refund", "orders:refund"},
	"order.refund_submit":   {"refund", "orders:refund"},
	"customs.declare_order": {"customs declaration", "orders:write"},
	"customs.declare_payment": {
		"customs payment declaration", "orders:write"},
	"customs.modify_payment":    {"customs payment declaration", "orders:write"},
	"logistics.upload_shipping": {"shipping-info upload", "orders:write"},
	"logistics.subscribe":       {"parcel tracking", "orders:write"},
	"catalog.import":            {"catalog import", "catalog:write"},
	"billing.reconcile_day":     {"reconciliation", "finance:write"},
	"credentials.verify":        {"credentials check", "credentials:write"},
	"tenant.provisioned":        {"shop setup", "shop:write"},
}

func kindOf(kind string) taskKind {
	if k, ok := taskKinds[kind]; ok {
		return k
	}
	for prefix, k := range map[string]taskKind{"customs.": {"customs declaration", "orders:write"},
		"logistics.": {"shipment", "orders:write"}, "order.": {"order task", "orders:write"}} {
		if strings.HasPrefix(kind, prefix) {
			return k
		}
	}
	return taskKind{"background task", "shop:write"}
}

// TaskLabel is how a task kind reads to a brand ("customs declaration").
func TaskLabel(kind string) string { return kindOf(kind).label }

func taskOf(f *outbox.FailedTask) Task {
	k := kindOf(f.Kind)
	t := Task{ID: f.ID, Kind: f.Kind, Label: k.label, State: f.State(), Failures: f.Failures,
		CreatedAt: f.CreatedAt, FailedAt: f.FailedAt}
	if f.ErrorMessage != nil {
		t.Error = *f.ErrorMessage
	} else {
		t.Error = fmt.Sprintf("an unexpected error on our side (reference task %d)", f.ID)
	}
	t.Message = k.label + " failed: " + t.Error
	var p struct {
		OrderID int64 `json:"order_id"`
	}
	if json.Unmarshal(f.Payload, &p) == nil && p.OrderID > 0 {
		t.OrderID = &p.OrderID
	}
	return t
}

// Failed lists the failed tasks of the shop in ctx: state "failed" (given
// up, re-run by hand; the default) or "retrying"; limit 1..100 (default 50),
// ids below before. 400 invalid_state / invalid_limit on bad input.
func (s *Tasks) Failed(ctx context.Context, state string, before int64, limit int) (*TaskPage, error) {
	tid, ok := scope.TenantID(ctx)
	if !ok {
		return nil, errs.E(errs.Internal, "internal", "no shop in context")
	}
	switch state {
	case "":
		state = outbox.StateFailed
	case outbox.StateFailed, outbox.StateRetrying:
	default:
		return nil, errs.E(errs.Invalid, "invalid_state", "state must be failed or retrying")
	}
	if limit == 0 {
		limit = 50
	}
	if limit < 1 || limit > 100 {
		return nil, errs.E(errs.Invalid, "invalid_limit", "limit must be a number from 1 to 100")
	}
	if before < 0 {
		return nil, errs.E(errs.Invalid, "invalid_cursor", "before must be a task id from a previous page")
	}
	fs, err := outbox.ListFailed(ctx, s.DB, tid, state, before, limit+1)
	if err != nil {
		return nil, err
	}
	page := &TaskPage{Tasks: []Task{}}
	for i := range fs {
		if i == limit {
			page.NextBefore = &fs[i-1].ID
			break
		}
		page.Tasks = append(page.Tasks, taskOf(&fs[i]))
	}
	return localizedTasks(ctx, page), nil
}

// Retry runs failed task id of the shop in ctx again, if allow grants the
// permission its kind needs (orders:write for order, customs and shipping
// tasks, catalog:write for imports, …). 404 task_not_found (also for another
// shop's task), 403 forbidden, 409 task_not_failed, 503 queue_unavailable.
func (s *Tasks) Retry(ctx context.Context, id int64, allow func(perm string) bool) (*Task, error) {
	tid, ok := scope.TenantID(ctx)
	if !ok {
		return nil, errs.E(errs.Internal, "internal", "no shop in context")
	}
	f, err := outbox.Rerun(ctx, s.DB, s.Queue, tid, id, func(kind string) error {
		if p := kindOf(kind).perm; !allow(p) {
			return errs.E(errs.Forbidden, "forbidden", "your role in this shop does not allow "+p+", which running a "+kindOf(kind).label+" again needs")
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	t := taskOf(f)
	t.State = "queued"
	return &t, nil
}

// RegisterTasks mounts GET /tasks and POST /tasks/:id/retry (under
// /tenants/:slug). Any role of the shop may list; running again needs the
// permission of the task's kind, checked after the task is found.
func RegisterTasks(r Router, s *Tasks) {
	r.GET("/tasks", "shop:read", func(c *gin.Context) {
		var before int64
		var limit int
		var err error
		if v := c.Query("limit"); v != "" {
			if limit, err = strconv.Atoi(v); err != nil {
				httpx.Error(c, errs.E(errs.Invalid, "invalid_limit", "limit must be a number from 1 to 100"))
				return
			}
		}
		if v := c.Query("before"); v != "" {
			if before, err = strconv.ParseInt(v, 10, 64); err != nil {
				httpx.Error(c, errs.E(errs.Invalid, "invalid_cursor", "before must be a task id from a previous page"))
				return
			}
		}
		page, err := s.Failed(c.Request.Context(), c.Query("state"), before, limit)
		ok(c, http.StatusOK, page, err)
	})
	r.POST("/tasks/:id/retry", "shop:read", func(c *gin.Context) {
		id, valid := pathID(c, "id")
		if !valid {
			return
		}
		t, err := s.Retry(c.Request.Context(), id, func(perm string) bool { return s.allowed(c, perm) })
		ok(c, http.StatusAccepted, t, err)
	})
}

// allowed reports whether the request's principal holds perm in the shop
// the guard let it into.
func (s *Tasks) allowed(c *gin.Context, perm string) bool {
	p := PrincipalOf(c)
	tid, _ := scope.TenantID(c.Request.Context())
	if p == nil {
		return false
	}
	if p.TokenID != 0 {
		return p.TokenTenant == tid && s.Authz.RoleAllows(p.TokenRole, perm)
	}
	return s.Authz.Allowed(tid, perm, p.Subjects()...)
}
