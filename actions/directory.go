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
// tx: the one write sequence for users, whoever makes the change. before
// is the user as it was, nil for a new one.
func saveUser(ctx context.Context, tx pgx.Tx, actor string, up store.UserUpsert, before *store.User, now time.Time) error {
	if err := store.UpsertUser(ctx, tx, up, now); err != nil {
		return err
	}
	if err := policy.SyncUser(ctx, tx, up.Username, up.Roles); err != nil {
		return err
	}
	rec := store.AuditRecord{Actor: actor, Action: "user.upsert", Target: up.Username, Detail: joinComma(up.Roles),
		After: userSummary{Roles: up.Roles, PasswordChanged: up.SetPassword}}
	if before != nil {
		rec.Before = userSummary{Roles: before.Roles}
	}
	return store.AuditChange(ctx, tx, rec)
}

// userSummary is what the audit log keeps of a user: never the password,
// only whether it was set.
type userSummary struct {
	Roles           []string `json:"roles"`
	PasswordChanged bool     `json:"password_changed,omitempty"`
}

// saveRole writes a role row, its casbin rules and the audit row inside
// tx; before is the role as it was, nil for a new one.
func saveRole(ctx context.Context, tx pgx.Tx, actor string, r store.Role, before *store.Role, now time.Time) error {
	if err := store.UpsertRole(ctx, tx, r, now); err != nil {
		return err
	}
	if err := policy.SyncRole(ctx, tx, r.Name, r.Permissions); err != nil {
		return err
	}
	rec := store.AuditRecord{Actor: actor, Action: "role.upsert", Target: r.Name, Detail: joinComma(r.Permissions),
		After: map[string][]string{"permissions": r.Permissions}}
	if before != nil {
		rec.Before = map[string][]string{"permissions": before.Permissions}
	}
	return store.AuditChange(ctx, tx, rec)
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
			if err := saveRole(ctx, tx, policy.ServiceName, store.Role{Name: role, Creator: admin, Permissions: perms}, nil, s.Now()); err != nil {
				return err
			}
		}
		up := store.UserUpsert{Username: admin, Creator: admin, Roles: []string{store.DefaultRole},
			SetPassword: true, PasswordHash: passwordHash}
		if err := saveUser(ctx, tx, policy.ServiceName, up, nil, s.Now()); err != nil {
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
