package handlers

import (
	"log/slog"

	"easel/actions"
	"easel/policy"
	"easel/store"
)

// Users adapts the users actions to the API and the console.
type Users struct {
	*actions.Users
	store  *store.Store
	policy *policy.Policy
	log    *slog.Logger
}

// NewUsers returns the users handler over a.
func NewUsers(a *actions.Users, s *store.Store, p *policy.Policy, log *slog.Logger) *Users {
	return &Users{Users: a, store: s, policy: p, log: log}
}
