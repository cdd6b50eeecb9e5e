package tenant_test

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"gorm.io/gorm"

	"github.com/minishop/minishop/internal/db"
	"github.com/minishop/minishop/internal/scope"
	"github.com/minishop/minishop/internal/testenv"
	"github.com/minishop/minishop/tenant"
)

// agencyWorld is two brands (shop-a, shop-b) signed up with their owners,
// and two agencies (X and Y) signed up with their admins.
type agencyWorld struct {
	e              *testenv.Env
	ownerA, ownerB []string
	x, y           []string // the agencies' admins
	xID, yID       int64
}

func newAgencyWorld(t *testing.T) *agencyWorld {
	t.Helper()
	e := testenv.New(t)
	w := &agencyWorld{e: e}
	brand := func(slug string) []string {
		r := e.Do(t, "POST", "", "/api/admin/v1/signup", signupBody("owner@"+slug+".test", slug))
		if r.Status != 201 {
			t.Fatalf("brand %s: %d %s", slug, r.Status, r.Body)
		}
		return sessionCookie(t, r)
	}
	agency := func(email, name string) ([]string, int64) {
		r := e.Do(t, "POST", "", "/api/admin/v1/signup/agency", agencySignupBody(email, name))
		if r.Status != 201 {
			t.Fatalf("agency %s: %d %s", name, r.Status, r.Body)
		}
		var s tenant.SessionBody
		r.JSON(t, &s)
		return sessionCookie(t, r), s.Agencies[0].ID
	}
	w.ownerA, w.ownerB = brand("shop-a"), brand("shop-b")
	w.x, w.xID = agency("lead@x.test", "Agency X")
	w.y, w.yID = agency("lead@y.test", "Agency Y")
	return w
}

func (w *agencyWorld) request(t *testing.T, auth []string, agency int64, shop string) *testenv.Response {
	t.Helper()
	return w.e.Do(t, "POST", "", fmt.Sprintf("/api/admin/v1/agencies/%d/access-requests", agency), map[string]string{"tenant": shop, "message": "Hello"}, auth...)
}

func (w *agencyWorld) decide(t *testing.T, owner []string, slug string, agency int64, decision, role string) {
	t.Helper()
	var body any
	if role != "" {
		body = map[string]string{"role": role}
	}
	if r := w.e.Do(t, "POST", "", fmt.Sprintf("/api/admin/v1/tenants/%s/agency-access/%d/%s", slug, agency, decision), body, owner...); r.Status != 200 {
		t.Fatalf("%s %s for agency %d: %d %s", decision, slug, agency, r.Status, r.Body)
	}
}

func (w *agencyWorld) clients(t *testing.T, auth []string, agency int64) []tenant.ClientShop {
	t.Helper()
	var out struct {
		Clients []tenant.ClientShop `json:"clients"`
	}
	r := w.e.Do(t, "GET", "", fmt.Sprintf("/api/admin/v1/agencies/%d/clients", agency), nil, auth...)
	if r.Status != 200 {
		t.Fatalf("clients of %d: %d %s", agency, r.Status, r.Body)
	}
	r.JSON(t, &out)
	return out.Clients
}

