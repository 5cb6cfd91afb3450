package benchenv

import "time"

// Pct is the nearest-rank percentile p of sorted durations.
func Pct(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	i := int(float64(len(d))*p/100+0.5) - 1
	return d[max(0, min(i, len(d)-1))]
}

// MS is d in milliseconds.
func MS(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// Verdict says whether a target is met.
func Verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "NOT met"
}
