package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// AuditEntry records who changed what, from where, and how.
type AuditEntry struct {
	ID     int64
	At     time.Time
	Actor  string
	Action string
	Target string
	Detail string
	// Where the change came from (Origin).
	Via       string
	KeyID     uuid.UUID
	Address   string
	RequestID string
	// Before and After summarise the state the change left and made (JSON;
	// nil when the writer gave none). They never hold secrets.
	Before, After json.RawMessage
}

// AuditRecord is one change to record: Audit's arguments, and a summary
// of the state before and after (any JSON-encodable value, nil for none).
type AuditRecord struct {
	Actor, Action, Target, Detail string
	Before, After                 any
}

// Audit appends an entry to the audit log inside db (the transaction of
// the change); the origin (key, address, request id, via) comes from ctx.
func Audit(ctx context.Context, db DBTX, actor, action, target, detail string) error {
	return AuditChange(ctx, db, AuditRecord{Actor: actor, Action: action, Target: target, Detail: detail})
}

// AuditChange appends r to the audit log inside db, with the origin on
// ctx; it fails when the summaries do not encode as JSON.
func AuditChange(ctx context.Context, db DBTX, r AuditRecord) error {
	before, err := summary(r.Before)
	if err != nil {
		return fmt.Errorf("audit %s: before: %w", r.Action, err)
	}
	after, err := summary(r.After)
	if err != nil {
		return fmt.Errorf("audit %s: after: %w", r.Action, err)
	}
	o := OriginOf(ctx)
	var key *uuid.UUID
	if o.KeyID != uuid.Nil {
		key = &o.KeyID
	}
	_, err = db.Exec(ctx,
		`INSERT INTO audit_log (actor, action, target, detail, via, key_id, address, request_id, before, after)
		 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		r.Actor, r.Action, r.Target, r.Detail, o.Via, key, o.Address, o.RequestID, before, after)
	return translate("audit", err)
}

// summary encodes v for a jsonb column; nil stays NULL.
func summary(v any) ([]byte, error) {
	if v == nil {
		return nil, nil
	}
	if raw, ok := v.(json.RawMessage); ok {
		return raw, nil
	}
	return json.Marshal(v)
}

// AuditFilter narrows the audit log. Empty fields match everything.
type AuditFilter struct {
	// Actor is the acting user (or "service", "easel").
	Actor string
	// Action is one action ("user.upsert"), or a kind of thing ("user")
	// for all its actions.
	Action string
	// Target is what was changed, exactly as recorded.
	Target string
	// ExceptKinds leaves out the actions on these kinds of thing.
	ExceptKinds []string
	// Since (inclusive) and Until (exclusive) bound the time.
	Since, Until time.Time
	// BeforeID continues a listing after the entry with this id (keyset
	// paging, newest first); 0 starts at the newest.
	BeforeID int64
	// Limit caps the entries (0: all).
	Limit int
}

const auditColumns = `id, at, actor, action, target, detail, via, coalesce(key_id, '00000000-0000-0000-0000-000000000000'), address, request_id, before, after`

// EachAudit calls fn with every entry f matches, newest first, streaming
// the rows; it stops at fn's first error and returns it.
func EachAudit(ctx context.Context, db DBTX, f AuditFilter, fn func(AuditEntry) error) error {
	where, args := auditWhere(f)
	q := `SELECT ` + auditColumns + ` FROM audit_log` + where + ` ORDER BY id DESC`
	if f.Limit > 0 {
		args = append(args, f.Limit)
		q += fmt.Sprintf(` LIMIT $%d`, len(args))
	}
	rows, err := db.Query(ctx, q, args...)
	if err != nil {
		return translate("list audit", err)
	}
	defer rows.Close()
	for rows.Next() {
		a, err := scanAudit(rows)
		if err != nil {
			return translate("list audit", err)
		}
		if err := fn(a); err != nil {
			return err
		}
	}
	return translate("list audit", rows.Err())
}

// ListAudit returns the entries f matches, newest first.
func ListAudit(ctx context.Context, db DBTX, f AuditFilter) ([]AuditEntry, error) {
	out := []AuditEntry{}
	err := EachAudit(ctx, db, f, func(a AuditEntry) error {
		out = append(out, a)
		return nil
	})
	return out, err
}

func auditWhere(f AuditFilter) (string, []any) {
	var conds []string
	var args []any
	add := func(cond string, arg any) {
		args = append(args, arg)
		conds = append(conds, fmt.Sprintf(cond, len(args)))
	}
	if f.Actor != "" {
		add(`actor = $%d`, f.Actor)
	}
	if strings.Contains(f.Action, ".") {
		add(`action = $%d`, f.Action)
	} else if f.Action != "" {
		add(`action LIKE $%d`, likePrefix(f.Action+"."))
	}
	if f.Target != "" {
		add(`target = $%d`, f.Target)
	}
	if len(f.ExceptKinds) > 0 {
		patterns := make([]string, len(f.ExceptKinds))
		for i, k := range f.ExceptKinds {
			patterns[i] = likePrefix(k + ".")
		}
		add(`action NOT LIKE ALL ($%d)`, patterns)
	}
	if !f.Since.IsZero() {
		add(`at >= $%d`, f.Since)
	}
	if !f.Until.IsZero() {
		add(`at < $%d`, f.Until)
	}
	if f.BeforeID > 0 {
		add(`id < $%d`, f.BeforeID)
	}
	if len(conds) == 0 {
		return "", nil
	}
	return "\nWHERE " + strings.Join(conds, "\n  AND "), args
}

// likePrefix is a LIKE pattern matching strings that start with p.
func likePrefix(p string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return r.Replace(p) + "%"
}

func scanAudit(r pgx.Row) (AuditEntry, error) {
	var a AuditEntry
	err := r.Scan(&a.ID, &a.At, &a.Actor, &a.Action, &a.Target, &a.Detail, &a.Via, &a.KeyID,
		&a.Address, &a.RequestID, &a.Before, &a.After)
	return a, err
}

// RecentAudit returns the newest audit entries, at most limit, but for
// sign-ins and sign-outs: the changes made, for the dashboard.
func RecentAudit(ctx context.Context, db DBTX, limit int) ([]AuditEntry, error) {
	return ListAudit(ctx, db, AuditFilter{Limit: limit, ExceptKinds: []string{"session"}})
}

// RecentAuditOf returns the newest audit entries about target, at most limit.
func RecentAuditOf(ctx context.Context, db DBTX, target string, limit int) ([]AuditEntry, error) {
	return ListAudit(ctx, db, AuditFilter{Target: target, Limit: limit})
}

// DeleteAuditBefore removes at most batch entries older than cutoff,
// oldest first, and returns how many it removed; callers repeat until it
// returns fewer than batch, so no one statement holds many locks.
func DeleteAuditBefore(ctx context.Context, db DBTX, cutoff time.Time, batch int) (int64, error) {
	tag, err := db.Exec(ctx,
		`DELETE FROM audit_log WHERE id IN (
		   SELECT id FROM audit_log WHERE at < $1 ORDER BY id LIMIT $2)`, cutoff, batch)
	if err != nil {
		return 0, translate("delete audit", err)
	}
	return tag.RowsAffected(), nil
}