func TestAccessRequestNamesShopsBySlugOrAddress(t *testing.T) {
	w := newAgencyWorld(t)
	e := w.e
	if _, err := e.App.Tenants.AddDomain(context.Background(), "shop-b", "shop.brand-b.example", true); err != nil {
		t.Fatal(err)
	}
	if _, err := e.App.Tenants.AddDomain(context.Background(), "shop-a", "unverified.brand-a.example", false); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		address, slug string
	}{
		{"shop-a.shop.test", "shop-a"},                         // the storefront address as is
		{"https://SHOP-B.shop.test/api/v1/shop?x=1", "shop-b"}, // pasted from a browser
	} {
		r := w.request(t, w.x, w.xID, c.address)
		var a tenant.Access
		r.JSON(t, &a)
		if r.Status != 201 || a.TenantSlug != c.slug || a.Status != "pending" {
			t.Errorf("request %q: %d %s", c.address, r.Status, r.Body)
		}
	}
	for _, c := range []struct{ address, slug string }{
		{"http://localhost:8080/admin/s/shop-a/catalog", "shop-a"}, // a console link
		{"shop.brand-b.example", "shop-b"},                         // a verified custom domain
	} {
		r := w.request(t, w.y, w.yID, c.address)
		var a tenant.Access
		r.JSON(t, &a)
		if r.Status != 201 || a.TenantSlug != c.slug {
			t.Errorf("request %q: %d %s", c.address, r.Status, r.Body)
		}
	}
	// Unknown shops, foreign hosts and unverified domains are one clear 404 on the field.
	for _, addr := range []string{"no-such-shop", "no-such-shop.shop.test", "shop-a.other-platform.example", "unverified.brand-a.example", "a.b.shop-a.shop.test", "Bad Slug!"} {
		r := w.request(t, w.x, w.xID, addr)
		if r.Status != 404 || r.ErrorCode() != "tenant_not_found" || !regexp.MustCompile(`"field":"tenant"`).Match(r.Body) {
			t.Errorf("request %q: %d %s", addr, r.Status, r.Body)
		}
	}
	// A console in Chinese gets the refusal in Chinese.
	zh := append(append([]string{}, w.x...), "Accept-Language", "zh-CN")
	if r := w.request(t, zh, w.xID, "no-such-shop"); r.Status != 404 || !strings.Contains(string(r.Body), "没有 ID 或地址为“no-such-shop”的店铺") {
		t.Errorf("unknown shop in Chinese: %d %s", r.Status, r.Body)
	}
	if r := w.request(t, w.x, w.xID, "   "); r.Status != 400 || r.ErrorCode() != "invalid_tenant" {
		t.Errorf("blank shop: %d %s", r.Status, r.Body)
	}
	// Asking twice names the shop; approved is a conflict too; declined may ask again.
	if r := w.request(t, w.x, w.xID, "shop-a"); r.Status != 409 || r.ErrorCode() != "already_requested" || !regexp.MustCompile(`Nordic Skin`).Match(r.Body) {
		t.Errorf("asking twice: %d %s", r.Status, r.Body)
	}
	w.decide(t, w.ownerA, "shop-a", w.xID, "approve", "catalog_manager")
	if r := w.request(t, w.x, w.xID, "shop-a.shop.test"); r.Status != 409 || r.ErrorCode() != "already_approved" {
		t.Errorf("asking while approved: %d %s", r.Status, r.Body)
	}
	w.decide(t, w.ownerB, "shop-b", w.xID, "decline", "")
	if r := w.request(t, w.x, w.xID, "shop-b"); r.Status != 201 {
		t.Errorf("asking again after a refusal: %d %s", r.Status, r.Body)
	}
	// A suspended shop cannot be asked.
	op := e.Operator(t)
	if r := e.Do(t, "POST", "", "/api/admin/v1/platform/tenants/shop-b/suspend", nil, op...); r.Status != 200 {
		t.Fatalf("suspend: %d %s", r.Status, r.Body)
	}
	if r := w.request(t, w.y, w.yID, "shop-b"); r.Status != 404 {
		t.Errorf("asking a suspended shop: %d %s", r.Status, r.Body)
	}
}

