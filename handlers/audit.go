package handlers

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"easel/actions"
	"easel/policy"
	"easel/store"
)

// Audit shows the audit log: GET /prod/audit, the console's Audit page
// and its CSV export.
type Audit struct {
	*actions.Audit
	store  *store.Store
	policy *policy.Policy
}

// NewAudit returns the audit log handler.
func NewAudit(a *actions.Audit, s *store.Store, p *policy.Policy) *Audit {
	return &Audit{Audit: a, store: s, policy: p}
}

// auditItem is one entry as the API lists it.
type auditItem struct {
	ID        string          `json:"id"`
	At        string          `json:"at"`
	User      string          `json:"user"`
	Action    string          `json:"action"`
	Target    string          `json:"target"`
	Detail    string          `json:"detail"`
	Via       string          `json:"via"`
	KeyID     *string         `json:"key_id"`
	Address   string          `json:"address"`
	RequestID string          `json:"request_id"`
	Before    json.RawMessage `json:"before"`
	After     json.RawMessage `json:"after"`
}

func auditItemOf(a store.AuditEntry) auditItem {
	it := auditItem{ID: strconv.FormatInt(a.ID, 10), At: a.At.UTC().Format(time.RFC3339Nano), User: a.Actor,
		Action: a.Action, Target: a.Target, Detail: a.Detail, Via: a.Via, Address: a.Address,
		RequestID: a.RequestID, Before: a.Before, After: a.After}
	if a.KeyID != uuid.Nil {
		k := a.KeyID.String()
		it.KeyID = &k
	}
	return it
}

// ListAPI is GET /audit: one page, newest first, with last_evaluated_key
// when more may follow.
func (h *Audit) ListAPI(c echo.Context) error {
	f, err := actions.ParseAuditQuery(c.QueryParams(), true)
	if err != nil {
		return err
	}
	items := []auditItem{}
	err = h.List(c.Request().Context(), actor(c), f, func(a store.AuditEntry) error {
		items = append(items, auditItemOf(a))
		return nil
	})
	if err != nil {
		return err
	}
	data := map[string]any{"audit": items}
	if len(items) == f.Limit {
		data["last_evaluated_key"] = items[len(items)-1].ID
	}
	return Respond(c, http.StatusOK, data, "")
}
