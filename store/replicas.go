package store

import (
	"context"
)

// ReplicaSeen records that the replica id is alive now (the database's
// clock, so replicas' clocks need not agree) and forgets replicas silent
// for a day.
func ReplicaSeen(ctx context.Context, db DBTX, id string) error {
	_, err := db.Exec(ctx, `
		WITH forgotten AS (DELETE FROM replicas WHERE seen_at < now() - interval '1 day' AND id <> $1)
		INSERT INTO replicas (id) VALUES ($1)
		ON CONFLICT (id) DO UPDATE SET seen_at = now()`, id)
	return err
}

// ReplicaGone removes the replica id (it stopped): what it still runs is
// anybody's at once.
func ReplicaGone(ctx context.Context, db DBTX, id string) error {
	_, err := db.Exec(ctx, `DELETE FROM replicas WHERE id = $1`, id)
	return err
}

// LiveReplicasSQL selects the ids of the replicas seen within $1 seconds,
// for queries that judge who still owns work.
const LiveReplicasSQL = `SELECT id FROM replicas WHERE seen_at > now() - make_interval(secs => $1)`
