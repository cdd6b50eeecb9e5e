package tenant_test

import (
	"context"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/minishop/minishop/internal/config"
	"github.com/minishop/minishop/internal/testenv"
	"github.com/minishop/minishop/tenant"
)

func cookieOf(t *testing.T, r *testenv.Response) *http.Cookie {
	t.Helper()
	for _, c := range (&http.Response{Header: r.Header}).Cookies() {
		if c.Name == tenant.SessionCookie {
			return c
		}
	}
	t.Fatalf("no session cookie in %v", r.Header)
	return nil
}

func TestSignInSessionAndSignOut(t *testing.T) {
	e := testenv.New(t)
	tn := create(t, e, "nordic-skin", "Nordic Skin")
	e.Member(t, tn.ID, "owner@nordic-skin.test", tenant.RoleOwner)

	r := e.Do(t, "POST", "", "/api/admin/v1/session", map[string]string{"email": "Owner@Nordic-Skin.test", "password": "wrong password!"})
	if r.Status != 401 || r.ErrorCode() != "invalid_credentials" {
		t.Fatalf("wrong password: %d %s", r.Status, r.Body)
	}
	r = e.Do(t, "POST", "", "/api/admin/v1/session", map[string]string{"email": "nobody@nordic-skin.test", "password": testenv.Password})
	if r.Status != 401 || r.ErrorCode() != "invalid_credentials" {
		t.Fatalf("unknown email must look like a wrong password: %d %s", r.Status, r.Body)
	}
	r = e.Do(t, "POST", "", "/api/admin/v1/session", map[string]string{"email": "Owner@Nordic-Skin.test", "password": testenv.Password})
	if r.Status != 200 {
		t.Fatalf("sign-in: %d %s", r.Status, r.Body)
	}
	ck := cookieOf(t, r)
	if !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || !ck.Secure {
		t.Fatalf("session cookie must be HttpOnly, SameSite=Lax and Secure outside dev mode: %+v", ck)
	}
	var body tenant.SessionBody
	r.JSON(t, &body)
	if body.User.Email != "owner@nordic-skin.test" || len(body.Memberships) != 1 || body.Memberships[0].Role != "owner" ||
		body.Memberships[0].Tenant.Slug != "nordic-skin" || len(body.Permissions["nordic-skin"]) < 15 {
		t.Fatalf("session body: %s", r.Body)
	}
	auth := []string{"Cookie", ck.Name + "=" + ck.Value}
	if r := e.Do(t, "GET", "", "/api/admin/v1/session", nil, auth...); r.Status != 200 {
		t.Fatalf("GET session: %d %s", r.Status, r.Body)
	}
	if r := e.Do(t, "DELETE", "", "/api/admin/v1/session", nil, auth...); r.Status != 204 {
		t.Fatalf("sign-out: %d %s", r.Status, r.Body)
	}
	if r := e.Do(t, "GET", "", "/api/admin/v1/session", nil, auth...); r.Status != 401 {
		t.Fatalf("a signed-out session must be dead server-side: %d %s", r.Status, r.Body)
	}
}

func TestDevModeCookieIsNotSecure(t *testing.T) {
	e := testenv.New(t, func(c *config.Config) { c.Dev = true })
	e.User(t, "dev@minishop.test", false)
	r := e.Do(t, "POST", "", "/api/admin/v1/session", map[string]string{"email": "dev@minishop.test", "password": testenv.Password})
	if ck := cookieOf(t, r); ck.Secure {
		t.Fatal("dev mode serves plain http on localhost: the cookie cannot be Secure")
	}
}

func TestSessionExpiry(t *testing.T) {
	e := testenv.New(t)
	u := e.User(t, "ann@brand.test", false)
	idle := e.SignIn(t, "ann@brand.test")
	abs := e.SignIn(t, "ann@brand.test")
	// Age the sessions in the database as the clock would.
	db := e.App.DB
	if err := db.Exec(`UPDATE sessions SET last_seen_at = now() - interval '13 hours' WHERE user_id = ? AND id_hash = (SELECT id_hash FROM sessions WHERE user_id = ? ORDER BY created_at LIMIT 1)`, u.ID, u.ID).Error; err != nil {
		t.Fatal(err)
	}
	if err := db.Exec(`UPDATE sessions SET expires_at = now() - interval '1 second' WHERE user_id = ? AND last_seen_at > now() - interval '1 hour'`, u.ID).Error; err != nil {
		t.Fatal(err)
	}
	for name, h := range map[string][]string{"idle": idle, "absolute": abs} {
		if r := e.Do(t, "GET", "", "/api/admin/v1/session", nil, h...); r.Status != 401 {
			t.Errorf("%s-expired session still works: %d", name, r.Status)
		}
	}
}

