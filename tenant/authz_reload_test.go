package tenant_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/minishop/minishop/internal/scope"
	"github.com/minishop/minishop/internal/testenv"
	"github.com/minishop/minishop/tenant"
)

// TestReloadKeepsUnchangedRoles: every process hears its own broadcasts, so
// a subject's roles are reloaded right after each change. A reload that
// changes nothing must never leave a moment in which the subject holds no
// role: checks made meanwhile would be refused.
func TestReloadKeepsUnchangedRoles(t *testing.T) {
	e := testenv.New(t)
	ctx := context.Background()
	shop, err := e.App.Tenants.Create(ctx, tenant.CreateInput{Slug: "reloads", Name: "Reloads"})
	if err != nil {
		t.Fatal(err)
	}
	u := e.User(t, "steady@reloads.test", false)
	if err := e.App.Team.AddMember(scope.WithTenant(ctx, shop.ID), u.ID, tenant.RoleOwner); err != nil {
		t.Fatal(err)
	}
	sub := tenant.UserSubject(u.ID)
	if !e.App.Authz.Allowed(shop.ID, "catalog:write", sub) {
		t.Fatal("the owner lacks catalog:write before any reload")
	}
	var refused, checks atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			checks.Add(1)
			if !e.App.Authz.Allowed(shop.ID, "catalog:write", sub) {
				refused.Add(1)
			}
		}
	}()
	for range 300 {
		e.App.Authz.Changed(ctx, sub, shop.ID)
	}
	close(stop)
	wg.Wait()
	if n := refused.Load(); n > 0 {
		t.Fatalf("%d of %d checks refused an owner whose role never changed", n, checks.Load())
	}
}
