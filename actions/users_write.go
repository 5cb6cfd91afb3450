package actions

import (
	"context"
	"errors"
	"slices"

	"github.com/jackc/pgx/v5"

	"easel/policy"
	"easel/secrets"
	"easel/store"
)

// Upsert creates or overwrites a user as actor.
func (h *Users) Upsert(ctx context.Context, actor policy.Principal, in UserInput) error {
	if err := in.Validate(); err != nil {
		return err
	}
	if err := h.policy.Require(actor, policy.UserCreate); err != nil {
		return err
	}
	roles := dedupe(in.Roles)
	up, err := h.prepare(in, actor.Name(), roles)
	if err != nil {
		return err
	}
	return h.write(ctx, actor, up, in.KeepSession, func(tx pgx.Tx, existing *store.User) error {
		if existing != nil {
			if !h.owns(actor, *existing) {
				return store.Errorf(store.EInvalid, "username %s has already exists, creator %s does not have permissions to change it", in.Username, actor.Name())
			}
			if err := h.notStronger(actor, *existing); err != nil {
				return err
			}
		}
		missing, err := store.MissingRoles(ctx, tx, roles)
		if err != nil {
			return err
		}
		if len(missing) > 0 {
			return store.FieldError("roles", "user roles %q not exist", missing[0])
		}
		perms, err := store.PermissionsOfRoles(ctx, tx, roles)
		if err != nil {
			return err
		}
		if p, lacking := h.policy.Lacking(actor, perms); lacking {
			return store.Errorf(store.EForbidden, "creator has no permission to assign permission [%s] to others", p)
		}
		return nil
	})
}

// Bootstrap is ESD's `initial: true`: create or reset a user holding the
// default role. A service key may (ESD's shared-key model); a user only
// when it holds user:all and every permission of the default role already,
// and it never resets a user it could not otherwise change.
func (h *Users) Bootstrap(ctx context.Context, actor policy.Principal, in UserInput) error {
	if err := in.Validate(); err != nil {
		return err
	}
	if !actor.Service && !h.policy.Can(actor, policy.UserAll) {
		return policy.Denied(actor, policy.UserAll)
	}
	creator := actor.Name()
	if actor.Service {
		creator = in.Username
	}
	up, err := h.prepare(in, creator, []string{store.DefaultRole})
	if err != nil {
		return err
	}
	return h.write(ctx, actor, up, "", func(tx pgx.Tx, existing *store.User) error {
		perms, err := store.PermissionsOfRoles(ctx, tx, up.Roles)
		if err != nil {
			return err
		}
		if err := h.holdsAll(actor, perms, "grant role "+store.DefaultRole); err != nil {
			return err
		}
		if existing != nil {
			return h.notStronger(actor, *existing)
		}
		return nil
	})
}

// SetPassword replaces the password of name: the user itself, or whoever
// may change that user.
func (h *Users) SetPassword(ctx context.Context, actor policy.Principal, name, password string) error {
	target, err := store.FindUser(ctx, h.store.DB(), name)
	if err != nil {
		return err
	}
	pw := password
	return h.Upsert(ctx, actor, UserInput{Username: name, Password: &pw, Roles: target.Roles})
}

// prepare hashes (and, in ESD reveal mode, seals) the password.
func (h *Users) prepare(in UserInput, creator string, roles []string) (store.UserUpsert, error) {
	up := store.UserUpsert{Username: in.Username, Creator: creator, Roles: roles}
	if in.Password == nil {
		return up, nil
	}
	up.SetPassword = true
	if *in.Password == "" {
		return up, nil
	}
	hash, err := secrets.HashPassword(*in.Password)
	if err != nil {
		return up, err
	}
	up.PasswordHash = hash
	if h.reveal {
		if up.PasswordSealed, err = h.sealer.Seal(*in.Password); err != nil {
			return up, err
		}
	}
	return up, nil
}

// write stores up in one transaction after check passes, keeping at least
// one holder of the default role. A new password for an existing user ends
// every session of that user but keepSession.
func (h *Users) write(ctx context.Context, actor policy.Principal, up store.UserUpsert, keepSession string, check func(pgx.Tx, *store.User) error) error {
	err := h.store.InTx(ctx, func(tx pgx.Tx) error {
		if err := store.LockUsers(ctx, tx); err != nil {
			return err
		}
		var existing *store.User
		if u, err := store.FindUser(ctx, tx, up.Username); err == nil {
			existing = &u
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if existing == nil {
			if _, err := store.FindRole(ctx, tx, up.Username); err == nil {
				return store.FieldError("username", "%q is the name of a role; user and role names must differ", up.Username)
			} else if !errors.Is(err, store.ErrNotFound) {
				return err
			}
		}
		if check != nil {
			if err := check(tx, existing); err != nil {
				return err
			}
		}
		if existing != nil && !up.SetPassword {
			up.PasswordHash, up.PasswordSealed = existing.PasswordHash, existing.PasswordSealed
		}
		if existing != nil && up.SetPassword {
			if err := store.DeleteUserSessions(ctx, tx, up.Username, keepSession); err != nil {
				return err
			}
		}
		if err := saveUser(ctx, tx, actor.Name(), up, existing, h.store.Now()); err != nil {
			return err
		}
		if existing != nil && isAdministrator(*existing) && !slices.Contains(up.Roles, store.DefaultRole) {
			return keepAnAdministrator(ctx, tx)
		}
		return nil
	})
	if err != nil {
		return err
	}
	return h.policy.Reload(ctx)
}