func TestLockoutAfterRepeatedFailures(t *testing.T) {
	e := testenv.New(t)
	e.User(t, "ann@brand.test", false)
	for i := range 10 {
		r := e.Do(t, "POST", "", "/api/admin/v1/session", map[string]string{"email": "ann@brand.test", "password": "not the password"})
		if r.Status != 401 {
			t.Fatalf("failure %d: %d %s", i+1, r.Status, r.Body)
		}
	}
	r := e.Do(t, "POST", "", "/api/admin/v1/session", map[string]string{"email": "ann@brand.test", "password": testenv.Password})
	if r.Status != 429 || r.ErrorCode() != "too_many_attempts" || !strings.Contains(string(r.Body), "minute") {
		t.Fatalf("after 10 failures even the right password must wait: %d %s", r.Status, r.Body)
	}
	// Another account from the same IP is not locked by this one...
	e.User(t, "bob@brand.test", false)
	if r := e.Do(t, "POST", "", "/api/admin/v1/session", map[string]string{"email": "bob@brand.test", "password": testenv.Password}); r.Status != 200 {
		t.Fatalf("another account: %d %s", r.Status, r.Body)
	}
	// ...until the IP itself has failed too often.
	for i := range 40 {
		e.Do(t, "POST", "", "/api/admin/v1/session", map[string]string{"email": "guess" + string(rune('a'+i%26)) + "@brand.test", "password": "guess"})
	}
	if r := e.Do(t, "POST", "", "/api/admin/v1/session", map[string]string{"email": "bob@brand.test", "password": testenv.Password}); r.Status != 429 {
		t.Fatalf("an IP with 50 failures must be slowed down: %d %s", r.Status, r.Body)
	}
}

func TestTwoFactor(t *testing.T) {
	e := testenv.New(t)
	e.User(t, "ann@brand.test", false)
	auth := e.SignIn(t, "ann@brand.test")
	r := e.Do(t, "POST", "", "/api/admin/v1/session/totp", nil, auth...)
	var enr tenant.Enrollment
	r.JSON(t, &enr)
	if r.Status != 200 || enr.Secret == "" || !strings.HasPrefix(enr.OTPAuthURL, "otpauth://totp/Minishop:ann@brand.test") || len(enr.QRCodePNG) < 100 {
		t.Fatalf("enrol: %d %s", r.Status, r.Body)
	}
	if r := e.Do(t, "POST", "", "/api/admin/v1/session/totp/confirm", map[string]string{"code": "000000"}, auth...); r.Status != 400 {
		t.Fatalf("confirming with a wrong code: %d %s", r.Status, r.Body)
	}
	code, _ := totp.GenerateCode(enr.Secret, time.Now())
	r = e.Do(t, "POST", "", "/api/admin/v1/session/totp/confirm", map[string]string{"code": code}, auth...)
	var rc struct {
		RecoveryCodes []string `json:"recovery_codes"`
	}
	r.JSON(t, &rc)
	if r.Status != 200 || len(rc.RecoveryCodes) != 10 || !regexp.MustCompile(`^[a-z2-7]{4}-[a-z2-7]{4}$`).MatchString(rc.RecoveryCodes[0]) {
		t.Fatalf("confirm: %d %s", r.Status, r.Body)
	}

	signIn := func(totpCode string) *testenv.Response {
		return e.Do(t, "POST", "", "/api/admin/v1/session", map[string]string{"email": "ann@brand.test", "password": testenv.Password, "totp": totpCode})
	}
	if r := signIn(""); r.Status != 401 || r.ErrorCode() != "totp_required" {
		t.Fatalf("password alone once two-factor is on: %d %s", r.Status, r.Body)
	}
	if r := signIn("123456"); r.Status != 401 || r.ErrorCode() != "invalid_totp" {
		t.Fatalf("a wrong code: %d %s", r.Status, r.Body)
	}
	// The code used to confirm was used: it cannot sign in (no replay).
	if r := signIn(code); r.Status != 401 {
		t.Fatalf("a replayed code: %d %s", r.Status, r.Body)
	}
	next, _ := totp.GenerateCode(enr.Secret, time.Now().Add(30*time.Second))
	if r := signIn(next); r.Status != 200 {
		t.Fatalf("the next code: %d %s", r.Status, r.Body)
	}
	if r := signIn(strings.ToUpper(rc.RecoveryCodes[3])); r.Status != 200 {
		t.Fatalf("a recovery code: %d %s", r.Status, r.Body)
	}
	if r := signIn(rc.RecoveryCodes[3]); r.Status != 401 {
		t.Fatalf("a recovery code works once: %d %s", r.Status, r.Body)
	}
	// The secret is sealed at rest.
	var row struct{ TOTPSealed []byte }
	_ = e.App.DB.Raw(`SELECT totp_sealed FROM users WHERE email = 'ann@brand.test'`).Scan(&row).Error
	sealed := row.TOTPSealed
	if len(sealed) == 0 || strings.Contains(string(sealed), enr.Secret) {
		t.Fatal("the TOTP secret must be stored encrypted")
	}
}

