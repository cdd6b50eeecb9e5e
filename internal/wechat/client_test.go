package wechat_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minishop/minishop/internal/sandbox"
	"github.com/minishop/minishop/internal/wechat"
)

var seed = []byte("wechat-client-test-seed-0123456")

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type env struct {
	t      *testing.T
	ts     *httptest.Server
	sb     *sandbox.Server
	clock  *clock
	client *wechat.Client
	appID  string
	secret string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	clk := &clock{t: time.Date(2025, 3, 10, 2, 0, 0, 0, time.UTC)}
	sb, err := sandbox.New(sandbox.Options{Seed: seed, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(sb.Handler())
	t.Cleanup(ts.Close)
	appID, secret := sandbox.AppFor(seed, "tenant:1")
	return &env{t: t, ts: ts, sb: sb, clock: clk, client: wechat.New(ts.URL), appID: appID, secret: secret}
}

func (e *env) control(path string, body map[string]any) map[string]any {
	e.t.Helper()
	b, _ := json.Marshal(body)
	resp, err := http.Post(e.ts.URL+path, "application/json", bytes.NewReader(b))
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		e.t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		e.t.Fatalf("%s: %d %v", path, resp.StatusCode, out)
	}
	return out
}

func (e *env) loginCode(fields map[string]any) (code, openID string) {
	e.t.Helper()
	if fields["appid"] == nil {
		fields["appid"] = e.appID
	}
	out := e.control("/sandbox/v1/wx-login-code", fields)
	return out["code"].(string), out["openid"].(string)
}

func (e *env) fault(api string, errcode, count int) {
	e.t.Helper()
	e.control("/sandbox/v1/faults", map[string]any{"appid": e.appID, "api": api, "errcode": errcode, "count": count})
}

var ridRE = regexp.MustCompile(` rid: [0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{8}$`)

func TestCode2SessionSuccess(t *testing.T) {
	e := newEnv(t)
	code, openID := e.loginCode(map[string]any{"user": "alice", "unionid": "oUnion0000000000000000000001"})
	s, err := e.client.Code2Session(context.Background(), e.appID, e.secret, code)
	if err != nil {
		t.Fatal(err)
	}
	if s.OpenID != openID || s.UnionID != "oUnion0000000000000000000001" || len(s.SessionKey) != 24 {
		t.Fatalf("session = {%s %s len(key)=%d}, want openid %s, the unionid and a 24-char key", s.OpenID, s.UnionID, len(s.SessionKey), openID)
	}

	// Formatting or logging a session must not leak the key.
	var logBuf bytes.Buffer
	slog.New(slog.NewJSONHandler(&logBuf, nil)).Info("login", "session", s)
	for _, text := range []string{fmt.Sprint(s), fmt.Sprintf("%+v", s), logBuf.String()} {
		if strings.Contains(text, s.SessionKey) {
			t.Errorf("session_key leaked in %q", text)
		}
		if !strings.Contains(text, openID) {
			t.Errorf("openid missing from %q", text)
		}
	}

	// Without a unionid the field stays empty.
	code2, _ := e.loginCode(map[string]any{"user": "bob"})
	s2, err := e.client.Code2Session(context.Background(), e.appID, e.secret, code2)
	if err != nil || s2.UnionID != "" {
		t.Errorf("second login = %v, %v; want no unionid", s2, err)
	}
}

// class names which classifier must accept an error; the others must not.
type class int

const (
	none class = iota
	codeInvalid
	tokenExpired
	rateLimited
)

func checkClass(t *testing.T, err error, want class) {
	t.Helper()
	got := map[class]bool{
		codeInvalid:  wechat.IsCodeInvalid(err),
		tokenExpired: wechat.IsTokenExpired(err),
		rateLimited:  wechat.IsRateLimited(err),
	}
	for c, ok := range got {
		if ok != (c == want) {
			t.Errorf("classifier %d = %v for %v, want only class %d", c, ok, err, want)
		}
	}
}

func TestCode2SessionErrors(t *testing.T) {
	_, otherSecret := sandbox.AppFor(seed, "tenant:2")
	otherApp, _ := sandbox.AppFor(seed, "tenant:2")
	tests := []struct {
		name    string
		call    func(e *env) error
		errcode int
		class   class
	}{
		{"code used twice", func(e *env) error {
			code, _ := e.loginCode(map[string]any{})
			if _, err := e.client.Code2Session(context.Background(), e.appID, e.secret, code); err != nil {
				t.Fatal(err)
			}
			_, err := e.client.Code2Session(context.Background(), e.appID, e.secret, code)
			return err
		}, 40163, codeInvalid},
		{"code of another app", func(e *env) error {
			code, _ := e.loginCode(map[string]any{"appid": otherApp})
			_, err := e.client.Code2Session(context.Background(), e.appID, e.secret, code)
			return err
		}, 40029, codeInvalid},
		{"expired code", func(e *env) error {
			code, _ := e.loginCode(map[string]any{})
			e.clock.Advance(6 * time.Minute)
			_, err := e.client.Code2Session(context.Background(), e.appID, e.secret, code)
			return err
		}, 40029, codeInvalid},
		{"wrong secret", func(e *env) error {
			code, _ := e.loginCode(map[string]any{})
			_, err := e.client.Code2Session(context.Background(), e.appID, otherSecret, code)
			return err
		}, 40125, none},
		{"empty code", func(e *env) error {
			_, err := e.client.Code2Session(context.Background(), e.appID, e.secret, "")
			return err
		}, 41008, none},
		{"minute quota", func(e *env) error {
			e.fault("jscode2session", 45011, 1)
			code, _ := e.loginCode(map[string]any{})
			_, err := e.client.Code2Session(context.Background(), e.appID, e.secret, code)
			return err
		}, 45011, rateLimited},
		{"risky user", func(e *env) error {
			e.fault("jscode2session", 40226, 1)
			code, _ := e.loginCode(map[string]any{})
			_, err := e.client.Code2Session(context.Background(), e.appID, e.secret, code)
			return err
		}, 40226, none},
		{"system busy", func(e *env) error {
			e.fault("jscode2session", -1, 1)
			code, _ := e.loginCode(map[string]any{})
			_, err := e.client.Code2Session(context.Background(), e.appID, e.secret, code)
			return err
		}, -1, none},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			err := tc.call(e)
			var we *wechat.Error
			if !errors.As(err, &we) {
				t.Fatalf("err = %v (%T), want *wechat.Error", err, err)
			}
			if we.Code != tc.errcode {
				t.Errorf("Code = %d, want %d", we.Code, tc.errcode)
			}
			if !ridRE.MatchString(we.Msg) {
				t.Errorf("Msg = %q, want WeChat's rid suffix kept", we.Msg)
			}
			if want := fmt.Sprintf("wechat: errcode %d: ", tc.errcode); !strings.HasPrefix(err.Error(), want) {
				t.Errorf("Error() = %q, want prefix %q", err.Error(), want)
			}
			if errors.Is(err, wechat.ErrUnavailable) {
				t.Error("a WeChat answer matched ErrUnavailable")
			}
			checkClass(t, err, tc.class)
			if strings.Contains(err.Error(), e.secret) || strings.Contains(err.Error(), otherSecret) {
				t.Errorf("secret in %q", err.Error())
			}
		})
	}
}

