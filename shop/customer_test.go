package shop_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/minishop/minishop/internal/db"
	"github.com/minishop/minishop/internal/scope"
	"github.com/minishop/minishop/internal/testenv"
	"github.com/minishop/minishop/shop"
	"github.com/minishop/minishop/tenant"
)

// miniShop is a brand's shop as its Mini Program reaches it: by Host, with
// the sandbox playing WeChat.
type miniShop struct {
	e     *testenv.Env
	t     *tenant.Tenant
	host  string
	appID string
}

func newMiniShop(t *testing.T, e *testenv.Env, slug string) *miniShop {
	t.Helper()
	tn, err := e.App.Tenants.Create(context.Background(), tenant.CreateInput{Slug: slug, Name: slug})
	if err != nil {
		t.Fatal(err)
	}
	return &miniShop{e: e, t: tn, host: slug + ".shop.test"}
}

func (m *miniShop) ctx() context.Context { return scope.WithTenant(context.Background(), m.t.ID) }

// provision does what the provisioning task does: the shop gets its sandbox AppID.
func (m *miniShop) provision(t *testing.T) *miniShop {
	t.Helper()
	if err := m.e.App.Tenants.Provision(m.ctx(), "test-provision-"+m.t.Slug); err != nil {
		t.Fatal(err)
	}
	mp, err := m.e.App.Tenants.MiniProgramCredentials(m.ctx())
	if err != nil {
		t.Fatal(err)
	}
	m.appID = mp.AppID
	return m
}

// sql runs fn in a transaction scoped to the shop.
func (m *miniShop) sql(t *testing.T, fn func(tx *gorm.DB) error) {
	t.Helper()
	if err := db.InTenant(m.ctx(), m.e.App.DB, fn); err != nil {
		t.Fatal(err)
	}
}

// sandbox calls a control endpoint of the sandbox.
func (m *miniShop) sandbox(t *testing.T, path string, body map[string]any) map[string]any {
	t.Helper()
	b, _ := json.Marshal(body)
	resp, err := http.Post(m.e.Sandbox.URL+path, "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	if resp.StatusCode != 200 {
		t.Fatalf("sandbox %s: %d %v", path, resp.StatusCode, out)
	}
	return out
}

// wxLogin is wx.login() on the phone of user: a fresh js_code.
func (m *miniShop) wxLogin(t *testing.T, user string, extra ...string) string {
	t.Helper()
	body := map[string]any{"appid": m.appID, "user": user}
	for i := 0; i+1 < len(extra); i += 2 {
		body[extra[i]] = extra[i+1]
	}
	return m.sandbox(t, "/sandbox/v1/wx-login-code", body)["code"].(string)
}

func (m *miniShop) login(t *testing.T, code string) *testenv.Response {
	t.Helper()
	return m.e.Do(t, "POST", m.host, "/api/v1/auth/wechat", map[string]string{"code": code})
}

func (m *miniShop) fault(t *testing.T, errcode int) {
	t.Helper()
	m.sandbox(t, "/sandbox/v1/faults", map[string]any{"appid": m.appID, "api": "jscode2session", "errcode": errcode})
}

type loginReply struct {
	Token     string        `json:"token"`
	ExpiresAt time.Time     `json:"expires_at"`
	Customer  shop.Customer `json:"customer"`
}

// buyer is a signed-in customer of a shop.
type buyer struct {
	m     *miniShop
	token string
	id    int64
}

// signIn logs user in through the whole flow and returns them.
func (m *miniShop) signIn(t *testing.T, user string) *buyer {
	t.Helper()
	r := m.login(t, m.wxLogin(t, user))
	var out loginReply
	r.JSON(t, &out)
	if r.Status != 200 || out.Token == "" {
		t.Fatalf("login of %s: %d %s", user, r.Status, r.Body)
	}
	return &buyer{m: m, token: out.Token, id: out.Customer.ID}
}

func (b *buyer) do(t *testing.T, method, path string, body any) *testenv.Response {
	t.Helper()
	return b.m.e.Do(t, method, b.m.host, path, body, "Authorization", "Bearer "+b.token)
}

// at is the same token presented at another shop.
func (b *buyer) at(m *miniShop) *buyer { return &buyer{m: m, token: b.token, id: b.id} }

