package tenant_test

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/minishop/minishop/internal/testenv"
	"github.com/minishop/minishop/tenant"
)

// join invites email to agency id with role (as admin) and accepts the
// invitation: the new member's session and user id.
func (w *agencyWorld) join(t *testing.T, admin []string, id int64, email, role string) ([]string, int64) {
	t.Helper()
	e := w.e
	if r := e.Do(t, "POST", "", fmt.Sprintf("/api/admin/v1/agencies/%d/invitations", id), map[string]string{"email": email, "role": role}, admin...); r.Status != 201 {
		t.Fatalf("invite %s: %d %s", email, r.Status, r.Body)
	}
	mail, err := tenant.DevMail(context.Background(), e.App.DB, email, 1)
	if err != nil || len(mail) != 1 {
		t.Fatalf("the invitation to %s was not mailed: %v %v", email, mail, err)
	}
	token := regexp.MustCompile(`/admin/invite/([A-Za-z0-9_-]+)`).FindStringSubmatch(mail[0].Body)[1]
	r := e.Do(t, "POST", "", "/api/admin/v1/invitations/accept", map[string]string{"token": token, "name": "Member", "password": testenv.Password})
	if r.Status != 200 {
		t.Fatalf("accept %s: %d %s", email, r.Status, r.Body)
	}
	var s tenant.SessionBody
	r.JSON(t, &s)
	return sessionCookie(t, r), s.User.ID
}

func (w *agencyWorld) members(t *testing.T, auth []string, id int64) map[int64]string {
	t.Helper()
	var v tenant.AgencyView
	r := w.e.Do(t, "GET", "", fmt.Sprintf("/api/admin/v1/agencies/%d", id), nil, auth...)
	if r.Status != 200 {
		t.Fatalf("agency %d: %d %s", id, r.Status, r.Body)
	}
	r.JSON(t, &v)
	out := map[int64]string{}
	for _, m := range v.Members {
		out[m.UserID] = m.Role
	}
	return out
}

func memberPath(agency, user int64) string {
	return fmt.Sprintf("/api/admin/v1/agencies/%d/members/%d", agency, user)
}

// An agency's admins change roles and remove people; staff may not; the
// agency always keeps an admin, and a refusal changes nothing.
func TestAgencyMemberRoles(t *testing.T) {
	w := newAgencyWorld(t)
	e := w.e
	lead := w.members(t, w.x, w.xID)
	var leadID int64
	for id := range lead {
		leadID = id
	}
	staff, staffID := w.join(t, w.x, w.xID, "staff@x.test", tenant.AgencyStaff)
	_, otherID := w.join(t, w.x, w.xID, "other@x.test", tenant.AgencyStaff)
	want := map[int64]string{leadID: tenant.AgencyAdmin, staffID: tenant.AgencyStaff, otherID: tenant.AgencyStaff}
	check := func(when string) {
		t.Helper()
		if got := w.members(t, w.x, w.xID); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("%s: members %v, want %v", when, got, want)
		}
	}
	check("after joining")

	// Staff can do neither.
	for _, c := range []struct {
		method string
		user   int64
		body   any
	}{
		{"PATCH", otherID, map[string]string{"role": tenant.AgencyAdmin}},
		{"PATCH", staffID, map[string]string{"role": tenant.AgencyAdmin}},
		{"DELETE", otherID, nil},
		{"DELETE", leadID, nil},
	} {
		if r := e.Do(t, c.method, "", memberPath(w.xID, c.user), c.body, staff...); r.Status != 403 || r.ErrorCode() != "forbidden" {
			t.Errorf("%s %d as staff: %d %s", c.method, c.user, r.Status, r.Body)
		}
	}
	// The only admin can neither step down nor leave, in English or Chinese.
	if r := e.Do(t, "PATCH", "", memberPath(w.xID, leadID), map[string]string{"role": tenant.AgencyStaff}, w.x...); r.Status != 409 || r.ErrorCode() != "last_agency_admin" {
		t.Errorf("last admin steps down: %d %s", r.Status, r.Body)
	}
	zh := append(append([]string{}, w.x...), "Accept-Language", "zh-CN")
	if r := e.Do(t, "DELETE", "", memberPath(w.xID, leadID), nil, zh...); r.Status != 409 || r.ErrorCode() != "last_agency_admin" || !strings.Contains(string(r.Body), "至少要保留一名管理员") {
		t.Errorf("last admin leaves, in Chinese: %d %s", r.Status, r.Body)
	}
	// Bad roles and people who do not work for X.
	for _, c := range []struct {
		user   int64
		role   string
		status int
		code   string
	}{
		{staffID, "owner", 400, "invalid_role"},
		{staffID, "", 400, "invalid_field"},
		{999999, tenant.AgencyAdmin, 404, "member_not_found"},
	} {
		if r := e.Do(t, "PATCH", "", memberPath(w.xID, c.user), map[string]string{"role": c.role}, w.x...); r.Status != c.status || r.ErrorCode() != c.code {
			t.Errorf("PATCH %d role %q: %d %s; want %d %s", c.user, c.role, r.Status, r.Body, c.status, c.code)
		}
	}
	check("after the refusals")

	// Promoting someone lets the first admin step down; then the new admin is the last.
	var m tenant.AgencyMember
	r := e.Do(t, "PATCH", "", memberPath(w.xID, staffID), map[string]string{"role": tenant.AgencyAdmin}, w.x...)
	r.JSON(t, &m)
	if r.Status != 200 || m.UserID != staffID || m.Email != "staff@x.test" || m.Role != tenant.AgencyAdmin {
		t.Fatalf("promote: %d %s", r.Status, r.Body)
	}
	if r := e.Do(t, "PATCH", "", memberPath(w.xID, leadID), map[string]string{"role": tenant.AgencyStaff}, w.x...); r.Status != 200 {
		t.Fatalf("the first admin steps down: %d %s", r.Status, r.Body)
	}
	want[staffID], want[leadID] = tenant.AgencyAdmin, tenant.AgencyStaff
	check("after the swap")
	if r := e.Do(t, "DELETE", "", memberPath(w.xID, otherID), nil, w.x...); r.Status != 403 {
		t.Errorf("the former admin removes someone: %d %s", r.Status, r.Body)
	}
	if r := e.Do(t, "DELETE", "", memberPath(w.xID, staffID), nil, staff...); r.Status != 409 || r.ErrorCode() != "last_agency_admin" {
		t.Errorf("the new last admin leaves: %d %s", r.Status, r.Body)
	}
	check("at the end")
}