func TestStableToken(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	t1, err := e.client.StableToken(ctx, e.appID, e.secret, false)
	if err != nil {
		t.Fatal(err)
	}
	if t1.ExpiresIn != 7200*time.Second || t1.AccessToken == "" {
		t.Fatalf("token = %v (len %d), want 7200 s", t1, len(t1.AccessToken))
	}
	if app, code := e.sb.CheckAccessToken(t1.AccessToken); app != e.appID || code != 0 {
		t.Errorf("sandbox rejects the token: %s %d", app, code)
	}
	if strings.Contains(fmt.Sprint(t1), t1.AccessToken) {
		t.Error("Token.String shows the token")
	}

	e.clock.Advance(time.Minute)
	t2, err := e.client.StableToken(ctx, e.appID, e.secret, false)
	if err != nil || t2.AccessToken != t1.AccessToken || t2.ExpiresIn != 7140*time.Second {
		t.Errorf("second fetch = %v same=%v, %v; want the same token with 7140 s", t2, t2.AccessToken == t1.AccessToken, err)
	}

	t3, err := e.client.StableToken(ctx, e.appID, e.secret, true)
	if err != nil || t3.AccessToken == t1.AccessToken {
		t.Fatalf("forced fetch = same=%v, %v; want a new token", t3.AccessToken == t1.AccessToken, err)
	}
	if _, code := e.sb.CheckAccessToken(t1.AccessToken); code != 40001 {
		t.Errorf("old token after force: errcode %d, want 40001", code)
	}
	if got := e.sb.TokenFetches(e.appID); got != 3 {
		t.Errorf("TokenFetches = %d, want 3", got)
	}
}

