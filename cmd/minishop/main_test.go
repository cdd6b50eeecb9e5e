package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/minishop/minishop/internal/db"
	"github.com/minishop/minishop/internal/scope"
	"github.com/minishop/minishop/internal/testenv"
	"github.com/minishop/minishop/tenant"
)

// bin is the minishop binary built once for these tests: they run it as an
// operator (or `make run`) would.
var bin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "minishop-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	bin = filepath.Join(dir, "minishop")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "building minishop: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// proc is a running minishop subprocess.
type proc struct {
	cmd *exec.Cmd
	out *testenv.Buffer
}

func start(t *testing.T, env []string, args ...string) *proc {
	t.Helper()
	p := &proc{cmd: exec.Command(bin, args...), out: &testenv.Buffer{}}
	p.cmd.Env = append(baseEnv(), env...)
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			_ = p.cmd.Process.Kill()
			_ = p.cmd.Wait()
		}
		if t.Failed() {
			t.Logf("output of minishop %s:\n%s", strings.Join(args, " "), p.out.String())
		}
	})
	return p
}

// baseEnv is the environment without any Minishop configuration.
func baseEnv() []string {
	var out []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "MINISHOP_") && !strings.HasPrefix(kv, "DATABASE_URL=") && !strings.HasPrefix(kv, "REDIS_URL=") {
			out = append(out, kv)
		}
	}
	return out
}

// run runs minishop to completion and returns its output and exit code.
func run(t *testing.T, env []string, stdin string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(baseEnv(), env...)
	cmd.Stdin = strings.NewReader(stdin)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), code
}

func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func envOf(e *testenv.Env) []string {
	return []string{
		"DATABASE_URL=" + e.Cfg.DatabaseURL,
		"REDIS_URL=" + e.Cfg.RedisURL,
		"MINISHOP_MASTER_KEY=" + hex.EncodeToString(e.Cfg.MasterKey),
		"MINISHOP_SANDBOX_URL=" + e.Sandbox.URL,
		"MINISHOP_BASE_DOMAIN=" + e.Cfg.BaseDomain,
		"MINISHOP_LOG_LEVEL=warn",
	}
}

func provisioned(t *testing.T, e *testenv.Env) int {
	t.Helper()
	var n int64
	if err := e.App.DB.Raw(`SELECT count(*) FROM tenants WHERE provisioned_at IS NOT NULL`).Scan(&n).Error; err != nil {
		t.Fatal(err)
	}
	return int(n)
}

// A worker killed with SIGKILL in the middle of a batch of 200 tenant
// creations, then restarted: every tenant is provisioned, each exactly once.
func TestWorkerKilledMidBatchProvisionsEachTenantOnce(t *testing.T) {
	t.Parallel()
	e := testenv.New(t)
	e.SandboxDelay.Store(int64(15 * time.Millisecond)) // keep tasks in flight long enough to be caught
	env := append(envOf(e), "MINISHOP_WORKER_CONCURRENCY=4")
	w := start(t, env, "work")

	const n = 200
	ids := make([]int64, 0, n)
	for i := range n {
		tn, err := e.App.Tenants.Create(context.Background(), tenant.CreateInput{Slug: fmt.Sprintf("batch-%03d", i), Name: "Batch brand"})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, tn.ID)
	}
	testenv.Eventually(t, 60*time.Second, "the worker to get going", func() bool { return provisioned(t, e) >= 30 })
	if err := w.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = w.cmd.Wait()
	before := provisioned(t, e)
	if before >= n {
		t.Fatalf("the batch finished before the kill (%d provisioned); the test did not test a crash", before)
	}
	t.Logf("killed the worker with %d of %d tenants provisioned", before, n)

	e.SandboxDelay.Store(0)
	start(t, env, "work")
	// Tasks the dead worker held come back when their lease expires (about a minute).
	testenv.Eventually(t, 3*time.Minute, "every tenant provisioned after the restart", func() bool { return provisioned(t, e) == n })
	for _, id := range ids {
		var audits, creds int64
		err := db.InTenant(scope.WithTenant(context.Background(), id), e.App.DB, func(tx *gorm.DB) error {
			if err := tx.Raw(`SELECT count(*) FROM audit_log WHERE action = 'tenant.provisioned'`).Scan(&audits).Error; err != nil {
				return err
			}
			return tx.Raw(`SELECT count(*) FROM credentials`).Scan(&creds).Error
		})
		if err != nil {
			t.Fatal(err)
		}
		if audits != 1 || creds != 2 {
			t.Errorf("tenant %d: provisioned %d times, %d credential sets; want 1 and 2 (test Mini Program and WeChat Pay)", id, audits, creds)
		}
	}
}

