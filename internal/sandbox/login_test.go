package sandbox

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"regexp"
	"testing"
	"time"
)

func TestNewRejectsShortSeed(t *testing.T) {
	for _, seed := range [][]byte{nil, []byte("short"), make([]byte, 15)} {
		if _, err := New(Options{Seed: seed}); err == nil {
			t.Errorf("New with a %d-byte seed succeeded, want an error", len(seed))
		}
	}
	if _, err := New(Options{Seed: make([]byte, 16)}); err != nil {
		t.Errorf("New with a 16-byte seed: %v", err)
	}
}

func TestAppFor(t *testing.T) {
	appRE := regexp.MustCompile(`^wx[0-9a-f]{16}$`)
	secretRE := regexp.MustCompile(`^[0-9a-f]{32}$`)

	id1, sec1 := AppFor(testSeed, "tenant:42")
	id2, sec2 := AppFor(testSeed, "tenant:42")
	if id1 != id2 || sec1 != sec2 {
		t.Fatalf("AppFor is not deterministic: (%s,%s) vs (%s,%s)", id1, sec1, id2, sec2)
	}
	if !appRE.MatchString(id1) || !secretRE.MatchString(sec1) {
		t.Fatalf("AppFor = (%q, %q), want wx+16 hex and 32 hex", id1, sec1)
	}
	if id3, sec3 := AppFor(testSeed, "tenant:43"); id3 == id1 || sec3 == sec1 {
		t.Errorf("different keys gave the same app: %s/%s", id3, sec3)
	}
	if id4, sec4 := AppFor([]byte("another-seed-0123456789"), "tenant:42"); id4 == id1 || sec4 == sec1 {
		t.Errorf("different seeds gave the same app: %s/%s", id4, sec4)
	}
	// The secret depends only on the appid, which is what lets the sandbox
	// check credentials without a registry.
	if want := mac(testSeed, "secret:"+id1)[:32]; sec1 != want {
		t.Errorf("secret = %s, want hex(HMAC(seed, secret:appid))[:32] = %s", sec1, want)
	}

	e := newEnv(t)
	r := e.control("/sandbox/v1/apps", map[string]any{"key": "tenant:42"})
	if r.Status != http.StatusOK || r.Body["appid"] != id1 || r.Body["secret"] != sec1 {
		t.Errorf("POST /sandbox/v1/apps = %d %v, want appid %s secret %s", r.Status, r.Body, id1, sec1)
	}
}

func TestCode2SessionSuccess(t *testing.T) {
	e := newEnv(t)
	code, openID := e.loginCode(map[string]any{"user": "alice"})

	r := e.code2session(e.appID, e.secret, code)
	if r.ErrCode != 0 || r.Status != http.StatusOK {
		t.Fatalf("code2session: %d %d %q", r.Status, r.ErrCode, r.ErrMsg)
	}
	if r.OpenID != openID {
		t.Errorf("openid = %q, want %q", r.OpenID, openID)
	}
	if !regexp.MustCompile(`^o[A-Za-z0-9_-]{27}$`).MatchString(r.OpenID) {
		t.Errorf("openid %q is not shaped like a WeChat openid", r.OpenID)
	}
	key, err := base64.StdEncoding.DecodeString(r.SessionKey)
	if err != nil || len(key) != 16 {
		t.Errorf("session_key %q is not base64 of 16 bytes (err %v)", r.SessionKey, err)
	}
	for _, k := range []string{"unionid", "errcode", "errmsg"} {
		if _, ok := r.Raw[k]; ok {
			t.Errorf("success reply has %q: %v", k, r.Raw)
		}
	}
	// WeChat labels this JSON reply text/plain; clients must not depend on
	// the header.
	if r.ContentType != "text/plain" {
		t.Errorf("Content-Type = %q, want text/plain", r.ContentType)
	}

	// The same user logging in again keeps the openid but gets a new key.
	code2, openID2 := e.loginCode(map[string]any{"user": "alice"})
	r2 := e.code2session(e.appID, e.secret, code2)
	if openID2 != openID || r2.OpenID != openID {
		t.Errorf("second login openid = %q/%q, want %q", openID2, r2.OpenID, openID)
	}
	if r2.SessionKey == r.SessionKey {
		t.Errorf("session_key did not change between logins")
	}

	// Another app sees the same person under another openid.
	other, _ := AppFor(testSeed, "tenant:7")
	_, openIDOther := e.loginCode(map[string]any{"appid": other, "user": "alice"})
	if openIDOther == openID {
		t.Errorf("openid is the same across apps: %s", openID)
	}

	// New users without a label get distinct openids.
	_, anon1 := e.loginCode(map[string]any{})
	_, anon2 := e.loginCode(map[string]any{})
	if anon1 == anon2 {
		t.Errorf("two anonymous logins share openid %s", anon1)
	}
}

