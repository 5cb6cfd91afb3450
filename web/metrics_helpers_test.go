package web_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"easel/internal/testenv"
)

// metricsToken is EASEL_METRICS_TOKEN of the servers these tests start.
const metricsToken = "metrics-token-0123456789"

// withMetricsToken starts a server whose /metrics needs metricsToken.
var withMetricsToken = testenv.WithEnv("EASEL_METRICS_TOKEN", metricsToken)

// scrapeText GETs /metrics with the token and returns the body; the
// status must be 200.
func scrapeText(t *testing.T, s *testenv.Server) string {
	t.Helper()
	status, body := getMetrics(t, s, "Bearer "+metricsToken)
	if status != http.StatusOK {
		t.Fatalf("GET /metrics with the token: %d %s", status, body)
	}
	return body
}

// scrape parses the text of /metrics with the Prometheus parser.
func scrape(t *testing.T, s *testenv.Server) map[string]*dto.MetricFamily {
	t.Helper()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(strings.NewReader(scrapeText(t, s)))
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	return fams
}

func getMetrics(t *testing.T, s *testenv.Server, auth string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, s.URL+"/metrics", nil)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// series returns the metric of family name whose labels include want, or
// nil.
func series(fams map[string]*dto.MetricFamily, name string, want map[string]string) *dto.Metric {
	f := fams[name]
	if f == nil {
		return nil
	}
next:
	for _, m := range f.GetMetric() {
		have := map[string]string{}
		for _, l := range m.GetLabel() {
			have[l.GetName()] = l.GetValue()
		}
		for k, v := range want {
			if have[k] != v {
				continue next
			}
		}
		return m
	}
	return nil
}

// value is a counter's, gauge's or untyped sample's value, or a
// histogram's count; -1 when the series is missing.
func value(fams map[string]*dto.MetricFamily, name string, labels map[string]string) float64 {
	m := series(fams, name, labels)
	switch {
	case m == nil:
		return -1
	case m.Counter != nil:
		return m.Counter.GetValue()
	case m.Gauge != nil:
		return m.Gauge.GetValue()
	case m.Histogram != nil:
		return float64(m.Histogram.GetSampleCount())
	case m.Untyped != nil:
		return m.Untyped.GetValue()
	}
	return -1
}

// checkHistogram checks a histogram series' shape: buckets ascending and
// cumulative, the last finite bucket no more than the count, count n.
func checkHistogram(t *testing.T, fams map[string]*dto.MetricFamily, name string, labels map[string]string, n uint64) {
	t.Helper()
	m := series(fams, name, labels)
	if m == nil || m.Histogram == nil {
		t.Errorf("no histogram %s%v", name, labels)
		return
	}
	h := m.Histogram
	if h.GetSampleCount() != n {
		t.Errorf("%s%v: count %d, want %d", name, labels, h.GetSampleCount(), n)
	}
	if len(h.GetBucket()) < 5 {
		t.Errorf("%s%v: %d buckets, want several", name, labels, len(h.GetBucket()))
	}
	var bound float64
	var cum uint64
	for i, b := range h.GetBucket() {
		if i > 0 && b.GetUpperBound() <= bound {
			t.Errorf("%s: bucket bounds not ascending at %v", name, b.GetUpperBound())
		}
		if b.GetCumulativeCount() < cum || b.GetCumulativeCount() > h.GetSampleCount() {
			t.Errorf("%s: bucket le=%v holds %d, after %d of %d", name, b.GetUpperBound(), b.GetCumulativeCount(), cum, h.GetSampleCount())
		}
		bound, cum = b.GetUpperBound(), b.GetCumulativeCount()
	}
	if n > 0 && h.GetSampleSum() <= 0 {
		t.Errorf("%s%v: sum %v, want the time spent", name, labels, h.GetSampleSum())
	}
}
