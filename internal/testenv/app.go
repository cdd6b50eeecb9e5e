package testenv

import (
	"github.com/alexedwards/argon2id"

	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/minishop/minishop/internal/app"
	"github.com/minishop/minishop/internal/config"
	"github.com/minishop/minishop/internal/openapi"
	"github.com/minishop/minishop/internal/outbox"
	"github.com/minishop/minishop/internal/sandbox"
	"github.com/minishop/minishop/internal/scope"
	"github.com/minishop/minishop/tenant"
	"github.com/minishop/minishop/worker"
)

// Env is a running Minishop for a test: its own database and Redis, the
// sandbox on a real port, and the HTTP API on another.
type Env struct {
	Cfg     *config.Config
	App     *app.App
	API     *httptest.Server
	Sandbox *httptest.Server
	Logs    *Buffer // everything the app logged
	// SandboxDelay slows every sandbox response by this many nanoseconds,
	// to catch work in the middle.
	SandboxDelay *atomic.Int64
}

// Buffer is a goroutine-safe log sink.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write implements io.Writer.
func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

// String returns what was written.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// Config returns a configuration for a test: fresh database and Redis, a
// random master key and sandbox seed, base domain "shop.test".
func Config(t testing.TB) *config.Config {
	t.Helper()
	cfg, err := config.FromEnv()
	if err != nil {
		t.Fatal(err)
	}
	cfg.DatabaseURL = DatabaseURL(t)
	cfg.RedisURL = RedisURL(t)
	cfg.BaseDomain = "shop.test"
	cfg.MasterKey = randomBytes(32)
	cfg.SandboxSeed = randomBytes(32)
	cfg.Dev = false
	cfg.DataDir = t.TempDir()
	cfg.MediaDir = filepath.Join(cfg.DataDir, "media")
	// Cheap password hashing: tests create many users, under the race detector.
	cfg.PasswordParams = &argon2id.Params{Memory: 64, Iterations: 1, Parallelism: 1, SaltLength: 16, KeyLength: 32}
	return cfg
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

// New starts an Env. modify, if given, adjusts the configuration first.
func New(t testing.TB, modify ...func(*config.Config)) *Env {
	t.Helper()
	cfg := Config(t)
	for _, m := range modify {
		m(cfg)
	}
	return Start(t, cfg)
}

// Start starts an Env on cfg (whose database must be migrated: Config's is).
func Start(t testing.TB, cfg *config.Config) *Env {
	t.Helper()
	logs := &Buffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	sb, err := sandbox.New(sandbox.Options{Seed: cfg.SandboxSeed})
	if err != nil {
		t.Fatal(err)
	}
	delay := &atomic.Int64{}
	sbh := sb.Handler()
	sbSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(time.Duration(delay.Load()))
		sbh.ServeHTTP(w, r)
	}))
	t.Cleanup(sbSrv.Close)
	cfg.SandboxURL = sbSrv.URL
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	a, err := app.New(ctx, cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	lctx, lcancel := context.WithCancel(context.Background())
	go a.Resolver.Listen(lctx)
	go a.Authz.Listen(lctx, 10*time.Minute)
	api := httptest.NewServer(documented(t, a.Handler()))
	t.Cleanup(func() {
		api.Close()
		lcancel()
		a.Close()
	})
	return &Env{Cfg: cfg, App: a, API: api, Sandbox: sbSrv, Logs: logs, SandboxDelay: delay}
}

// StartWorker runs the worker and the relay until the test ends (or stop).
// tune, if given, adjusts the relay first.
func (e *Env) StartWorker(t testing.TB, tune ...func(*outbox.Relay)) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	srv := worker.Server(e.App.RedisOpt, 10, 5*time.Second, e.App.Log)
	relay := e.App.Relay()
	relay.Poll = 200 * time.Millisecond
	for _, f := range tune {
		f(relay)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := worker.Run(ctx, srv, e.App.WorkerMux(), relay); err != nil {
			t.Errorf("worker: %v", err)
		}
	}()
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); <-done }) }
	t.Cleanup(stop)
	return stop
}

// Response is a decoded HTTP response.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body into v, failing the test if it is not JSON.
func (r *Response) JSON(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("response %d is not JSON: %v: %s", r.Status, err, r.Body)
	}
}

