package actions

import (
	"context"
	"errors"
	"log/slog"
	"slices"

	"github.com/jackc/pgx/v5"

	"easel/policy"
	"easel/store"
)

// Roles manages roles: the actions shared by the API and the console.
type Roles struct {
	store  *store.Store
	policy *policy.Policy
	log    *slog.Logger
}

// NewRoles returns the roles actions.
func NewRoles(s *store.Store, p *policy.Policy, log *slog.Logger) *Roles {
	return &Roles{store: s, policy: p, log: log}
}

// RoleInput is a create-or-overwrite of a role.
type RoleInput struct {
	Name        string   `json:"role_name"`
	Permissions []string `json:"permissions"`
}

// Validate checks the input's shape.
func (in *RoleInput) Validate() error {
	if in.Name == "" {
		return store.FieldError("role_name", "role name is required")
	}
	if err := store.CheckPrincipalName("role_name", in.Name); err != nil {
		return err
	}
	if len(in.Permissions) == 0 {
		return store.FieldError("permissions", "a role needs at least one permission")
	}
	for _, p := range in.Permissions {
		if msg := policy.CheckPermission(p); msg != "" {
			return store.FieldError("permissions", "%s", msg)
		}
	}
	return nil
}

// List returns the roles actor may see: every role with role:all, else the
// roles it created or holds.
func (h *Roles) List(ctx context.Context, actor policy.Principal, name string) ([]store.Role, error) {
	f := store.RoleFilter{Name: name}
	if !h.policy.Can(actor, policy.RoleAll) {
		f.VisibleTo = actor.Name()
	}
	return store.ListRoles(ctx, h.store.DB(), f)
}

// Upsert creates or overwrites a role as actor.
func (h *Roles) Upsert(ctx context.Context, actor policy.Principal, in RoleInput) error {
	if err := in.Validate(); err != nil {
		return err
	}
	if in.Name == store.DefaultRole {
		return store.Errorf(store.EInvalid, "cannot modify default role")
	}
	if err := h.policy.Require(actor, policy.RoleCreate); err != nil {
		return err
	}
	if p, lacking := h.policy.Lacking(actor, in.Permissions); lacking {
		return store.Errorf(store.EInvalid, "creator %s have not permission to create role with permission: [%s]", actor.Name(), p)
	}
	perms := dedupe(in.Permissions)
	err := h.store.InTx(ctx, func(tx pgx.Tx) error {
		// Users take the same lock, so a user and a role cannot be created
		// with one name at the same time.
		if err := store.LockUsers(ctx, tx); err != nil {
			return err
		}
		if _, err := store.FindUser(ctx, tx, in.Name); err == nil {
			return store.FieldError("role_name", "%q is the name of a user; user and role names must differ", in.Name)
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		existing, err := store.FindRole(ctx, tx, in.Name)
		if err == nil && !h.owns(actor, existing) {
			return store.Errorf(store.EInvalid, "creator %s not have permission to update role %s", actor.Name(), in.Name)
		}
		var before *store.Role
		if err == nil {
			before = &existing
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		return saveRole(ctx, tx, actor.Name(), store.Role{Name: in.Name, Creator: actor.Name(), Permissions: perms}, before, h.store.Now())
	})
	if err != nil {
		return err
	}
	return h.policy.Reload(ctx)
}

// MayModify reports whether actor may change or delete r: never the
// default role; otherwise with role:create, as its creator or a holder of
// role:all. The console shows a row's buttons by this rule.
func (h *Roles) MayModify(actor policy.Principal, r store.Role) bool {
	return r.Name != store.DefaultRole && h.policy.Can(actor, policy.RoleCreate) && h.owns(actor, r)
}

// owns reports whether actor created r or holds role:all.
func (h *Roles) owns(actor policy.Principal, r store.Role) bool {
	return r.Creator == actor.Name() || h.policy.Can(actor, policy.RoleAll)
}

// Delete removes roles as actor, all or none. Unknown names are ignored;
// without role:all, actor may delete only roles it created.
func (h *Roles) Delete(ctx context.Context, actor policy.Principal, names []string) error {
	names = dedupe(names)
	if slices.Contains(names, store.DefaultRole) {
		return store.Errorf(store.EInvalid, "cannot delete default role")
	}
	if err := h.policy.Require(actor, policy.RoleCreate); err != nil {
		return err
	}
	err := h.store.InTx(ctx, func(tx pgx.Tx) error {
		for _, n := range names {
			r, err := store.FindRole(ctx, tx, n)
			if errors.Is(err, store.ErrNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			if !h.owns(actor, r) {
				return policy.Denied(actor, policy.RoleAll)
			}
		}
		deleted, err := store.DeleteRoles(ctx, tx, names)
		if err != nil || len(deleted) == 0 {
			return err
		}
		if err := policy.DropRoles(ctx, tx, deleted); err != nil {
			return err
		}
		return store.Audit(ctx, tx, actor.Name(), "role.delete", joinComma(deleted), "")
	})
	if err != nil {
		return err
	}
	return h.policy.Reload(ctx)
}
