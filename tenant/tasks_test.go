package tenant_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"gorm.io/gorm"

	"github.com/minishop/minishop/internal/db"
	"github.com/minishop/minishop/internal/errs"
	"github.com/minishop/minishop/internal/outbox"
	"github.com/minishop/minishop/internal/scope"
	"github.com/minishop/minishop/internal/testenv"
	"github.com/minishop/minishop/tenant"
	"github.com/minishop/minishop/worker"
)

// A customs declaration task that fails with a reason the brand can act on
// is listed to that brand in its own terms, to no other brand; a role
// without orders:write may not run it again; the owner does, and it runs
// once more, on a real worker.
func TestFailedTasksAreShownToTheBrandAndRunAgain(t *testing.T) {
	e := testenv.New(t)
	ctx := context.Background()
	a, err := e.App.Tenants.Create(ctx, tenant.CreateInput{Slug: "nordic-skin", Name: "Nordic Skin"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := e.App.Tenants.Create(ctx, tenant.CreateInput{Slug: "dutch-cocoa", Name: "Dutch Cocoa"})
	if err != nil {
		t.Fatal(err)
	}
	owner := e.Member(t, a.ID, "owner@nordic.test", tenant.RoleOwner)
	catalog := e.Member(t, a.ID, "catalog@nordic.test", tenant.RoleCatalogManager)
	viewer := e.Member(t, a.ID, "viewer@nordic.test", tenant.RoleViewer)
	ownerB := e.Member(t, b.ID, "owner@dutch.test", tenant.RoleOwner)

	// A stand-in for the declaration handler: it refuses as customs would
	// while the fault is on, and records its effect once when it succeeds.
	var fault atomic.Bool
	fault.Store(true)
	var runs atomic.Int64
	mux := asynq.NewServeMux()
	mux.Handle("customs.declare_order", worker.TenantTask(e.App.DB, e.App.Log, func(ctx context.Context, taskID string) error {
		runs.Add(1)
		if fault.Load() {
			return errs.E(errs.Unprocessable, "buyer_not_payer", "the buyer is not the payer")
		}
		_, err := outbox.Once(ctx, e.App.DB, taskID, "customs.declare_order", func(tx *gorm.DB) error { return nil })
		return err
	}))
	mux.Handle(tenant.TaskProvision, worker.TenantTask(e.App.DB, e.App.Log, e.App.Tenants.Provision))
	wctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	relay := e.App.Relay()
	relay.MaxRetry = -1 // archived at its first failure
	relay.Poll = 200 * time.Millisecond
	go func() {
		defer close(done)
		_ = worker.Run(wctx, worker.Server(e.App.RedisOpt, 4, 5*time.Second, e.App.Log), mux, relay)
	}()
	t.Cleanup(func() { cancel(); <-done })

	actx := scope.WithTenant(ctx, a.ID)
	if err := db.InTenant(actx, e.App.DB, func(tx *gorm.DB) error {
		return outbox.Add(actx, tx, outbox.Message{Kind: "customs.declare_order", Queue: outbox.QueueCritical, TenantID: a.ID, Data: map[string]int64{"order_id": 4242}})
	}); err != nil {
		t.Fatal(err)
	}

	var page tenant.TaskPage
	t.Cleanup(func() {
		if t.Failed() {
			var rows []map[string]any
			e.App.DB.Raw(`SELECT id, kind, sent_at, failed_at, archived_at, last_error FROM outbox`).Scan(&rows)
			t.Logf("%v\n%s", rows, e.Logs.String())
		}
	})
	testenv.Eventually(t, 20*time.Second, "the failed declaration in the list", func() bool {
		r := e.Do(t, "GET", "", "/api/admin/v1/tenants/nordic-skin/tasks?state=failed", nil, viewer...)
		if r.Status != 200 {
			t.Fatalf("list: %d %s", r.Status, r.Body)
		}
		page = tenant.TaskPage{}
		r.JSON(t, &page)
		return len(page.Tasks) == 1
	})
	task := page.Tasks[0]
	if task.Message != "customs declaration failed: the buyer is not the payer" || task.Kind != "customs.declare_order" ||
		task.State != "failed" || task.Failures != 1 || task.OrderID == nil || *task.OrderID != 4242 {
		t.Fatalf("failed task: %+v", task)
	}
	// Operators see it too, archived in asynq.
	if ti, err := e.App.Inspector.GetTaskInfo(outbox.QueueCritical, outbox.TaskID(task.ID)); err != nil || ti.State != asynq.TaskStateArchived {
		t.Fatalf("asynq's copy: %+v %v", ti, err)
	}

	// Another brand sees none of it and cannot run it.
	var other tenant.TaskPage
	e.Do(t, "GET", "", "/api/admin/v1/tenants/dutch-cocoa/tasks", nil, ownerB...).JSON(t, &other)
	if len(other.Tasks) != 0 {
		t.Fatalf("another shop sees %+v", other.Tasks)
	}
	retry := fmt.Sprintf("/api/admin/v1/tenants/%%s/tasks/%d/retry", task.ID)
	if r := e.Do(t, "POST", "", fmt.Sprintf(retry, "dutch-cocoa"), nil, ownerB...); r.Status != 404 || r.ErrorCode() != "task_not_found" {
		t.Fatalf("retry from another shop: %d %s", r.Status, r.Body)
	}
	if r := e.Do(t, "POST", "", fmt.Sprintf(retry, "nordic-skin"), nil, ownerB...); r.Status != 404 {
		t.Fatalf("retry in a shop the caller has no role in: %d %s", r.Status, r.Body)
	}
	// A catalog manager may read the list, not run a declaration again.
	if r := e.Do(t, "POST", "", fmt.Sprintf(retry, "nordic-skin"), nil, catalog...); r.Status != 403 || r.ErrorCode() != "forbidden" {
		t.Fatalf("retry by a catalog manager: %d %s", r.Status, r.Body)
	}
	if got := runs.Load(); got != 1 {
		t.Fatalf("refused retries ran the task: %d runs", got)
	}

	// The owner runs it again once the cause is fixed.
	fault.Store(false)
	r := e.Do(t, "POST", "", fmt.Sprintf(retry, "nordic-skin"), nil, owner...)
	var queued tenant.Task
	r.JSON(t, &queued)
	if r.Status != 202 || queued.State != "queued" || queued.ID != task.ID {
		t.Fatalf("retry: %d %s", r.Status, r.Body)
	}
	testenv.Eventually(t, 20*time.Second, "the task to succeed", func() bool {
		var n int64
		_ = e.App.DB.Raw(`SELECT count(*) FROM outbox WHERE id = ? AND done_at IS NOT NULL`, task.ID).Scan(&n).Error
		return n == 1
	})
	if got := runs.Load(); got != 2 {
		t.Fatalf("%d runs; want 2 (the failure and the re-run)", got)
	}
	e.Do(t, "GET", "", "/api/admin/v1/tenants/nordic-skin/tasks", nil, owner...).JSON(t, &page)
	if len(page.Tasks) != 0 {
		t.Fatalf("still listed after it succeeded: %+v", page.Tasks)
	}
	if r := e.Do(t, "POST", "", fmt.Sprintf(retry, "nordic-skin"), nil, owner...); r.Status != 409 || r.ErrorCode() != "task_not_failed" {
		t.Fatalf("retry of a task that succeeded: %d %s", r.Status, r.Body)
	}
}

// Paging and bad input of the list.
func TestFailedTasksPaging(t *testing.T) {
	e := testenv.New(t)
	a, err := e.App.Tenants.Create(context.Background(), tenant.CreateInput{Slug: "nordic-skin", Name: "Nordic Skin"})
	if err != nil {
		t.Fatal(err)
	}
	owner := e.Member(t, a.ID, "owner@nordic.test", tenant.RoleOwner)
	if err := e.App.DB.Exec(`INSERT INTO outbox (tenant_id, kind, queue, payload, sent_at, failed_at, archived_at, failures, last_error)
		SELECT ?, 'catalog.import', 'low', '{"import_id": 1}', now(), now(), now(), 26, 'pq: deadlock detected' FROM generate_series(1, 5)`, a.ID).Error; err != nil {
		t.Fatal(err)
	}
	seen := map[int64]bool{}
	path := "/api/admin/v1/tenants/nordic-skin/tasks?limit=2"
	for pages := 0; ; pages++ {
		var p tenant.TaskPage
		if r := e.Do(t, "GET", "", path, nil, owner...); r.Status != 200 {
			t.Fatalf("%s: %d %s", path, r.Status, r.Body)
		} else {
			r.JSON(t, &p)
		}
		for _, tk := range p.Tasks {
			if seen[tk.ID] {
				t.Fatalf("task %d on two pages", tk.ID)
			}
			seen[tk.ID] = true
			// An internal error is not shown as such.
			if tk.Label != "catalog import" || tk.Error != fmt.Sprintf("an unexpected error on our side (reference task %d)", tk.ID) {
				t.Fatalf("task: %+v", tk)
			}
		}
		if p.NextBefore == nil {
			break
		}
		if pages > 5 {
			t.Fatal("paging does not end")
		}
		path = fmt.Sprintf("/api/admin/v1/tenants/nordic-skin/tasks?limit=2&before=%d", *p.NextBefore)
	}
	if len(seen) != 5 {
		t.Fatalf("%d tasks over the pages; want 5", len(seen))
	}
	for q, code := range map[string]string{"state=done": "invalid_state", "limit=500": "invalid_limit", "limit=x": "invalid_limit", "before=x": "invalid_cursor"} {
		if r := e.Do(t, "GET", "", "/api/admin/v1/tenants/nordic-skin/tasks?"+q, nil, owner...); r.Status != 400 || r.ErrorCode() != code {
			t.Errorf("?%s: %d %s; want 400 %s", q, r.Status, r.Body, code)
		}
	}
	var retrying tenant.TaskPage
	e.Do(t, "GET", "", "/api/admin/v1/tenants/nordic-skin/tasks?state=retrying", nil, owner...).JSON(t, &retrying)
	if len(retrying.Tasks) != 0 {
		t.Fatalf("retrying: %+v", retrying.Tasks)
	}
}
