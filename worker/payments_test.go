package worker_test

import (
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/minishop/minishop/internal/outbox"
	"github.com/minishop/minishop/internal/testenv"
	"github.com/minishop/minishop/shop"
	"github.com/minishop/minishop/worker"
)

// The query of pending payments rides the same schedule as closing unpaid
// orders, with a task id per period.
func TestPaymentQueryIsScheduled(t *testing.T) {
	e := testenv.New(t)
	sc := worker.Schedule{Spec: "@every 1s", Period: 2 * time.Second}
	s, err := worker.NewScheduler(e.App.RedisOpt, e.App.Log, sc)
	if err != nil {
		t.Fatal(err)
	}
	if err := worker.RegisterPaymentQuery(s, sc); err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	defer s.Shutdown()
	testenv.Eventually(t, 30*time.Second, "a payments.query_pending task", func() bool {
		tasks, err := e.App.Inspector.ListPendingTasks(outbox.QueueCritical, asynq.PageSize(100))
		if err != nil {
			return false
		}
		for _, ti := range tasks {
			if ti.Type == shop.TaskQueryPending && strings.HasPrefix(ti.ID, shop.TaskQueryPending+":") {
				return true
			}
		}
		return false
	})
}
