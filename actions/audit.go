package actions

import (
	"context"
	"net/url"
	"strconv"
	"strings"
	"time"

	"easel/policy"
	"easel/store"
)

// Audit reads the audit log: the API, the console page and its CSV export
// share these rules.
type Audit struct {
	store  *store.Store
	policy *policy.Policy
}

// NewAudit returns the audit log actions.
func NewAudit(s *store.Store, p *policy.Policy) *Audit {
	return &Audit{store: s, policy: p}
}

// Audit list page sizes: the default and the largest a caller may ask.
const (
	AuditDefaultLimit = 100
	AuditMaxLimit     = 1000
)

// ParseAuditQuery reads the filter of the audit log from the query
// parameters the API and the console take (user, action, target, since,
// until, limit, exclusive_start_key); a bad parameter is an EInvalid
// error naming it. A missing limit is AuditDefaultLimit when paged is
// set, else no limit (the CSV export).
func ParseAuditQuery(q url.Values, paged bool) (store.AuditFilter, error) {
	f := store.AuditFilter{Actor: strings.TrimSpace(q.Get("user")), Action: strings.TrimSpace(q.Get("action")),
		Target: strings.TrimSpace(q.Get("target"))}
	var err error
	if f.Since, err = parseAuditTime("since", q.Get("since")); err != nil {
		return f, err
	}
	if f.Until, err = parseAuditTime("until", q.Get("until")); err != nil {
		return f, err
	}
	if !f.Since.IsZero() && !f.Until.IsZero() && !f.Until.After(f.Since) {
		return f, store.FieldError("until", "until must be later than since")
	}
	if raw := q.Get("exclusive_start_key"); raw != "" {
		n, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || n <= 0 {
			return f, store.FieldError("exclusive_start_key", "exclusive_start_key %q is not a key this API returned", raw)
		}
		f.BeforeID = n
	}
	if paged {
		f.Limit = AuditDefaultLimit
	}
	if raw := q.Get("limit"); raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 1 || n > AuditMaxLimit {
			return f, store.FieldError("limit", "limit must be a whole number from 1 to %d, not %q", AuditMaxLimit, raw)
		}
		f.Limit = n
	}
	return f, nil
}

// auditTimeLayouts are the forms since and until take: RFC 3339, the
// browser's datetime-local (read as UTC) and a date (midnight UTC).
var auditTimeLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02"}

func parseAuditTime(field, raw string) (time.Time, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return time.Time{}, nil
	}
	for _, layout := range auditTimeLayouts {
		if t, err := time.Parse(layout, raw); err == nil {
			return t, nil
		}
	}
	return time.Time{}, store.FieldError(field, "%s must be a time like 2026-01-31T15:04:05Z or a date like 2026-01-31, not %q", field, raw)
}

// List calls fn with each entry q matches, newest first; actor needs
// audit:list (user:all covers it).
func (h *Audit) List(ctx context.Context, actor policy.Principal, f store.AuditFilter, fn func(store.AuditEntry) error) error {
	if err := h.policy.Require(actor, policy.AuditList); err != nil {
		return err
	}
	return store.EachAudit(ctx, h.store.DB(), f, fn)
}
