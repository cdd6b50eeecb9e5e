package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
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

func randomKey(t *testing.T) []byte {
	t.Helper()
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		t.Fatal(err)
	}
	return k
}

// sealedRows fingerprints the rows `keys rotate` may change.
func sealedRows(t *testing.T, e *testenv.Env, tid int64) string {
	t.Helper()
	var row struct {
		MasterID string
		Wrapped  []byte
	}
	if err := db.InTenant(scope.WithTenant(context.Background(), tid), e.App.DB, func(tx *gorm.DB) error {
		return tx.Raw(`SELECT master_id, wrapped FROM tenant_keys WHERE tenant_id = ?`, tid).Scan(&row).Error
	}); err != nil {
		t.Fatal(err)
	}
	var totp, platform []string
	e.App.DB.Raw(`SELECT encode(totp_sealed, 'hex') FROM users WHERE totp_sealed IS NOT NULL ORDER BY id`).Scan(&totp)
	e.App.DB.Raw(`SELECT encode(sealed, 'hex') FROM platform_keys ORDER BY name`).Scan(&platform)
	return fmt.Sprintf("%s %x %v %v", row.MasterID, row.Wrapped, totp, platform)
}

func TestKeysRotate(t *testing.T) {
	t.Parallel()
	e := testenv.New(t)
	ctx := scope.WithActor(context.Background(), scope.Actor{Kind: "operator", ID: "test"})
	tn, err := e.App.Tenants.Create(ctx, tenant.CreateInput{Slug: "rotated-brand", Name: "Rotated"})
	if err != nil {
		t.Fatal(err)
	}
	tctx := scope.WithTenant(ctx, tn.ID)
	cust, key, salt := "CUSTOMER1", "Kd100KeyBeforeRotation", "salt-of-the-pushes"
	if _, err := e.App.Tenants.SaveCredentials(tctx, "live", "logistics",
		&tenant.LogisticsInput{Kuaidi100Customer: &cust, Kuaidi100Key: &key, Kuaidi100Salt: &salt}); err != nil {
		t.Fatal(err)
	}
	u := e.User(t, "totp@rotated.test", false)
	if _, err := e.App.Accounts.BeginTOTP(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	buyerKey, err := vault.NewPlatformKeys(e.App.Keys, e.App.DB).Key(ctx, "buyer-id-hash")
	if err != nil {
		t.Fatal(err)
	}
	oldKey, newKey := e.Cfg.MasterKey, randomKey(t)
	env := append(envOf(e), "MINISHOP_MASTER_KEY="+hex.EncodeToString(newKey))
	before := sealedRows(t, e, tn.ID)

	out, code := run(t, env, "", "keys", "rotate", "--help")
	for _, want := range []string{"MINISHOP_MASTER_KEY_OLD", "--dry-run", "Deploy again without MINISHOP_MASTER_KEY_OLD"} {
		if code != 0 || !strings.Contains(out, want) {
			t.Fatalf("--help must explain the procedure (%q): exit %d\n%s", want, code, out)
		}
	}

	for _, c := range []struct {
		name string
		env  []string
		want string
	}{
		{"wrong old key", append(env, "MINISHOP_MASTER_KEY_OLD="+hex.EncodeToString(randomKey(t))), "probably not the previous master key"},
		{"no old key", env, "set MINISHOP_MASTER_KEY_OLD"},
	} {
		out, code := run(t, c.env, "", "keys", "rotate")
		if code == 0 || !strings.Contains(out, "nothing was changed") || !strings.Contains(out, c.want) || !strings.Contains(out, fmt.Sprint(tn.ID)) {
			t.Fatalf("%s must fail clearly: exit %d\n%s", c.name, code, out)
		}
		if sealedRows(t, e, tn.ID) != before {
			t.Fatalf("%s changed rows", c.name)
		}
	}

	env = append(env, "MINISHOP_MASTER_KEY_OLD="+hex.EncodeToString(oldKey))
	out, code = run(t, env, "", "keys", "rotate", "--dry-run")
	if code != 0 || !strings.Contains(out, "1 tenant data key(s), 1 TOTP secret(s) and 1 platform key(s) to move") || sealedRows(t, e, tn.ID) != before {
		t.Fatalf("dry run: exit %d\n%s", code, out)
	}
	out, code = run(t, env, "", "keys", "rotate")
	if code != 0 || !strings.Contains(out, "done: 1 tenant data key(s), 1 TOTP secret(s) and 1 platform key(s) moved") {
		t.Fatalf("rotate: exit %d\n%s", code, out)
	}
	after := sealedRows(t, e, tn.ID)
	out, code = run(t, env, "", "keys", "rotate")
	if code != 0 || !strings.Contains(out, "done: 0 tenant data key(s), 0 TOTP secret(s) and 0 platform key(s) moved") || sealedRows(t, e, tn.ID) != after {
		t.Fatalf("a second run must change nothing: exit %d\n%s", code, out)
	}

	// Only the new key now: what was sealed before the rotation opens.
	cfg := *e.Cfg
	cfg.MasterKey = newKey
	e2 := testenv.Start(t, &cfg)
	cust = "CUSTOMER2"
	s, err := e2.App.Tenants.SaveCredentials(tctx, "live", "logistics", &tenant.LogisticsInput{Kuaidi100Customer: &cust})
	if err != nil || !s.Credential.Secrets["kuaidi100_key"].Set {
		t.Fatalf("credentials sealed before the rotation, with only the new key: %v", err)
	}
	var row struct{ TOTPSealed []byte }
	e2.App.DB.Raw(`SELECT totp_sealed FROM users WHERE id = ?`, u.ID).Scan(&row)
	if _, err := e2.App.Keys.OpenGlobal(fmt.Sprintf("totp/%d", u.ID), row.TOTPSealed); err != nil {
		t.Fatalf("TOTP secret with only the new key: %v", err)
	}
	if k, err := vault.NewPlatformKeys(e2.App.Keys, e2.App.DB).Key(ctx, "buyer-id-hash"); err != nil || !bytes.Equal(k, buyerKey) {
		t.Fatalf("the platform key after rotation, with only the new key: %v", err)
	}
	if strings.Contains(out, key) {
		t.Fatal("the command printed a secret")
	}
}
