package worker_test

import (
	"context"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"gorm.io/gorm"

	"github.com/minishop/minishop/internal/db"
	"github.com/minishop/minishop/internal/outbox"
	"github.com/minishop/minishop/internal/scope"
	"github.com/minishop/minishop/internal/testenv"
	"github.com/minishop/minishop/tenant"
	"github.com/minishop/minishop/worker"
)

// kindEffect is a task kind registered only in these tests: its handler
// records one row in test_effects, once per task (outbox.Once), as a real
// handler records its effect with its once-only marker.
const kindEffect = "test.effect"

// effects creates the table test effects are counted in (the test's own
// database; the app's role may write it).
func effects(t testing.TB, e *testenv.Env) {
	t.Helper()
	owner, err := db.Open(context.Background(), e.Cfg.DatabaseURL, db.Options{MaxOpen: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(owner)
	if err := owner.Exec(`CREATE TABLE test_effects (tenant_id bigint NOT NULL, task_id text NOT NULL, at timestamptz NOT NULL DEFAULT clock_timestamp());
		GRANT SELECT, INSERT ON test_effects TO minishop_app`).Error; err != nil {
		t.Fatal(err)
	}
}

// effectHandler is the handler of kindEffect, through the same adapter as
// every outbox task.
func effectHandler(e *testenv.Env) asynq.Handler {
	return worker.TenantTask(e.App.DB, e.App.Log, func(ctx context.Context, taskID string) error {
		tid, _ := scope.TenantID(ctx)
		_, err := outbox.Once(ctx, e.App.DB, taskID, kindEffect, func(tx *gorm.DB) error {
			return tx.Exec(`INSERT INTO test_effects (tenant_id, task_id) VALUES (?, ?)`, tid, taskID).Error
		})
		return err
	})
}

// startWorker runs a worker (the app's handlers plus kindEffect) and a relay
// until the test ends.
func startWorker(t testing.TB, e *testenv.Env, concurrency int, tune func(*outbox.Relay)) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	srv := worker.Server(e.App.RedisOpt, concurrency, 5*time.Second, e.App.Log)
	mux := e.App.WorkerMux()
	mux.Handle(kindEffect, effectHandler(e))
	relay := e.App.Relay()
	relay.Poll = 200 * time.Millisecond
	if tune != nil {
		tune(relay)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := worker.Run(ctx, srv, mux, relay); err != nil {
			t.Errorf("worker: %v", err)
		}
	}()
	t.Cleanup(func() { cancel(); <-done })
}

// flood queues n tasks of kindEffect for tenant id in queue q in one
// statement, as n business transactions calling outbox.Add would.
func flood(t testing.TB, e *testenv.Env, id int64, q string, n int) {
	t.Helper()
	if err := e.App.DB.Exec(`INSERT INTO outbox (tenant_id, kind, queue, payload)
		SELECT ?, ?, ?, '{}' FROM generate_series(1, ?)`, id, kindEffect, q, n).Error; err != nil {
		t.Fatal(err)
	}
}

// addTask queues one task of kindEffect for tenant id through outbox.Add in
// a transaction, as business code does.
func addTask(t testing.TB, e *testenv.Env, id int64, q string) {
	t.Helper()
	ctx := scope.WithTenant(context.Background(), id)
	if err := db.InTenant(ctx, e.App.DB, func(tx *gorm.DB) error {
		return outbox.Add(ctx, tx, outbox.Message{Kind: kindEffect, Queue: q, TenantID: id})
	}); err != nil {
		t.Fatal(err)
	}
}

func count(t testing.TB, e *testenv.Env, q string, args ...any) int {
	t.Helper()
	var n int64
	if err := e.App.DB.Raw(q, args...).Scan(&n).Error; err != nil {
		t.Fatal(err)
	}
	return int(n)
}

func twoShops(t testing.TB, e *testenv.Env) (a, b *tenant.Tenant) {
	t.Helper()
	var err error
	if a, err = e.App.Tenants.Create(context.Background(), tenant.CreateInput{Slug: "flood-brand", Name: "Flood"}); err != nil {
		t.Fatal(err)
	}
	if b, err = e.App.Tenants.Create(context.Background(), tenant.CreateInput{Slug: "quiet-brand", Name: "Quiet"}); err != nil {
		t.Fatal(err)
	}
	return a, b
}

// underFlood starts a worker on two shops, a and b, and returns once a's
// 100,000 tasks in the critical queue are being handled.
func underFlood(t testing.TB) (e *testenv.Env, a, b *tenant.Tenant) {
	t.Helper()
	e = testenv.New(t)
	effects(t, e)
	a, b = twoShops(t, e)
	startWorker(t, e, 10, nil)
	flood(t, e, a.ID, outbox.QueueCritical, 100_000)
	testenv.Eventually(t, 60*time.Second, "the flood to be flowing", func() bool {
		return count(t, e, `SELECT count(*) FROM test_effects WHERE tenant_id = ?`, a.ID) >= 100
	})
	return e, a, b
}

// One shop queues 100,000 tasks in the critical queue (a flash sale's
// payment follow-ups); another shop's payment follow-up, queued after them,
// is handled within seconds while most of the first shop's are still
// waiting, because the relay holds a shop's flood in Postgres and lets at
// most a few of its tasks into Redis at a time.
func TestOneShopsFloodDoesNotDelayAnothersPaymentFollowUp(t *testing.T) {
	e, a, b := underFlood(t)

	start := time.Now()
	addTask(t, e, b.ID, outbox.QueueCritical)
	testenv.Eventually(t, 20*time.Second, "the other shop's task to be handled", func() bool {
		return count(t, e, `SELECT count(*) FROM test_effects WHERE tenant_id = ?`, b.ID) == 1
	})
	latency := time.Since(start)
	doneA := count(t, e, `SELECT count(*) FROM test_effects WHERE tenant_id = ?`, a.ID)
	waitingA := count(t, e, `SELECT count(*) FROM outbox WHERE tenant_id = ? AND kind = ? AND sent_at IS NULL`, a.ID, kindEffect)
	t.Logf("the other shop's task took %v; meanwhile %d of the flood's were handled, %d still wait in Postgres", latency.Round(time.Millisecond), doneA, waitingA)
	if waitingA < 50_000 {
		t.Fatalf("only %d of the flood still waiting: the test did not run under the flood", waitingA)
	}
	// Redis never holds more than the cap of one shop's tasks of a queue.
	info, err := e.App.Inspector.GetQueueInfo(outbox.QueueCritical)
	if err != nil {
		t.Fatal(err)
	}
	if info.Pending+info.Active > outbox.DefaultInFlight {
		t.Errorf("%d pending and %d active critical tasks in Redis; the cap per shop and queue is %d", info.Pending, info.Active, outbox.DefaultInFlight)
	}
}

// The cap counts tasks of one shop and queue: the flood of one queue does
// not hold back the same shop's tasks of another queue, and every task of a
// moderate flood is handled exactly once.
func TestFloodIsHandledOnceAndLanesAreIndependent(t *testing.T) {
	e := testenv.New(t)
	effects(t, e)
	a, _ := twoShops(t, e)
	flood(t, e, a.ID, outbox.QueueLow, 1_000)
	startWorker(t, e, 10, nil)
	addTask(t, e, a.ID, outbox.QueueCritical)
	testenv.Eventually(t, 20*time.Second, "the shop's critical task to be handled", func() bool {
		return count(t, e, `SELECT count(*) FROM test_effects e JOIN outbox o ON 'outbox:' || o.id = e.task_id WHERE o.queue = 'critical'`) == 1
	})
	testenv.Eventually(t, 120*time.Second, "the whole flood to be handled", func() bool {
		return count(t, e, `SELECT count(*) FROM test_effects WHERE tenant_id = ?`, a.ID) >= 1_001
	})
	if n := count(t, e, `SELECT count(*) FROM (SELECT task_id FROM test_effects GROUP BY task_id HAVING count(*) > 1) d`); n != 0 {
		t.Fatalf("%d tasks had their effect more than once", n)
	}
	if n := count(t, e, `SELECT count(*) FROM test_effects`); n != 1_001 {
		t.Fatalf("%d effects for 1,001 tasks", n)
	}
	if n := count(t, e, `SELECT count(*) FROM outbox WHERE kind = ? AND done_at IS NULL`, kindEffect); n != 0 {
		t.Fatalf("%d tasks not recorded as done", n)
	}
}