func TestCode2SessionUnionIDAndExistingOpenID(t *testing.T) {
	e := newEnv(t)
	const openID = "oUigJ47QGkNOOXUjHkii5LyJbukw"
	const unionID = "oTmHYjg8P5kE0bJ7dEXaMPLEunid"
	code, got := e.loginCode(map[string]any{"openid": openID, "unionid": unionID})
	if got != openID {
		t.Fatalf("wx-login-code openid = %q, want %q", got, openID)
	}
	r := e.code2session(e.appID, e.secret, code)
	if r.ErrCode != 0 || r.OpenID != openID || r.UnionID != unionID {
		t.Errorf("code2session = %+v, want openid %s unionid %s", r, openID, unionID)
	}
}

func TestCode2SessionErrors(t *testing.T) {
	otherApp, otherSecret := AppFor(testSeed, "tenant:99")
	tests := []struct {
		name    string
		call    func(e *env, code string) reply
		errcode int
		msg     string
	}{
		{"code used twice", func(e *env, code string) reply {
			if r := e.code2session(e.appID, e.secret, code); r.ErrCode != 0 {
				t.Fatalf("first use: %d %s", r.ErrCode, r.ErrMsg)
			}
			return e.code2session(e.appID, e.secret, code)
		}, 40163, "code been used"},
		{"code of another app", func(e *env, code string) reply {
			return e.code2session(otherApp, otherSecret, code)
		}, 40029, "invalid code"},
		{"unknown code", func(e *env, _ string) reply {
			return e.code2session(e.appID, e.secret, "0a1b2c3d4e5f6g7h8i9j0k1l2m3n4o5p")
		}, 40029, "invalid code"},
		{"expired code", func(e *env, code string) reply {
			e.clock.Advance(5 * time.Minute)
			return e.code2session(e.appID, e.secret, code)
		}, 40029, "invalid code"},
		{"wrong secret", func(e *env, code string) reply {
			return e.code2session(e.appID, otherSecret, code)
		}, 40125, "invalid appsecret"},
		{"malformed appid", func(e *env, code string) reply {
			return e.code2session("wxNOTANAPPID00000", e.secret, code)
		}, 40013, "invalid appid"},
		{"missing appid", func(e *env, code string) reply {
			return e.code2session("", e.secret, code)
		}, 41002, "appid missing"},
		{"missing secret", func(e *env, code string) reply {
			return e.code2session(e.appID, "", code)
		}, 41004, "appsecret missing"},
		{"missing code", func(e *env, _ string) reply {
			return e.code2session(e.appID, e.secret, "")
		}, 41008, "missing code"},
		{"wrong grant_type", func(e *env, code string) reply {
			return e.get("/sns/jscode2session", url.Values{"appid": {e.appID}, "secret": {e.secret}, "js_code": {code}, "grant_type": {"client_credential"}})
		}, 40002, "invalid grant_type"},
		{"POST", func(e *env, _ string) reply {
			return e.post("/sns/jscode2session", "", "")
		}, 43001, "require GET method"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			code, _ := e.loginCode(map[string]any{})
			wantErr(t, tc.call(e, code), tc.errcode, tc.msg)
		})
	}
}

func TestCode2SessionCodeValidJustBeforeExpiry(t *testing.T) {
	e := newEnv(t)
	code, _ := e.loginCode(map[string]any{})
	e.clock.Advance(5*time.Minute - time.Second)
	if r := e.code2session(e.appID, e.secret, code); r.ErrCode != 0 {
		t.Fatalf("code 1 s before expiry: %d %s", r.ErrCode, r.ErrMsg)
	}
}

