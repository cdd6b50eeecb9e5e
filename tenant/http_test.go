package tenant_test

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/minishop/minishop/internal/testenv"
	"github.com/minishop/minishop/tenant"
)

func create(t *testing.T, e *testenv.Env, slug, name string) *tenant.Tenant {
	t.Helper()
	tn, err := e.App.Tenants.Create(context.Background(), tenant.CreateInput{Slug: slug, Name: name})
	if err != nil {
		t.Fatalf("creating %s: %v", slug, err)
	}
	return tn
}

func TestStorefrontShopByHost(t *testing.T) {
	e := testenv.New(t)
	create(t, e, "nordic-skin", "Nordic Skin")
	create(t, e, "dutch-cocoa", "Dutch Cocoa")

	for _, host := range []string{"nordic-skin.shop.test", "NORDIC-SKIN.Shop.Test:8443", "nordic-skin.shop.test."} {
		r := e.Do(t, "GET", host, "/api/v1/shop", nil)
		if r.Status != 200 {
			t.Fatalf("%s: status %d: %s", host, r.Status, r.Body)
		}
		var s tenant.Shop
		r.JSON(t, &s)
		if s.Slug != "nordic-skin" || s.Name != "Nordic Skin" || s.Currency != "CNY" || s.Mode != "test" || s.DefaultLocale != "zh-CN" {
			t.Fatalf("%s: wrong shop %+v", host, s)
		}
	}
	r := e.Do(t, "GET", "dutch-cocoa.shop.test", "/api/v1/shop", nil)
	var s tenant.Shop
	r.JSON(t, &s)
	if s.Name != "Dutch Cocoa" {
		t.Fatalf("dutch-cocoa host answered %+v", s)
	}
}

func TestStorefrontHostErrors(t *testing.T) {
	e := testenv.New(t)
	create(t, e, "nordic-skin", "Nordic Skin")
	cases := []struct {
		host   string
		status int
		code   string
	}{
		{"unknown-brand.shop.test", 404, "tenant_not_found"},
		{"shop.test", 404, "tenant_not_found"},                        // the platform itself is no shop
		{"a.nordic-skin.shop.test", 404, "tenant_not_found"},          // deeper subdomains are not shops
		{"nordic-skin.other.example", 404, "tenant_not_found"},        // unknown custom domain
		{"nordic_skin.shop.test", 400, "invalid_host"},                // underscore
		{"-nordic.shop.test", 400, "invalid_host"},                    // leading hyphen
		{"nordic..shop.test", 400, "invalid_host"},                    // empty label
		{strings.Repeat("a", 64) + ".shop.test", 400, "invalid_host"}, // label too long
	}
	for _, c := range cases {
		r := e.Do(t, "GET", c.host, "/api/v1/shop", nil)
		if r.Status != c.status || r.ErrorCode() != c.code {
			t.Errorf("Host %q: got %d %s, want %d %s (%s)", c.host, r.Status, r.ErrorCode(), c.status, c.code, r.Body)
		}
	}
}

func TestSuspendTakesEffectOnEveryProcess(t *testing.T) {
	e := testenv.New(t)
	create(t, e, "nordic-skin", "Nordic Skin")
	// A second server process on the same Postgres and Redis.
	cfg2 := *e.Cfg
	other := testenv.Start(t, &cfg2)
	host := "nordic-skin.shop.test"
	for _, env := range []*testenv.Env{e, other} { // warm both caches
		if r := env.Do(t, "GET", host, "/api/v1/shop", nil); r.Status != 200 {
			t.Fatalf("before suspension: %d %s", r.Status, r.Body)
		}
	}
	if _, err := e.App.Tenants.SetStatus(context.Background(), "nordic-skin", tenant.Suspended); err != nil {
		t.Fatal(err)
	}
	if r := e.Do(t, "GET", host, "/api/v1/shop", nil); r.Status != 403 || r.ErrorCode() != "tenant_suspended" {
		t.Fatalf("the suspending process still serves the shop: %d %s", r.Status, r.Body)
	}
	// The other process hears it over Redis (its cache TTL is a minute).
	testenv.Eventually(t, 3*time.Second, "the other process to see the suspension", func() bool {
		return other.Do(t, "GET", host, "/api/v1/shop", nil).ErrorCode() == "tenant_suspended"
	})
	if _, err := other.App.Tenants.SetStatus(context.Background(), "nordic-skin", tenant.Active); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 3*time.Second, "the first process to see the resumption", func() bool {
		return e.Do(t, "GET", host, "/api/v1/shop", nil).Status == 200
	})
}