func TestCrossOriginWritesRefused(t *testing.T) {
	e := testenv.New(t)
	e.User(t, "ann@brand.test", false)
	r := e.Do(t, "POST", "", "/api/admin/v1/session", map[string]string{"email": "ann@brand.test", "password": testenv.Password},
		"Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site")
	if r.Status != 403 || r.ErrorCode() != "cross_origin" {
		t.Fatalf("a cross-site POST: %d %s", r.Status, r.Body)
	}
	if r := e.Do(t, "POST", "", "/api/admin/v1/session", map[string]string{"email": "ann@brand.test", "password": testenv.Password},
		"Sec-Fetch-Site", "same-origin"); r.Status != 200 {
		t.Fatalf("a same-origin POST: %d %s", r.Status, r.Body)
	}
}

func TestInvitationFlow(t *testing.T) {
	e := testenv.New(t)
	tn := create(t, e, "nordic-skin", "Nordic Skin")
	owner := e.Member(t, tn.ID, "owner@nordic-skin.test", tenant.RoleOwner)
	base := "/api/admin/v1/tenants/nordic-skin"
	r := e.Do(t, "POST", "", base+"/invitations", map[string]string{"email": "New.Hire@nordic-skin.test", "role": "catalog_manager"}, owner...)
	if r.Status != 201 {
		t.Fatalf("invite: %d %s", r.Status, r.Body)
	}
	mail, err := tenant.DevMail(context.Background(), e.App.DB, "new.hire@nordic-skin.test", 1)
	if err != nil || len(mail) != 1 {
		t.Fatalf("the invitation was not mailed: %v %v", mail, err)
	}
	m := regexp.MustCompile(`/admin/invite/([A-Za-z0-9_-]+)`).FindStringSubmatch(mail[0].Body)
	if m == nil {
		t.Fatalf("no link in the invitation:\n%s", mail[0].Body)
	}
	token := m[1]
	r = e.Do(t, "GET", "", "/api/admin/v1/invitations/"+token, nil)
	if r.Status != 200 || !strings.Contains(string(r.Body), `"shop":"Nordic Skin"`) || !strings.Contains(string(r.Body), `"user_exists":false`) {
		t.Fatalf("invitation info: %d %s", r.Status, r.Body)
	}
	if r := e.Do(t, "POST", "", "/api/admin/v1/invitations/accept", map[string]string{"token": token, "password": "short"}); r.Status != 400 {
		t.Fatalf("accepting with a weak password: %d %s", r.Status, r.Body)
	}
	r = e.Do(t, "POST", "", "/api/admin/v1/invitations/accept", map[string]string{"token": token, "name": "New Hire", "password": testenv.Password})
	if r.Status != 200 || !strings.Contains(string(r.Body), `"role":"catalog_manager"`) {
		t.Fatalf("accept: %d %s", r.Status, r.Body)
	}
	hire := []string{"Cookie", cookieOf(t, r).Name + "=" + cookieOf(t, r).Value}
	if r := e.Do(t, "GET", "", base, nil, hire...); r.Status != 200 {
		t.Fatalf("the new member opens the shop: %d %s", r.Status, r.Body)
	}
	if r := e.Do(t, "POST", "", "/api/admin/v1/invitations/accept", map[string]string{"token": token, "password": testenv.Password}); r.Status != 409 || r.ErrorCode() != "invitation_used" {
		t.Fatalf("an invitation works once: %d %s", r.Status, r.Body)
	}
	// Expired invitations are refused.
	r = e.Do(t, "POST", "", base+"/invitations", map[string]string{"email": "late@nordic-skin.test", "role": "viewer"}, owner...)
	if r.Status != 201 {
		t.Fatal(r.Status)
	}
	_ = e.App.DB.Exec(`UPDATE invitations SET expires_at = now() - interval '1 minute' WHERE email = 'late@nordic-skin.test'`).Error
	mail, _ = tenant.DevMail(context.Background(), e.App.DB, "late@nordic-skin.test", 1)
	late := regexp.MustCompile(`/admin/invite/([A-Za-z0-9_-]+)`).FindStringSubmatch(mail[0].Body)[1]
	if r := e.Do(t, "POST", "", "/api/admin/v1/invitations/accept", map[string]string{"token": late, "password": testenv.Password}); r.Status != 409 || r.ErrorCode() != "invitation_expired" {
		t.Fatalf("an expired invitation: %d %s", r.Status, r.Body)
	}
	// Only owners invite owners.
	admin := e.Member(t, tn.ID, "admin@nordic-skin.test", tenant.RoleAdmin)
	if r := e.Do(t, "POST", "", base+"/invitations", map[string]string{"email": "boss@nordic-skin.test", "role": "owner"}, admin...); r.Status != 403 {
		t.Fatalf("an admin inviting an owner: %d %s", r.Status, r.Body)
	}
}