// A removed member loses every client shop at once, on every process, and
// each client shop's audit log says so; they keep their account.
func TestRemovedAgencyMemberLosesClientShops(t *testing.T) {
	w := newAgencyWorld(t)
	e := w.e
	for _, slug := range []string{"shop-a", "shop-b"} {
		if r := w.request(t, w.x, w.xID, slug); r.Status != 201 {
			t.Fatalf("request %s: %d %s", slug, r.Status, r.Body)
		}
	}
	w.decide(t, w.ownerA, "shop-a", w.xID, "approve", "catalog_manager")
	w.decide(t, w.ownerB, "shop-b", w.xID, "approve", "admin")
	staff, staffID := w.join(t, w.x, w.xID, "staff@x.test", tenant.AgencyStaff)

	// A second server process on the same database and Redis.
	cfg := *e.Cfg
	other := testenv.Start(t, &cfg)
	procs := map[string]*testenv.Env{"this process": e, "another process": other}
	open := func(env *testenv.Env, slug string) int {
		return env.Do(t, "GET", "", "/api/admin/v1/tenants/"+slug+"/products", nil, staff...).Status
	}
	for name, env := range procs {
		for _, slug := range []string{"shop-a", "shop-b"} {
			if s := open(env, slug); s != 200 {
				t.Fatalf("%s: the staff member opens %s: %d", name, slug, s)
			}
		}
	}
	if r := e.Do(t, "DELETE", "", memberPath(w.xID, staffID), nil, w.x...); r.Status != 204 {
		t.Fatalf("remove: %d %s", r.Status, r.Body)
	}
	for name, env := range procs {
		for _, slug := range []string{"shop-a", "shop-b"} {
			r := env.Do(t, "GET", "", "/api/admin/v1/tenants/"+slug+"/products", nil, staff...)
			if r.Status != 404 || r.ErrorCode() != "tenant_not_found" {
				t.Errorf("%s: the removed member opens %s: %d %s", name, slug, r.Status, r.Body)
			}
		}
		if r := env.Do(t, "GET", "", fmt.Sprintf("/api/admin/v1/agencies/%d", w.xID), nil, staff...); r.Status != 404 {
			t.Errorf("%s: the removed member reads the agency: %d %s", name, r.Status, r.Body)
		}
	}
	var s tenant.SessionBody
	r := e.Do(t, "GET", "", "/api/admin/v1/session", nil, staff...)
	r.JSON(t, &s)
	if r.Status != 200 || len(s.Agencies) != 0 || len(s.Clients) != 0 || len(s.Permissions) != 0 {
		t.Errorf("the removed member's session: %d %s", r.Status, r.Body)
	}
	if got := w.members(t, w.x, w.xID); len(got) != 1 {
		t.Errorf("members after removal: %v", got)
	}
	if r := e.Do(t, "DELETE", "", memberPath(w.xID, staffID), nil, w.x...); r.Status != 404 || r.ErrorCode() != "member_not_found" {
		t.Errorf("remove twice: %d %s", r.Status, r.Body)
	}
	// Each client shop's audit log names the removed person and the agency.
	for slug, owner := range map[string][]string{"shop-a": w.ownerA, "shop-b": w.ownerB} {
		var l struct {
			Entries []tenant.AuditEntry `json:"entries"`
		}
		r := e.Do(t, "GET", "", "/api/admin/v1/tenants/"+slug+"/audit?action=agency.member_removed", nil, owner...)
		r.JSON(t, &l)
		if r.Status != 200 || len(l.Entries) != 1 {
			t.Fatalf("%s audit: %d %s", slug, r.Status, r.Body)
		}
		var data map[string]any
		_ = json.Unmarshal(l.Entries[0].Data, &data)
		if l.Entries[0].Object != fmt.Sprintf("agency:%d", w.xID) || data["email"] != "staff@x.test" || data["agency_role"] != tenant.AgencyStaff ||
			!strings.HasSuffix(l.Entries[0].ActorID, " lead@x.test") || l.Entries[0].ActorKind != "user" {
			t.Errorf("%s audit entry: %+v %v", slug, l.Entries[0], data)
		}
	}
}

