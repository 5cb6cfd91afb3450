package handlers

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
	viewer, err := h.viewer(ctx, actor)
	if err != nil {
		return nil, 0, err
	}
	if q.Username != "" && q.Username != actor.Name() {
		u, err := h.store.FindUser(ctx, q.Username)
		if err == store.ErrNotFound {
			return nil, 0, store.Errorf(store.EInvalid, "user: %q not exist", q.Username)
		} else if err != nil {
			return nil, 0, err
		}
		if err := h.policy.Require(actor, "checkpoint:all"); err != nil {
			return nil, 0, err
		}
		if viewer != nil {
			viewer = &store.Viewer{Username: u.Username, Roles: u.Roles}
		}
	}
	return h.store.ListCheckpoints(ctx, store.CheckpointFilter{
		Statuses: q.Statuses, Types: q.Types, Roles: q.Roles, Search: q.Search, VisibleTo: viewer,
		Limit: q.PerPage, Offset: (q.Page - 1) * q.PerPage,
	})
}
