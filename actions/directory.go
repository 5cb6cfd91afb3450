package actions

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"easel/policy"
	"easel/store"
)

// saveUser writes a user row, its casbin grants and the audit row inside
// tx: the one write sequence for users, whoever makes the change.
func saveUser(ctx context.Context, tx pgx.Tx, actor string, up store.UserUpsert, now time.Time) error {
	if err := store.UpsertUser(ctx, tx, up, now); err != nil {
		return err
	}
	if err := policy.SyncUser(ctx, tx, up.Username, up.Roles); err != nil {
		return err
	}
	return store.Audit(ctx, tx, actor, "user.upsert", up.Username, joinComma(up.Roles))
}

// saveRole writes a role row, its casbin rules and the audit row inside tx.
func saveRole(ctx context.Context, tx pgx.Tx, actor string, r store.Role, now time.Time) error {
	if err := store.UpsertRole(ctx, tx, r, now); err != nil {
		return err
	}
	if err := policy.SyncRole(ctx, tx, r.Name, r.Permissions); err != nil {
		return err
	}
	return store.Audit(ctx, tx, actor, "role.upsert", r.Name, joinComma(r.Permissions))
}

// SeedDirectory fills a database that has no users: the roles
// "IT Operator" and "byoc" (the six :all permissions) and the
// administrator admin with the password hash given. A database with users
// is left alone, so seed rows deleted later stay deleted; seeded reports
// whether anything was written.
func SeedDirectory(ctx context.Context, s *store.Store, admin, passwordHash string) (seeded bool, err error) {
	err = s.InTx(ctx, func(tx pgx.Tx) error {
		if err := store.LockUsers(ctx, tx); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM users`).Scan(&n); err != nil || n > 0 {
			return err
		}
		perms := policy.DefaultPermissions()
		for _, role := range []string{store.DefaultRole, "byoc"} {
			if err := saveRole(ctx, tx, policy.ServiceName, store.Role{Name: role, Creator: admin, Permissions: perms}, s.Now()); err != nil {
				return err
			}
		}
		up := store.UserUpsert{Username: admin, Creator: admin, Roles: []string{store.DefaultRole},
			SetPassword: true, PasswordHash: passwordHash}
		if err := saveUser(ctx, tx, policy.ServiceName, up, s.Now()); err != nil {
			return err
		}
		seeded = true
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("seed the first users and roles: %w", err)
	}
	return seeded, nil
}
