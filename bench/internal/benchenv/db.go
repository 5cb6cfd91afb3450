package benchenv

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// StatsFlush is how long to wait before reading pg_stat_database: other
// backends report their counters at most once a second when they go idle.
const StatsFlush = 1500 * time.Millisecond

// Commits reads the bench database's committed transactions.
func Commits(ctx context.Context, db *pgx.Conn) (int64, error) {
	var n int64
	err := db.QueryRow(ctx, `SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()`).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("read xact_commit: %w", err)
	}
	return n, nil
}

// JobTimes reads, for the inferences ids, start -> run (queued) and run ->
// complete (ran) as the database recorded them.
func JobTimes(ctx context.Context, db *pgx.Conn, ids []string) (queued, ran []time.Duration, err error) {
	rows, err := db.Query(ctx, `SELECT (extract(epoch FROM run_time - start_time) * 1e6)::bigint,
			(extract(epoch FROM complete_time - run_time) * 1e6)::bigint FROM inferences
		WHERE id = ANY ($1::uuid[]) AND run_time IS NOT NULL AND complete_time IS NOT NULL`, ids)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var q, r int64 // µs
		if err := rows.Scan(&q, &r); err != nil {
			return nil, nil, err
		}
		queued = append(queued, time.Duration(q)*time.Microsecond)
		ran = append(ran, time.Duration(r)*time.Microsecond)
	}
	return queued, ran, rows.Err()
}
