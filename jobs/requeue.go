package jobs

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"time"

	"easel/store"
)

// RequeueRunning makes every job River still marks as running available
// again at once. Only for a database no other Easel uses (the embedded
// default): such jobs belonged to a process that was killed.
//
// This file is the one place Easel writes River's tables itself.
func RequeueRunning(ctx context.Context, s *store.Store) error {
	_, err := s.DB().Exec(ctx, `UPDATE river_job SET state = 'available', scheduled_at = now() WHERE state = 'running'`)
	if err != nil {
		return fmt.Errorf("requeue interrupted jobs: %w", err)
	}
	return nil
}

// RequeueOrphaned makes available again, at once, the jobs still running
// under a replica not seen within rescueAfter: it was killed or lost the
// database, and what it ran will never be finished by it. River names the
// client that runs a job last in attempted_by; each replica's River client
// has its replica id. Jobs started less than rescueAfter ago are left
// alone whoever runs them. It returns how many jobs it requeued.
func RequeueOrphaned(ctx context.Context, s *store.Store, rescueAfter time.Duration) (int64, error) {
	tag, err := s.DB().Exec(ctx, `
		UPDATE river_job SET state = 'available', scheduled_at = now()
		WHERE state = 'running' AND attempted_at < now() - make_interval(secs => $1)
		  AND coalesce(attempted_by[array_length(attempted_by, 1)], '') NOT IN (`+store.LiveReplicasSQL+`)`,
		rescueAfter.Seconds())
	if err != nil {
		return 0, fmt.Errorf("requeue orphaned jobs: %w", err)
	}
	return tag.RowsAffected(), nil
}

// NewReplicaID returns a name for this process that no other replica has:
// the host name and a random suffix.
func NewReplicaID() string {
	host, _ := os.Hostname()
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%.60s-%s", host, hex.EncodeToString(b))
}

// KeepAlive reports the replica id alive every quarter of rescueAfter and
// hands other replicas' orphaned jobs back to River (RequeueOrphaned),
// until ctx ends. A job of a killed replica thus runs again within
// 1.25 × rescueAfter, on whichever replica fetches it first. A replica
// that stops calls store.ReplicaGone once its River client stopped.
func KeepAlive(ctx context.Context, s *store.Store, id string, rescueAfter time.Duration, log *slog.Logger) {
	t := time.NewTicker(rescueAfter / 4)
	defer t.Stop()
	for {
		if err := store.ReplicaSeen(ctx, s.DB(), id); err != nil && ctx.Err() == nil {
			log.Warn("replica heartbeat failed", "replica", id, "error", err)
		}
		if n, err := RequeueOrphaned(ctx, s, rescueAfter); err != nil && ctx.Err() == nil {
			log.Warn("requeue of orphaned jobs failed", "error", err)
		} else if n > 0 {
			log.Info("requeued the jobs of a replica gone silent", "count", n, "rescue_after", rescueAfter)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// liveJobArgs returns the arguments of the jobs of kind that run now on a
// replica seen within rescueAfter (reading River's tables).
func liveJobArgs(ctx context.Context, s *store.Store, kind string, rescueAfter time.Duration) ([][]byte, error) {
	rows, err := s.DB().Query(ctx, `
		SELECT args FROM river_job
		WHERE state = 'running' AND kind = $2
		  AND coalesce(attempted_by[array_length(attempted_by, 1)], '') IN (`+store.LiveReplicasSQL+`)`,
		rescueAfter.Seconds(), kind)
	if err != nil {
		return nil, fmt.Errorf("running %s jobs: %w", kind, err)
	}
	defer rows.Close()
	var out [][]byte
	for rows.Next() {
		var args []byte
		if err := rows.Scan(&args); err != nil {
			return nil, err
		}
		out = append(out, args)
	}
	return out, rows.Err()
}
