package handlers

import (
	"log/slog"

	"easel/actions"
	"easel/policy"
	"easel/store"
)

// Endpoints adapts the endpoint actions to the API and the console.
type Endpoints struct {
	*actions.Endpoints
	store  *store.Store
	policy *policy.Policy
	log    *slog.Logger
	// workers lists a worker pool's workers on its endpoints' pages.
	workers *WorkerPages
}

// NewEndpoints returns the endpoints handler over a.
func NewEndpoints(a *actions.Endpoints, s *store.Store, p *policy.Policy, log *slog.Logger) *Endpoints {
	return &Endpoints{Endpoints: a, store: s, policy: p, log: log}
}

// ShowWorkers makes the detail page of a worker-pool endpoint list the
// pool's workers.
func (h *Endpoints) ShowWorkers(w *WorkerPages) { h.workers = w }
