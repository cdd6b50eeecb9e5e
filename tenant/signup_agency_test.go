package tenant_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/minishop/minishop/internal/db"
	"github.com/minishop/minishop/internal/testenv"
	"github.com/minishop/minishop/tenant"
)

func agencySignupBody(email, agency string) map[string]string {
	return map[string]string{"email": email, "password": "a long enough password", "name": "Li Wei", "agency": agency}
}

// identityCounts returns the number of users, agencies, agency members,
// tenants and memberships.
func identityCounts(t *testing.T, e *testenv.Env) string {
	t.Helper()
	return rowCounts(t, e, "users", "agencies", "agency_members", "tenants", "memberships")
}

func TestAgencySignupCreatesAdminAgencyAndSession(t *testing.T) {
	e := testenv.New(t)
	r := e.Do(t, "POST", "", "/api/admin/v1/signup/agency", agencySignupBody("Li.Wei@Growth.test", "  Shanghai Growth Partners "))
	if r.Status != 201 {
		t.Fatalf("agency sign-up: %d %s", r.Status, r.Body)
	}
	var s tenant.SessionBody
	r.JSON(t, &s)
	if s.User.Email != "li.wei@growth.test" || s.User.Name != "Li Wei" {
		t.Fatalf("user %+v", s.User)
	}
	if len(s.Agencies) != 1 || s.Agencies[0].Name != "Shanghai Growth Partners" || s.Agencies[0].Role != tenant.AgencyAdmin {
		t.Fatalf("agencies %+v", s.Agencies)
	}
	if len(s.Memberships) != 0 || len(s.Clients) != 0 {
		t.Fatalf("an agency sign-up opened shops: %+v %+v", s.Memberships, s.Clients)
	}
	auth := sessionCookie(t, r)
	// The cookie works, and the new admin runs the agency: its home, its invitations.
	var v tenant.AgencyView
	r = e.Do(t, "GET", "", fmt.Sprintf("/api/admin/v1/agencies/%d", s.Agencies[0].ID), nil, auth...)
	r.JSON(t, &v)
	if r.Status != 200 || len(v.Members) != 1 || v.Members[0].Email != "li.wei@growth.test" || v.Members[0].Role != tenant.AgencyAdmin {
		t.Fatalf("the new agency: %d %s", r.Status, r.Body)
	}
	if r := e.Do(t, "POST", "", fmt.Sprintf("/api/admin/v1/agencies/%d/invitations", s.Agencies[0].ID),
		map[string]string{"email": "colleague@growth.test", "role": "agency_staff"}, auth...); r.Status != 201 {
		t.Fatalf("inviting as the new admin: %d %s", r.Status, r.Body)
	}
	// The password signs in.
	if r := e.Do(t, "POST", "", "/api/admin/v1/session", map[string]string{"email": "li.wei@growth.test", "password": "a long enough password"}); r.Status != 200 {
		t.Fatalf("sign in after sign-up: %d %s", r.Status, r.Body)
	}
}

func TestAgencySignupRefusesBadInputWithoutWriting(t *testing.T) {
	e := testenv.New(t)
	if r := e.Do(t, "POST", "", "/api/admin/v1/signup", signupBody("brand@taken.test", "taken-shop")); r.Status != 201 {
		t.Fatalf("brand signup: %d %s", r.Status, r.Body)
	}
	before := identityCounts(t, e)
	with := func(k, v string) map[string]string {
		b := agencySignupBody("new@agency.test", "Fresh Agency")
		b[k] = v
		return b
	}
	long := ""
	for i := 0; i < 121; i++ {
		long += "a"
	}
	expectRefusals(t, e, "/api/admin/v1/signup/agency", []refusal{
		{"email of a brand's owner", with("email", "BRAND@taken.test"), 409, "email_taken", "email"},
		{"bad email", with("email", "not-an-email"), 400, "invalid_email", "email"},
		{"short password", with("password", "short"), 400, "weak_password", "password"},
		{"blank agency", with("agency", "   "), 400, "invalid_agency", "agency"},
		{"long agency", with("agency", long), 400, "invalid_agency", "agency"},
		{"agency with a NUL byte", with("agency", "Bad\x00Agency"), 400, "invalid_agency", "agency"},
		{"blank name", with("name", " "), 400, "invalid_name", "name"},
		{"a brand's field", map[string]string{"email": "x@y.test", "password": "a long enough password", "name": "X", "agency": "Y", "slug": "yyy"}, 400, "unknown_field", ""},
		{"missing agency", map[string]string{"email": "x@y.test", "password": "a long enough password", "name": "X"}, 400, "invalid_field", ""},
	})
	if after := identityCounts(t, e); after != before {
		t.Fatalf("refused sign-ups wrote rows: %s → %s", before, after)
	}
}

