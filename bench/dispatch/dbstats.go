package main

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// statsFlush is how long to wait before reading pg_stat_database: other
// backends report their counters at most once a second when they go idle.
const statsFlush = 1500 * time.Millisecond

// commits reads the bench database's committed transactions.
func commits(ctx context.Context, db *pgx.Conn) (int64, error) {
	var n int64
	err := db.QueryRow(ctx, `SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()`).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("read xact_commit: %w", err)
	}
	return n, nil
}

// idleCommitRate measures the commits per second of an idle Easel.
func idleCommitRate(ctx context.Context, db *pgx.Conn) (float64, error) {
	time.Sleep(statsFlush)
	a, err := commits(ctx, db)
	if err != nil {
		return 0, err
	}
	begin := time.Now()
	time.Sleep(5 * time.Second)
	b, err := commits(ctx, db)
	if err != nil {
		return 0, err
	}
	// Our own two reads commit too.
	return float64(b-a-1) / time.Since(begin).Seconds(), nil
}

// dbTimes reads, for the jobs of r, start -> run and run -> complete as
// the database recorded them.
func dbTimes(ctx context.Context, db *pgx.Conn, r *jobsResult) error {
	rows, err := db.Query(ctx, `SELECT (extract(epoch FROM run_time - start_time) * 1e6)::bigint,
			(extract(epoch FROM complete_time - run_time) * 1e6)::bigint FROM inferences
		WHERE id = ANY ($1::uuid[]) AND run_time IS NOT NULL AND complete_time IS NOT NULL`, r.ids)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var queued, ran int64 // µs
		if err := rows.Scan(&queued, &ran); err != nil {
			return err
		}
		r.queued = append(r.queued, time.Duration(queued)*time.Microsecond)
		r.ran = append(r.ran, time.Duration(ran)*time.Microsecond)
	}
	return rows.Err()
}
