package actions

import (
	"context"

	"easel/policy"
	"easel/store"
)

// CheckpointQuery is GET /checkpoints' filter and page.
type CheckpointQuery struct {
	Statuses []string
	Types    []string
	Roles    []string
	Username string
	Search   string
	Page     int // from 1
	PerPage  int
}

// List returns one page of the checkpoints actor may see (or, with
// Username, that user may see) and the total.
func (h *Checkpoints) List(ctx context.Context, actor policy.Principal, q CheckpointQuery) ([]store.Checkpoint, int, error) {
	whose := actor
	if q.Username != "" && q.Username != actor.Name() {
		if !h.policy.UserExists(q.Username) {
			return nil, 0, store.Errorf(store.EInvalid, "user: %q not exist", q.Username)
		}
		if err := h.policy.Require(actor, policy.CheckpointAll); err != nil {
			return nil, 0, err
		}
		// The filter shows what that user sees: it narrows, never widens.
		whose = policy.User(q.Username)
	}
	viewer, err := h.Viewer(ctx, whose)
	if err != nil {
		return nil, 0, err
	}
	return store.ListCheckpoints(ctx, h.store.DB(), store.CheckpointFilter{
		Statuses: q.Statuses, Types: q.Types, Roles: q.Roles, Search: q.Search, VisibleTo: viewer,
		Limit: q.PerPage, Offset: (q.Page - 1) * q.PerPage,
	})
}
