package app

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"github.com/jackc/pgx/v5"

	"easel/handlers"
	"easel/policy"
	"easel/secrets"
	"easel/store"
)

// bootstrap seeds a database with no users: roles "IT Operator" and "byoc"
// (the six :all permissions) and the administrator. Later starts change
// nothing, so deleted seed rows stay deleted.
func bootstrap(ctx context.Context, s *store.Store, cfg Config, out io.Writer) error {
	n, err := s.CountUsers(ctx)
	if err != nil || n > 0 {
		return err
	}
	password, generated := cfg.AdminPassword, false
	if password == "" {
		password, generated = secrets.RandomPassword(), true
	}
	hash, err := secrets.HashPassword(password)
	if err != nil {
		return err
	}
	perms := policy.DefaultPermissions()
	err = s.InTx(ctx, func(tx pgx.Tx) error {
		if err := store.LockUsers(ctx, tx); err != nil {
			return err
		}
		for _, role := range []string{store.DefaultRole, "byoc"} {
			if err := store.UpsertRole(ctx, tx, store.Role{Name: role, Creator: cfg.AdminUser, Permissions: perms}, s.Now()); err != nil {
				return err
			}
			if err := policy.SyncRole(ctx, tx, role, perms); err != nil {
				return err
			}
		}
		admin := store.UserUpsert{Username: cfg.AdminUser, Creator: cfg.AdminUser, Roles: []string{store.DefaultRole},
			SetPassword: true, PasswordHash: hash}
		if err := store.UpsertUser(ctx, tx, admin, s.Now()); err != nil {
			return err
		}
		if err := policy.SyncUser(ctx, tx, admin.Username, admin.Roles); err != nil {
			return err
		}
		return store.Audit(ctx, tx, policy.ServiceName, "bootstrap", admin.Username, "")
	})
	if err != nil {
		return fmt.Errorf("bootstrap: %w", err)
	}
	if generated {
		fmt.Fprintf(out, "\nEasel created the administrator %q with password: %s\n"+
			"It is shown only this once. Change it in the console (Users) or with `easel user passwd`.\n\n",
			cfg.AdminUser, password)
	}
	return nil
}

// seedServiceKey makes EASEL_API_KEY a service key (once).
func seedServiceKey(ctx context.Context, s *store.Store, p *policy.Policy, key string, log *slog.Logger) error {
	return handlers.NewKeys(s, p, log).Seed(ctx, key)
}
