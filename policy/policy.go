package policy

import (
	"context"
	_ "embed"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/casbin/casbin/v2"
	"github.com/casbin/casbin/v2/model"

	"easel/store"
)

//go:embed model.conf
var modelText string

// Policy answers permission and identity questions from an in-memory
// snapshot of the casbin rules, the live API keys and the user names. Rules
// are written in the same transaction as the roles and users they mirror
// (SyncRole, SyncUser, ...), which also notify every replica; Reload then
// swaps in a fresh snapshot, so checks never take a lock or a round trip.
type Policy struct {
	store    *store.Store
	adapter  *Adapter
	snapshot atomic.Pointer[snapshot]
	reload   sync.Mutex
}

type snapshot struct {
	enforcer *casbin.Enforcer
	keys     map[string]store.APIKey // by secret hash
	users    map[string]bool
	roles    map[string][]string // role name → permissions
	memo     sync.Map            // "subject\x00perm" → bool
	unions   sync.Map            // "role\x00role…" → sorted permissions
}

// New loads the snapshot from s.
func New(ctx context.Context, s *store.Store) (*Policy, error) {
	p := &Policy{store: s, adapter: NewAdapter(s)}
	if err := p.Reload(ctx); err != nil {
		return nil, err
	}
	return p, nil
}

// Reload re-reads the rules, keys and users from the database.
func (p *Policy) Reload(ctx context.Context) error {
	p.reload.Lock()
	defer p.reload.Unlock()
	m, err := model.NewModelFromString(modelText)
	if err != nil {
		return fmt.Errorf("casbin model: %w", err)
	}
	e, err := casbin.NewEnforcer(m)
	if err != nil {
		return fmt.Errorf("casbin enforcer: %w", err)
	}
	// casbin needs the custom function registered before LoadPolicy.
	e.AddFunction("permMatch", func(args ...any) (any, error) {
		return permMatch(args[0].(string), args[1].(string)), nil
	})
	e.SetAdapter(p.adapter)
	if err := e.LoadPolicy(); err != nil {
		return fmt.Errorf("casbin load: %w", err)
	}
	keys, err := store.LiveKeys(ctx, p.store.DB())
	if err != nil {
		return err
	}
	names, err := store.UserNames(ctx, p.store.DB())
	if err != nil {
		return err
	}
	users := make(map[string]bool, len(names))
	for _, n := range names {
		users[n] = true
	}
	rules, err := e.GetPolicy()
	if err != nil {
		return fmt.Errorf("casbin rules: %w", err)
	}
	roles := map[string][]string{}
	for _, rule := range rules {
		if role, ok := strings.CutPrefix(rule[0], roleSubject("")); ok && len(rule) > 1 {
			roles[role] = append(roles[role], rule[1])
		}
	}
	p.snapshot.Store(&snapshot{enforcer: e, keys: keys, users: users, roles: roles})
	return nil
}

// Key returns the live API key whose secret has this hash.
func (p *Policy) Key(hash []byte) (store.APIKey, bool) {
	k, ok := p.snapshot.Load().keys[string(hash)]
	return k, ok
}

// PermissionsOf returns the de-duplicated union of the permissions of the
// named roles, sorted in byte order; roles that do not exist add nothing.
// The result is shared: callers must not modify it.
func (p *Policy) PermissionsOf(roles []string) []string {
	snap := p.snapshot.Load()
	key := strings.Join(roles, "\x00")
	if v, ok := snap.unions.Load(key); ok {
		return v.([]string)
	}
	out := []string{}
	for _, r := range roles {
		out = append(out, snap.roles[r]...)
	}
	slices.Sort(out)
	out = slices.Compact(out)
	snap.unions.Store(key, out)
	return out
}

// UserExists reports whether a user of this name exists.
func (p *Policy) UserExists(name string) bool {
	return p.snapshot.Load().users[name]
}

// Can reports whether pr holds perm (a held "resource:all" covers every
// action).
func (p *Policy) Can(pr Principal, perm Perm) bool { return p.can(pr, perm.String()) }

// Lacking returns the first of perms ("resource:action" strings, as roles
// store them) that pr does not hold; ok=false when pr holds them all.
func (p *Policy) Lacking(pr Principal, perms []string) (missing string, ok bool) {
	for _, perm := range perms {
		if !p.can(pr, perm) {
			return perm, true
		}
	}
	return "", false
}