func TestCustomDomainRoutesOnceVerified(t *testing.T) {
	e := testenv.New(t)
	op := e.Operator(t)
	create(t, e, "nordic-skin", "Nordic Skin")
	create(t, e, "dutch-cocoa", "Dutch Cocoa")
	r := e.Do(t, "POST", "", "/api/admin/v1/platform/tenants/nordic-skin/domains", map[string]any{"domain": "Shop.NordicSkin.SE"}, op...)
	if r.Status != 201 {
		t.Fatalf("adding a domain: %d %s", r.Status, r.Body)
	}
	if r := e.Do(t, "GET", "shop.nordicskin.se", "/api/v1/shop", nil); r.Status != 404 {
		t.Fatalf("an unverified domain must not route: %d %s", r.Status, r.Body)
	}
	if r := e.Do(t, "POST", "", "/api/admin/v1/platform/tenants/nordic-skin/domains", map[string]any{"domain": "shop.nordicskin.se", "verified": true}, op...); r.Status != 201 {
		t.Fatalf("verifying: %d %s", r.Status, r.Body)
	}
	r = e.Do(t, "GET", "shop.nordicskin.se:443", "/api/v1/shop", nil)
	var s tenant.Shop
	r.JSON(t, &s)
	if r.Status != 200 || s.Slug != "nordic-skin" {
		t.Fatalf("verified custom domain: %d %s", r.Status, r.Body)
	}
	// Another tenant cannot take it; a domain under the platform's own is refused.
	if r := e.Do(t, "POST", "", "/api/admin/v1/platform/tenants/dutch-cocoa/domains", map[string]any{"domain": "shop.nordicskin.se"}, op...); r.Status != 409 || r.ErrorCode() != "domain_taken" {
		t.Fatalf("taking another tenant's domain: %d %s", r.Status, r.Body)
	}
	if r := e.Do(t, "POST", "", "/api/admin/v1/platform/tenants/dutch-cocoa/domains", map[string]any{"domain": "x.shop.test"}, op...); r.Status != 400 {
		t.Fatalf("a domain under the base domain: %d %s", r.Status, r.Body)
	}
}

