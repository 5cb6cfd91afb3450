package actions

import (
	"context"
	"errors"
	"log/slog"
	"slices"

	"github.com/jackc/pgx/v5"

	"easel/policy"
	"easel/secrets"
	"easel/store"
)

// Users manages user accounts: the actions shared by the API, the console
// and the CLI.
type Users struct {
	store  *store.Store
	policy *policy.Policy
	sealer *secrets.Sealer
	// reveal keeps a sealed copy of passwords for ESD's opt-in
	// show_password (EASEL_ESD_REVEAL_PASSWORDS).
	reveal bool
	log    *slog.Logger
}

// NewUsers returns the users actions.
func NewUsers(s *store.Store, p *policy.Policy, sealer *secrets.Sealer, reveal bool, log *slog.Logger) *Users {
	return &Users{store: s, policy: p, sealer: sealer, reveal: reveal, log: log}
}

// UserInput is a create-or-overwrite of a user.
type UserInput struct {
	Username string   `json:"username"`
	Password *string  `json:"password"`
	Roles    []string `json:"roles"`
	Initial  bool     `json:"initial"`
	// KeepSession is the console session making the change, which a new
	// password does not end (every other session of the user ends).
	KeepSession string `json:"-"`
}

// Validate checks the input's shape.
func (in *UserInput) Validate() error {
	if in.Username == "" {
		return store.FieldError("username", "user name is required")
	}
	if err := store.CheckPrincipalName("username", in.Username); err != nil {
		return err
	}
	for _, r := range in.Roles {
		if r == "" {
			return store.FieldError("roles", "role names cannot be empty")
		}
	}
	return nil
}

// List returns the users actor may see. A name narrows to that user; it
// must exist, and naming someone else needs user:all.
func (h *Users) List(ctx context.Context, actor policy.Principal, name string) ([]store.User, error) {
	if name != "" {
		if _, err := store.FindUser(ctx, h.store.DB(), name); errors.Is(err, store.ErrNotFound) {
			return nil, store.Errorf(store.EInvalid, "user: %q not exist", name)
		} else if err != nil {
			return nil, err
		}
		if name != actor.Name() && !h.policy.Can(actor, policy.UserAll) {
			return nil, policy.Denied(actor, policy.UserAll)
		}
		return store.ListUsers(ctx, h.store.DB(), store.UserFilter{Username: name})
	}
	switch {
	case h.policy.Can(actor, policy.UserAll):
		return store.ListUsers(ctx, h.store.DB(), store.UserFilter{})
	case h.policy.Can(actor, policy.UserList):
		return store.ListUsers(ctx, h.store.DB(), store.UserFilter{CreatedByOrSelf: actor.Name()})
	default:
		return store.ListUsers(ctx, h.store.DB(), store.UserFilter{Self: actor.Name()})
	}
}

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
			if existing.Creator != actor.Name() && !h.policy.Can(actor, policy.UserAll) {
				return store.Errorf(store.EInvalid, "username %s has already exists, creator %s does not have permissions to change it", in.Username, actor.Name())
			}
			if err := h.holdsAllOf(ctx, tx, actor, *existing); err != nil {
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
			return h.holdsAllOf(ctx, tx, actor, *existing)
		}
		return nil
	})
}

// holdsAllOf fails unless actor holds every permission target holds: no
// one may change, reset or delete an account stronger than itself.
func (h *Users) holdsAllOf(ctx context.Context, tx pgx.Tx, actor policy.Principal, target store.User) error {
	perms, err := store.PermissionsOfRoles(ctx, tx, target.Roles)
	if err != nil {
		return err
	}
	return h.holdsAll(actor, perms, "change user "+target.Username)
}

// holdsAll fails with EForbidden naming the first of perms actor lacks.
func (h *Users) holdsAll(actor policy.Principal, perms []string, what string) error {
	if p, lacking := h.policy.Lacking(actor, perms); lacking {
		return store.Errorf(store.EForbidden, "%s has no permission [%s], which it needs to %s", actor.Name(), p, what)
	}
	return nil
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
		if err := saveUser(ctx, tx, actor.Name(), up, h.store.Now()); err != nil {
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

// Delete removes users as actor, all or none. Unknown names are ignored;
// without user:all, actor may delete only users it created.
func (h *Users) Delete(ctx context.Context, actor policy.Principal, names []string) error {
	names = dedupe(names)
	if err := h.policy.Require(actor, policy.UserCreate); err != nil {
		return err
	}
	mayDeleteAny := h.policy.Can(actor, policy.UserAll)
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
			if !mayDeleteAny && u.Creator != actor.Name() {
				return policy.Denied(actor, policy.UserAll)
			}
			if err := h.holdsAllOf(ctx, tx, actor, u); err != nil {
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

// RevealsPasswords reports whether ESD's opt-in password reveal is on
// (EASEL_ESD_REVEAL_PASSWORDS).
func (h *Users) RevealsPasswords() bool { return h.reveal }

// RevealPassword returns the plaintext password of u when the ESD reveal
// mode is on and a sealed copy exists; "********" otherwise.
func (h *Users) RevealPassword(u store.User) string {
	if h.reveal && len(u.PasswordSealed) > 0 {
		if pw, err := h.sealer.Open(u.PasswordSealed); err == nil {
			return pw
		}
	}
	return MaskedPassword
}

// MaskedPassword stands for a password that is not shown.
const MaskedPassword = "********"
