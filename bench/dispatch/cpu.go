package main

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"easel/bench/internal/benchenv"
)

// cpuUse is the CPU time used so far by this process, the S3 gateway and
// each Postgres backend of the bench database.
type cpuUse struct {
	self, gateway time.Duration
	backends      map[string]time.Duration
}

func cpuNow(ctx context.Context, db *pgx.Conn, gateway string) (cpuUse, error) {
	u := cpuUse{self: benchenv.CPUTime("self"), gateway: benchenv.CPUTime(gateway), backends: map[string]time.Duration{}}
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

// since returns the CPU time used since before: by this process, the
// gateway and the backends (those started meanwhile count from zero; those
// gone meanwhile are missed).
func (u cpuUse) since(before cpuUse) (self, gateway, backends time.Duration) {
	for pid, t := range u.backends {
		backends += t - before.backends[pid]
	}
	return u.self - before.self, u.gateway - before.gateway, backends
}
