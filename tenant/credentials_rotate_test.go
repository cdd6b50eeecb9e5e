package tenant_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"testing"

	"gorm.io/gorm"

	"github.com/minishop/minishop/internal/db"
	"github.com/minishop/minishop/internal/scope"
	"github.com/minishop/minishop/internal/testenv"
	"github.com/minishop/minishop/internal/vault"
	"github.com/minishop/minishop/tenant"
)

func newKey(t *testing.T) []byte {
	t.Helper()
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		t.Fatal(err)
	}
	return k
}

// keyRows is a fingerprint of everything a rotation may change.
func keyRows(t *testing.T, e *testenv.Env, tenants []int64) string {
	t.Helper()
	var b strings.Builder
	for _, id := range tenants {
		var row struct {
			MasterID string
			Wrapped  []byte
		}
		if err := db.InTenant(scope.WithTenant(context.Background(), id), e.App.DB, func(tx *gorm.DB) error {
			return tx.Raw(`SELECT master_id, wrapped FROM tenant_keys WHERE tenant_id = ?`, id).Scan(&row).Error
		}); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "%d %s %x\n", id, row.MasterID, row.Wrapped)
	}
	var users []string
	if err := e.App.DB.Raw(`SELECT id || ' ' || encode(totp_sealed, 'hex') FROM users WHERE totp_sealed IS NOT NULL ORDER BY id`).Scan(&users).Error; err != nil {
		t.Fatal(err)
	}
	b.WriteString(strings.Join(users, "\n"))
	var platform []string
	if err := e.App.DB.Raw(`SELECT name || ' ' || encode(sealed, 'hex') FROM platform_keys ORDER BY name`).Scan(&platform).Error; err != nil {
		t.Fatal(err)
	}
	b.WriteString(strings.Join(platform, "\n"))
	return b.String()
}

// rotationWorld is n tenants with a live logistics set each (so a data key
// under the env's master key), two users with a TOTP secret and a platform
// key.
func rotationWorld(t *testing.T, e *testenv.Env, n int) (tenants, users []int64) {
	t.Helper()
	for i := range n {
		tn := create(t, e, fmt.Sprintf("rotating-%02d", i), "Rotating")
		cust, key, salt := fmt.Sprintf("CUSTOMER%02d", i), fmt.Sprintf("Kd100Key%02dabcdefgh", i), "salt-of-the-pushes"
		if _, err := e.App.Tenants.SaveCredentials(tenantCtx(tn.ID), "live", "logistics",
			&tenant.LogisticsInput{Kuaidi100Customer: &cust, Kuaidi100Key: &key, Kuaidi100Salt: &salt}); err != nil {
			t.Fatal(err)
		}
		tenants = append(tenants, tn.ID)
	}
	for i := range 2 {
		u := e.User(t, fmt.Sprintf("user%d@rotating.test", i), false)
		if _, err := e.App.Accounts.BeginTOTP(context.Background(), u.ID); err != nil {
			t.Fatal(err)
		}
		users = append(users, u.ID)
	}
	if _, err := vault.NewPlatformKeys(e.App.Keys, e.App.DB).Key(context.Background(), "buyer-id-hash"); err != nil {
		t.Fatal(err)
	}
	return tenants, users
}

// After rotation everything opens with the new key alone.
func checkOpensWith(t *testing.T, e *testenv.Env, master, platformKey []byte, tenants, users []int64) {
	t.Helper()
	cfg := *e.Cfg
	cfg.MasterKey = master
	e2 := testenv.Start(t, &cfg)
	for _, id := range tenants {
		cust := "CUSTOMER-NEW"
		s, err := e2.App.Tenants.SaveCredentials(tenantCtx(id), "live", "logistics", &tenant.LogisticsInput{Kuaidi100Customer: &cust})
		if err != nil || !s.Credential.Secrets["kuaidi100_key"].Set {
			t.Fatalf("tenant %d's credentials with only the new key: %v", id, err)
		}
	}
	for _, id := range users {
		var row struct{ TOTPSealed []byte }
		e2.App.DB.Raw(`SELECT totp_sealed FROM users WHERE id = ?`, id).Scan(&row)
		if _, err := e2.App.Keys.OpenGlobal(fmt.Sprintf("totp/%d", id), row.TOTPSealed); err != nil {
			t.Fatalf("user %d's TOTP secret with only the new key: %v", id, err)
		}
	}
	if k, err := vault.NewPlatformKeys(e2.App.Keys, e2.App.DB).Key(context.Background(), "buyer-id-hash"); err != nil || !bytes.Equal(k, platformKey) {
		t.Fatalf("the platform key with only the new key: %v", err)
	}
}

