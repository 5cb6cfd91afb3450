package handlers

import (
	"log/slog"

	"easel/actions"
	"easel/blob"
	"easel/policy"
	"easel/store"
)

// Checkpoints adapts the model-library actions to the API and the console.
type Checkpoints struct {
	*actions.Checkpoints
	store  *store.Store
	policy *policy.Policy
	blob   *blob.Client
	log    *slog.Logger
}

// NewCheckpoints returns the checkpoints handler over a.
func NewCheckpoints(a *actions.Checkpoints, s *store.Store, p *policy.Policy, b *blob.Client, log *slog.Logger) *Checkpoints {
	return &Checkpoints{Checkpoints: a, store: s, policy: p, blob: b, log: log}
}
