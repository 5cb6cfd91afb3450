// Package metrics is Easel's Prometheus instrumentation: one registry per
// process (never the client library's global one), the easel_* series the
// README's Monitoring section lists, and the functions the other layers
// call where things happen. A nil *Set records nothing, so the command
// line and unit tests need none.
package metrics

import (
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Set is one process's metrics.
type Set struct {
	reg *prometheus.Registry
	// off stops every observation (bench/api measures their cost).
	off atomic.Bool

	httpRequests  *prometheus.CounterVec
	httpDuration  *prometheus.HistogramVec
	queueWait     *prometheus.HistogramVec
	runTime       *prometheus.HistogramVec
	downloads     *prometheus.CounterVec
	cacheHits     *prometheus.CounterVec
	s3Duration    *prometheus.HistogramVec
	dbDuration    *prometheus.HistogramVec
	loginFailures prometheus.Counter
	refusals      *prometheus.CounterVec
	stateErrors   prometheus.Counter
}

// Buckets of the latency histograms: HTTP (a worker's lease is a long poll
// of up to 25 s), object store and database calls.
var (
	httpBuckets = []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}
	callBuckets = []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}
	// Jobs wait in a queue and run on GPUs: seconds to an hour.
	jobBuckets = []float64{.1, .25, .5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300, 600, 1800, 3600}
)

// New returns a Set registered on its own registry, with the Go runtime
// and process collectors beside Easel's.
func New() *Set {
	m := &Set{reg: prometheus.NewRegistry()}
	m.httpRequests = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "easel_http_requests_total",
		Help: "HTTP requests answered, by route pattern, method and status class (2xx, 4xx, ...)."},
		[]string{"route", "method", "status"})
	m.httpDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "easel_http_request_duration_seconds",
		Help: "Time to answer an HTTP request, by route pattern and method.", Buckets: httpBuckets},
		[]string{"route", "method"})
	m.queueWait = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "easel_inference_queue_wait_seconds",
		Help: "Time from an inference's start to its first run on a backend, by endpoint and backend.", Buckets: jobBuckets},
		[]string{"endpoint", "backend"})
	m.runTime = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "easel_inference_run_seconds",
		Help: "Time from an inference's (last) run start to its end, by endpoint, backend and outcome (succeed, failed).", Buckets: jobBuckets},
		[]string{"endpoint", "backend", "status"})
	m.downloads = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "easel_worker_model_downloads_total",
		Help: "Jobs for which an easel worker had to download a model first, by pool."}, []string{"pool"})
	m.cacheHits = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "easel_worker_model_cache_hits_total",
		Help: "Jobs whose models an easel worker had cached already, by pool."}, []string{"pool"})
	m.s3Duration = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "easel_s3_request_duration_seconds",
		Help: "Time of one object store request (each retry counts), by S3 operation.", Buckets: callBuckets},
		[]string{"operation"})
	m.dbDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "easel_db_query_duration_seconds",
		Help: "Time of one Postgres statement, by operation (verb and table, or River's query name).", Buckets: callBuckets},
		[]string{"operation"})
	m.loginFailures = prometheus.NewCounter(prometheus.CounterOpts{Name: "easel_login_failures_total",
		Help: "Console sign-ins refused for a wrong user name or password."})
	m.refusals = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "easel_limit_refusals_total",
		Help: "Requests refused by a limit: login_throttle (too many failed sign-ins), login_busy (too many password checks at once), console_body (body over 1 MiB)."},
		[]string{"limit"})
	m.stateErrors = prometheus.NewCounter(prometheus.CounterOpts{Name: "easel_state_query_errors_total",
		Help: "Scrapes whose count of inferences, endpoints or workers failed or timed out (those gauges were left out)."})
	m.reg.MustRegister(m.httpRequests, m.httpDuration, m.queueWait, m.runTime, m.downloads, m.cacheHits,
		m.s3Duration, m.dbDuration, m.loginFailures, m.refusals, m.stateErrors,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	for _, limit := range []string{LimitLoginThrottle, LimitLoginBusy, LimitConsoleBody} {
		m.refusals.WithLabelValues(limit)
	}
	return m
}

// Limits that refuse requests (easel_limit_refusals_total).
const (
	LimitLoginThrottle = "login_throttle"
	LimitLoginBusy     = "login_busy"
	LimitConsoleBody   = "console_body"
)

// Registry is the Set's registry (tests gather from it).
func (m *Set) Registry() *prometheus.Registry { return m.reg }

// Handler serves the registry in the Prometheus text format (or
// OpenMetrics when asked).
func (m *Set) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
}

// SetEnabled turns every observation on or off. Only bench/api turns them
// off, to measure what they cost; they are on from New.
func (m *Set) SetEnabled(on bool) { m.off.Store(!on) }

// Enabled reports whether observations are recorded.
func (m *Set) Enabled() bool { return m != nil && !m.off.Load() }

// ObserveHTTP records one answered request. route is the route pattern
// (never the raw URL): "" means no route matched, and is "(unmatched)".
func (m *Set) ObserveHTTP(route, method string, status int, d time.Duration) {
	if !m.Enabled() {
		return
	}
	if route == "" {
		route = "(unmatched)"
	}
	switch method {
	case http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodHead, http.MethodOptions, http.MethodPatch:
	default:
		method = "other" // clients may send any word
	}
	m.httpRequests.WithLabelValues(route, method, statusClass(status)).Inc()
	m.httpDuration.WithLabelValues(route, method).Observe(d.Seconds())
}

var classes = [...]string{"1xx", "2xx", "3xx", "4xx", "5xx"}

func statusClass(status int) string {
	if i := status/100 - 1; i >= 0 && i < len(classes) {
		return classes[i]
	}
	return strconv.Itoa(status)
}

// JobStarted records an inference's first run on its backend, wait after
// its start.
func (m *Set) JobStarted(endpoint, backend string, wait time.Duration) {
	if m.Enabled() {
		m.queueWait.WithLabelValues(endpoint, backend).Observe(max(wait, 0).Seconds())
	}
}

// JobFinished records an inference its backend ended with status, run
// after its (last) run start; a job that never ran counts 0.
func (m *Set) JobFinished(endpoint, backend, status string, run time.Duration) {
	if m.Enabled() {
		m.runTime.WithLabelValues(endpoint, backend, status).Observe(max(run, 0).Seconds())
	}
}

// ModelFetch records whether a worker of pool had to download a model for
// a job (else its cache had them).
func (m *Set) ModelFetch(pool string, downloaded bool) {
	if !m.Enabled() {
		return
	}
	if downloaded {
		m.downloads.WithLabelValues(pool).Inc()
	} else {
		m.cacheHits.WithLabelValues(pool).Inc()
	}
}

// ObserveS3 records one object store request (blob.CallObserver).
func (m *Set) ObserveS3(operation string, d time.Duration) {
	m.s3Duration.WithLabelValues(operation).Observe(d.Seconds())
}

// ObserveQuery records one Postgres statement (store.QueryObserver).
func (m *Set) ObserveQuery(operation string, d time.Duration) {
	m.dbDuration.WithLabelValues(operation).Observe(d.Seconds())
}

// LoginFailed records a sign-in refused for wrong credentials.
func (m *Set) LoginFailed() {
	if m.Enabled() {
		m.loginFailures.Inc()
	}
}

// Refused records a request a limit refused.
func (m *Set) Refused(limit string) {
	if m.Enabled() {
		m.refusals.WithLabelValues(limit).Inc()
	}
}