func TestStableTokenErrors(t *testing.T) {
	_, wrong := sandbox.AppFor(seed, "other")
	tests := []struct {
		name    string
		prepare func(e *env)
		appID   func(e *env) string
		secret  func(e *env) string
		errcode int
		class   class
	}{
		{"wrong secret", nil, nil, func(*env) string { return wrong }, 40125, none},
		{"malformed appid", nil, func(*env) string { return "wx123" }, nil, 40013, none},
		{"daily quota", func(e *env) { e.fault("stable_token", 45009, 1) }, nil, nil, 45009, rateLimited},
		{"invalid credential", func(e *env) { e.fault("stable_token", 40001, 1) }, nil, nil, 40001, tokenExpired},
		{"system busy", func(e *env) { e.fault("stable_token", -1, 1) }, nil, nil, -1, none},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			appID, secret := e.appID, e.secret
			if tc.appID != nil {
				appID = tc.appID(e)
			}
			if tc.secret != nil {
				secret = tc.secret(e)
			}
			if tc.prepare != nil {
				tc.prepare(e)
			}
			_, err := e.client.StableToken(context.Background(), appID, secret, false)
			var we *wechat.Error
			if !errors.As(err, &we) || we.Code != tc.errcode {
				t.Fatalf("err = %v, want errcode %d", err, tc.errcode)
			}
			checkClass(t, err, tc.class)
			if strings.Contains(err.Error(), secret) {
				t.Errorf("secret in %q", err.Error())
			}
		})
	}
}

func TestClassifiers(t *testing.T) {
	tests := []struct {
		err   error
		class class
	}{
		{&wechat.Error{Code: 40001}, tokenExpired},
		{&wechat.Error{Code: 40014}, tokenExpired},
		{&wechat.Error{Code: 42001}, tokenExpired},
		{fmt.Errorf("calling api: %w", &wechat.Error{Code: 42001}), tokenExpired},
		{&wechat.Error{Code: 40029}, codeInvalid},
		{&wechat.Error{Code: 40163}, codeInvalid},
		{&wechat.Error{Code: 45011}, rateLimited},
		{&wechat.Error{Code: 45009}, rateLimited},
		{&wechat.Error{Code: 40125}, none},
		{&wechat.Error{Code: -1}, none},
		{errors.New("42001"), none},
		{wechat.ErrUnavailable, none},
		{nil, none},
	}
	for _, tc := range tests {
		checkClass(t, tc.err, tc.class)
	}
}

// fakeWeChat answers every request with handler, for failure modes the
// sandbox does not produce.
func fakeWeChat(t *testing.T, handler http.HandlerFunc) *wechat.Client {
	t.Helper()
	ts := httptest.NewServer(handler)
	t.Cleanup(ts.Close)
	return wechat.New(ts.URL)
}

const fakeSecret = "0123456789abcdef0123456789abcdef"

func TestUnavailable(t *testing.T) {
	closed := httptest.NewServer(http.NotFoundHandler())
	closedURL := closed.URL
	closed.Close()

	tests := []struct {
		name   string
		client func(t *testing.T) *wechat.Client
	}{
		{"closed port", func(*testing.T) *wechat.Client { return wechat.New(closedURL) }},
		{"HTTP 502", func(t *testing.T) *wechat.Client {
			return fakeWeChat(t, func(w http.ResponseWriter, r *http.Request) {
				http.Error(w, "bad gateway", http.StatusBadGateway)
			})
		}},
		{"HTML body", func(t *testing.T) *wechat.Client {
			return fakeWeChat(t, func(w http.ResponseWriter, r *http.Request) {
				fmt.Fprint(w, "<html>maintenance</html>")
			})
		}},
		{"empty JSON object", func(t *testing.T) *wechat.Client {
			return fakeWeChat(t, func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "{}") })
		}},
		{"body over 1 MiB", func(t *testing.T) *wechat.Client {
			return fakeWeChat(t, func(w http.ResponseWriter, r *http.Request) {
				fmt.Fprintf(w, `{"openid":"o1","session_key":"k","access_token":"t","expires_in":7200,"pad":"%s"}`, strings.Repeat("x", 1<<20))
			})
		}},
		{"client timeout", func(t *testing.T) *wechat.Client {
			release := make(chan struct{})
			c := fakeWeChat(t, func(w http.ResponseWriter, r *http.Request) {
				select {
				case <-release:
				case <-r.Context().Done():
				}
			})
			t.Cleanup(func() { close(release) })
			c.HTTP = &http.Client{Timeout: 50 * time.Millisecond}
			return c
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.client(t)
			_, err1 := c.Code2Session(context.Background(), "wx0123456789abcdef", fakeSecret, "code")
			_, err2 := c.StableToken(context.Background(), "wx0123456789abcdef", fakeSecret, false)
			for _, err := range []error{err1, err2} {
				if !errors.Is(err, wechat.ErrUnavailable) {
					t.Errorf("err = %v, want ErrUnavailable", err)
				}
				var we *wechat.Error
				if errors.As(err, &we) {
					t.Errorf("unavailability reported as a WeChat answer: %v", err)
				}
				assertNoSecret(t, err, fakeSecret)
			}
		})
	}
}

