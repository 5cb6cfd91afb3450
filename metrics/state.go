package metrics

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// State is what a scrape counts in the database: rows by status and
// backend, and the workers online by pool.
type State struct {
	Inferences    []Count
	Endpoints     []Count
	WorkersOnline map[string]int
}

// Count is the number of rows with one status on one backend.
type Count struct {
	Status, Backend string
	N               int
}

// StateFunc counts State; it must honour ctx's deadline.
type StateFunc func(ctx context.Context) (State, error)

// stateTimeout bounds the queries of one scrape.
const stateTimeout = 3 * time.Second

var (
	inferencesDesc = prometheus.NewDesc("easel_inferences",
		"Inference jobs by status (created, inprogress, succeed, failed) and backend, counted at scrape time.",
		[]string{"status", "backend"}, nil)
	endpointsDesc = prometheus.NewDesc("easel_endpoints",
		"Endpoints by status (InService is online) and backend, counted at scrape time.",
		[]string{"status", "backend"}, nil)
	workersDesc = prometheus.NewDesc("easel_workers_online",
		"Easel workers that called within two heartbeats, by configured pool.",
		[]string{"pool"}, nil)
)

// stateCollector queries State on each scrape, within stateTimeout.
type stateCollector struct {
	m   *Set
	fn  StateFunc
	log *slog.Logger
}

// WatchState registers the gauges counted by fn on each scrape.
func (m *Set) WatchState(fn StateFunc, log *slog.Logger) {
	m.reg.MustRegister(&stateCollector{m: m, fn: fn, log: log})
}

func (c *stateCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- inferencesDesc
	ch <- endpointsDesc
	ch <- workersDesc
}

func (c *stateCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), stateTimeout)
	defer cancel()
	st, err := c.fn(ctx)
	if err != nil {
		c.m.stateErrors.Inc()
		c.log.Warn("metrics: counting jobs, endpoints and workers", "error", err)
		return
	}
	for _, n := range st.Inferences {
		ch <- prometheus.MustNewConstMetric(inferencesDesc, prometheus.GaugeValue, float64(n.N), n.Status, n.Backend)
	}
	for _, n := range st.Endpoints {
		ch <- prometheus.MustNewConstMetric(endpointsDesc, prometheus.GaugeValue, float64(n.N), n.Status, n.Backend)
	}
	for pool, n := range st.WorkersOnline {
		ch <- prometheus.MustNewConstMetric(workersDesc, prometheus.GaugeValue, float64(n), pool)
	}
}