func TestTeamKeepsAnOwner(t *testing.T) {
	e := testenv.New(t)
	tn := create(t, e, "nordic-skin", "Nordic Skin")
	owner := e.Member(t, tn.ID, "owner@nordic-skin.test", tenant.RoleOwner)
	admin := e.Member(t, tn.ID, "admin@nordic-skin.test", tenant.RoleAdmin)
	ownerUser, _ := e.App.Accounts.UserByEmail(context.Background(), "owner@nordic-skin.test")
	adminUser, _ := e.App.Accounts.UserByEmail(context.Background(), "admin@nordic-skin.test")
	base := "/api/admin/v1/tenants/nordic-skin/members/"
	if r := e.Do(t, "PUT", "", base+itoa(ownerUser.ID), map[string]string{"role": "viewer"}, owner...); r.Status != 409 || r.ErrorCode() != "last_owner" {
		t.Fatalf("demoting the last owner: %d %s", r.Status, r.Body)
	}
	if r := e.Do(t, "DELETE", "", base+itoa(ownerUser.ID), nil, owner...); r.Status != 409 {
		t.Fatalf("removing the last owner: %d %s", r.Status, r.Body)
	}
	if r := e.Do(t, "PUT", "", base+itoa(adminUser.ID), map[string]string{"role": "owner"}, admin...); r.Status != 403 {
		t.Fatalf("an admin making themself owner: %d %s", r.Status, r.Body)
	}
	// Ownership transfer: the owner makes the admin an owner, then steps down.
	if r := e.Do(t, "PUT", "", base+itoa(adminUser.ID), map[string]string{"role": "owner"}, owner...); r.Status != 200 {
		t.Fatalf("owner promotes admin: %d %s", r.Status, r.Body)
	}
	if r := e.Do(t, "PUT", "", base+itoa(ownerUser.ID), map[string]string{"role": "viewer"}, owner...); r.Status != 200 {
		t.Fatalf("the old owner steps down: %d %s", r.Status, r.Body)
	}
	// The change is effective at once: the former owner is now a viewer.
	if r := e.Do(t, "GET", "", "/api/admin/v1/tenants/nordic-skin/members", nil, owner...); r.Status != 403 {
		t.Fatalf("a viewer reading the team: %d %s", r.Status, r.Body)
	}
	if r := e.Do(t, "PUT", "", base+"999999", map[string]string{"role": "viewer"}, admin...); r.Status != 404 {
		t.Fatalf("an unknown member: %d %s", r.Status, r.Body)
	}
}

