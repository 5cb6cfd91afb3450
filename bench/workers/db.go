package main

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"easel/bench/internal/benchenv"
)

// idleCommitRate measures the commits per second while no job runs, over
// window.
func idleCommitRate(ctx context.Context, db *pgx.Conn, window time.Duration) (float64, error) {
	if err := sleep(ctx, benchenv.StatsFlush); err != nil {
		return 0, err
	}
	a, err := benchenv.Commits(ctx, db)
	if err != nil {
		return 0, err
	}
	begin := time.Now()
	if err := sleep(ctx, window); err != nil {
		return 0, err
	}
	b, err := benchenv.Commits(ctx, db)
	if err != nil {
		return 0, err
	}
	// Our own first read commits too.
	return float64(b-a-1) / time.Since(begin).Seconds(), nil
}

// dbTimes reads, for the jobs of r, the queue wait and the run as the
// database recorded them.
func dbTimes(ctx context.Context, db *pgx.Conn, r *result) (err error) {
	r.queued, r.ran, err = benchenv.JobTimes(ctx, db, r.IDs)
	return err
}

// cpuUse is the CPU time used so far by named processes and by each
// Postgres backend of the bench database.
type cpuUse struct {
	procs    map[string]time.Duration
	backends map[string]time.Duration
}

// cpuNow reads the CPU time of procs (name -> pid, "self" for this
// process) and of the database's backends.
func cpuNow(ctx context.Context, db *pgx.Conn, procs map[string]string) (cpuUse, error) {
	u := cpuUse{procs: map[string]time.Duration{}, backends: map[string]time.Duration{}}
	for name, pid := range procs {
		u.procs[name] = benchenv.CPUTime(pid)
	}
	rows, err := db.Query(ctx, `SELECT pid::text FROM pg_stat_activity WHERE datname = current_database()`)
	if err != nil {
		return u, err
	}
	pids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	for _, pid := range pids {
		u.backends[pid] = benchenv.CPUTime(pid)
	}
	return u, err
}

// since returns the CPU time each process used since before, and the
// backends' (those started meanwhile count from zero; those gone
// meanwhile are missed).
func (u cpuUse) since(before cpuUse) (procs map[string]time.Duration, backends time.Duration) {
	procs = map[string]time.Duration{}
	for name, t := range u.procs {
		procs[name] = t - before.procs[name]
	}
	for pid, t := range u.backends {
		backends += t - before.backends[pid]
	}
	return procs, backends
}

// rowWrites reads the rows inserted, updated and deleted so far in each
// table of the bench database.
func rowWrites(ctx context.Context, db *pgx.Conn) (map[string]int64, error) {
	rows, err := db.Query(ctx, `SELECT relname::text, n_tup_ins + n_tup_upd + n_tup_del FROM pg_stat_user_tables`)
	if err != nil {
		return nil, fmt.Errorf("read pg_stat_user_tables: %w", err)
	}
	out := map[string]int64{}
	for rows.Next() {
		var name string
		var n int64
		if err := rows.Scan(&name, &n); err != nil {
			return nil, err
		}
		out[name] = n
	}
	return out, rows.Err()
}
