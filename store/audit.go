package store

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
)

// AuditEntry records who changed what.
type AuditEntry struct {
	At     time.Time
	Actor  string
	Action string
	Target string
	Detail string
}

// Audit appends an entry to the audit log inside db (usually a transaction).
func Audit(ctx context.Context, db DBTX, actor, action, target, detail string) error {
	_, err := db.Exec(ctx,
		`INSERT INTO audit_log (actor, action, target, detail) VALUES ($1, $2, $3, $4)`,
		actor, action, target, detail)
	return translate("audit", err)
}

// RecentAudit returns the newest audit entries, at most limit.
func RecentAudit(ctx context.Context, db DBTX, limit int) ([]AuditEntry, error) {
	rows, err := db.Query(ctx,
		`SELECT at, actor, action, target, detail FROM audit_log ORDER BY id DESC LIMIT $1`, limit)
	if err != nil {
		return nil, translate("recent audit", err)
	}
	defer rows.Close()
	var out []AuditEntry
	for rows.Next() {
		var a AuditEntry
		if err := rows.Scan(&a.At, &a.Actor, &a.Action, &a.Target, &a.Detail); err != nil {
			return nil, translate("recent audit", err)
		}
		out = append(out, a)
	}
	return out, translate("recent audit", rows.Err())
}

// RecentAuditOf returns the newest audit entries about target, at most limit.
func RecentAuditOf(ctx context.Context, db DBTX, target string, limit int) ([]AuditEntry, error) {
	rows, err := db.Query(ctx,
		`SELECT at, actor, action, target, detail FROM audit_log WHERE target = $1 ORDER BY id DESC LIMIT $2`, target, limit)
	if err != nil {
		return nil, translate("audit of", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (AuditEntry, error) {
		var a AuditEntry
		err := r.Scan(&a.At, &a.Actor, &a.Action, &a.Target, &a.Detail)
		return a, err
	})
	return out, translate("audit of", err)
}
