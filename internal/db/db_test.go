package db_test

import (
	"context"
	"strconv"
	"testing"

	"gorm.io/gorm"

	"github.com/minishop/minishop/internal/db"
	"github.com/minishop/minishop/internal/scope"
	"github.com/minishop/minishop/internal/testenv"
)

// seed creates two tenants with a shop row each, as the owner role (which is
// itself subject to FORCE ROW LEVEL SECURITY, hence the set_config).
func seed(t *testing.T, url string) (a, b int64) {
	t.Helper()
	ctx := context.Background()
	owner, err := db.Open(ctx, url, db.Options{MaxOpen: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(owner)
	for _, slug := range []string{"brand-a", "brand-b"} {
		var id int64
		err := owner.Transaction(func(tx *gorm.DB) error {
			if err := tx.Raw(`INSERT INTO tenants (slug, name) VALUES (?, ?) RETURNING id`, slug, slug).Scan(&id).Error; err != nil {
				return err
			}
			if err := tx.Exec(`SELECT set_config('app.tenant_id', ?, true)`, strconv.FormatInt(id, 10)).Error; err != nil {
				return err
			}
			return tx.Exec(`INSERT INTO shops (tenant_id) VALUES (?)`, id).Error
		})
		if err != nil {
			t.Fatal(err)
		}
		if slug == "brand-a" {
			a = id
		} else {
			b = id
		}
	}
	return a, b
}

func TestTenantTransactionSeesOnlyItsTenant(t *testing.T) {
	url := testenv.DatabaseURL(t)
	a, b := seed(t, url)
	ctx := context.Background()
	// One connection, so the check after the transaction runs on the very
	// connection the transaction used.
	app, err := db.Open(ctx, url, db.Options{Role: "minishop_app", MaxOpen: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(app)

	var role string
	if err := app.Raw(`SELECT current_user`).Scan(&role).Error; err != nil || role != "minishop_app" {
		t.Fatalf("server connections must run as minishop_app, got %q (%v)", role, err)
	}

	var ids []int64
	err = db.InTenant(scope.WithTenant(ctx, a), app, func(tx *gorm.DB) error {
		// Deliberately unscoped: no WHERE clause at all.
		return tx.Raw(`SELECT tenant_id FROM shops`).Scan(&ids).Error
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) != 1 || ids[0] != a {
		t.Fatalf("tenant %d saw shops of tenants %v; want only its own", a, ids)
	}

	// Writing a row for another tenant from inside tenant a's transaction is refused by the policy.
	err = db.InTenant(scope.WithTenant(ctx, a), app, func(tx *gorm.DB) error {
		return tx.Exec(`UPDATE shops SET currency = 'EUR' WHERE tenant_id = ?`, b).Error
	})
	if err != nil {
		t.Fatal(err)
	}
	err = db.InTenant(scope.WithTenant(ctx, a), app, func(tx *gorm.DB) error {
		return tx.Exec(`INSERT INTO audit_log (tenant_id, actor_kind, action) VALUES (?, 'system', 'x')`, b).Error
	})
	if err == nil {
		t.Fatal("inserting a row of tenant b inside tenant a's transaction must fail")
	}
	var cur string
	err = db.InTenant(scope.WithTenant(ctx, b), app, func(tx *gorm.DB) error {
		return tx.Raw(`SELECT currency FROM shops WHERE tenant_id = ?`, b).Scan(&cur).Error
	})
	if err != nil || cur != "CNY" {
		t.Fatalf("tenant b's shop was changed from tenant a's transaction: currency %q (%v)", cur, err)
	}

	// After the transaction the same pooled connection carries no tenant.
	var setting *string
	if err := app.Raw(`SELECT NULLIF(current_setting('app.tenant_id', true), '')`).Scan(&setting).Error; err != nil {
		t.Fatal(err)
	}
	if setting != nil {
		t.Fatalf("pooled connection still carries app.tenant_id=%s after the transaction", *setting)
	}
	var n int64
	if err := app.Raw(`SELECT count(*) FROM shops`).Scan(&n).Error; err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatalf("outside a tenant transaction the app role saw %d shops; want 0", n)
	}
}

func TestInTenantFailsClosedWithoutTenant(t *testing.T) {
	url := testenv.DatabaseURL(t)
	app, err := db.Open(context.Background(), url, db.Options{Role: "minishop_app", MaxOpen: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(app)
	called := false
	err = db.InTenant(context.Background(), app, func(tx *gorm.DB) error { called = true; return nil })
	if err == nil || called {
		t.Fatalf("InTenant without a tenant must fail before running anything (err=%v, called=%v)", err, called)
	}
}

func TestAppRoleCannotRewriteAuditLogOrMigrations(t *testing.T) {
	url := testenv.DatabaseURL(t)
	a, _ := seed(t, url)
	ctx := scope.WithTenant(context.Background(), a)
	app, err := db.Open(ctx, url, db.Options{Role: "minishop_app", MaxOpen: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(app)
	err = db.InTenant(ctx, app, func(tx *gorm.DB) error {
		return tx.Exec(`INSERT INTO audit_log (tenant_id, actor_kind, action) VALUES (?, 'system', 'test')`, a).Error
	})
	if err != nil {
		t.Fatalf("the app must be able to append to the audit log: %v", err)
	}
	for _, q := range []string{`UPDATE audit_log SET action = 'forged'`, `DELETE FROM audit_log`, `DELETE FROM goose_db_version`} {
		err := db.InTenant(ctx, app, func(tx *gorm.DB) error { return tx.Exec(q).Error })
		if err == nil {
			t.Errorf("%s: the app role must not be allowed", q)
		}
	}
}