func TestTenantCLI(t *testing.T) {
	t.Parallel()
	e := testenv.New(t)
	env := envOf(e)

	out, code := run(t, env, "", "tenant", "create", "--slug", "nordic-skin", "--name", "Nordic Skin")
	if code != 0 || !strings.Contains(out, "nordic-skin") || !strings.Contains(out, "Nordic Skin") || !strings.Contains(out, "active") {
		t.Fatalf("tenant create: exit %d\n%s", code, out)
	}
	out, code = run(t, env, "", "tenant", "create", "--slug", "Bad_Slug", "--name", "X")
	if code == 0 || !strings.Contains(out, "lowercase") {
		t.Fatalf("an invalid slug must fail with a reason: exit %d\n%s", code, out)
	}
	out, code = run(t, env, "", "tenant", "create", "--slug", "nordic-skin", "--name", "Again")
	if code == 0 || !strings.Contains(out, "already taken") {
		t.Fatalf("a taken slug must fail with a reason: exit %d\n%s", code, out)
	}
	out, code = run(t, env, "", "tenant", "create", "--name", "No slug")
	if code == 0 || !strings.Contains(out, "slug") {
		t.Fatalf("a missing flag must fail and name it: exit %d\n%s", code, out)
	}
	out, code = run(t, env, "", "tenant", "suspend", "nordic-skin")
	if code != 0 || !strings.Contains(out, "suspended") {
		t.Fatalf("suspend: exit %d\n%s", code, out)
	}
	if r := e.Do(t, "GET", "nordic-skin.shop.test", "/api/v1/shop", nil); r.Status != 403 {
		t.Fatalf("a tenant suspended from the CLI must be refused by a running server: %d", r.Status)
	}
	out, code = run(t, env, "", "tenant", "list", "--json")
	if code != 0 || !strings.Contains(out, `"status": "suspended"`) {
		t.Fatalf("tenant list: exit %d\n%s", code, out)
	}
	out, code = run(t, env, "", "tenant", "resume", "nordic-skin")
	if code != 0 || !strings.Contains(out, "active") {
		t.Fatalf("resume: exit %d\n%s", code, out)
	}
	out, code = run(t, env, "", "tenant", "suspend", "nobody-here")
	if code == 0 || !strings.Contains(out, "no tenant") {
		t.Fatalf("suspending an unknown tenant: exit %d\n%s", code, out)
	}
	out, code = run(t, env, "", "migrate", "status")
	if code != 0 || !strings.Contains(out, "00001_foundation.sql") || !strings.Contains(out, "applied") {
		t.Fatalf("migrate status: exit %d\n%s", code, out)
	}
	out, code = run(t, env, "", "tasks", "list")
	if code != 0 || !strings.Contains(out, "QUEUE") {
		t.Fatalf("tasks list: exit %d\n%s", code, out)
	}
	out, code = run(t, env, "", "tasks", "retry")
	if code == 0 || !strings.Contains(out, "--all") {
		t.Fatalf("tasks retry without ids: exit %d\n%s", code, out)
	}
	out, code = run(t, env, "correct horse battery\n", "user", "create", "--email", "Ann@Nordic-Skin.test", "--name", "Ann")
	if code != 0 || !strings.Contains(out, "ann@nordic-skin.test") {
		t.Fatalf("user create: exit %d\n%s", code, out)
	}
	out, code = run(t, env, "short\n", "user", "create", "--email", "bob@nordic-skin.test")
	if code == 0 || !strings.Contains(out, "at least 10") {
		t.Fatalf("user create with a short password: exit %d\n%s", code, out)
	}
	out, code = run(t, env, "", "tenant", "add-member", "--tenant", "nordic-skin", "--email", "ann@nordic-skin.test", "--role", "viewer")
	if code == 0 || !strings.Contains(out, "owner") {
		t.Fatalf("a shop's first member must be its owner: exit %d\n%s", code, out)
	}
	out, code = run(t, env, "", "tenant", "add-member", "--tenant", "nordic-skin", "--email", "ann@nordic-skin.test", "--role", "owner")
	if code != 0 || !strings.Contains(out, "owner of nordic-skin") {
		t.Fatalf("tenant add-member: exit %d\n%s", code, out)
	}
	out, code = run(t, env, "", "operator", "grant", "--email", "ann@nordic-skin.test")
	if code != 0 || !strings.Contains(out, "now a platform operator") {
		t.Fatalf("operator grant: exit %d\n%s", code, out)
	}
	ann := e.SignIn(t, "ann@nordic-skin.test")
	if r := e.Do(t, "GET", "", "/api/admin/v1/tenants/nordic-skin/members", nil, ann...); r.Status != 200 || !strings.Contains(string(r.Body), `"role":"owner"`) {
		t.Fatalf("the owner added from the CLI: %d %s", r.Status, r.Body)
	}
	if r := e.Do(t, "GET", "", "/api/admin/v1/platform/tenants", nil, ann...); r.Status != 200 {
		t.Fatalf("the operator granted from the CLI: %d %s", r.Status, r.Body)
	}
	out, _ = run(t, nil, "", "tenant", "create", "--help")
	if !strings.Contains(out, "--slug") || !strings.Contains(out, "reserved") {
		t.Fatalf("help must explain the flags:\n%s", out)
	}
}