func TestPlatformTenantAPI(t *testing.T) {
	e := testenv.New(t)
	op := e.Operator(t)
	r := e.Do(t, "POST", "", "/api/admin/v1/platform/tenants", map[string]any{"slug": "alpine-kids", "name": "Alpine Kids"}, op...)
	if r.Status != 201 {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	var created tenant.Tenant
	r.JSON(t, &created)
	if created.Slug != "alpine-kids" || created.Status != tenant.Active || created.ID == 0 {
		t.Fatalf("created %+v", created)
	}
	if r := e.Do(t, "POST", "", "/api/admin/v1/platform/tenants", map[string]any{"slug": "alpine-kids", "name": "Other"}, op...); r.Status != 409 || r.ErrorCode() != "slug_taken" {
		t.Fatalf("duplicate slug: %d %s", r.Status, r.Body)
	}
	for i := range 3 {
		create(t, e, "brand-"+string(rune('a'+i)), "Brand")
	}
	r = e.Do(t, "GET", "", "/api/admin/v1/platform/tenants?limit=2", nil, op...)
	var page struct {
		Tenants   []tenant.Tenant `json:"tenants"`
		NextAfter *int64          `json:"next_after"`
	}
	r.JSON(t, &page)
	if len(page.Tenants) != 2 || page.NextAfter == nil {
		t.Fatalf("first page: %s", r.Body)
	}
	r = e.Do(t, "GET", "", "/api/admin/v1/platform/tenants?limit=2&after="+itoa(*page.NextAfter), nil, op...)
	r.JSON(t, &page)
	if len(page.Tenants) != 2 || page.NextAfter != nil {
		t.Fatalf("second page: %s", r.Body)
	}
	if r := e.Do(t, "GET", "", "/api/admin/v1/platform/tenants?limit=1000", nil, op...); r.Status != 400 || r.ErrorCode() != "invalid_limit" {
		t.Fatalf("limit over the maximum: %d %s", r.Status, r.Body)
	}
	if r := e.Do(t, "POST", "", "/api/admin/v1/platform/tenants/alpine-kids/suspend", nil, op...); r.Status != 200 {
		t.Fatalf("suspend: %d %s", r.Status, r.Body)
	}
	if r := e.Do(t, "GET", "alpine-kids.shop.test", "/api/v1/shop", nil); r.Status != 403 {
		t.Fatalf("suspended shop: %d %s", r.Status, r.Body)
	}
	if r := e.Do(t, "POST", "", "/api/admin/v1/platform/tenants/nobody/suspend", nil, op...); r.Status != 404 {
		t.Fatalf("suspending an unknown tenant: %d %s", r.Status, r.Body)
	}
	if r := e.Do(t, "GET", "", "/api/admin/v1/platform/tenants/alpine-kids", nil, op...); r.Status != 200 || !strings.Contains(string(r.Body), `"status":"suspended"`) {
		t.Fatalf("platform tenant route: %d %s", r.Status, r.Body)
	}
	// Operators manage tenants from the platform routes; a shop's own routes are for its staff.
	if r := e.Do(t, "GET", "", "/api/admin/v1/tenants/alpine-kids", nil, op...); r.Status != 404 || r.ErrorCode() != "tenant_not_found" {
		t.Fatalf("a shop's admin route for an operator without a role there: %d %s", r.Status, r.Body)
	}
	if r := e.Do(t, "GET", "", "/api/admin/v1/tenants/no-such-brand", nil, op...); r.Status != 404 || r.ErrorCode() != "tenant_not_found" {
		t.Fatalf("admin route of an unknown tenant: %d %s", r.Status, r.Body)
	}
}

func TestPlatformAPIIsForOperatorsOnly(t *testing.T) {
	e := testenv.New(t)
	tn := create(t, e, "nordic-skin", "Nordic Skin")
	owner := e.Member(t, tn.ID, "owner@nordic-skin.test", tenant.RoleOwner)
	body := map[string]any{"slug": "alpine-kids", "name": "Alpine Kids"}
	if r := e.Do(t, "POST", "", "/api/admin/v1/platform/tenants", body); r.Status != http.StatusUnauthorized {
		t.Fatalf("platform API without sign-in: %d %s", r.Status, r.Body)
	}
	if r := e.Do(t, "POST", "", "/api/admin/v1/platform/tenants", body, owner...); r.Status != http.StatusForbidden {
		t.Fatalf("platform API as a brand owner: %d %s", r.Status, r.Body)
	}
	if _, err := e.App.Tenants.Get(context.Background(), "alpine-kids"); err == nil {
		t.Fatal("a refused request created a tenant")
	}
	if r := e.Do(t, "GET", "", "/platform/queues", nil); r.Status != http.StatusUnauthorized {
		t.Fatalf("the queue monitor without sign-in: %d", r.Status)
	}
	if r := e.Do(t, "GET", "", "/platform/queues", nil, owner...); r.Status != http.StatusForbidden {
		t.Fatalf("the queue monitor for a brand owner: %d", r.Status)
	}
	if r := e.Do(t, "GET", "", "/platform/queues", nil, e.Operator(t)...); r.Status != http.StatusOK || !strings.Contains(string(r.Body), "<html") {
		t.Fatalf("the queue monitor for an operator: %d", r.Status)
	}
}

func TestBadInput(t *testing.T) {
	e := testenv.New(t)
	op := e.Operator(t)
	path := "/api/admin/v1/platform/tenants"
	cases := []struct {
		name, body string
		headers    []string
		status     int
		code, msg  string
	}{
		{"malformed JSON", `{"slug": "abc",`, nil, 400, "invalid_json", "JSON"},
		{"not JSON", `slug=abc`, nil, 400, "invalid_json", "malformed JSON"},
		{"empty body", ``, nil, 400, "invalid_json", "empty"},
		{"unknown field", `{"slug":"abc-shop","name":"A","colour":"red"}`, nil, 400, "unknown_field", `"colour"`},
		{"wrong type", `{"slug":42,"name":"A"}`, nil, 400, "invalid_field", `"slug"`},
		{"missing field", `{"slug":"abc-shop"}`, nil, 400, "invalid_field", `"name" is required`},
		{"two values", `{"slug":"abc-shop","name":"A"} {}`, nil, 400, "invalid_json", "exactly one"},
		{"bad characters in slug", `{"slug":"Nordic_Skin!","name":"A"}`, nil, 400, "invalid_slug", "lowercase"},
		{"slug too short", `{"slug":"ab","name":"A"}`, nil, 400, "invalid_slug", "3 to 40"},
		{"reserved slug", `{"slug":"sandbox","name":"A"}`, nil, 400, "invalid_slug", "reserved"},
		{"double hyphen", `{"slug":"a--b","name":"A"}`, nil, 400, "invalid_slug", "two hyphens"},
		{"blank name", `{"slug":"abc-shop","name":"   "}`, nil, 400, "invalid_name", "name"},
		{"wrong content type", `{"slug":"abc-shop","name":"A"}`, []string{"Content-Type", "text/plain"}, 400, "unsupported_media_type", "application/json"},
		{"oversized body", `{"slug":"abc-shop","name":"` + strings.Repeat("x", 2<<20) + `"}`, nil, 413, "too_large", "larger than"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := e.Do(t, "POST", "", path, c.body, append(c.headers, op...)...)
			var body struct {
				Error struct {
					Message   string `json:"message"`
					RequestID string `json:"request_id"`
				} `json:"error"`
			}
			r.JSON(t, &body)
			if r.Status != c.status || r.ErrorCode() != c.code || !strings.Contains(body.Error.Message, c.msg) {
				t.Fatalf("got %d %s, want %d %s with a message containing %q", r.Status, r.Body, c.status, c.code, c.msg)
			}
			if body.Error.RequestID == "" || r.Header.Get("X-Request-ID") != body.Error.RequestID {
				t.Fatalf("error without the request id: %s", r.Body)
			}
		})
	}
	// None of it created anything.
	ts, _, err := e.App.Tenants.List(context.Background(), tenant.ListInput{})
	if err != nil || len(ts) != 0 {
		t.Fatalf("bad requests left %d tenants behind (%v)", len(ts), err)
	}
	if r := e.Do(t, "GET", "", "/no/such/route", nil); r.Status != 404 || r.ErrorCode() != "route_not_found" {
		t.Fatalf("unknown route: %d %s", r.Status, r.Body)
	}
	if r := e.Do(t, "DELETE", "", "/api/admin/v1/platform/tenants", nil, op...); r.Status != 405 || r.ErrorCode() != "method_not_allowed" {
		t.Fatalf("wrong method: %d %s", r.Status, r.Body)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
