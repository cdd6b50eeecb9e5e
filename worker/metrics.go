package worker

import (
	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"
)

// QueueCollector exports the size of every asynq queue by state, read from
// Redis at scrape time.
type QueueCollector struct {
	in   *asynq.Inspector
	size *prometheus.Desc
}

// NewQueueCollector returns a collector over in.
func NewQueueCollector(in *asynq.Inspector) *QueueCollector {
	return &QueueCollector{in: in, size: prometheus.NewDesc("minishop_queue_tasks",
		"Tasks in each asynq queue by state.", []string{"queue", "state"}, nil)}
}

// Describe implements prometheus.Collector.
func (q *QueueCollector) Describe(ch chan<- *prometheus.Desc) { ch <- q.size }

// Collect implements prometheus.Collector. With Redis down it reports nothing
// rather than failing the scrape; /readyz tells that Redis is down.
func (q *QueueCollector) Collect(ch chan<- prometheus.Metric) {
	names, err := q.in.Queues()
	if err != nil {
		return
	}
	for _, n := range names {
		info, err := q.in.GetQueueInfo(n)
		if err != nil {
			continue
		}
		for state, v := range map[string]int{"pending": info.Pending, "active": info.Active, "scheduled": info.Scheduled,
			"retry": info.Retry, "archived": info.Archived, "completed": info.Completed} {
			ch <- prometheus.MustNewConstMetric(q.size, prometheus.GaugeValue, float64(v), n, state)
		}
	}
}
