package jobs

import (
	"context"
	"fmt"

	"github.com/riverqueue/river"

	"easel/store"
)

// WorkerTimeoutsArgs is the periodic end of worker-pool jobs that had no
// result within EASEL_JOB_TIMEOUT of their start (their workers lease them;
// no River job waits on them).
type WorkerTimeoutsArgs struct{}

// Kind names the job in River.
func (WorkerTimeoutsArgs) Kind() string { return "worker_job_timeouts" }

type workerTimeoutsWorker struct {
	river.WorkerDefaults[WorkerTimeoutsArgs]
	d Deps
}

func (w *workerTimeoutsWorker) Work(ctx context.Context, _ *river.Job[WorkerTimeoutsArgs]) error {
	now := w.d.Store.Now()
	reason := fmt.Sprintf("timed out: no result within %s of the start (EASEL_JOB_TIMEOUT)", w.d.Cfg.JobTimeout)
	n, err := store.TimeOutWorkerJobs(ctx, w.d.Store.DB(), now.Add(-w.d.Cfg.JobTimeout), now, reason)
	if n > 0 {
		w.d.Log.Info("worker jobs timed out", "count", n)
	}
	return err
}