func TestCode2SessionRateLimit(t *testing.T) {
	e := newEnv(t)
	for i := range 100 {
		code, _ := e.loginCode(map[string]any{"user": "bot"})
		if r := e.code2session(e.appID, e.secret, code); r.ErrCode != 0 {
			t.Fatalf("call %d: %d %s", i+1, r.ErrCode, r.ErrMsg)
		}
	}
	code, _ := e.loginCode(map[string]any{"user": "bot"})
	wantErr(t, e.code2session(e.appID, e.secret, code), 45011, "api minute-quota reach limit mustslower retry next minute")

	// The quota is per user: someone else still gets in.
	other, _ := e.loginCode(map[string]any{"user": "human"})
	if r := e.code2session(e.appID, e.secret, other); r.ErrCode != 0 {
		t.Errorf("other user was limited too: %d %s", r.ErrCode, r.ErrMsg)
	}

	// Next minute the refused code works: a limited call does not consume it.
	e.clock.Advance(time.Minute)
	if r := e.code2session(e.appID, e.secret, code); r.ErrCode != 0 {
		t.Errorf("next minute: %d %s", r.ErrCode, r.ErrMsg)
	}
}

func TestCode2SessionFaults(t *testing.T) {
	e := newEnv(t)
	other, otherSecret := AppFor(testSeed, "tenant:other")
	e.fault(e.appID, "jscode2session", 40226, 2)

	code, _ := e.loginCode(map[string]any{})
	wantErr(t, e.code2session(e.appID, e.secret, code), 40226, "code blocked")
	wantErr(t, e.code2session(e.appID, e.secret, code), 40226, "code blocked")

	// Faults are per app.
	otherCode, _ := e.loginCode(map[string]any{"appid": other})
	if r := e.code2session(other, otherSecret, otherCode); r.ErrCode != 0 {
		t.Errorf("fault leaked to another app: %d %s", r.ErrCode, r.ErrMsg)
	}

	// The queue is drained and the code was not consumed by the faults.
	if r := e.code2session(e.appID, e.secret, code); r.ErrCode != 0 {
		t.Errorf("after the faults: %d %s", r.ErrCode, r.ErrMsg)
	}

	// Queued faults apply in order.
	e.fault(e.appID, "jscode2session", -1, 1)
	e.fault(e.appID, "jscode2session", 45011, 1)
	code2, _ := e.loginCode(map[string]any{})
	wantErr(t, e.code2session(e.appID, e.secret, code2), -1, "system error")
	wantErr(t, e.code2session(e.appID, e.secret, code2), 45011, "api minute-quota reach limit mustslower retry next minute")
	if r := e.code2session(e.appID, e.secret, code2); r.ErrCode != 0 {
		t.Errorf("after two single faults: %d %s", r.ErrCode, r.ErrMsg)
	}

	// A bad secret is still reported as such while a fault is queued, and
	// does not use the fault up.
	e.fault(e.appID, "jscode2session", 40226, 1)
	wantErr(t, e.code2session(e.appID, otherSecret, code2), 40125, "invalid appsecret")
	wantErr(t, e.code2session(e.appID, e.secret, code2), 40226, "code blocked")
}

func TestExpiredCodesArePruned(t *testing.T) {
	e := newEnv(t)
	for range 50 {
		e.loginCode(map[string]any{})
	}
	code, _ := e.loginCode(map[string]any{"user": "u"})
	e.code2session(e.appID, e.secret, code)
	e.srv.mu.Lock()
	n, w := len(e.srv.codes), len(e.srv.logins)
	e.srv.mu.Unlock()
	if n != 51 || w != 1 {
		t.Fatalf("before expiry: %d codes, %d rate windows; want 51 and 1", n, w)
	}

	e.clock.Advance(6 * time.Minute)
	e.loginCode(map[string]any{}) // any call gives the sweep a chance to run
	e.srv.mu.Lock()
	n, w = len(e.srv.codes), len(e.srv.logins)
	e.srv.mu.Unlock()
	if n != 1 || w != 0 {
		t.Errorf("after expiry: %d codes, %d rate windows; want 1 and 0", n, w)
	}
}
