package main

import (
	"context"
	"time"

	"easel/bench/internal/benchenv"

	"github.com/jackc/pgx/v5"
)

// idleCommitRate measures the commits per second of an idle Easel.
func idleCommitRate(ctx context.Context, db *pgx.Conn) (float64, error) {
	time.Sleep(benchenv.StatsFlush)
	a, err := benchenv.Commits(ctx, db)
	if err != nil {
		return 0, err
	}
	begin := time.Now()
	time.Sleep(5 * time.Second)
	b, err := benchenv.Commits(ctx, db)
	if err != nil {
		return 0, err
	}
	// Our own two reads commit too.
	return float64(b-a-1) / time.Since(begin).Seconds(), nil
}

// dbTimes reads, for the jobs of r, the queue wait and the run as the
// database recorded them.
func dbTimes(ctx context.Context, db *pgx.Conn, r *jobsResult) (err error) {
	r.queued, r.ran, err = benchenv.JobTimes(ctx, db, r.ids)
	return err
}
