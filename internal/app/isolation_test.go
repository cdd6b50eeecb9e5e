package app_test

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/png"
	"regexp"
	"strings"
	"testing"

	"github.com/minishop/minishop/internal/db"
	"github.com/minishop/minishop/internal/scope"
	"github.com/minishop/minishop/internal/testenv"
	"github.com/minishop/minishop/shop"
	"github.com/minishop/minishop/tenant"
)

// world is two shops, A and B, each with staff and objects, and an agency
// working for each.
type world struct {
	e           *testenv.Env
	a, b        *tenant.Tenant
	ownerA      []string
	params      map[string]string // path parameter → an object of B
	agencyA     []string          // lead of the agency working for A
	agencyB     int64
	tokenB      int64
	invitationB int64
	productB    shop.Product
	categoryB   int64
	templateB   int64
	importB     int64
	taskB       int64 // a failed background task of B
}

func newWorld(t *testing.T) *world {
	t.Helper()
	e := testenv.New(t)
	ctx := context.Background()
	w := &world{e: e}
	var err error
	if w.a, err = e.App.Tenants.Create(ctx, tenant.CreateInput{Slug: "shop-a", Name: "Shop A"}); err != nil {
		t.Fatal(err)
	}
	if w.b, err = e.App.Tenants.Create(ctx, tenant.CreateInput{Slug: "shop-b", Name: "Shop B"}); err != nil {
		t.Fatal(err)
	}
	w.ownerA = e.Member(t, w.a.ID, "owner@a.test", tenant.RoleOwner)
	ownerB := e.Member(t, w.b.ID, "owner@b.test", tenant.RoleOwner)
	ub, _ := e.App.Accounts.UserByEmail(ctx, "owner@b.test")

	r := e.Do(t, "POST", "", "/api/admin/v1/tenants/shop-b/tokens", map[string]any{"name": "B's ERP", "role": "viewer"}, ownerB...)
	var tok tenant.Token
	r.JSON(t, &tok)
	w.tokenB = tok.ID
	r = e.Do(t, "POST", "", "/api/admin/v1/tenants/shop-b/invitations", map[string]string{"email": "hire@b.test", "role": "viewer"}, ownerB...)
	var inv tenant.Invitation
	r.JSON(t, &inv)
	w.invitationB = inv.ID

	// Catalog objects of B.
	if r := e.Do(t, "POST", "", "/api/admin/v1/tenants/shop-b/products", map[string]any{"content": map[string]any{"en": map[string]string{"title": "B's soap"}}}, ownerB...); r.Status != 201 {
		t.Fatalf("product of B: %d %s", r.Status, r.Body)
	} else {
		r.JSON(t, &w.productB)
	}
	var cat shop.Category
	e.Do(t, "POST", "", "/api/admin/v1/tenants/shop-b/categories", map[string]any{"name": map[string]string{"en": "B's category"}}, ownerB...).JSON(t, &cat)
	w.categoryB = cat.ID
	var tpl shop.ShippingTemplate
	e.Do(t, "POST", "", "/api/admin/v1/tenants/shop-b/shipping-templates", map[string]any{"name": "B's freight", "kind": "flat", "rule": map[string]int64{"fee": 800}}, ownerB...).JSON(t, &tpl)
	w.templateB = tpl.ID
	img, err := e.App.Shop.UploadImage(scope.WithTenant(ctx, w.b.ID), bytes.NewReader(pngOf()))
	if err != nil {
		t.Fatal(err)
	}
	imp, err := e.App.Shop.StartImport(scope.WithTenant(ctx, w.b.ID), "b.csv", []byte("handle,sku,price,title_en\nb-soap,B-1,5,B's bar\n"), shop.ImportOptions{Sync: true})
	if err != nil || imp.Status != shop.ImportSucceeded {
		t.Fatalf("import of B: %v %+v", err, imp)
	}
	w.importB = imp.ID
	// B's provisioning task, as if it had failed for good.
	if err := e.App.DB.Raw(`UPDATE outbox SET failed_at = now(), archived_at = now(), failures = 1 WHERE id = (SELECT min(id) FROM outbox WHERE tenant_id = ?) RETURNING id`, w.b.ID).Row().Scan(&w.taskB); err != nil {
		t.Fatal(err)
	}

	// An agency for each shop.
	for _, x := range []struct {
		email, slug string
		owner       []string
	}{{"lead@agency-a.test", "shop-a", w.ownerA}, {"lead@agency-b.test", "shop-b", ownerB}} {
		e.User(t, x.email, false)
		s := e.SignIn(t, x.email)
		var ag tenant.Agency
		e.Do(t, "POST", "", "/api/admin/v1/agencies", map[string]string{"name": "Agency of " + x.slug}, s...).JSON(t, &ag)
		s = e.SignIn(t, x.email)
		e.Do(t, "POST", "", fmt.Sprintf("/api/admin/v1/agencies/%d/access-requests", ag.ID), map[string]string{"tenant": x.slug}, s...)
		if r := e.Do(t, "POST", "", fmt.Sprintf("/api/admin/v1/tenants/%s/agency-access/%d/approve", x.slug, ag.ID), map[string]string{"role": "admin"}, x.owner...); r.Status != 200 {
			t.Fatalf("approving agency: %d %s", r.Status, r.Body)
		}
		if x.slug == "shop-a" {
			w.agencyA = s
		} else {
			w.agencyB = ag.ID
		}
	}
	w.params = map[string]string{
		"slug":      "shop-b",
		"user_id":   fmt.Sprint(ub.ID),
		"agency_id": fmt.Sprint(w.agencyB),
		"token":     "not-a-real-token",
		"hash":      img.Hash,
		"date":      "2026-11-01", // a reconciled day (B has none: the guard refuses first)
	}
	return w
}