// A failure after the user is written (here the database refusing the
// agency's first member) rolls the user back too: no account is left
// without its agency, and the same email can sign up afterwards.
func TestAgencySignupIsAtomic(t *testing.T) {
	e := testenv.New(t)
	owner, err := db.Open(context.Background(), e.Cfg.DatabaseURL, db.Options{MaxOpen: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(owner)
	if err := owner.Exec(`CREATE FUNCTION refuse_member() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN RAISE EXCEPTION 'agency members refused by the test'; END $$;
		CREATE TRIGGER refuse_member BEFORE INSERT ON agency_members FOR EACH ROW EXECUTE FUNCTION refuse_member()`).Error; err != nil {
		t.Fatal(err)
	}
	before := identityCounts(t, e)
	r := e.Do(t, "POST", "", "/api/admin/v1/signup/agency", agencySignupBody("li@growth.test", "Growth"))
	if r.Status != 500 || len(r.Header.Values("Set-Cookie")) != 0 {
		t.Fatalf("sign-up with its agency refused: %d %s", r.Status, r.Body)
	}
	if after := identityCounts(t, e); after != before {
		t.Fatalf("a failed agency sign-up left rows behind: %s → %s", before, after)
	}
	if err := owner.Exec(`DROP TRIGGER refuse_member ON agency_members`).Error; err != nil {
		t.Fatal(err)
	}
	if r := e.Do(t, "POST", "", "/api/admin/v1/signup/agency", agencySignupBody("li@growth.test", "Growth")); r.Status != 201 {
		t.Fatalf("sign-up again with the same email: %d %s", r.Status, r.Body)
	}
}

// Brand and agency sign-ups share one throttle per address.
func TestAgencySignupSharesTheThrottle(t *testing.T) {
	e := testenv.New(t)
	for i := 0; i < 20; i++ {
		if r := e.Do(t, "POST", "", "/api/admin/v1/signup", signupBody("a@brand.test", "bad--slug")); r.Status != 400 {
			t.Fatalf("attempt %d: %d %s", i, r.Status, r.Body)
		}
	}
	// Refused before the throttle: bad input costs nothing. Now fill it.
	for i := 0; i < 20; i++ {
		r := e.Do(t, "POST", "", "/api/admin/v1/signup/agency", agencySignupBody(fmt.Sprintf("a%d@agency.test", i), "Agency"))
		if r.Status != 201 {
			t.Fatalf("agency sign-up %d: %d %s", i, r.Status, r.Body)
		}
	}
	for name, body := range map[string]any{"/signup": signupBody("late@brand.test", "late-shop"), "/signup/agency": agencySignupBody("late@agency.test", "Late")} {
		if r := e.Do(t, "POST", "", "/api/admin/v1"+name, body); r.Status != 429 || r.ErrorCode() != "too_many_signups" {
			t.Errorf("%s after 20 sign-ups: %d %s", name, r.Status, r.Body)
		}
	}
}

// A signed-in user with no shop opens one; the shop is theirs as owner.
func TestCreateShopAsSignedInUser(t *testing.T) {
	e := testenv.New(t)
	r := e.Do(t, "POST", "", "/api/admin/v1/signup/agency", agencySignupBody("li@growth.test", "Growth"))
	auth := sessionCookie(t, r)
	if r := e.Do(t, "POST", "", "/api/admin/v1/shops", map[string]string{"company": "Own Brand", "slug": "own-brand"}); r.Status != 401 {
		t.Fatalf("without a session: %d %s", r.Status, r.Body)
	}
	before := identityCounts(t, e)
	expectRefusals(t, e, "/api/admin/v1/shops", []refusal{
		{"bad slug", map[string]string{"company": "Own Brand", "slug": "-x"}, 400, "invalid_slug", "slug"},
		{"blank company", map[string]string{"company": " ", "slug": "own-brand"}, 400, "invalid_company", "company"},
	}, auth...)
	if after := identityCounts(t, e); after != before {
		t.Fatalf("refused shops wrote rows: %s → %s", before, after)
	}
	r = e.Do(t, "POST", "", "/api/admin/v1/shops", map[string]string{"company": "Own Brand", "slug": "Own-Brand"}, auth...)
	if r.Status != 201 {
		t.Fatalf("open a shop: %d %s", r.Status, r.Body)
	}
	var s tenant.SessionBody
	r.JSON(t, &s)
	if len(s.Memberships) != 1 || s.Memberships[0].Tenant.Slug != "own-brand" || s.Memberships[0].Role != tenant.RoleOwner || len(s.Permissions["own-brand"]) == 0 {
		t.Fatalf("session after opening a shop: %s", r.Body)
	}
	if r := e.Do(t, "GET", "", "/api/admin/v1/tenants/own-brand/members", nil, auth...); r.Status != 200 {
		t.Fatalf("the new owner's team: %d %s", r.Status, r.Body)
	}
	if r := e.Do(t, "POST", "", "/api/admin/v1/shops", map[string]string{"company": "Again", "slug": "own-brand"}, auth...); r.Status != 409 || r.ErrorCode() != "slug_taken" {
		t.Fatalf("a taken slug: %d %s", r.Status, r.Body)
	}
}