func TestAgencyClientsAndIsolation(t *testing.T) {
	w := newAgencyWorld(t)
	e := w.e
	// Products of A (3 published, 1 draft) and of B (5 published).
	var ids struct{ A, B int64 }
	e.App.DB.Raw(`SELECT (SELECT id FROM tenants WHERE slug = 'shop-a') AS a, (SELECT id FROM tenants WHERE slug = 'shop-b') AS b`).Scan(&ids)
	addProducts(t, e, ids.A, "published", 3)
	addProducts(t, e, ids.A, "draft", 1)
	addProducts(t, e, ids.B, "published", 5)

	// X: approved by A as catalog manager, declined by B. Y: approved by B as order manager.
	w.request(t, w.x, w.xID, "shop-a")
	w.request(t, w.x, w.xID, "shop-b")
	w.request(t, w.y, w.yID, "shop-b")
	if cs := w.clients(t, w.x, w.xID); len(cs) != 0 {
		t.Fatalf("clients before any approval: %+v", cs)
	}
	w.decide(t, w.ownerA, "shop-a", w.xID, "approve", "catalog_manager")
	w.decide(t, w.ownerB, "shop-b", w.xID, "decline", "")
	w.decide(t, w.ownerB, "shop-b", w.yID, "approve", "order_manager")

	cs := w.clients(t, w.x, w.xID)
	if len(cs) != 1 || cs[0].Slug != "shop-a" || cs[0].Role != "catalog_manager" || cs[0].ProductsPublished != 3 ||
		cs[0].OrdersToday != nil || cs[0].Mode != "test" || cs[0].Status != "active" || cs[0].StorefrontHost != "shop-a.shop.test" || cs[0].ApprovedAt == nil {
		t.Fatalf("X's clients: %+v", cs)
	}
	cs = w.clients(t, w.y, w.yID)
	if len(cs) != 1 || cs[0].Slug != "shop-b" || cs[0].ProductsPublished != 5 || cs[0].OrdersToday == nil || *cs[0].OrdersToday != 0 {
		t.Fatalf("Y's clients: %+v", cs)
	}
	// X's view of its requests: A approved, B declined, nothing of Y's.
	var v tenant.AgencyView
	e.Do(t, "GET", "", fmt.Sprintf("/api/admin/v1/agencies/%d", w.xID), nil, w.x...).JSON(t, &v)
	got := map[string]string{}
	for _, a := range v.Access {
		if a.AgencyID != w.xID {
			t.Errorf("X sees another agency's request: %+v", a)
		}
		got[a.TenantSlug] = a.Status
	}
	if len(got) != 2 || got["shop-a"] != "approved" || got["shop-b"] != "declined" {
		t.Fatalf("X's requests: %v", got)
	}

	// Y has a pending invitation; X cannot see, revoke or use anything of Y's.
	var inv tenant.Invitation
	e.Do(t, "POST", "", fmt.Sprintf("/api/admin/v1/agencies/%d/invitations", w.yID), map[string]string{"email": "new@y.test", "role": "agency_staff"}, w.y...).JSON(t, &inv)
	for _, c := range []struct{ method, path string }{
		{"GET", "/api/admin/v1/agencies/%d"},
		{"GET", "/api/admin/v1/agencies/%d/clients"},
		{"GET", "/api/admin/v1/agencies/%d/invitations"},
		{"DELETE", "/api/admin/v1/agencies/%d/invitations/" + fmt.Sprint(inv.ID)},
		{"POST", "/api/admin/v1/agencies/%d/access-requests"},
	} {
		if r := e.Do(t, c.method, "", fmt.Sprintf(c.path, w.yID), map[string]string{"tenant": "shop-a"}, w.x...); r.Status != 404 || r.ErrorCode() != "agency_not_found" {
			t.Errorf("%s %s as X: %d %s", c.method, c.path, r.Status, r.Body)
		}
	}
	// X's own route with Y's invitation id: not X's invitation.
	if r := e.Do(t, "DELETE", "", fmt.Sprintf("/api/admin/v1/agencies/%d/invitations/%d", w.xID, inv.ID), nil, w.x...); r.Status != 404 || r.ErrorCode() != "invitation_not_found" {
		t.Errorf("revoking Y's invitation through X: %d %s", r.Status, r.Body)
	}
	var list struct {
		Invitations []tenant.Invitation `json:"invitations"`
	}
	e.Do(t, "GET", "", fmt.Sprintf("/api/admin/v1/agencies/%d/invitations", w.yID), nil, w.y...).JSON(t, &list)
	if len(list.Invitations) != 1 || list.Invitations[0].ID != inv.ID {
		t.Fatalf("Y's invitations after X's attempts: %+v", list.Invitations)
	}
	// X's staff open A, not B; a revocation takes A off X's list.
	if r := e.Do(t, "GET", "", "/api/admin/v1/tenants/shop-b/home", nil, w.x...); r.Status != 404 {
		t.Errorf("X opens B: %d", r.Status)
	}
	w.decide(t, w.ownerA, "shop-a", w.xID, "revoke", "")
	if cs := w.clients(t, w.x, w.xID); len(cs) != 0 {
		t.Fatalf("X's clients after revocation: %+v", cs)
	}
}

