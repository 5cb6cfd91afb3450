package store

import (
	"context"
	"time"
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
func (s *Store) RecentAudit(ctx context.Context, limit int) ([]AuditEntry, error) {
	rows, err := s.Pool.Query(ctx,
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