func TestAPITokens(t *testing.T) {
	e := testenv.New(t)
	a := create(t, e, "nordic-skin", "Nordic Skin")
	create(t, e, "dutch-cocoa", "Dutch Cocoa")
	owner := e.Member(t, a.ID, "owner@nordic-skin.test", tenant.RoleOwner)
	r := e.Do(t, "POST", "", "/api/admin/v1/tenants/nordic-skin/tokens", map[string]any{"name": "ERP sync", "role": "viewer"}, owner...)
	var tok tenant.Token
	r.JSON(t, &tok)
	if r.Status != 201 || !strings.HasPrefix(tok.Secret, "mst_") {
		t.Fatalf("create token: %d %s", r.Status, r.Body)
	}
	bearer := []string{"Authorization", "Bearer " + tok.Secret}
	if r := e.Do(t, "GET", "", "/api/admin/v1/tenants/nordic-skin", nil, bearer...); r.Status != 200 {
		t.Fatalf("token on its shop: %d %s", r.Status, r.Body)
	}
	if r := e.Do(t, "GET", "", "/api/admin/v1/tenants/nordic-skin/members", nil, bearer...); r.Status != 403 {
		t.Fatalf("a viewer token beyond its role: %d %s", r.Status, r.Body)
	}
	if r := e.Do(t, "GET", "", "/api/admin/v1/tenants/dutch-cocoa", nil, bearer...); r.Status != 404 {
		t.Fatalf("token on another shop: %d %s", r.Status, r.Body)
	}
	if r := e.Do(t, "GET", "", "/api/admin/v1/session", nil, bearer...); r.Status != 403 {
		t.Fatalf("token on a user route: %d %s", r.Status, r.Body)
	}
	r = e.Do(t, "GET", "", "/api/admin/v1/tenants/nordic-skin/tokens", nil, owner...)
	if strings.Contains(string(r.Body), tok.Secret) || !strings.Contains(string(r.Body), `"last_used_at":"`) {
		t.Fatalf("the token list must not show secrets and must show last use: %s", r.Body)
	}
	if r := e.Do(t, "DELETE", "", "/api/admin/v1/tenants/nordic-skin/tokens/"+itoa(tok.ID), nil, owner...); r.Status != 204 {
		t.Fatalf("revoke: %d %s", r.Status, r.Body)
	}
	if r := e.Do(t, "GET", "", "/api/admin/v1/tenants/nordic-skin", nil, bearer...); r.Status != 401 {
		t.Fatalf("a revoked token: %d %s", r.Status, r.Body)
	}
	past := time.Now().Add(time.Hour)
	r = e.Do(t, "POST", "", "/api/admin/v1/tenants/nordic-skin/tokens", map[string]any{"name": "Short", "role": "admin", "expires_at": past}, owner...)
	r.JSON(t, &tok)
	_ = e.App.DB.Exec(`SELECT 1`).Error
	if err := e.App.DB.Exec(`DO $$ BEGIN PERFORM set_config('app.tenant_id', '` + itoa(a.ID) + `', true);
		UPDATE api_tokens SET expires_at = now() - interval '1 second' WHERE name = 'Short'; END $$`).Error; err != nil {
		t.Fatal(err)
	}
	if r := e.Do(t, "GET", "", "/api/admin/v1/tenants/nordic-skin", nil, "Authorization", "Bearer "+tok.Secret); r.Status != 401 {
		t.Fatalf("an expired token: %d %s", r.Status, r.Body)
	}
	if r := e.Do(t, "POST", "", "/api/admin/v1/tenants/nordic-skin/tokens", map[string]any{"name": "Root", "role": "owner"}, owner...); r.Status != 400 {
		t.Fatalf("an owner token: %d %s", r.Status, r.Body)
	}
}

