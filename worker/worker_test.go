package worker_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/minishop/minishop/internal/config"
	"github.com/minishop/minishop/internal/db"
	"github.com/minishop/minishop/internal/outbox"
	"github.com/minishop/minishop/internal/scope"
	"github.com/minishop/minishop/internal/testenv"
	"github.com/minishop/minishop/internal/wechat"
	"github.com/minishop/minishop/tenant"
)

// provisionedCount returns how many times tenant id was provisioned, as the
// append-only audit log tells it.
func provisionedCount(t *testing.T, e *testenv.Env, id int64) int {
	t.Helper()
	var n int64
	err := db.InTenant(scope.WithTenant(context.Background(), id), e.App.DB, func(tx *gorm.DB) error {
		return tx.Raw(`SELECT count(*) FROM audit_log WHERE action = 'tenant.provisioned'`).Scan(&n).Error
	})
	if err != nil {
		t.Fatal(err)
	}
	return int(n)
}

func TestNewTenantIsProvisionedWithWorkingSandboxCredentials(t *testing.T) {
	e := testenv.New(t)
	e.StartWorker(t)
	tn, err := e.App.Tenants.Create(context.Background(), tenant.CreateInput{Slug: "nordic-skin", Name: "Nordic Skin"})
	if err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 15*time.Second, "provisioning", func() bool { return provisionedCount(t, e, tn.ID) > 0 })
	got, _ := e.App.Tenants.Get(context.Background(), "nordic-skin")
	if got.ProvisionedAt == nil {
		t.Fatal("provisioned_at not set")
	}
	ctx := scope.WithTenant(context.Background(), tn.ID)
	mp, err := e.App.Tenants.MiniProgramCredentials(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if mp.Mode != tenant.ModeTest || len(mp.AppID) != 18 || mp.Secret == "" {
		t.Fatalf("sandbox credentials: mode %s appid %q", mp.Mode, mp.AppID)
	}
	// The credentials work against the sandbox, as a Mini Program login would use them.
	code := sandboxLoginCode(t, e, mp.AppID)
	sess, err := wechat.New(e.Sandbox.URL).Code2Session(ctx, mp.AppID, mp.Secret, code)
	if err != nil || sess.OpenID == "" {
		t.Fatalf("jscode2session with the provisioned credentials: %v", err)
	}
	if provisionedCount(t, e, tn.ID) != 1 {
		t.Fatalf("provisioned %d times", provisionedCount(t, e, tn.ID))
	}
	// The secret is sealed at rest: the stored bytes do not contain it.
	var row struct{ Sealed []byte }
	_ = db.InTenant(ctx, e.App.DB, func(tx *gorm.DB) error {
		return tx.Raw(`SELECT sealed FROM credentials WHERE tenant_id = ? AND kind = 'miniprogram'`, tn.ID).Scan(&row).Error
	})
	sealed := row.Sealed
	if len(sealed) == 0 || strings.Contains(string(sealed), mp.Secret) {
		t.Fatal("the app secret must be stored encrypted")
	}
}

func contains(b []byte, s string) bool {
	return len(s) > 0 && string(b) != "" && (string(b) == s || indexOf(string(b), s) >= 0)
}

func indexOf(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return i
		}
	}
	return -1
}

func TestRedeliveredTaskRunsItsEffectOnce(t *testing.T) {
	e := testenv.New(t)
	tn, err := e.App.Tenants.Create(context.Background(), tenant.CreateInput{Slug: "dutch-cocoa", Name: "Dutch Cocoa"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := scope.WithTenant(context.Background(), tn.ID)
	taskID := outbox.TaskID(1)
	// 15 sequential deliveries and 20 concurrent ones of the same task.
	for range 15 {
		if err := e.App.Tenants.Provision(ctx, taskID); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := e.App.Tenants.Provision(ctx, taskID); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if n := provisionedCount(t, e, tn.ID); n != 1 {
		t.Fatalf("35 deliveries of one task provisioned %d times; want 1", n)
	}
}

func TestOutboxSurvivesRedisCrash(t *testing.T) {
	rd := testenv.StartRedis(t)
	e := testenv.New(t, func(c *config.Config) { c.RedisURL = rd.URL() })
	e.StartWorker(t, func(r *outbox.Relay) { r.Redeliver = 2 * time.Second })
	var ids []int64
	mk := func(from, to int) {
		for i := from; i < to; i++ {
			tn, err := e.App.Tenants.Create(context.Background(), tenant.CreateInput{Slug: fmt.Sprintf("brand-%03d", i), Name: "Brand"})
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, tn.ID)
		}
	}
	mk(0, 20)
	rd.Kill() // a crash: whatever Redis had not yet written is gone
	mk(20, 50)
	time.Sleep(500 * time.Millisecond)
	rd.Start()
	testenv.Eventually(t, 60*time.Second, "every tenant provisioned after Redis came back", func() bool {
		for _, id := range ids {
			if provisionedCount(t, e, id) == 0 {
				return false
			}
		}
		return true
	})
	for _, id := range ids {
		if n := provisionedCount(t, e, id); n != 1 {
			t.Errorf("tenant %d provisioned %d times", id, n)
		}
	}
}

func TestRedisWipedTasksAreRedelivered(t *testing.T) {
	e := testenv.New(t)
	var ids []int64
	for i := range 10 {
		tn, err := e.App.Tenants.Create(context.Background(), tenant.CreateInput{Slug: fmt.Sprintf("brand-%02d", i), Name: "Brand"})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, tn.ID)
	}
	// The relay hands the rows to Redis, then Redis loses everything (e.g. a
	// failover to an empty replica) before any worker ran them.
	relay := e.App.Relay()
	if n, err := relay.Flush(context.Background()); err != nil || n != 10 {
		t.Fatalf("flush: %d %v", n, err)
	}
	if err := e.App.Redis.FlushDB(context.Background()).Err(); err != nil {
		t.Fatal(err)
	}
	e.StartWorker(t, func(r *outbox.Relay) { r.Redeliver = time.Second })
	testenv.Eventually(t, 30*time.Second, "lost tasks to be redelivered", func() bool {
		for _, id := range ids {
			if provisionedCount(t, e, id) != 1 {
				return false
			}
		}
		return true
	})
}
