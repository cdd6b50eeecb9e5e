package worker_test

import (
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/minishop/minishop/internal/outbox"
)

// BenchmarkFollowUpUnderFlood measures how long another shop's payment
// follow-up (critical queue) takes, from its commit to its effect, while one
// shop's 100,000 tasks of the same queue are being worked through by the
// same worker (10 at a time). Run it with a fixed count:
//
//	go test -run '^$' -bench FollowUpUnderFlood -benchtime 20x ./worker/
func BenchmarkFollowUpUnderFlood(b *testing.B) {
	e, a, other := underFlood(b)
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		start := time.Now()
		addTask(b, e, other.ID, outbox.QueueCritical)
		for count(b, e, `SELECT count(*) FROM test_effects WHERE tenant_id = ?`, other.ID) < i+1 {
			if time.Since(start) > time.Minute {
				b.Fatalf("follow-up %d not handled after a minute", i)
			}
			time.Sleep(5 * time.Millisecond)
		}
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	p50, max := lat[len(lat)/2], lat[len(lat)-1]
	waiting := count(b, e, `SELECT count(*) FROM outbox WHERE tenant_id = ? AND sent_at IS NULL`, a.ID)
	b.ReportMetric(float64(p50.Microseconds())/1000, "ms-p50")
	b.ReportMetric(float64(max.Microseconds())/1000, "ms-max")
	fmt.Printf("follow-up of another shop under a 100,000-task flood: p50 %v, max %v over %d (flood still waiting in Postgres: %d)\n",
		p50.Round(time.Millisecond), max.Round(time.Millisecond), len(lat), waiting)
}