func TestAgencyInvitations(t *testing.T) {
	w := newAgencyWorld(t)
	e := w.e
	path := fmt.Sprintf("/api/admin/v1/agencies/%d/invitations", w.xID)
	list := func(auth []string) []tenant.Invitation {
		var l struct {
			Invitations []tenant.Invitation `json:"invitations"`
		}
		r := e.Do(t, "GET", "", path, nil, auth...)
		if r.Status != 200 {
			t.Fatalf("invitations: %d %s", r.Status, r.Body)
		}
		r.JSON(t, &l)
		return l.Invitations
	}
	if l := list(w.x); len(l) != 0 {
		t.Fatalf("a new agency's invitations: %+v", l)
	}
	var staff, admin tenant.Invitation
	e.Do(t, "POST", "", path, map[string]string{"email": "Staff@X.test", "role": "agency_staff"}, w.x...).JSON(t, &staff)
	e.Do(t, "POST", "", path, map[string]string{"email": "second@x.test", "role": "agency_admin"}, w.x...).JSON(t, &admin)
	if l := list(w.x); len(l) != 2 || l[0].ID != admin.ID || l[1].Email != "staff@x.test" || l[1].Role != "agency_staff" {
		t.Fatalf("pending invitations: %+v", l)
	}
	// The lead already works for X.
	if r := e.Do(t, "POST", "", path, map[string]string{"email": "LEAD@x.test", "role": "agency_staff"}, w.x...); r.Status != 409 || r.ErrorCode() != "already_member" {
		t.Fatalf("inviting a member: %d %s", r.Status, r.Body)
	}
	// The staff member accepts: they see the list but may neither revoke, invite nor ask brands.
	mail, err := tenant.DevMail(context.Background(), e.App.DB, "staff@x.test", 1)
	if err != nil || len(mail) != 1 {
		t.Fatalf("the invitation was not mailed: %v %v", mail, err)
	}
	token := regexp.MustCompile(`/admin/invite/([A-Za-z0-9_-]+)`).FindStringSubmatch(mail[0].Body)[1]
	r := e.Do(t, "POST", "", "/api/admin/v1/invitations/accept", map[string]string{"token": token, "name": "Staff", "password": testenv.Password})
	if r.Status != 200 {
		t.Fatalf("accept: %d %s", r.Status, r.Body)
	}
	member := sessionCookie(t, r)
	if l := list(member); len(l) != 1 || l[0].ID != admin.ID {
		t.Fatalf("pending after acceptance, as staff: %+v", l)
	}
	if cs := w.clients(t, member, w.xID); len(cs) != 0 {
		t.Fatalf("staff's clients: %+v", cs)
	}
	for _, c := range []struct {
		method, path string
		body         any
	}{
		{"DELETE", fmt.Sprintf("%s/%d", path, admin.ID), nil},
		{"POST", path, map[string]string{"email": "z@x.test", "role": "agency_staff"}},
		{"POST", fmt.Sprintf("/api/admin/v1/agencies/%d/access-requests", w.xID), map[string]string{"tenant": "shop-a"}},
	} {
		if r := e.Do(t, c.method, "", c.path, c.body, member...); r.Status != 403 {
			t.Errorf("%s %s as staff: %d %s", c.method, c.path, r.Status, r.Body)
		}
	}
	// The admin revokes; a second revocation finds nothing.
	if r := e.Do(t, "DELETE", "", fmt.Sprintf("%s/%d", path, admin.ID), nil, w.x...); r.Status != 204 {
		t.Fatalf("revoke: %d %s", r.Status, r.Body)
	}
	if r := e.Do(t, "DELETE", "", fmt.Sprintf("%s/%d", path, admin.ID), nil, w.x...); r.Status != 404 || r.ErrorCode() != "invitation_not_found" {
		t.Fatalf("revoke twice: %d %s", r.Status, r.Body)
	}
	if l := list(w.x); len(l) != 0 {
		t.Fatalf("pending after revocation: %+v", l)
	}
}

// BenchmarkAgencyClients measures an agency's client list with its figures
// (one scoped query per shop) for an agency approved by 100 shops, each with
// 20 published products.
func BenchmarkAgencyClients(b *testing.B) {
	e := testenv.New(b)
	ctx := context.Background()
	lead := e.User(b, "lead@bench.test", false)
	ag, err := e.App.Team.CreateAgency(ctx, "Bench Agency", lead.ID)
	if err != nil {
		b.Fatal(err)
	}
	const shops = 100
	for i := 0; i < shops; i++ {
		tn, err := e.App.Tenants.Create(ctx, tenant.CreateInput{Slug: fmt.Sprintf("bench-%03d", i), Name: fmt.Sprintf("Bench %03d", i)})
		if err != nil {
			b.Fatal(err)
		}
		err = db.InTenant(scope.WithTenant(ctx, tn.ID), e.App.DB, func(tx *gorm.DB) error {
			return tx.Exec(`INSERT INTO products (tenant_id, status) SELECT ?, 'published' FROM generate_series(1, 20)`, tn.ID).Error
		})
		if err != nil {
			b.Fatal(err)
		}
		if err := e.App.DB.Exec(`INSERT INTO agency_access (tenant_id, agency_id, status, role, decided_at) VALUES (?, ?, 'approved', 'order_manager', now())`, tn.ID, ag.ID).Error; err != nil {
			b.Fatal(err)
		}
	}
	p := &tenant.Principal{UserID: lead.ID, Agencies: []tenant.AgencyRole{{ID: ag.ID, Name: ag.Name, Role: tenant.AgencyAdmin}}}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		cs, err := e.App.Team.Clients(ctx, p, ag.ID)
		if err != nil || len(cs) != shops || cs[0].ProductsPublished != 20 {
			b.Fatalf("clients: %d %v", len(cs), err)
		}
	}
}