func (p *Policy) can(pr Principal, perm string) bool {
	if pr.Service {
		return true
	}
	if pr.Username == "" {
		return false
	}
	snap := p.snapshot.Load()
	memoKey := pr.Username + "\x00" + perm
	if v, ok := snap.memo.Load(memoKey); ok {
		return v.(bool)
	}
	ok, err := snap.enforcer.Enforce(userSubject(pr.Username), perm)
	allowed := err == nil && ok
	snap.memo.Store(memoKey, allowed)
	return allowed
}

// Require returns a forbidden error naming perm when pr does not hold it.
func (p *Policy) Require(pr Principal, perm Perm) error {
	if p.Can(pr, perm) {
		return nil
	}
	return Denied(pr, perm)
}

// Denied is the contract's permission failure.
func Denied(pr Principal, perm Perm) error {
	return store.Errorf(store.EForbidden, "User %s has no permissions: [%s]", pr.Name(), perm)
}

func userSubject(name string) string { return "u:" + name }
func roleSubject(name string) string { return "r:" + name }

// changesChannel is the Postgres channel on which writers tell every
// replica to reload its snapshot.
const changesChannel = "easel_directory"

// Changed tells every replica, when db's transaction commits, that users,
// roles or keys changed.
func Changed(ctx context.Context, db store.DBTX) error {
	if _, err := db.Exec(ctx, `NOTIFY `+changesChannel); err != nil {
		return fmt.Errorf("notify change: %w", err)
	}
	return nil
}

// SyncRole rewrites the casbin rules of one role inside db.
func SyncRole(ctx context.Context, db store.DBTX, role string, perms []string) error {
	if err := Changed(ctx, db); err != nil {
		return err
	}
	if _, err := db.Exec(ctx, `DELETE FROM casbin_rule WHERE ptype = 'p' AND v0 = $1`, roleSubject(role)); err != nil {
		return fmt.Errorf("sync role: %w", err)
	}
	for _, perm := range perms {
		if err := insertRule(ctx, db, "p", []string{roleSubject(role), perm}); err != nil {
			return err
		}
	}
	return nil
}

// SyncUser rewrites the role grants of one user inside db.
func SyncUser(ctx context.Context, db store.DBTX, user string, roles []string) error {
	if err := Changed(ctx, db); err != nil {
		return err
	}
	if _, err := db.Exec(ctx, `DELETE FROM casbin_rule WHERE ptype = 'g' AND v0 = $1`, userSubject(user)); err != nil {
		return fmt.Errorf("sync user: %w", err)
	}
	for _, r := range roles {
		if err := insertRule(ctx, db, "g", []string{userSubject(user), roleSubject(r)}); err != nil {
			return err
		}
	}
	return nil
}

// DropRoles removes the rules of deleted roles and every grant of them.
func DropRoles(ctx context.Context, db store.DBTX, roles []string) error {
	if err := Changed(ctx, db); err != nil {
		return err
	}
	subjects := make([]string, len(roles))
	for i, r := range roles {
		subjects[i] = roleSubject(r)
	}
	_, err := db.Exec(ctx, `
		DELETE FROM casbin_rule
		WHERE (ptype = 'p' AND v0 = ANY ($1)) OR (ptype = 'g' AND v1 = ANY ($1))`, subjects)
	if err != nil {
		return fmt.Errorf("drop roles: %w", err)
	}
	return nil
}

// DropUsers removes the grants of deleted users.
func DropUsers(ctx context.Context, db store.DBTX, users []string) error {
	if err := Changed(ctx, db); err != nil {
		return err
	}
	subjects := make([]string, len(users))
	for i, u := range users {
		subjects[i] = userSubject(u)
	}
	_, err := db.Exec(ctx, `DELETE FROM casbin_rule WHERE ptype = 'g' AND v0 = ANY ($1)`, subjects)
	if err != nil {
		return fmt.Errorf("drop users: %w", err)
	}
	return nil
}

// CanGrantAll reports whether pr holds every one of perms (and so may grant
// them to others).
func (p *Policy) CanGrantAll(pr Principal, perms []string) bool {
	_, lacking := p.Lacking(pr, perms)
	return !lacking
}
