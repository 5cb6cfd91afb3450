package metrics

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestObservationsAreBoundedAndSwitchable(t *testing.T) {
	var none *Set // the command line's: records nothing, never panics
	none.ObserveHTTP("/x", "GET", 200, time.Millisecond)
	none.JobStarted("e", "webui", time.Second)
	none.LoginFailed()
	none.Refused(LimitLoginBusy)

	m := New()
	m.ObserveHTTP("/prod/users", "GET", 200, time.Millisecond)
	m.ObserveHTTP("/prod/users", "GET", 204, time.Millisecond)
	m.ObserveHTTP("", "BREW", 418, time.Millisecond)
	if got := testutil.ToFloat64(m.httpRequests.WithLabelValues("/prod/users", "GET", "2xx")); got != 2 {
		t.Errorf("2xx on /prod/users = %v, want 2", got)
	}
	if got := testutil.ToFloat64(m.httpRequests.WithLabelValues("(unmatched)", "other", "4xx")); got != 1 {
		t.Errorf("an unknown route and method = %v, want 1 under (unmatched) and other", got)
	}
	m.SetEnabled(false)
	if m.Enabled() {
		t.Error("SetEnabled(false) left the metrics on")
	}
	m.ObserveHTTP("/prod/users", "GET", 200, time.Millisecond)
	m.LoginFailed()
	m.ModelFetch("gpus", true)
	if got := testutil.ToFloat64(m.httpRequests.WithLabelValues("/prod/users", "GET", "2xx")); got != 2 {
		t.Errorf("requests counted while off: %v, want still 2", got)
	}
	if got := testutil.ToFloat64(m.loginFailures); got != 0 {
		t.Errorf("login failures counted while off: %v", got)
	}
	m.SetEnabled(true)
	m.ModelFetch("gpus", true)
	m.ModelFetch("gpus", false)
	if testutil.ToFloat64(m.downloads.WithLabelValues("gpus")) != 1 || testutil.ToFloat64(m.cacheHits.WithLabelValues("gpus")) != 1 {
		t.Error("one download and one cache hit were not counted as such")
	}
}