func TestRotateMasterKey(t *testing.T) {
	e := testenv.New(t)
	tenants, users := rotationWorld(t, e, 12)
	oldKey, k2 := e.Cfg.MasterKey, newKey(t)
	ctx := context.Background()
	before := keyRows(t, e, tenants)
	platformKey, err := vault.NewPlatformKeys(e.App.Keys, e.App.DB).Key(ctx, "buyer-id-hash")
	if err != nil {
		t.Fatal(err)
	}
	// The command runs as the schema's owner, as DATABASE_URL does.
	owner, err := db.Open(ctx, e.Cfg.DatabaseURL, db.Options{MaxOpen: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(owner)

	// A wrong previous key: refused before anything changes.
	wrong, _ := vault.New(k2, newKey(t))
	_, err = tenant.RotateMasterKey(ctx, owner, wrong, tenant.RotateOptions{Batch: 5})
	var blocked *tenant.RotateBlocked
	if !errors.As(err, &blocked) || len(blocked.TenantKeys) != 12 || len(blocked.Users) != 2 || len(blocked.PlatformKeys) != 1 || len(blocked.UnknownKeys) != 1 ||
		blocked.UnknownKeys[0] != vault.KeyID(oldKey) || !strings.Contains(err.Error(), "nothing was changed") {
		t.Fatalf("wrong previous key: %v", err)
	}
	if keyRows(t, e, tenants) != before {
		t.Fatal("a refused rotation changed rows")
	}

	keys, err := vault.New(k2, oldKey)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := tenant.RotateMasterKey(ctx, owner, keys, tenant.RotateOptions{DryRun: true, Batch: 5})
	if err != nil || rep.TenantKeys.Moved != 12 || rep.TOTPSecrets.Moved != 2 || rep.PlatformKeys.Moved != 1 || keyRows(t, e, tenants) != before {
		t.Fatalf("dry run: %+v %v", rep, err)
	}

	// Interrupted after the first batch of re-wraps (as a crash would)...
	cctx, cancel := context.WithCancel(ctx)
	var phases []string
	rep, err = tenant.RotateMasterKey(cctx, owner, keys, tenant.RotateOptions{Batch: 5, Progress: func(p tenant.RotateProgress) {
		phases = append(phases, p.Phase)
		if p.Phase == "re-wrap tenant keys" {
			cancel()
		}
	}})
	if err == nil || rep == nil || rep.TenantKeys.Moved != 5 {
		t.Fatalf("interrupted run: %+v %v", rep, err)
	}
	// ...running again finishes the job.
	rep, err = tenant.RotateMasterKey(ctx, owner, keys, tenant.RotateOptions{Batch: 5})
	if err != nil || rep.TenantKeys.Moved != 7 || rep.TenantKeys.Current != 5 || rep.TOTPSecrets.Moved != 2 || rep.PlatformKeys.Moved != 1 {
		t.Fatalf("resumed run: %+v %v", rep, err)
	}
	after := keyRows(t, e, tenants)
	rep, err = tenant.RotateMasterKey(ctx, owner, keys, tenant.RotateOptions{Batch: 5})
	if err != nil || rep.TenantKeys.Moved != 0 || rep.TOTPSecrets.Moved != 0 || rep.TenantKeys.Current != 12 || rep.TOTPSecrets.Current != 2 || rep.PlatformKeys.Current != 1 {
		t.Fatalf("a run with nothing to do: %+v %v", rep, err)
	}
	if keyRows(t, e, tenants) != after {
		t.Fatal("a run with nothing to do changed rows")
	}
	if !strings.Contains(strings.Join(phases, ","), "scan tenant keys") {
		t.Fatalf("progress: %v", phases)
	}
	checkOpensWith(t, e, k2, platformKey, tenants, users)
}