func TestCancelledContext(t *testing.T) {
	e := newEnv(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := e.client.Code2Session(ctx, e.appID, e.secret, "code")
	if !errors.Is(err, wechat.ErrUnavailable) || !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want ErrUnavailable wrapping context.Canceled", err)
	}
	assertNoSecret(t, err, e.secret)
}

func TestBadBaseURL(t *testing.T) {
	for _, base := range []string{"api.weixin.qq.com", "ftp://x", "http://[::1"} {
		_, err := wechat.New(base).StableToken(context.Background(), "wx0123456789abcdef", fakeSecret, false)
		if err == nil || errors.Is(err, wechat.ErrUnavailable) {
			t.Errorf("BaseURL %q: err = %v, want a configuration error", base, err)
		}
		assertNoSecret(t, err, fakeSecret)
	}
	if got := wechat.New("").BaseURL; got != wechat.DefaultBaseURL {
		t.Errorf("New(\"\").BaseURL = %q", got)
	}
}

// TestSecretNeverInErrors drives every error path with one secret and checks
// no formatting of any returned error reveals it.
func TestSecretNeverInErrors(t *testing.T) {
	e := newEnv(t)
	closed := httptest.NewServer(http.NotFoundHandler())
	closedURL := closed.URL
	closed.Close()
	echo := fakeWeChat(t, func(w http.ResponseWriter, r *http.Request) {
		// A misbehaving server quoting the request back must not make the
		// client leak it.
		fmt.Fprintf(w, `{"errcode":40125,"errmsg":"invalid appsecret %s rid: 00000000-00000000-00000000"}`, r.URL.RawQuery)
	})
	redirect := fakeWeChat(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, r.URL.String(), http.StatusFound)
	})

	code, _ := e.loginCode(map[string]any{})
	_, wrong := sandbox.AppFor(seed, "someone else")
	var errs []error
	add := func(_ any, err error) {
		if err == nil {
			t.Fatal("expected an error")
		}
		errs = append(errs, err)
	}
	ctx := context.Background()
	for _, c := range []*wechat.Client{e.client, wechat.New(closedURL), echo, redirect} {
		add(c.Code2Session(ctx, e.appID, wrong, code))
		add(c.StableToken(ctx, e.appID, wrong, true))
	}
	for _, err := range errs {
		assertNoSecret(t, err, wrong)
	}
}

func assertNoSecret(t *testing.T, err error, secret string) {
	t.Helper()
	for _, text := range []string{err.Error(), fmt.Sprintf("%v", err), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err)} {
		if strings.Contains(text, secret) {
			t.Errorf("secret appears in error text %q", text)
		}
	}
	for u := errors.Unwrap(err); u != nil; u = errors.Unwrap(u) {
		if strings.Contains(u.Error(), secret) {
			t.Errorf("secret appears in wrapped error %q", u.Error())
		}
	}
}

func TestRedirectNotFollowed(t *testing.T) {
	var hits int
	var mu sync.Mutex
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hits++
		mu.Unlock()
	}))
	defer target.Close()
	c := fakeWeChat(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.URL+r.URL.RequestURI(), http.StatusFound)
	})
	_, err := c.Code2Session(context.Background(), "wx0123456789abcdef", fakeSecret, "code")
	if !errors.Is(err, wechat.ErrUnavailable) {
		t.Errorf("err = %v, want ErrUnavailable", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if hits != 0 {
		t.Errorf("the redirect target was called %d times with the secret", hits)
	}
}
