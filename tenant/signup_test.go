package tenant_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/minishop/minishop/internal/testenv"
	"github.com/minishop/minishop/tenant"
)

func signupBody(email, slug string) map[string]string {
	return map[string]string{"email": email, "password": "a long enough password", "name": "Anna Berg", "company": "Nordic Skin", "slug": slug}
}

// rowCounts returns how many rows each table holds, as "table=n …".
func rowCounts(t *testing.T, e *testenv.Env, tables ...string) string {
	t.Helper()
	var b strings.Builder
	for _, table := range tables {
		var n int64
		if err := e.App.DB.Raw(`SELECT count(*) FROM ` + table).Scan(&n).Error; err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "%s=%d ", table, n)
	}
	return b.String()
}

// counts returns the number of users, tenants and memberships.
func counts(t *testing.T, e *testenv.Env) string {
	t.Helper()
	return rowCounts(t, e, "users", "tenants", "memberships")
}

func sessionCookie(t *testing.T, r *testenv.Response) []string {
	t.Helper()
	for _, ck := range (&http.Response{Header: r.Header}).Cookies() {
		if ck.Name == tenant.SessionCookie && ck.Value != "" {
			return []string{"Cookie", ck.Name + "=" + ck.Value}
		}
	}
	t.Fatalf("no session cookie in %v", r.Header)
	return nil
}

func TestSignupCreatesOwnerShopAndSession(t *testing.T) {
	e := testenv.New(t)
	stop := e.StartWorker(t)
	defer stop()

	r := e.Do(t, "POST", "", "/api/admin/v1/signup", signupBody("Anna@NordicSkin.se", "nordic-skin"))
	if r.Status != 201 {
		t.Fatalf("signup: %d %s", r.Status, r.Body)
	}
	var s tenant.SessionBody
	r.JSON(t, &s)
	if s.User.Email != "anna@nordicskin.se" || s.User.Name != "Anna Berg" {
		t.Fatalf("user %+v", s.User)
	}
	if len(s.Memberships) != 1 || s.Memberships[0].Tenant.Slug != "nordic-skin" || s.Memberships[0].Role != tenant.RoleOwner {
		t.Fatalf("memberships %+v", s.Memberships)
	}
	if len(s.Permissions["nordic-skin"]) == 0 {
		t.Fatalf("no permissions in the new shop: %+v", s.Permissions)
	}
	auth := sessionCookie(t, r)

	// The cookie is a working session, and the owner can use the shop.
	if r := e.Do(t, "GET", "", "/api/admin/v1/tenants/nordic-skin/members", nil, auth...); r.Status != 200 {
		t.Fatalf("members as the new owner: %d %s", r.Status, r.Body)
	}
	// Provisioning went through the outbox to the worker: the sandbox Mini Program exists.
	testenv.Eventually(t, 10*time.Second, "the new shop is provisioned", func() bool {
		var tn tenant.Tenant
		r := e.Do(t, "GET", "", "/api/admin/v1/tenants/nordic-skin", nil, auth...)
		r.JSON(t, &tn)
		return tn.ProvisionedAt != nil
	})
	// Its storefront answers, in test mode.
	r = e.Do(t, "GET", "nordic-skin.shop.test", "/api/v1/shop", nil)
	var shop tenant.Shop
	r.JSON(t, &shop)
	if r.Status != 200 || shop.Name != "Nordic Skin" || shop.Mode != "test" {
		t.Fatalf("storefront shop: %d %s", r.Status, r.Body)
	}
	// The sign-up is in the shop's audit log, by the new user.
	var page struct {
		Entries []map[string]any `json:"entries"`
	}
	e.Do(t, "GET", "", fmt.Sprintf("/api/admin/v1/tenants/nordic-skin/audit?action=member.added&actor_kind=user&actor_id=%d", s.User.ID), nil, auth...).JSON(t, &page)
	if len(page.Entries) != 1 {
		t.Fatalf("audit entries of the sign-up: %v", page.Entries)
	}
	// And the new user can sign in with the password.
	if r := e.Do(t, "POST", "", "/api/admin/v1/session", map[string]string{"email": "anna@nordicskin.se", "password": "a long enough password"}); r.Status != 200 {
		t.Fatalf("sign in after sign-up: %d %s", r.Status, r.Body)
	}
}