// ErrorCode returns error.code of a JSON error body ("" if none).
func (r *Response) ErrorCode() string {
	var b struct {
		Error struct{ Code string } `json:"error"`
	}
	_ = json.Unmarshal(r.Body, &b)
	return b.Error.Code
}

// Do sends a request to the API with the given Host (empty: the base domain)
// and body (string, []byte, or any value encoded as JSON; nil for none).
func (e *Env) Do(t testing.TB, method, host, path string, body any, headers ...string) *Response {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, e.API.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if host == "" {
		host = e.Cfg.BaseDomain
	}
	req.Host = host
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return &Response{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

// Eventually polls cond every 50ms until it holds or timeout passes. For
// waiting on asynchronous work, never for measuring speed.
func Eventually(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up after %s waiting for: %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Password is the password of users made by User.
const Password = "correct horse battery"

// User creates a user (an operator if operator is set) and returns it.
func (e *Env) User(t testing.TB, email string, operator bool) *tenant.User {
	t.Helper()
	ctx := context.Background()
	u, err := e.App.Accounts.CreateUser(ctx, email, "", Password)
	if err != nil {
		t.Fatalf("creating user %s: %v", email, err)
	}
	if operator {
		if err := e.App.Accounts.SetOperator(ctx, u.ID, true); err != nil {
			t.Fatal(err)
		}
		u.Operator = true
	}
	return u
}

// SignIn signs email in with Password and returns the header pair that
// carries the session: pass it to Do.
func (e *Env) SignIn(t testing.TB, email string) []string {
	t.Helper()
	r := e.Do(t, "POST", "", "/api/admin/v1/session", map[string]string{"email": email, "password": Password})
	if r.Status != 200 {
		t.Fatalf("signing in %s: %d %s", email, r.Status, r.Body)
	}
	for _, ck := range (&http.Response{Header: r.Header}).Cookies() {
		if ck.Name == tenant.SessionCookie {
			return []string{"Cookie", ck.Name + "=" + ck.Value}
		}
	}
	t.Fatalf("sign-in set no session cookie: %v", r.Header)
	return nil
}

// Operator creates a platform operator, signs them in and returns the
// session header pair.
func (e *Env) Operator(t testing.TB) []string {
	t.Helper()
	email := fmt.Sprintf("operator-%d@minishop.test", time.Now().UnixNano())
	e.User(t, email, true)
	return e.SignIn(t, email)
}

// Member creates a user with role in the tenant and signs them in.
func (e *Env) Member(t testing.TB, tenantID int64, email, role string) []string {
	t.Helper()
	u := e.User(t, email, false)
	ctx := scope.WithTenant(context.Background(), tenantID)
	if role != tenant.RoleOwner {
		// A tenant's first member must be its owner.
		var owners int64
		_ = e.App.DB.Raw(`SELECT count(*) FROM memberships WHERE tenant_id = ? AND role = 'owner'`, tenantID).Scan(&owners).Error
		if owners == 0 {
			o := e.User(t, fmt.Sprintf("owner-%d-%d@brand.test", tenantID, time.Now().UnixNano()), false)
			if err := e.App.Team.AddMember(ctx, o.ID, tenant.RoleOwner); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := e.App.Team.AddMember(ctx, u.ID, role); err != nil {
		t.Fatal(err)
	}
	return e.SignIn(t, email)
}

// validator is shared by the tests of a package: loading the document costs
// tens of milliseconds.
var validator = sync.OnceValues(openapi.NewValidator)

// documented passes every response of h through the OpenAPI validator and
// fails the test on a response that openapi.yaml does not describe, so the
// whole suite keeps the reference true.
func documented(t testing.TB, h http.Handler) http.Handler {
	v, err := validator()
	if err != nil {
		t.Fatal(err)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/api/") && r.URL.Path != "/healthz" && r.URL.Path != "/readyz" {
			h.ServeHTTP(w, r)
			return
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		if err := v.Check(r, nil, rec.Code, rec.Header(), rec.Body.Bytes()); err != nil {
			t.Errorf("openapi: %v", err)
		}
		for k, vs := range rec.Header() {
			w.Header()[k] = vs
		}
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes())
	})
}
