package actions

import (
	"context"
	"errors"
	"log/slog"

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

// MayModify reports whether actor may change or delete target: with
// user:create, as its creator or a holder of user:all, and holding every
// permission target holds, so that no one takes over or removes an account
// stronger than itself. The console shows a row's buttons by this rule.
func (h *Users) MayModify(actor policy.Principal, target store.User) bool {
	return h.policy.Can(actor, policy.UserCreate) && h.owns(actor, target) && h.notStronger(actor, target) == nil
}

// owns reports whether actor created target or holds user:all.
func (h *Users) owns(actor policy.Principal, target store.User) bool {
	return target.Creator == actor.Name() || h.policy.Can(actor, policy.UserAll)
}

// notStronger fails unless actor holds every permission target holds.
func (h *Users) notStronger(actor policy.Principal, target store.User) error {
	return h.holdsAll(actor, h.policy.PermissionsOf(target.Roles), "change user "+target.Username)
}

// holdsAll fails with EForbidden naming the first of perms actor lacks.
func (h *Users) holdsAll(actor policy.Principal, perms []string, what string) error {
	if p, lacking := h.policy.Lacking(actor, perms); lacking {
		return store.Errorf(store.EForbidden, "%s has no permission [%s], which it needs to %s", actor.Name(), p, what)
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
