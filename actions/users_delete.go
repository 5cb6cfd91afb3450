package actions

import (
	"context"
	"errors"
	"slices"

	"github.com/jackc/pgx/v5"

	"easel/policy"
	"easel/store"
)

// Delete removes users as actor, all or none. Unknown names are ignored;
// without user:all, actor may delete only users it created.
func (h *Users) Delete(ctx context.Context, actor policy.Principal, names []string) error {
	names = dedupe(names)
	if err := h.policy.Require(actor, policy.UserCreate); err != nil {
		return err
	}
	err := h.store.InTx(ctx, func(tx pgx.Tx) error {
		if err := store.LockUsers(ctx, tx); err != nil {
			return err
		}
		removesAdministrator := false
		for _, n := range names {
			u, err := store.FindUser(ctx, tx, n)
			if errors.Is(err, store.ErrNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			if !h.owns(actor, u) {
				return policy.Denied(actor, policy.UserAll)
			}
			if err := h.notStronger(actor, u); err != nil {
				return err
			}
			removesAdministrator = removesAdministrator || isAdministrator(u)
		}
		deleted, err := store.DeleteUsers(ctx, tx, names)
		if err != nil || len(deleted) == 0 {
			return err
		}
		if err := policy.DropUsers(ctx, tx, deleted); err != nil {
			return err
		}
		if removesAdministrator {
			if err := keepAnAdministrator(ctx, tx); err != nil {
				return err
			}
		}
		return store.Audit(ctx, tx, actor.Name(), "user.delete", joinComma(deleted), "")
	})
	if err != nil {
		return err
	}
	return h.policy.Reload(ctx)
}

func isAdministrator(u store.User) bool { return slices.Contains(u.Roles, store.DefaultRole) }

// keepAnAdministrator fails when no user would hold the default role.
func keepAnAdministrator(ctx context.Context, tx pgx.Tx) error {
	n, err := store.CountHolders(ctx, tx, store.DefaultRole)
	if err != nil {
		return err
	}
	if n == 0 {
		return store.Errorf(store.EInvalid, "cannot remove the last administrator: at least one user must keep role %q", store.DefaultRole)
	}
	return nil
}