func TestServeRefusesToStartWithoutMasterKey(t *testing.T) {
	t.Parallel()
	out, code := run(t, []string{"MINISHOP_HTTP_ADDR=" + freePort(t)}, "", "serve")
	if code == 0 || !strings.Contains(out, "MINISHOP_MASTER_KEY is required") {
		t.Fatalf("serve without a master key: exit %d\n%s", code, out)
	}
	out, code = run(t, []string{"MINISHOP_MASTER_KEY=short"}, "", "serve")
	if code == 0 || !strings.Contains(out, "32 bytes") {
		t.Fatalf("serve with a malformed master key: exit %d\n%s", code, out)
	}
}

// signIn signs in over HTTP and returns the session cookie.
func signIn(t *testing.T, base, email, password string) string {
	t.Helper()
	resp, err := http.Post(base+"/api/admin/v1/session", "application/json",
		strings.NewReader(fmt.Sprintf(`{"email":%q,"password":%q}`, email, password)))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, ck := range resp.Cookies() {
		if ck.Name == "minishop_session" {
			return ck.Name + "=" + ck.Value
		}
	}
	t.Fatalf("signing in %s: %d %s", email, resp.StatusCode, b)
	return ""
}

func get(t *testing.T, url, host string, cookie ...string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if host != "" {
		req.Host = host
	}
	for _, c := range cookie {
		req.Header.Add("Cookie", c)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// `minishop dev` (what `make run` runs): migrations, demo data, sandbox,
// server and worker in one process; a second run reuses everything; Ctrl-C
// stops it cleanly.
func TestDevModeRunsEverythingAndStopsCleanly(t *testing.T) {
	t.Parallel()
	dbURL, redisURL := testenv.DatabaseURL(t), testenv.RedisURL(t)
	data := t.TempDir()
	addr, sbAddr := freePort(t), freePort(t)
	env := []string{"DATABASE_URL=" + dbURL, "REDIS_URL=" + redisURL, "MINISHOP_DATA_DIR=" + data,
		"MINISHOP_HTTP_ADDR=" + addr, "MINISHOP_SANDBOX_ADDR=" + sbAddr}
	base := "http://" + addr

	var keys []string
	for round := 1; round <= 2; round++ {
		p := start(t, env, "dev")
		testenv.Eventually(t, 60*time.Second, "dev to be ready", func() bool {
			code, _ := get(t, base+"/readyz", "")
			return code == 200
		})
		code, body := get(t, base+"/api/v1/shop", "nordic-skin.localhost")
		if code != 200 || !strings.Contains(body, `"name":"Nordic Skin"`) {
			t.Fatalf("round %d: demo shop: %d %s", round, code, body)
		}
		op := signIn(t, base, "operator@minishop.test", "minishop-demo")
		testenv.Eventually(t, 30*time.Second, "demo tenants provisioned by the dev worker", func() bool {
			_, body := get(t, base+"/api/admin/v1/platform/tenants", "", op)
			return strings.Count(body, `"provisioned_at":"`) == 3
		})
		_, body = get(t, base+"/api/admin/v1/platform/tenants", "", op)
		if n := strings.Count(body, `"slug":`); n != 3 {
			t.Fatalf("round %d: %d demo tenants, want 3 (no duplicates on a second run): %s", round, n, body)
		}
		if code, _ := get(t, base+"/platform/queues", "", op); code != 200 {
			t.Fatalf("round %d: the queue monitor is not served in dev mode: %d", round, code)
		}
		if !strings.Contains(p.out.String(), "nordic-skin.localhost") {
			t.Fatalf("dev must print how to reach the demo shop:\n%s", p.out.String())
		}
		key, err := os.ReadFile(filepath.Join(data, "master.key"))
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, string(key))

		if err := p.cmd.Process.Signal(os.Interrupt); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- p.cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("round %d: dev did not exit cleanly on Ctrl-C: %v\n%s", round, err, p.out.String())
			}
		case <-time.After(40 * time.Second):
			t.Fatalf("round %d: dev did not stop within 40s of Ctrl-C", round)
		}
		if code, _ := get(t, base+"/healthz", ""); code != 0 {
			t.Fatalf("round %d: the server still answers after Ctrl-C", round)
		}
	}
	if keys[0] != keys[1] {
		t.Fatal("the dev master key must be kept between runs, or earlier secrets become unreadable")
	}
}
