package store

import (
	"context"
	"time"
)

// StatusCount is how many rows have one status on one backend.
type StatusCount struct {
	Status, Backend string
	N               int
}

// CountInferences counts the jobs by status and backend (one scan of the
// table: the metrics scrape calls it, with a timeout).
func CountInferences(ctx context.Context, db DBTX) ([]StatusCount, error) {
	return countByStatus(ctx, db, `SELECT status, endpoint_backend, count(*) FROM inferences GROUP BY 1, 2`)
}

// CountEndpoints counts the endpoints by status and backend.
func CountEndpoints(ctx context.Context, db DBTX) ([]StatusCount, error) {
	return countByStatus(ctx, db, `SELECT status, backend, count(*) FROM endpoints GROUP BY 1, 2`)
}

func countByStatus(ctx context.Context, db DBTX, sql string) ([]StatusCount, error) {
	rows, err := db.Query(ctx, sql)
	if err != nil {
		return nil, translate("count", err)
	}
	defer rows.Close()
	var out []StatusCount
	for rows.Next() {
		var c StatusCount
		if err := rows.Scan(&c.Status, &c.Backend, &c.N); err != nil {
			return nil, translate("count", err)
		}
		out = append(out, c)
	}
	return out, translate("count", rows.Err())
}

// CountOnlineWorkersByPool counts the workers seen since since, by pool.
func CountOnlineWorkersByPool(ctx context.Context, db DBTX, since time.Time) (map[string]int, error) {
	rows, err := db.Query(ctx, `SELECT pool, count(*) FROM workers WHERE last_seen >= $1 GROUP BY pool`, since)
	if err != nil {
		return nil, translate("count workers", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var pool string
		var n int
		if err := rows.Scan(&pool, &n); err != nil {
			return nil, translate("count workers", err)
		}
		out[pool] = n
	}
	return out, translate("count workers", rows.Err())
}
