package handlers

import (
	"log/slog"

	"easel/actions"
	"easel/policy"
	"easel/store"
)

// Roles adapts the roles actions to the API and the console.
type Roles struct {
	*actions.Roles
	store  *store.Store
	policy *policy.Policy
	log    *slog.Logger
}

// NewRoles returns the roles handler over a.
func NewRoles(a *actions.Roles, s *store.Store, p *policy.Policy, log *slog.Logger) *Roles {
	return &Roles{Roles: a, store: s, policy: p, log: log}
}
