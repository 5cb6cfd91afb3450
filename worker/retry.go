package worker

import (
	"context"
	"math/rand/v2"
	"time"
)

// backoff returns the wait before retry n (0-based): RetryBase·2ⁿ capped
// at RetryMax, less up to a fifth at random so that workers restarted
// together do not call together.
func (w *Worker) backoff(n int) time.Duration {
	d := w.cfg.RetryBase
	for i := 0; i < n && d < w.cfg.RetryMax; i++ {
		d *= 2
	}
	d = min(d, w.cfg.RetryMax)
	return d - time.Duration(rand.Int64N(int64(d)/5+1))
}

// sleep waits d or until ctx is done, whose error it then returns.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
