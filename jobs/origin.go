package jobs

import (
	"context"
	"strconv"

	"github.com/riverqueue/river/rivertype"

	"easel/store"
)

// auditOrigin marks what a job changes as that job's in the audit log:
// via "job:<kind>", and the River job id in place of a request id.
func auditOrigin(ctx context.Context, job *rivertype.JobRow, doInner func(context.Context) error) error {
	o := &store.Origin{Via: store.ViaJob(job.Kind), RequestID: "job-" + strconv.FormatInt(job.ID, 10)}
	return doInner(store.WithOrigin(ctx, o))
}