func TestWeChatLogin(t *testing.T) {
	e := testenv.New(t)
	a := newMiniShop(t, e, "nordic-skin")

	// Not provisioned yet: a clear 409.
	if r := a.login(t, "0123456789abcdef0123456789abcdef"); r.Status != 409 || r.ErrorCode() != "not_provisioned" {
		t.Fatalf("login before provisioning: %d %s", r.Status, r.Body)
	}
	a.provision(t)

	code := a.wxLogin(t, "alice", "unionid", "oUnionAlice000000000000000001")
	r := a.login(t, code)
	var first loginReply
	r.JSON(t, &first)
	if r.Status != 200 || !strings.HasPrefix(first.Token, "mct1.") || first.Customer.ID == 0 || !strings.HasPrefix(first.Customer.OpenID, "o") {
		t.Fatalf("login: %d %s", r.Status, r.Body)
	}
	if d := time.Until(first.ExpiresAt); d < 29*24*time.Hour || d > 30*24*time.Hour+time.Minute {
		t.Fatalf("expires_at %v is not 30 days away", first.ExpiresAt)
	}
	if strings.Contains(string(r.Body), "session_key") {
		t.Fatalf("the login reply mentions the session_key: %s", r.Body)
	}

	// The same code twice: WeChat says it was used.
	if r := a.login(t, code); r.Status != 400 || r.ErrorCode() != "code_used" {
		t.Fatalf("second use of a code: %d %s", r.Status, r.Body)
	}
	if r := a.login(t, "nonsense-code"); r.Status != 400 || r.ErrorCode() != "invalid_code" {
		t.Fatalf("invalid code: %d %s", r.Status, r.Body)
	}
	if r := a.login(t, ""); r.Status != 400 {
		t.Fatalf("empty code: %d %s", r.Status, r.Body)
	}
	if r := e.Do(t, "POST", a.host, "/api/v1/auth/wechat", map[string]string{"code": "x", "openid": "o1"}); r.Status != 400 || r.ErrorCode() != "unknown_field" {
		t.Fatalf("unknown field: %d %s", r.Status, r.Body)
	}

	// Logging in again finds the same customer and keeps the unionid.
	var again loginReply
	a.login(t, a.wxLogin(t, "alice")).JSON(t, &again)
	if again.Customer.ID != first.Customer.ID || again.Customer.LastLoginAt.Before(first.Customer.LastLoginAt) {
		t.Fatalf("second login: %+v, first %+v", again.Customer, first.Customer)
	}
	var row struct {
		Unionid          *string
		SessionKeySealed []byte
	}
	a.sql(t, func(tx *gorm.DB) error {
		return tx.Raw(`SELECT unionid, session_key_sealed FROM customers WHERE tenant_id = ? AND id = ?`, a.t.ID, first.Customer.ID).Scan(&row).Error
	})
	if row.Unionid == nil || *row.Unionid != "oUnionAlice000000000000000001" {
		t.Fatalf("unionid = %v", row.Unionid)
	}
	// The session_key is sealed: it opens only with its purpose, and its
	// plaintext is nowhere in the row, the replies or the logs.
	var key []byte
	a.sql(t, func(tx *gorm.DB) error {
		var err error
		key, err = e.App.Keys.Open(a.ctx(), tx, a.t.ID, fmt.Sprintf("customer/%d/session_key", first.Customer.ID), row.SessionKeySealed)
		return err
	})
	if len(key) != 24 || bytes.Contains(row.SessionKeySealed, key) {
		t.Fatalf("session key: %d bytes, sealed contains it: %v", len(key), bytes.Contains(row.SessionKeySealed, key))
	}
	if strings.Contains(e.Logs.String(), string(key)) {
		t.Fatal("the session_key is in the logs")
	}

	// The token works for /me, which never shows the session_key.
	alice := &buyer{m: a, token: again.Token, id: again.Customer.ID}
	r = alice.do(t, "GET", "/api/v1/me", nil)
	var me shop.Customer
	r.JSON(t, &me)
	if r.Status != 200 || me.ID != first.Customer.ID || me.OpenID != first.Customer.OpenID || strings.Contains(string(r.Body), "session") {
		t.Fatalf("/me: %d %s", r.Status, r.Body)
	}
	// The first token stays valid too (tokens are independent).
	if r := (&buyer{m: a, token: first.Token}).do(t, "GET", "/api/v1/me", nil); r.Status != 200 {
		t.Fatalf("first token: %d", r.Status)
	}

	// Profile edits.
	r = alice.do(t, "PATCH", "/api/v1/me", map[string]string{"nickname": "  Alice  L. ", "phone": "+86 138 0013 8000"})
	r.JSON(t, &me)
	if r.Status != 200 || me.Nickname != "Alice L." || me.Phone != "13800138000" {
		t.Fatalf("PATCH /me: %d %s", r.Status, r.Body)
	}
	r = alice.do(t, "PATCH", "/api/v1/me", map[string]string{"nickname": "Ally"})
	r.JSON(t, &me)
	if r.Status != 200 || me.Nickname != "Ally" || me.Phone != "13800138000" {
		t.Fatalf("PATCH nickname only must keep the phone: %d %s", r.Status, r.Body)
	}
	for _, bad := range []map[string]any{
		{"phone": "12345"},
		{"phone": "+1 415 555 0100"},
		{"nickname": strings.Repeat("名", 65)},
		{"openid": "oStolen"},
		{"nickname": 5},
	} {
		if r := alice.do(t, "PATCH", "/api/v1/me", bad); r.Status != 400 {
			t.Errorf("PATCH %v: %d %s", bad, r.Status, r.Body)
		}
	}
	if r := alice.do(t, "PATCH", "/api/v1/me", map[string]string{"phone": ""}); !strings.Contains(string(r.Body), `"phone":""`) {
		t.Fatalf("clearing the phone: %d %s", r.Status, r.Body)
	}
}