// snapshot is a fingerprint of every row a request could change. Sessions
// are left out: using one legitimately touches last_seen_at.
func snapshot(t *testing.T, e *testenv.Env) string {
	t.Helper()
	owner, err := db.Open(context.Background(), e.Cfg.DatabaseURL, db.Options{MaxOpen: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(owner)
	var tables []string
	owner.Raw(`SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename NOT IN ('sessions', 'goose_db_version') ORDER BY 1`).Scan(&tables)
	var b strings.Builder
	for _, tb := range tables {
		var h string
		if err := owner.Raw(`SELECT md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), '')) FROM ` + tb + ` x`).Scan(&h).Error; err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "%s=%s\n", tb, h)
	}
	return b.String()
}

func pngOf() []byte {
	var buf bytes.Buffer
	_ = png.Encode(&buf, image.NewGray(image.Rect(0, 0, 4, 4)))
	return buf.Bytes()
}

var param = regexp.MustCompile(`:([a-z_]+)|\*([a-z_]+)`)

func fill(t *testing.T, path string, params map[string]string) string {
	return param.ReplaceAllStringFunc(path, func(m string) string {
		v, ok := params[m[1:]]
		if !ok {
			t.Fatalf("route %s has a parameter %s the isolation test has no object for: add one to newWorld", path, m)
		}
		return v
	})
}

// Every admin route declares its permission, and every route that addresses
// a shop's object answers 404 to another shop's staff, changing nothing.
func TestTenantIsolationOnEveryRoute(t *testing.T) {
	w := newWorld(t)
	e := w.e
	router := e.App.Router()
	perms := e.App.Guard().Permissions()
	// Per-route object ids of B for the generic ":id".
	ids := map[string]string{"tokens": fmt.Sprint(w.tokenB), "invitations": fmt.Sprint(w.invitationB), "sessions": "ABCDEF",
		"products": fmt.Sprint(w.productB.ID), "categories": fmt.Sprint(w.categoryB), "skus": fmt.Sprint(w.productB.SKUs[0].ID),
		"shipping-templates": fmt.Sprint(w.templateB), "orders": "1", "imports": fmt.Sprint(w.importB), "tasks": fmt.Sprint(w.taskB), "discrepancies": "1"} // B has no order: the guard refuses before any lookup
	tested := 0
	for _, rt := range router.Routes() {
		if !strings.HasPrefix(rt.Path, "/api/admin/") && !strings.HasPrefix(rt.Path, "/platform/") {
			continue
		}
		key := rt.Method + " " + rt.Path
		perm, ok := perms[key]
		if !ok {
			t.Errorf("%s declares no permission: add it through tenant.Router", key)
			continue
		}
		if perm == tenant.PermPublic || perm == tenant.PermSignedIn || perm == tenant.PermPlatform {
			continue
		}
		if !strings.Contains(rt.Path, ":slug") {
			t.Errorf("%s requires %s but addresses no shop", key, perm)
			continue
		}
		params := map[string]string{}
		for k, v := range w.params {
			params[k] = v
		}
		if strings.Contains(rt.Path, ":id") {
			seg := strings.Split(rt.Path, "/")
			for i, s := range seg {
				if s == ":id" {
					id, ok := ids[seg[i-1]]
					if !ok {
						t.Fatalf("route %s addresses a %s the isolation test has no object of B for: add one to newWorld", rt.Path, seg[i-1])
					}
					params["id"] = id
				}
			}
		}
		path := fill(t, rt.Path, params)
		before := snapshot(t, e)
		for name, who := range map[string][]string{"owner of A": w.ownerA, "agency of A": w.agencyA} {
			r := e.Do(t, rt.Method, "", path, map[string]string{}, who...)
			if r.Status != 404 {
				t.Errorf("%s %s as %s: %d %s; want 404", rt.Method, path, name, r.Status, r.Body)
			}
		}
		if after := snapshot(t, e); after != before {
			t.Errorf("%s %s from another shop changed data:\nbefore %s\nafter  %s", rt.Method, path, before, after)
		}
		tested++
	}
	if tested < 10 {
		t.Fatalf("only %d tenant routes found; the enumeration is broken", tested)
	}
	// Agency routes: another agency's staff sees nothing either.
	for _, p := range []string{"GET /api/admin/v1/agencies/%d", "POST /api/admin/v1/agencies/%d/invitations", "POST /api/admin/v1/agencies/%d/access-requests",
		"GET /api/admin/v1/agencies/%d/clients", "GET /api/admin/v1/agencies/%d/invitations", "DELETE /api/admin/v1/agencies/%d/invitations/1",
		"PATCH /api/admin/v1/agencies/%d/members/1", "DELETE /api/admin/v1/agencies/%d/members/1"} {
		m, path, _ := strings.Cut(p, " ")
		if r := e.Do(t, m, "", fmt.Sprintf(path, w.agencyB), map[string]string{"email": "x@y.test", "role": "agency_staff", "tenant": "shop-a"}, w.agencyA...); r.Status != 404 {
			t.Errorf("%s of another agency: %d %s", p, r.Status, r.Body)
		}
	}
}

// The role matrix through the real routes: each role, on each route of its
// own shop, is refused (403) exactly when its role lacks the route's
// permission.
func TestRoleMatrixOnEveryRoute(t *testing.T) {
	e := testenv.New(t)
	shop, err := e.App.Tenants.Create(context.Background(), tenant.CreateInput{Slug: "matrix", Name: "Matrix"})
	if err != nil {
		t.Fatal(err)
	}
	sessions := map[string][]string{}
	for _, role := range tenant.TenantRoles {
		sessions[role] = e.Member(t, shop.ID, role+"@matrix.test", role)
	}
	router := e.App.Router()
	perms := e.App.Guard().Permissions()
	for _, rt := range router.Routes() {
		perm := perms[rt.Method+" "+rt.Path]
		if !strings.Contains(rt.Path, ":slug") || perm == "" {
			continue
		}
		// Unknown objects: allowed roles get past the guard to a 4xx of the handler.
		path := fill(t, rt.Path, map[string]string{"slug": "matrix", "user_id": "999999", "id": "999999", "agency_id": "999999", "hash": strings.Repeat("0", 64), "date": "2026-11-01"})
		for _, role := range tenant.TenantRoles {
			r := e.Do(t, rt.Method, "", path, map[string]string{}, sessions[role]...)
			allowed := e.App.Authz.RoleAllows(role, perm)
			refused := r.Status == 403 && r.ErrorCode() == "forbidden"
			if allowed == refused || r.ErrorCode() == "tenant_not_found" {
				t.Errorf("%s %s (%s) as %s: %d %s; allowed by the role templates: %v", rt.Method, path, perm, role, r.Status, r.Body, allowed)
			}
		}
	}
}

// The role templates, as the issue states them.
func TestRoleTemplates(t *testing.T) {
	e := testenv.New(t)
	all := []string{"shop:read", "shop:write", "catalog:read", "catalog:write", "orders:read", "orders:write", "orders:refund",
		"customers:read", "finance:read", "finance:write", "credentials:read", "credentials:write", "team:read", "team:write",
		"audit:read", "billing:write", "tenant:delete", "ownership:transfer"}
	want := map[string][]string{
		"owner":           all,
		"admin":           all[:len(all)-1],
		"catalog_manager": {"shop:read", "catalog:read", "catalog:write"},
		"order_manager":   {"shop:read", "catalog:read", "orders:read", "orders:write", "orders:refund", "customers:read"},
		"finance":         {"shop:read", "orders:read", "orders:refund", "customers:read", "finance:read", "finance:write"},
		"viewer":          {"shop:read", "catalog:read", "orders:read", "customers:read", "finance:read", "credentials:read"},
	}
	shop, _ := e.App.Tenants.Create(context.Background(), tenant.CreateInput{Slug: "roles", Name: "Roles"})
	other, _ := e.App.Tenants.Create(context.Background(), tenant.CreateInput{Slug: "other", Name: "Other"})
	for role, perms := range want {
		u := e.User(t, role+"@roles.test", false)
		if err := e.App.Team.AddMember(scope.WithTenant(context.Background(), shop.ID), u.ID, tenant.RoleOwner); err != nil {
			t.Fatal(err)
		}
		// Set the role itself directly: AddMember keeps an owner, so use a second owner for that.
		if role != tenant.RoleOwner {
			o := e.User(t, "keeper-"+role+"@roles.test", false)
			_ = e.App.Team.AddMember(scope.WithTenant(context.Background(), shop.ID), o.ID, tenant.RoleOwner)
			if err := e.App.Team.AddMember(scope.WithTenant(context.Background(), shop.ID), u.ID, role); err != nil {
				t.Fatal(err)
			}
		}
		has := map[string]bool{}
		for _, p := range perms {
			has[p] = true
		}
		for _, p := range all {
			if got := e.App.Authz.Allowed(shop.ID, p, tenant.UserSubject(u.ID)); got != has[p] {
				t.Errorf("%s %s: allowed=%v, want %v", role, p, got, has[p])
			}
			if got := e.App.Authz.Enforce(tenant.UserSubject(u.ID), shop.ID, p); got != has[p] {
				t.Errorf("%s %s: Casbin's Enforce says %v, want %v", role, p, got, has[p])
			}
			if e.App.Authz.Allowed(other.ID, p, tenant.UserSubject(u.ID)) {
				t.Errorf("%s of one shop holds %s in another", role, p)
			}
		}
	}
}