func TestAgencyCollaboratorFlow(t *testing.T) {
	e := testenv.New(t)
	dc := create(t, e, "dutch-cocoa", "Dutch Cocoa")
	create(t, e, "alpine-kids", "Alpine Kids")
	owner := e.Member(t, dc.ID, "owner@dutch-cocoa.test", tenant.RoleOwner)
	e.User(t, "lead@agency.test", false)
	lead := e.SignIn(t, "lead@agency.test")
	r := e.Do(t, "POST", "", "/api/admin/v1/agencies", map[string]string{"name": "Bright Path"}, lead...)
	var ag tenant.Agency
	r.JSON(t, &ag)
	if r.Status != 201 {
		t.Fatalf("create agency: %d %s", r.Status, r.Body)
	}
	lead = e.SignIn(t, "lead@agency.test") // a fresh session knows the agency
	shop := "/api/admin/v1/tenants/dutch-cocoa"
	if r := e.Do(t, "GET", "", shop, nil, lead...); r.Status != 404 {
		t.Fatalf("before any request the shop is invisible: %d", r.Status)
	}
	r = e.Do(t, "POST", "", "/api/admin/v1/agencies/"+itoa(ag.ID)+"/access-requests", map[string]string{"tenant": "dutch-cocoa", "message": "We run your catalog"}, lead...)
	if r.Status != 201 || !strings.Contains(string(r.Body), `"status":"pending"`) {
		t.Fatalf("request access: %d %s", r.Status, r.Body)
	}
	if r := e.Do(t, "GET", "", shop, nil, lead...); r.Status != 404 {
		t.Fatalf("before approval the shop is invisible: %d", r.Status)
	}
	r = e.Do(t, "GET", "", shop+"/agency-access", nil, owner...)
	if !strings.Contains(string(r.Body), `"agency_name":"Bright Path"`) {
		t.Fatalf("the brand sees the request: %s", r.Body)
	}
	if r := e.Do(t, "POST", "", shop+"/agency-access/"+itoa(ag.ID)+"/approve", map[string]string{"role": "owner"}, owner...); r.Status != 400 {
		t.Fatalf("granting owner to an agency: %d %s", r.Status, r.Body)
	}
	if r := e.Do(t, "POST", "", shop+"/agency-access/"+itoa(ag.ID)+"/approve", map[string]string{"role": "catalog_manager"}, owner...); r.Status != 200 {
		t.Fatalf("approve: %d %s", r.Status, r.Body)
	}
	// Another server process must agree at once.
	cfg2 := *e.Cfg
	other := testenv.Start(t, &cfg2)
	for _, env := range []*testenv.Env{e, other} {
		if r := env.Do(t, "GET", "", shop, nil, lead...); r.Status != 200 {
			t.Fatalf("after approval the agency opens the shop: %d %s", r.Status, r.Body)
		}
		if r := env.Do(t, "GET", "", shop+"/members", nil, lead...); r.Status != 403 {
			t.Fatalf("a catalog_manager agency cannot see the team: %d %s", r.Status, r.Body)
		}
	}
	r = e.Do(t, "GET", "", "/api/admin/v1/session", nil, lead...)
	var sess tenant.SessionBody
	r.JSON(t, &sess)
	if len(sess.Clients) != 1 || sess.Clients[0].Tenant.Slug != "dutch-cocoa" || sess.Clients[0].Role != "catalog_manager" ||
		!contains(sess.Permissions["dutch-cocoa"], "catalog:write") || contains(sess.Permissions["dutch-cocoa"], "team:read") {
		t.Fatalf("the agency user's shops: %s", r.Body)
	}
	// A second agency user, invited by the lead, gets the same access.
	r = e.Do(t, "POST", "", "/api/admin/v1/agencies/"+itoa(ag.ID)+"/invitations", map[string]string{"email": "staff@agency.test", "role": "agency_staff"}, lead...)
	if r.Status != 201 {
		t.Fatalf("agency invitation: %d %s", r.Status, r.Body)
	}
	mail, _ := tenant.DevMail(context.Background(), e.App.DB, "staff@agency.test", 1)
	tok := regexp.MustCompile(`/admin/invite/([A-Za-z0-9_-]+)`).FindStringSubmatch(mail[0].Body)[1]
	r = e.Do(t, "POST", "", "/api/admin/v1/invitations/accept", map[string]string{"token": tok, "password": testenv.Password})
	staff := []string{"Cookie", cookieOf(t, r).Name + "=" + cookieOf(t, r).Value}
	if r := e.Do(t, "GET", "", shop, nil, staff...); r.Status != 200 {
		t.Fatalf("agency staff opens the client shop: %d %s", r.Status, r.Body)
	}
	if r := e.Do(t, "POST", "", "/api/admin/v1/agencies/"+itoa(ag.ID)+"/access-requests", map[string]string{"tenant": "alpine-kids"}, staff...); r.Status != 403 {
		t.Fatalf("agency staff cannot ask brands for access: %d %s", r.Status, r.Body)
	}
	// Revocation takes effect at once, everywhere.
	if r := e.Do(t, "POST", "", shop+"/agency-access/"+itoa(ag.ID)+"/revoke", nil, owner...); r.Status != 200 {
		t.Fatalf("revoke: %d %s", r.Status, r.Body)
	}
	for _, env := range []*testenv.Env{e, other} {
		testenv.Eventually(t, 3*time.Second, "revocation on every process", func() bool {
			return env.Do(t, "GET", "", shop, nil, staff...).Status == 404
		})
	}
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

func TestSuspendedShopIsReadOnlyForItsStaff(t *testing.T) {
	e := testenv.New(t)
	tn := create(t, e, "nordic-skin", "Nordic Skin")
	owner := e.Member(t, tn.ID, "owner@nordic-skin.test", tenant.RoleOwner)
	if _, err := e.App.Tenants.SetStatus(context.Background(), "nordic-skin", tenant.Suspended); err != nil {
		t.Fatal(err)
	}
	if r := e.Do(t, "GET", "", "/api/admin/v1/tenants/nordic-skin", nil, owner...); r.Status != 200 || !strings.Contains(string(r.Body), "suspended") {
		t.Fatalf("the owner sees the shop is suspended: %d %s", r.Status, r.Body)
	}
	if r := e.Do(t, "POST", "", "/api/admin/v1/tenants/nordic-skin/tokens", map[string]any{"name": "x", "role": "viewer"}, owner...); r.Status != 403 || r.ErrorCode() != "tenant_suspended" {
		t.Fatalf("changing a suspended shop: %d %s", r.Status, r.Body)
	}
}

func TestAuditLog(t *testing.T) {
	e := testenv.New(t)
	tn := create(t, e, "nordic-skin", "Nordic Skin")
	owner := e.Member(t, tn.ID, "owner@nordic-skin.test", tenant.RoleOwner)
	viewer := e.Member(t, tn.ID, "viewer@nordic-skin.test", tenant.RoleViewer)
	e.Do(t, "POST", "", "/api/admin/v1/tenants/nordic-skin/tokens", map[string]any{"name": "ERP", "role": "viewer"}, owner...)
	e.Do(t, "POST", "", "/api/admin/v1/tenants/nordic-skin/invitations", map[string]string{"email": "x@y.test", "role": "viewer"}, owner...)
	r := e.Do(t, "GET", "", "/api/admin/v1/tenants/nordic-skin/audit?limit=200", nil, owner...)
	var page struct {
		Entries []tenant.AuditEntry `json:"entries"`
	}
	r.JSON(t, &page)
	actions := map[string]tenant.AuditEntry{}
	for _, en := range page.Entries {
		actions[en.Action] = en
	}
	for _, want := range []string{"tenant.created", "member.added", "token.created", "invitation.sent"} {
		if _, ok := actions[want]; !ok {
			t.Errorf("audit log lacks %s: %s", want, r.Body)
		}
	}
	if en := actions["token.created"]; en.ActorKind != "user" || !strings.Contains(en.ActorID, "owner@nordic-skin.test") || en.IP == nil {
		t.Errorf("the audit entry must say who and from where: %+v", en)
	}
	r = e.Do(t, "GET", "", "/api/admin/v1/tenants/nordic-skin/audit?action=token.", nil, owner...)
	r.JSON(t, &page)
	if len(page.Entries) != 1 {
		t.Errorf("filter by action: %s", r.Body)
	}
	if r := e.Do(t, "GET", "", "/api/admin/v1/tenants/nordic-skin/audit", nil, viewer...); r.Status != 403 {
		t.Errorf("a viewer reading the audit log: %d", r.Status)
	}
	if r := e.Do(t, "GET", "", "/api/admin/v1/tenants/nordic-skin/audit?since=yesterday", nil, owner...); r.Status != 400 {
		t.Errorf("a malformed time filter: %d", r.Status)
	}
}