func TestCustomerTokens(t *testing.T) {
	e := testenv.New(t)
	a := newMiniShop(t, e, "nordic-skin").provision(t)
	b := newMiniShop(t, e, "tokyo-tea").provision(t)
	alice := a.signIn(t, "alice")

	// A token of shop A is worthless at shop B, even for the same person.
	if r := alice.at(b).do(t, "GET", "/api/v1/me", nil); r.Status != 401 || r.ErrorCode() != "invalid_token" {
		t.Fatalf("token of A at B: %d %s", r.Status, r.Body)
	}
	// A code of shop A's Mini Program does not log in at shop B.
	if r := b.login(t, a.wxLogin(t, "alice")); r.Status != 400 || r.ErrorCode() != "invalid_code" {
		t.Fatalf("code of A at B: %d %s", r.Status, r.Body)
	}

	for _, tc := range []struct {
		header, code string
	}{
		{"", "login_required"},
		{"Bearer", "invalid_token"},
		{"Bearer nonsense", "invalid_token"},
		{"Basic " + alice.token, "invalid_token"},
		{"Bearer " + alice.token[:len(alice.token)-1], "invalid_token"},
	} {
		var hdr []string
		if tc.header != "" {
			hdr = []string{"Authorization", tc.header}
		}
		r := e.Do(t, "GET", a.host, "/api/v1/me", nil, hdr...)
		if r.Status != 401 || r.ErrorCode() != tc.code || !strings.HasPrefix(r.Header.Get("WWW-Authenticate"), "Bearer") {
			t.Errorf("Authorization %q: %d %s %q", tc.header, r.Status, r.Body, r.Header.Get("WWW-Authenticate"))
		}
	}
	if r := e.Do(t, "GET", a.host, "/api/v1/me", nil, "Authorization", "bearer "+alice.token); r.Status != 200 {
		t.Errorf("the scheme is case-insensitive: %d", r.Status)
	}

	// Every customer route needs a token; login does not.
	for _, route := range []string{
		"GET /api/v1/me", "PATCH /api/v1/me",
		"GET /api/v1/me/addresses", "POST /api/v1/me/addresses", "PUT /api/v1/me/addresses/1", "DELETE /api/v1/me/addresses/1",
		"POST /api/v1/me/addresses/1/default",
		"GET /api/v1/me/identities", "POST /api/v1/me/identities", "DELETE /api/v1/me/identities/1", "POST /api/v1/me/identities/1/default",
		"GET /api/v1/cart", "POST /api/v1/cart/items", "PUT /api/v1/cart/items/1", "DELETE /api/v1/cart/items/1",
	} {
		method, path, _ := strings.Cut(route, " ")
		if r := e.Do(t, method, a.host, path, map[string]any{}); r.Status != 401 {
			t.Errorf("%s without a token: %d %s", route, r.Status, r.Body)
		}
	}

	// A customer deleted while the token is out: the token stops working.
	a.sql(t, func(tx *gorm.DB) error {
		return tx.Exec(`DELETE FROM customers WHERE tenant_id = ? AND id = ?`, a.t.ID, alice.id).Error
	})
	for _, route := range [][2]string{{"GET", "/api/v1/me"}, {"POST", "/api/v1/me/addresses/1/default"}} {
		if r := alice.do(t, route[0], route[1], nil); r.Status != 401 || r.ErrorCode() != "invalid_token" {
			t.Errorf("%s of a deleted customer: %d %s", route[1], r.Status, r.Body)
		}
	}
}

func TestWeChatLoginFailures(t *testing.T) {
	e := testenv.New(t)
	a := newMiniShop(t, e, "nordic-skin").provision(t)
	tests := []struct {
		errcode    int
		status     int
		code       string
		retryAfter string
	}{
		{45011, 429, "rate_limited", "60"},
		{40226, 403, "blocked_user", ""},
		{-1, 503, "wechat_unavailable", "5"},
		{40125, 503, "shop_misconfigured", ""},
	}
	for _, tc := range tests {
		a.fault(t, tc.errcode)
		r := a.login(t, a.wxLogin(t, "alice"))
		if r.Status != tc.status || r.ErrorCode() != tc.code || r.Header.Get("Retry-After") != tc.retryAfter {
			t.Errorf("errcode %d: %d %s Retry-After %q; want %d %s %q", tc.errcode, r.Status, r.Body, r.Header.Get("Retry-After"), tc.status, tc.code, tc.retryAfter)
		}
		if strings.Contains(string(r.Body), "rid:") || strings.Contains(string(r.Body), "errmsg") {
			t.Errorf("WeChat's own message reaches the client: %s", r.Body)
		}
	}
	// A fault leaves the code unused: retrying the same code works.
	a.fault(t, -1)
	code := a.wxLogin(t, "alice")
	if r := a.login(t, code); r.Status != 503 {
		t.Fatalf("with a fault: %d", r.Status)
	}
	if r := a.login(t, code); r.Status != 200 {
		t.Fatalf("retrying the code after a transient error: %d %s", r.Status, r.Body)
	}
}
