package handlers

import (
	"log/slog"

	"easel/actions"
	"easel/policy"
	"easel/store"
)

// Keys adapts the API-key actions to the console.
type Keys struct {
	*actions.Keys
	store  *store.Store
	policy *policy.Policy
	log    *slog.Logger
}

// NewKeys returns the keys handler over a.
func NewKeys(a *actions.Keys, s *store.Store, p *policy.Policy, log *slog.Logger) *Keys {
	return &Keys{Keys: a, store: s, policy: p, log: log}
}
