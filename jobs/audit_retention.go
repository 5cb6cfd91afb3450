package jobs

import (
	"context"

	"github.com/riverqueue/river"

	"easel/store"
)

// auditPruneBatch is how many audit entries one statement deletes, so a
// first prune of a large log never holds many row locks at once.
const auditPruneBatch = 1000

// AuditRetentionArgs is the periodic removal of audit entries older than
// EASEL_AUDIT_RETENTION.
type AuditRetentionArgs struct{}

// Kind names the job in River.
func (AuditRetentionArgs) Kind() string { return "audit_retention" }

type auditRetentionWorker struct {
	river.WorkerDefaults[AuditRetentionArgs]
	d Deps
}

func (w *auditRetentionWorker) Work(ctx context.Context, _ *river.Job[AuditRetentionArgs]) error {
	_, err := PruneAudit(ctx, w.d)
	return err
}

// PruneAudit deletes the audit entries older than the retention by the
// store's clock, in batches, and returns how many it deleted. A retention
// of zero keeps everything.
func PruneAudit(ctx context.Context, d Deps) (int64, error) {
	if d.Cfg.AuditRetention <= 0 {
		return 0, nil
	}
	cutoff := d.Store.Now().Add(-d.Cfg.AuditRetention)
	var total int64
	for {
		n, err := store.DeleteAuditBefore(ctx, d.Store.DB(), cutoff, auditPruneBatch)
		total += n
		if err != nil || n < auditPruneBatch {
			if total > 0 {
				d.Log.Info("pruned the audit log", "deleted", total, "before", cutoff)
			}
			return total, err
		}
	}
}
