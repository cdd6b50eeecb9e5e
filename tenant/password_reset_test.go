package tenant_test

import (
	"context"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"gorm.io/gorm"

	"github.com/minishop/minishop/internal/db"
	"github.com/minishop/minishop/internal/scope"
	"github.com/minishop/minishop/internal/testenv"
	"github.com/minishop/minishop/tenant"
)

var resetLink = regexp.MustCompile(`/admin/reset-password\?token=(\S+)`)

// resetToken asks for a reset link for email and returns the token of the mail.
func resetToken(t *testing.T, e *testenv.Env, email string) string {
	t.Helper()
	if r := e.Do(t, "POST", "", "/api/admin/v1/password-reset", map[string]string{"email": email}); r.Status != 202 {
		t.Fatalf("request reset: %d %s", r.Status, r.Body)
	}
	mail, err := tenant.DevMail(context.Background(), e.App.DB, strings.ToLower(email), 1)
	if err != nil || len(mail) != 1 {
		t.Fatalf("no reset mail for %s: %v %v", email, mail, err)
	}
	m := resetLink.FindStringSubmatch(mail[0].Body)
	if m == nil {
		t.Fatalf("no link in the reset mail:\n%s", mail[0].Body)
	}
	tok, err := url.QueryUnescape(m[1])
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestPasswordReset(t *testing.T) {
	e := testenv.New(t)
	e.User(t, "anna@nordicskin.test", false)
	old := e.SignIn(t, "anna@nordicskin.test")

	// An unknown address gets the same answer and no mail.
	if r := e.Do(t, "POST", "", "/api/admin/v1/password-reset", map[string]string{"email": "nobody@nordicskin.test"}); r.Status != 202 {
		t.Fatalf("unknown address: %d %s", r.Status, r.Body)
	}
	if m, _ := tenant.DevMail(context.Background(), e.App.DB, "nobody@nordicskin.test", 1); len(m) != 0 {
		t.Fatalf("mail sent to an address without an account: %v", m)
	}
	if r := e.Do(t, "POST", "", "/api/admin/v1/password-reset", map[string]string{"email": "not an email"}); r.Status != 400 || r.ErrorCode() != "invalid_email" {
		t.Fatalf("bad address: %d %s", r.Status, r.Body)
	}

	tok := resetToken(t, e, "Anna@NordicSkin.test")
	confirm := func(token, password string) *testenv.Response {
		return e.Do(t, "POST", "", "/api/admin/v1/password-reset/confirm", map[string]string{"token": token, "password": password})
	}
	// A weak password is refused and the link still works.
	if r := confirm(tok, "short"); r.Status != 400 || r.ErrorCode() != "weak_password" {
		t.Fatalf("weak password: %d %s", r.Status, r.Body)
	}
	// A forged token (another user id, or a changed MAC) is refused.
	parts := strings.SplitN(tok, ".", 3)
	for _, bad := range []string{"2." + parts[1] + "." + parts[2], parts[0] + "." + parts[1] + ".AAAA" + parts[2][4:], "garbage", parts[0] + ".1." + parts[2]} {
		if r := confirm(bad, "a brand new password"); r.Status != 400 || r.ErrorCode() != "invalid_reset_token" {
			t.Fatalf("forged token %q: %d %s", bad, r.Status, r.Body)
		}
	}
	if r := confirm(tok, "a brand new password"); r.Status != 204 {
		t.Fatalf("reset: %d %s", r.Status, r.Body)
	}
	// Used once: the same link no longer works.
	if r := confirm(tok, "yet another password"); r.Status != 400 || r.ErrorCode() != "invalid_reset_token" {
		t.Fatalf("second use of the link: %d %s", r.Status, r.Body)
	}
	// Every session ended; the old password is refused, the new one works.
	if r := e.Do(t, "GET", "", "/api/admin/v1/session", nil, old...); r.Status != 401 {
		t.Fatalf("old session still alive: %d", r.Status)
	}
	if r := e.Do(t, "POST", "", "/api/admin/v1/session", map[string]string{"email": "anna@nordicskin.test", "password": testenv.Password}); r.Status != 401 {
		t.Fatalf("old password still works: %d", r.Status)
	}
	if r := e.Do(t, "POST", "", "/api/admin/v1/session", map[string]string{"email": "anna@nordicskin.test", "password": "a brand new password"}); r.Status != 200 {
		t.Fatalf("new password refused: %d %s", r.Status, r.Body)
	}

	// More than 5 requests an hour for one address send no more mail.
	var before int64
	e.App.DB.Raw(`SELECT count(*) FROM mail_outbox WHERE to_addr = 'anna@nordicskin.test'`).Scan(&before)
	for i := 0; i < 6; i++ {
		e.Do(t, "POST", "", "/api/admin/v1/password-reset", map[string]string{"email": "anna@nordicskin.test"})
	}
	var after int64
	e.App.DB.Raw(`SELECT count(*) FROM mail_outbox WHERE to_addr = 'anna@nordicskin.test'`).Scan(&after)
	if after-before != 4 { // 1 earlier + 4 = the limit of 5
		t.Fatalf("%d reset mails after 6 requests, want 4 more (limit 5 an hour)", after-before)
	}
}

func TestHomeCounters(t *testing.T) {
	e := testenv.New(t)
	tn := create(t, e, "nordic-skin", "Nordic Skin")
	other := create(t, e, "dutch-cocoa", "Dutch Cocoa")
	owner := e.Member(t, tn.ID, "owner@nordic-skin.test", tenant.RoleOwner)
	catalog := e.Member(t, tn.ID, "catalog@nordic-skin.test", tenant.RoleCatalogManager)
	addProducts(t, e, tn.ID, "published", 3)
	addProducts(t, e, tn.ID, "draft", 2)
	addProducts(t, e, tn.ID, "archived", 1)
	addProducts(t, e, other.ID, "published", 7)

	var f tenant.HomeFigures
	r := e.Do(t, "GET", "", "/api/admin/v1/tenants/nordic-skin/home", nil, owner...)
	if r.Status != 200 {
		t.Fatalf("home: %d %s", r.Status, r.Body)
	}
	r.JSON(t, &f)
	if f.Mode != "test" || f.ProductsPublished != 3 || f.ProductsDraft != 2 || f.OrdersToday == nil || *f.OrdersToday != 0 ||
		f.PaidToday == nil || *f.PaidToday != 0 || f.Customers == nil || *f.Customers != 0 {
		t.Fatalf("owner's home: %s", r.Body)
	}
	// A catalog manager sees the catalog, not the orders or customers.
	f = tenant.HomeFigures{}
	e.Do(t, "GET", "", "/api/admin/v1/tenants/nordic-skin/home", nil, catalog...).JSON(t, &f)
	if f.ProductsPublished != 3 || f.OrdersToday != nil || f.PaidToday != nil || f.Customers != nil {
		t.Fatalf("catalog manager's home: %+v", f)
	}
	// Another shop's staff get 404.
	if r := e.Do(t, "GET", "", "/api/admin/v1/tenants/dutch-cocoa/home", nil, owner...); r.Status != 404 {
		t.Fatalf("other shop's home: %d", r.Status)
	}
}

// addProducts inserts n bare products of status into tenant tid.
func addProducts(t *testing.T, e *testenv.Env, tid int64, status string, n int) {
	t.Helper()
	err := db.InTenant(scope.WithTenant(context.Background(), tid), e.App.DB, func(tx *gorm.DB) error {
		for i := 0; i < n; i++ {
			if err := tx.Exec(`INSERT INTO products (tenant_id, status) VALUES (?, ?)`, tid, status).Error; err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