// Agency Y's admin can touch none of X's members: X is invisible (404) and
// X's members are not Y's.
func TestAgencyMembersAreIsolated(t *testing.T) {
	w := newAgencyWorld(t)
	e := w.e
	_, staffID := w.join(t, w.x, w.xID, "staff@x.test", tenant.AgencyStaff)
	before := rowCounts(t, e, "agency_members", "audit_log")
	for _, c := range []struct {
		method string
		path   string
		code   string
	}{
		{"PATCH", memberPath(w.xID, staffID), "agency_not_found"},
		{"DELETE", memberPath(w.xID, staffID), "agency_not_found"},
		{"PATCH", memberPath(w.yID, staffID), "member_not_found"},
		{"DELETE", memberPath(w.yID, staffID), "member_not_found"},
	} {
		r := e.Do(t, c.method, "", c.path, map[string]string{"role": tenant.AgencyAdmin}, w.y...)
		if c.method == "DELETE" {
			r = e.Do(t, c.method, "", c.path, nil, w.y...)
		}
		if r.Status != 404 || r.ErrorCode() != c.code {
			t.Errorf("%s %s as Y: %d %s; want 404 %s", c.method, c.path, r.Status, r.Body, c.code)
		}
	}
	if after := rowCounts(t, e, "agency_members", "audit_log"); after != before {
		t.Errorf("Y's attempts changed rows: %s → %s", before, after)
	}
	if got := w.members(t, w.x, w.xID)[staffID]; got != tenant.AgencyStaff {
		t.Errorf("X's staff member after Y's attempts: %q", got)
	}
}

// Creating agencies as a signed-in user counts against the sign-up limit
// of the address; a refused name does not.
func TestCreateAgencyIsThrottled(t *testing.T) {
	e := testenv.New(t)
	r := e.Do(t, "POST", "", "/api/admin/v1/signup/agency", agencySignupBody("li@growth.test", "Growth")) // 1 of 20
	auth := sessionCookie(t, r)
	for i := 0; i < 25; i++ {
		if r := e.Do(t, "POST", "", "/api/admin/v1/agencies", map[string]string{"name": " "}, auth...); r.Status != 400 || r.ErrorCode() != "invalid_name" {
			t.Fatalf("blank name %d: %d %s", i, r.Status, r.Body)
		}
	}
	for i := 2; i <= 20; i++ {
		if r := e.Do(t, "POST", "", "/api/admin/v1/agencies", map[string]string{"name": fmt.Sprintf("Agency %d", i)}, auth...); r.Status != 201 {
			t.Fatalf("agency %d: %d %s", i, r.Status, r.Body)
		}
	}
	before := rowCounts(t, e, "agencies", "agency_members")
	r = e.Do(t, "POST", "", "/api/admin/v1/agencies", map[string]string{"name": "One too many"}, auth...)
	if r.Status != 429 || r.ErrorCode() != "too_many_signups" {
		t.Fatalf("the 21st: %d %s", r.Status, r.Body)
	}
	if after := rowCounts(t, e, "agencies", "agency_members"); after != before {
		t.Errorf("a refused agency wrote rows: %s → %s", before, after)
	}
	// The limit is the address's: a brand signing up from it is refused too.
	if r := e.Do(t, "POST", "", "/api/admin/v1/signup", signupBody("late@brand.test", "late-shop")); r.Status != 429 {
		t.Errorf("sign-up after 20 agencies: %d %s", r.Status, r.Body)
	}
}
