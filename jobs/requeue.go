package jobs

import (
	"context"
	"fmt"

	"easel/store"
)

// RequeueRunning makes every job River still marks as running available
// again at once. Only for a database no other Easel uses (the embedded
// default): such jobs belonged to a process that was killed. This is the
// one place Easel writes River's tables itself.
func RequeueRunning(ctx context.Context, s *store.Store) error {
	_, err := s.DB().Exec(ctx, `UPDATE river_job SET state = 'available', scheduled_at = now() WHERE state = 'running'`)
	if err != nil {
		return fmt.Errorf("requeue interrupted jobs: %w", err)
	}
	return nil
}
