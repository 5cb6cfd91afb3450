package handlers

import (
	"log/slog"

	"easel/actions"
	"easel/blob"
	"easel/policy"
	"easel/store"
)

// Inferences adapts the inference actions to the API and the console.
type Inferences struct {
	*actions.Inferences
	store     *store.Store
	policy    *policy.Policy
	blob      *blob.Client
	endpoints *Endpoints
	log       *slog.Logger
}

// NewInferences returns the inferences handler over a.
func NewInferences(a *actions.Inferences, s *store.Store, p *policy.Policy, b *blob.Client, e *Endpoints, log *slog.Logger) *Inferences {
	return &Inferences{Inferences: a, store: s, policy: p, blob: b, endpoints: e, log: log}
}