func TestSignupRefusesBadInputWithoutWriting(t *testing.T) {
	e := testenv.New(t)
	if r := e.Do(t, "POST", "", "/api/admin/v1/signup", signupBody("first@brand.test", "taken-shop")); r.Status != 201 {
		t.Fatalf("first signup: %d %s", r.Status, r.Body)
	}
	before := counts(t, e)
	with := func(k, v string) map[string]string {
		b := signupBody("new@brand.test", "fresh-shop")
		b[k] = v
		return b
	}
	expectRefusals(t, e, "/api/admin/v1/signup", []refusal{
		{"taken email", with("email", "FIRST@brand.test"), 409, "email_taken", "email"},
		{"taken slug", with("slug", "taken-shop"), 409, "slug_taken", "slug"},
		{"bad email", with("email", "not-an-email"), 400, "invalid_email", "email"},
		{"short password", with("password", "short"), 400, "weak_password", "password"},
		{"reserved slug", with("slug", "admin"), 400, "invalid_slug", "slug"},
		{"bad slug", with("slug", "-Bad_slug"), 400, "invalid_slug", "slug"},
		{"blank company", with("company", "   "), 400, "invalid_company", "company"},
		{"blank name", with("name", " "), 400, "invalid_name", "name"},
		{"unknown field", map[string]string{"email": "x@y.test", "password": "a long enough password", "name": "X", "company": "Y", "slug": "yyy", "plan": "gold"}, 400, "unknown_field", ""},
		{"missing slug", map[string]string{"email": "x@y.test", "password": "a long enough password", "name": "X", "company": "Y"}, 400, "invalid_field", ""},
	})
	if after := counts(t, e); after != before {
		t.Fatalf("refused sign-ups wrote rows: %s → %s", before, after)
	}
}

func TestSlugAvailability(t *testing.T) {
	e := testenv.New(t)
	if r := e.Do(t, "POST", "", "/api/admin/v1/signup", signupBody("a@brand.test", "nordic-skin")); r.Status != 201 {
		t.Fatalf("signup: %d %s", r.Status, r.Body)
	}
	for slug, want := range map[string]tenant.SlugStatus{
		"nordic-skin":  {Slug: "nordic-skin", Reason: "taken"},
		"Nordic-Skin ": {Slug: "nordic-skin", Reason: "taken"},
		"api":          {Slug: "api", Reason: "reserved"},
		"ab":           {Slug: "ab", Reason: "invalid"},
		"bad--slug":    {Slug: "bad--slug", Reason: "invalid"},
		"":             {Slug: "", Reason: "invalid"},
		"fjord-tea":    {Slug: "fjord-tea", Available: true},
	} {
		r := e.Do(t, "GET", "", "/api/admin/v1/slugs?slug="+url.QueryEscape(slug), nil)
		var got tenant.SlugStatus
		r.JSON(t, &got)
		if r.Status != 200 || got.Slug != want.Slug || got.Host != want.Slug+".shop.test" || got.Available != want.Available || got.Reason != want.Reason ||
			(got.Available == (got.Message != "")) {
			t.Errorf("slug %q: %d %s; want %+v", slug, r.Status, r.Body, want)
		}
	}
}

func TestSignupIsRateLimited(t *testing.T) {
	e := testenv.New(t)
	// Attempts count even when refused for a taken email: they are what a bot makes.
	if r := e.Do(t, "POST", "", "/api/admin/v1/signup", signupBody("a@brand.test", "first-shop")); r.Status != 201 {
		t.Fatalf("signup: %d %s", r.Status, r.Body)
	}
	var last *testenv.Response
	for i := 0; i < 25; i++ {
		last = e.Do(t, "POST", "", "/api/admin/v1/signup", signupBody("a@brand.test", "other-shop"))
		if last.Status == 429 {
			if i < 15 {
				t.Fatalf("rate-limited after only %d attempts", i+2)
			}
			break
		}
		if last.Status != 409 {
			t.Fatalf("attempt %d: %d %s", i, last.Status, last.Body)
		}
	}
	if last.Status != 429 || last.ErrorCode() != "too_many_signups" {
		t.Fatalf("no rate limit after 26 sign-ups: %d %s", last.Status, last.Body)
	}
}

// refusal is a request the API must refuse: its status, code and the field
// named in details.field ("" when none).
type refusal struct {
	name   string
	body   any
	status int
	code   string
	field  string
}

// expectRefusals posts each body to path and checks the answer, and that a
// refusal never starts a session.
func expectRefusals(t *testing.T, e *testenv.Env, path string, cases []refusal, headers ...string) {
	t.Helper()
	for _, c := range cases {
		r := e.Do(t, "POST", "", path, c.body, headers...)
		if r.Status != c.status || r.ErrorCode() != c.code {
			t.Errorf("%s: %d %s; want %d %s", c.name, r.Status, r.Body, c.status, c.code)
			continue
		}
		if c.field != "" {
			var b struct {
				Error struct {
					Details map[string]string `json:"details"`
				} `json:"error"`
			}
			r.JSON(t, &b)
			if b.Error.Details["field"] != c.field {
				t.Errorf("%s: details %v; want field %s", c.name, b.Error.Details, c.field)
			}
		}
		if len(r.Header.Values("Set-Cookie")) != 0 {
			t.Errorf("%s: a refusal set a cookie", c.name)
		}
	}
}
