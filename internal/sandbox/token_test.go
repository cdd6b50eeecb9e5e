package sandbox

import (
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

func wantToken(t *testing.T, r reply) {
	t.Helper()
	if r.Status != http.StatusOK || r.ErrCode != 0 || r.AccessToken == "" {
		t.Fatalf("token reply: status %d errcode %d %q token %q", r.Status, r.ErrCode, r.ErrMsg, r.AccessToken)
	}
}

func wantCheck(t *testing.T, s *Server, tok, appID string, errcode int) {
	t.Helper()
	gotApp, gotCode := s.CheckAccessToken(tok)
	if gotApp != appID || gotCode != errcode {
		t.Errorf("CheckAccessToken = (%q, %d), want (%q, %d)", gotApp, gotCode, appID, errcode)
	}
}

func TestStableTokenNormalMode(t *testing.T) {
	e := newEnv(t)
	r1 := e.stable(e.appID, e.secret, false)
	wantToken(t, r1)
	if r1.ExpiresIn != 7200 {
		t.Errorf("expires_in = %d, want 7200", r1.ExpiresIn)
	}
	if r1.ContentType != "application/json; encoding=utf-8" {
		t.Errorf("Content-Type = %q", r1.ContentType)
	}
	if len(r1.AccessToken) < 100 {
		t.Errorf("token %q is shorter than real ones", r1.AccessToken)
	}
	wantCheck(t, e.srv, r1.AccessToken, e.appID, 0)

	e.clock.Advance(100 * time.Second)
	r2 := e.stable(e.appID, e.secret, false)
	wantToken(t, r2)
	if r2.AccessToken != r1.AccessToken || r2.ExpiresIn != 7100 {
		t.Errorf("second call = (%.10s…, %d), want the same token with 7100 s left", r2.AccessToken, r2.ExpiresIn)
	}

	// 301 s before expiry it is still the same token.
	e.clock.Set(start.Add(7200*time.Second - 301*time.Second))
	if r := e.stable(e.appID, e.secret, false); r.AccessToken != r1.AccessToken || r.ExpiresIn != 301 {
		t.Errorf("301 s before expiry = (%.10s…, %d), want the same token with 301 s", r.AccessToken, r.ExpiresIn)
	}

	// Within 5 minutes of expiry a new token is issued; the old one keeps
	// working until its own expiry.
	e.clock.Set(start.Add(7200*time.Second - 300*time.Second))
	r3 := e.stable(e.appID, e.secret, false)
	wantToken(t, r3)
	if r3.AccessToken == r1.AccessToken || r3.ExpiresIn != 7200 {
		t.Errorf("in the overlap = (same token: %v, %d), want a new token with 7200 s", r3.AccessToken == r1.AccessToken, r3.ExpiresIn)
	}
	wantCheck(t, e.srv, r1.AccessToken, e.appID, 0)
	wantCheck(t, e.srv, r3.AccessToken, e.appID, 0)

	e.clock.Set(start.Add(7200 * time.Second))
	wantCheck(t, e.srv, r1.AccessToken, "", 42001)
	wantCheck(t, e.srv, r3.AccessToken, e.appID, 0)

	if got := e.srv.TokenFetches(e.appID); got != 4 {
		t.Errorf("TokenFetches = %d, want 4", got)
	}
}

func TestStableTokenForceRefresh(t *testing.T) {
	e := newEnv(t)
	r1 := e.stable(e.appID, e.secret, false)
	wantToken(t, r1)

	r2 := e.stable(e.appID, e.secret, true)
	wantToken(t, r2)
	if r2.AccessToken == r1.AccessToken {
		t.Fatal("force_refresh returned the old token")
	}
	wantCheck(t, e.srv, r1.AccessToken, "", 40001)
	wantCheck(t, e.srv, r2.AccessToken, e.appID, 0)

	// A second force within 30 s does not refresh.
	e.clock.Advance(29 * time.Second)
	if r := e.stable(e.appID, e.secret, true); r.AccessToken != r2.AccessToken {
		t.Error("force_refresh 29 s after the last one refreshed")
	}
	e.clock.Advance(time.Second)
	r3 := e.stable(e.appID, e.secret, true)
	if r3.AccessToken == r2.AccessToken {
		t.Error("force_refresh 30 s after the last one did not refresh")
	}
	wantCheck(t, e.srv, r2.AccessToken, "", 40001)

	// 20 forced refreshes a day: two are used, 18 more are allowed.
	for i := range 18 {
		e.clock.Advance(31 * time.Second)
		if r := e.stable(e.appID, e.secret, true); r.ErrCode != 0 {
			t.Fatalf("force %d: %d %s", i+3, r.ErrCode, r.ErrMsg)
		}
	}
	e.clock.Advance(31 * time.Second)
	wantErr(t, e.stable(e.appID, e.secret, true), 45009, "reach max api daily quota limit")
	// Normal mode still works.
	wantToken(t, e.stable(e.appID, e.secret, false))

	// The quota resets at midnight Beijing time.
	e.clock.Set(time.Date(2025, 3, 11, 0, 0, 1, 0, cst))
	wantToken(t, e.stable(e.appID, e.secret, true))
}

func TestStableTokenForceRevokesOverlapToken(t *testing.T) {
	e := newEnv(t)
	r1 := e.stable(e.appID, e.secret, false)
	e.clock.Advance(7200*time.Second - 200*time.Second)
	r2 := e.stable(e.appID, e.secret, false)
	if r2.AccessToken == r1.AccessToken {
		t.Fatal("no renewal in the overlap")
	}
	wantCheck(t, e.srv, r1.AccessToken, e.appID, 0)
	r3 := e.stable(e.appID, e.secret, true)
	wantToken(t, r3)
	wantCheck(t, e.srv, r1.AccessToken, "", 40001)
	wantCheck(t, e.srv, r2.AccessToken, "", 40001)
	wantCheck(t, e.srv, r3.AccessToken, e.appID, 0)
}

func TestStableTokenRequestErrors(t *testing.T) {
	e := newEnv(t)
	_, otherSecret := AppFor(testSeed, "x")
	tests := []struct {
		name    string
		method  string
		body    string
		errcode int
		msg     string
	}{
		{"GET", http.MethodGet, "", 43002, "require POST method"},
		{"empty body", http.MethodPost, "", 44002, "empty post data"},
		{"form body", http.MethodPost, "grant_type=client_credential&appid=" + e.appID, 47001, "data format error"},
		{"force_refresh as string", http.MethodPost, `{"grant_type":"client_credential","appid":"` + e.appID + `","secret":"` + e.secret + `","force_refresh":"true"}`, 47001, "data format error"},
		{"too large", http.MethodPost, `{"grant_type":"` + strings.Repeat("x", 70<<10) + `"}`, 47001, "data format error"},
		{"missing appid", http.MethodPost, `{"grant_type":"client_credential","secret":"` + e.secret + `"}`, 41002, "appid missing"},
		{"malformed appid", http.MethodPost, `{"grant_type":"client_credential","appid":"wxABC","secret":"` + e.secret + `"}`, 40013, "invalid appid"},
		{"missing secret", http.MethodPost, `{"grant_type":"client_credential","appid":"` + e.appID + `"}`, 41004, "appsecret missing"},
		{"wrong secret", http.MethodPost, `{"grant_type":"client_credential","appid":"` + e.appID + `","secret":"` + otherSecret + `"}`, 40125, "invalid appsecret"},
		{"wrong grant_type", http.MethodPost, `{"grant_type":"authorization_code","appid":"` + e.appID + `","secret":"` + e.secret + `"}`, 40002, "invalid grant_type"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest(tc.method, e.ts.URL+"/cgi-bin/stable_token", strings.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/json")
			wantErr(t, e.do(req), tc.errcode, tc.msg)
		})
	}
	// None of these was a well-formed request with valid credentials.
	if got := e.srv.TokenFetches(e.appID); got != 0 {
		t.Errorf("TokenFetches = %d, want 0", got)
	}
}

func TestStableTokenFaultAndFetchCount(t *testing.T) {
	e := newEnv(t)
	e.fault(e.appID, "stable_token", -1, 1)
	wantErr(t, e.stable(e.appID, e.secret, false), -1, "system error")
	wantToken(t, e.stable(e.appID, e.secret, false))
	if got := e.srv.TokenFetches(e.appID); got != 2 {
		t.Errorf("TokenFetches = %d, want 2 (the faulted call counts)", got)
	}
	if got := e.srv.TokenFetches("wx0000000000000000"); got != 0 {
		t.Errorf("TokenFetches of an unused app = %d, want 0", got)
	}
}

func TestStableTokenConcurrentCallersShareOneToken(t *testing.T) {
	e := newEnv(t)
	var wg sync.WaitGroup
	tokens := make([]string, 20)
	for i := range tokens {
		wg.Go(func() { tokens[i] = e.stable(e.appID, e.secret, false).AccessToken })
	}
	wg.Wait()
	for i, tok := range tokens {
		if tok == "" || tok != tokens[0] {
			t.Fatalf("caller %d got a different token", i)
		}
	}
	if got := e.srv.TokenFetches(e.appID); got != 20 {
		t.Errorf("TokenFetches = %d, want 20", got)
	}
}

func TestExpireToken(t *testing.T) {
	e := newEnv(t)
	stable := e.stable(e.appID, e.secret, false)
	classic := e.classic(e.appID, e.secret)
	wantToken(t, stable)
	wantToken(t, classic)

	r := e.control("/sandbox/v1/expire-token", map[string]any{"appid": e.appID})
	if r.Status != http.StatusOK || r.Body["expired"] != float64(2) {
		t.Fatalf("expire-token = %d %v, want 200 with expired 2", r.Status, r.Body)
	}
	wantCheck(t, e.srv, stable.AccessToken, "", 42001)
	wantCheck(t, e.srv, classic.AccessToken, "", 42001)

	fresh := e.stable(e.appID, e.secret, false)
	wantToken(t, fresh)
	if fresh.AccessToken == stable.AccessToken || fresh.ExpiresIn != 7200 {
		t.Errorf("after expire-token stable_token gave the old token or %d s", fresh.ExpiresIn)
	}
	wantCheck(t, e.srv, fresh.AccessToken, e.appID, 0)
}

func TestCheckAccessTokenShapes(t *testing.T) {
	e := newEnv(t)
	wantCheck(t, e.srv, "", "", 40014)
	wantCheck(t, e.srv, "not a token!", "", 40014)
	wantCheck(t, e.srv, strings.Repeat("A", 600), "", 40014)
	wantCheck(t, e.srv, "90_"+strings.Repeat("A", 134), "", 40001)
}

func TestClassicToken(t *testing.T) {
	e := newEnv(t)
	stable := e.stable(e.appID, e.secret, false)
	a := e.classic(e.appID, e.secret)
	wantToken(t, a)
	if a.ExpiresIn != 7200 {
		t.Errorf("expires_in = %d, want 7200", a.ExpiresIn)
	}
	e.clock.Advance(10 * time.Second)
	b := e.classic(e.appID, e.secret)
	wantToken(t, b)
	if a.AccessToken == b.AccessToken {
		t.Fatal("classic token did not change")
	}
	// Both work during the 300 s overlap, then only the newer one.
	wantCheck(t, e.srv, a.AccessToken, e.appID, 0)
	e.clock.Advance(299 * time.Second)
	wantCheck(t, e.srv, a.AccessToken, e.appID, 0)
	e.clock.Advance(time.Second)
	wantCheck(t, e.srv, a.AccessToken, "", 40001)
	wantCheck(t, e.srv, b.AccessToken, e.appID, 0)
	// The stable token has its own lifecycle.
	wantCheck(t, e.srv, stable.AccessToken, e.appID, 0)

	wantErr(t, e.post("/cgi-bin/token", "", ""), 43001, "require GET method")
	_, wrong := AppFor(testSeed, "y")
	wantErr(t, e.classic(e.appID, wrong), 40125, "invalid appsecret")
}

func TestExpiredTokensArePruned(t *testing.T) {
	e := newEnv(t)
	for range 3 {
		e.classic(e.appID, e.secret)
	}
	e.clock.Advance(7200*time.Second + expiredTokenGrace)
	e.classic(e.appID, e.secret)
	e.srv.mu.Lock()
	n := len(e.srv.tokens)
	e.srv.mu.Unlock()
	if n != 1 {
		t.Errorf("%d tokens kept, want 1", n)
	}
}
