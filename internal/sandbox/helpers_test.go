package sandbox

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

var testSeed = []byte("sandbox-test-seed-0123456789")

// start is a Monday 10:00:00 in Beijing, away from minute and day edges.
var start = time.Date(2025, 3, 10, 10, 0, 0, 0, cst)

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

type env struct {
	t      *testing.T
	srv    *Server
	ts     *httptest.Server
	clock  *fakeClock
	appID  string
	secret string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	clock := &fakeClock{t: start}
	srv, err := New(Options{Seed: testSeed, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	appID, secret := AppFor(testSeed, "tenant:42")
	return &env{t: t, srv: srv, ts: ts, clock: clock, appID: appID, secret: secret}
}

// reply is the union of the WeChat reply fields these tests look at; Raw
// keeps the exact keys so tests can check a field is absent.
type reply struct {
	ErrCode     int    `json:"errcode"`
	ErrMsg      string `json:"errmsg"`
	OpenID      string `json:"openid"`
	SessionKey  string `json:"session_key"`
	UnionID     string `json:"unionid"`
	AccessToken string `json:"access_token"`
	ExpiresIn   int    `json:"expires_in"`

	Status      int
	ContentType string
	Raw         map[string]json.RawMessage
}

func (e *env) do(req *http.Request) reply {
	e.t.Helper()
	resp, err := e.ts.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	r := reply{Status: resp.StatusCode, ContentType: resp.Header.Get("Content-Type")}
	if err := json.Unmarshal(body, &r); err != nil {
		e.t.Fatalf("%s %s: reply is not JSON: %v: %q", req.Method, req.URL.Path, err, body)
	}
	if err := json.Unmarshal(body, &r.Raw); err != nil {
		e.t.Fatal(err)
	}
	return r
}

func (e *env) get(path string, q url.Values) reply {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodGet, e.ts.URL+path+"?"+q.Encode(), nil)
	if err != nil {
		e.t.Fatal(err)
	}
	return e.do(req)
}

func (e *env) post(path, contentType, body string) reply {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.ts.URL+path, strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	return e.do(req)
}

func (e *env) code2session(appID, secret, code string) reply {
	e.t.Helper()
	return e.get("/sns/jscode2session", url.Values{
		"appid": {appID}, "secret": {secret}, "js_code": {code}, "grant_type": {"authorization_code"},
	})
}

func (e *env) stable(appID, secret string, force bool) reply {
	e.t.Helper()
	b, _ := json.Marshal(map[string]any{"grant_type": "client_credential", "appid": appID, "secret": secret, "force_refresh": force})
	return e.post("/cgi-bin/stable_token", "application/json", string(b))
}

func (e *env) classic(appID, secret string) reply {
	e.t.Helper()
	return e.get("/cgi-bin/token", url.Values{"grant_type": {"client_credential"}, "appid": {appID}, "secret": {secret}})
}

// controlResp is a control API reply.
type controlResp struct {
	Status int
	Body   map[string]any
}

func (c controlResp) errorMessage() string {
	e, _ := c.Body["error"].(map[string]any)
	m, _ := e["message"].(string)
	return m
}

func (c controlResp) errorCode() string {
	e, _ := c.Body["error"].(map[string]any)
	m, _ := e["code"].(string)
	return m
}

func (e *env) controlRaw(method, path, contentType string, body []byte) controlResp {
	e.t.Helper()
	req, err := http.NewRequest(method, e.ts.URL+path, bytes.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := e.ts.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	out := controlResp{Status: resp.StatusCode}
	if err := json.Unmarshal(raw, &out.Body); err != nil {
		e.t.Fatalf("%s %s: reply is not JSON: %v: %q", method, path, err, raw)
	}
	if got := resp.Header.Get("Content-Type"); got != "application/json" {
		e.t.Errorf("%s: Content-Type = %q, want application/json", path, got)
	}
	return out
}

func (e *env) control(path string, body any) controlResp {
	e.t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		e.t.Fatal(err)
	}
	return e.controlRaw(http.MethodPost, path, "application/json", b)
}

// loginCode plays wx.login() and returns the code and the openid it stands for.
func (e *env) loginCode(fields map[string]any) (code, openID string) {
	e.t.Helper()
	if _, ok := fields["appid"]; !ok {
		fields["appid"] = e.appID
	}
	r := e.control("/sandbox/v1/wx-login-code", fields)
	if r.Status != http.StatusOK {
		e.t.Fatalf("wx-login-code: status %d: %v", r.Status, r.Body)
	}
	code, _ = r.Body["code"].(string)
	openID, _ = r.Body["openid"].(string)
	if code == "" || openID == "" {
		e.t.Fatalf("wx-login-code: missing code or openid: %v", r.Body)
	}
	if r.Body["expires_in"] != float64(300) {
		e.t.Errorf("wx-login-code: expires_in = %v, want 300", r.Body["expires_in"])
	}
	return code, openID
}

func (e *env) fault(appID, api string, errcode, count int) {
	e.t.Helper()
	r := e.control("/sandbox/v1/faults", map[string]any{"appid": appID, "api": api, "errcode": errcode, "count": count})
	if r.Status != http.StatusOK {
		e.t.Fatalf("faults: status %d: %v", r.Status, r.Body)
	}
}

var ridSuffix = regexp.MustCompile(` rid: [0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{8}$`)

// wantErr checks a WeChat error reply: HTTP 200, the errcode, the message and
// the rid suffix.
func wantErr(t *testing.T, r reply, errcode int, msg string) {
	t.Helper()
	if r.Status != http.StatusOK {
		t.Errorf("HTTP status = %d, want 200 (WeChat reports errors in the body)", r.Status)
	}
	if r.ErrCode != errcode {
		t.Fatalf("errcode = %d (%q), want %d", r.ErrCode, r.ErrMsg, errcode)
	}
	if !strings.HasPrefix(r.ErrMsg, msg+" rid: ") {
		t.Errorf("errmsg = %q, want it to start with %q", r.ErrMsg, msg+" rid: ")
	}
	if !ridSuffix.MatchString(r.ErrMsg) {
		t.Errorf("errmsg = %q, want it to end with ' rid: <hex>-<hex>-<hex>'", r.ErrMsg)
	}
	for _, k := range []string{"openid", "session_key", "access_token"} {
		if _, ok := r.Raw[k]; ok {
			t.Errorf("error reply carries %q: %v", k, r.Raw)
		}
	}
}
