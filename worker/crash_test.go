package worker_test

import (
	"context"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/minishop/minishop/internal/app"
	"github.com/minishop/minishop/internal/config"
	"github.com/minishop/minishop/internal/outbox"
	"github.com/minishop/minishop/internal/testenv"
	"github.com/minishop/minishop/tenant"
	"github.com/minishop/minishop/worker"
)

// workHelperEnv, when set, makes TestWorkProcess act as `minishop work`:
// the test re-executes its own binary to get a worker process it can kill.
const workHelperEnv = "MINISHOP_TEST_WORK_PROCESS"

// TestWorkProcess is not a test: run by work() in a child process, it does
// what `minishop work` does (cmd/minishop: the app from the environment,
// the task server, the schedulers and the outbox relay) until killed.
func TestWorkProcess(t *testing.T) {
	if os.Getenv(workHelperEnv) != "1" {
		t.Skip("the worker process of TestKilledWorkerTasksRunOnceInAnother")
	}
	cfg, err := config.FromEnv()
	if err != nil {
		t.Fatal(err)
	}
	a, err := app.New(context.Background(), cfg, app.NewLogger(cfg))
	if err != nil {
		t.Fatal(err)
	}
	sched, err := a.Scheduler()
	if err != nil {
		t.Fatal(err)
	}
	srv := worker.Server(a.RedisOpt, cfg.WorkerConcurrency, cfg.ShutdownTimeout, a.Log)
	_ = worker.Run(context.Background(), srv, a.WorkerMux(), a.Relay(), sched) // until SIGKILL
}

// work starts a worker process (TestWorkProcess in a child) against e's
// database, Redis and sandbox.
func work(t *testing.T, e *testenv.Env, logs *testenv.Buffer) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run", "^TestWorkProcess$", "-test.v")
	cmd.Env = append(os.Environ(), workHelperEnv+"=1",
		"DATABASE_URL="+e.Cfg.DatabaseURL,
		"REDIS_URL="+e.Cfg.RedisURL,
		"MINISHOP_MASTER_KEY="+hex.EncodeToString(e.Cfg.MasterKey),
		"MINISHOP_SANDBOX_URL="+e.Sandbox.URL,
		"MINISHOP_DEV=false",
		"MINISHOP_DATA_DIR="+t.TempDir(),
		"MINISHOP_WORKER_CONCURRENCY=4",
		"MINISHOP_LOG_LEVEL=info",
	)
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	return cmd
}

// A work process killed with SIGKILL in the middle of a batch of
// shop provisionings (each registers the shop's sandbox Mini Program and
// merchant, then stores their credentials and an audit entry) leaves tasks
// running with nobody; another work process picks them up once asynq's
// lease on them has expired, and every shop ends up provisioned exactly
// once: one audit entry, one once-only marker, no task left undone.
//
// Asynq (v0.26) recovers a task whose worker died when its lease (30s, not
// configurable) expired more than 30s ago, checking at start and every
// minute: about a minute after the kill. The worker retries such a task
// after a second (worker.Server's RetryDelayFunc), not after the backoff of
// an error.
func TestKilledWorkerTasksRunOnceInAnother(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for asynq's lease expiry (about a minute)")
	}
	e := testenv.New(t)
	e.SandboxDelay.Store(int64(300 * time.Millisecond)) // each provisioning takes about a second
	const shops = 24
	var ids []int64
	for i := range shops {
		tn, err := e.App.Tenants.Create(context.Background(), tenant.CreateInput{Slug: fmt.Sprintf("brand-%02d", i), Name: "Brand"})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, tn.ID)
	}
	provisioned := func() int {
		n := 0
		for _, id := range ids {
			if provisionedCount(t, e, id) > 0 {
				n++
			}
		}
		return n
	}

	first := &testenv.Buffer{}
	w1 := work(t, e, first)
	var orphans []string
	testenv.Eventually(t, 60*time.Second, "the first worker to be in the middle of the batch", func() bool {
		if n := provisioned(); n < 3 || n >= shops-4 {
			return false
		}
		active, err := e.App.Inspector.ListActiveTasks(outbox.QueueCritical)
		if err != nil || len(active) == 0 {
			return false
		}
		if err := w1.Process.Kill(); err != nil { // SIGKILL: no shutdown, no hand-back
			t.Fatal(err)
		}
		_ = w1.Wait()
		for _, a := range active {
			orphans = append(orphans, a.ID)
		}
		return true
	})
	atKill := provisioned()
	t.Logf("killed the worker with %d of %d shops provisioned and %d tasks running: %v", atKill, shops, len(orphans), orphans)

	second := &testenv.Buffer{}
	start := time.Now()
	work(t, e, second)
	testenv.Eventually(t, 180*time.Second, "every shop provisioned by the second worker", func() bool { return provisioned() == shops })
	t.Logf("the second worker finished the batch in %v", time.Since(start).Round(time.Second))

	for _, id := range ids {
		if n := provisionedCount(t, e, id); n != 1 {
			t.Errorf("shop %d provisioned %d times", id, n)
		}
	}
	if n := count(t, e, `SELECT count(*) FROM task_runs WHERE kind = ?`, tenant.TaskProvision); n != shops {
		t.Errorf("%d once-only markers of provisioning; want %d", n, shops)
	}
	testenv.Eventually(t, 10*time.Second, "every task recorded as done", func() bool {
		return count(t, e, `SELECT count(*) FROM outbox WHERE kind = ? AND done_at IS NULL`, tenant.TaskProvision) == 0
	})
	if atKill >= shops {
		t.Fatal("the kill came after the batch")
	}
	if t.Failed() {
		t.Logf("first worker:\n%s\nsecond worker:\n%s", first.String(), second.String())
	}
}
