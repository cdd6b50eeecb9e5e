package worker_test

import (
	"sort"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/minishop/minishop/internal/outbox"
	"github.com/minishop/minishop/internal/testenv"
	"github.com/minishop/minishop/shop"
	"github.com/minishop/minishop/worker"
)

func TestPeriodTaskID(t *testing.T) {
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	id := func(s string) string { return worker.PeriodTaskID("k", at(s), time.Minute) }
	// Clocks a few seconds apart around a tick agree.
	if a, b := id("2026-11-30T12:00:00.002Z"), id("2026-11-30T11:59:57Z"); a != b || a != "k:2026-11-30T12:00:00Z" {
		t.Errorf("%s vs %s", a, b)
	}
	if a, b := id("2026-11-30T12:00:29Z"), id("2026-11-30T12:00:31Z"); a == b {
		t.Errorf("two periods share %s", a)
	}
}

// Three work processes each run the scheduler: every period's task is
// enqueued once, however many of them tick.
func TestSchedulersEnqueueOncePerPeriod(t *testing.T) {
	e := testenv.New(t)
	sc := worker.Schedule{Spec: "@every 1s", Period: 2 * time.Second}
	for range 3 {
		s, err := worker.NewScheduler(e.App.RedisOpt, e.App.Log, sc)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Start(); err != nil {
			t.Fatal(err)
		}
		defer s.Shutdown()
	}
	time.Sleep(5500 * time.Millisecond) // 15 ticks in all
	tasks, err := e.App.Inspector.ListPendingTasks(outbox.QueueCritical, asynq.PageSize(100))
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, ti := range tasks {
		if ti.Type == shop.TaskCloseExpired {
			ids = append(ids, ti.ID)
		}
	}
	sort.Strings(ids)
	// 5.5 s of 2 s periods: 3 or 4 periods saw a tick; one task each.
	if len(ids) < 2 || len(ids) > 4 {
		t.Fatalf("%d tasks for 15 ticks: %v", len(ids), ids)
	}
	for i := 1; i < len(ids); i++ {
		if ids[i] == ids[i-1] {
			t.Errorf("period %s twice", ids[i])
		}
	}
	t.Logf("15 ticks of 3 schedulers enqueued %d tasks: %v", len(ids), ids)
}
