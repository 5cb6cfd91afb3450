package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"easel/internal/testenv"
	"easel/store"
)

func newStore(t *testing.T) *store.Store {
	t.Helper()
	return store.New(testenv.Pool(t))
}

func mustTx(t *testing.T, s *store.Store, fn func(tx pgx.Tx) error) {
	t.Helper()
	if err := s.InTx(context.Background(), fn); err != nil {
		t.Fatal(err)
	}
}

func TestUsersAndRoles(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	ctx := context.Background()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	mustTx(t, s, func(tx pgx.Tx) error {
		for _, r := range []store.Role{
			{Name: "b", Creator: "root", Permissions: []string{"user:list", "role:all"}},
			{Name: "a", Creator: "root", Permissions: []string{"user:list", "Train:all"}},
		} {
			if err := store.UpsertRole(ctx, tx, r, now); err != nil {
				return err
			}
		}
		for _, u := range []store.UserUpsert{
			{Username: "zed", Creator: "root", Roles: []string{"a", "b", "gone"}, SetPassword: true, PasswordHash: "h1"},
			{Username: "amy", Creator: "zed"},
		} {
			if err := store.UpsertUser(ctx, tx, u, now); err != nil {
				return err
			}
		}
		return nil
	})
	u, err := store.FindUser(ctx, s.DB(), "zed")
	if err != nil {
		t.Fatal(err)
	}
	// Sorted in byte order (upper case first), de-duplicated, missing roles ignored.
	var perms []string
	mustTx(t, s, func(tx pgx.Tx) error {
		perms, err = store.PermissionsOfRoles(ctx, tx, u.Roles)
		return err
	})
	if want := []string{"Train:all", "role:all", "user:list"}; !cmp.Equal(perms, want) {
		t.Errorf("permissions = %v, want %v", perms, want)
	}
	if !u.CreatedAt.Equal(now) {
		t.Errorf("created_at = %v, want %v", u.CreatedAt, now)
	}
	// An overwrite without a password keeps the old hash.
	mustTx(t, s, func(tx pgx.Tx) error {
		return store.UpsertUser(ctx, tx, store.UserUpsert{Username: "zed", Creator: "root", Roles: []string{"a"}}, now)
	})
	if u, _ = store.FindUser(ctx, s.DB(), "zed"); u.PasswordHash != "h1" || !cmp.Equal(u.Roles, []string{"a"}) {
		t.Errorf("after overwrite hash %q roles %v, want h1 [a]", u.PasswordHash, u.Roles)
	}

	for _, tc := range []struct {
		f    store.UserFilter
		want []string
	}{
		{store.UserFilter{}, []string{"amy", "zed"}},
		{store.UserFilter{CreatedByOrSelf: "zed"}, []string{"amy", "zed"}},
		{store.UserFilter{CreatedByOrSelf: "amy"}, []string{"amy"}},
		{store.UserFilter{Self: "zed"}, []string{"zed"}},
		{store.UserFilter{Username: "nobody"}, nil},
	} {
		users, err := store.ListUsers(ctx, s.DB(), tc.f)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, u := range users {
			got = append(got, u.Username)
		}
		if !cmp.Equal(got, tc.want) {
			t.Errorf("ListUsers(%+v) = %v, want %v", tc.f, got, tc.want)
		}
	}

	var missing []string
	mustTx(t, s, func(tx pgx.Tx) error {
		missing, err = store.MissingRoles(ctx, tx, []string{"x", "a", "y"})
		return err
	})
	if !cmp.Equal(missing, []string{"x", "y"}) {
		t.Errorf("MissingRoles = %v, want [x y]", missing)
	}

	roles, err := store.ListRoles(ctx, s.DB(), store.RoleFilter{VisibleTo: "amy"})
	if err != nil || len(roles) != 0 {
		t.Errorf("roles visible to amy = %v, %v; want none", roles, err)
	}
	roles, _ = store.ListRoles(ctx, s.DB(), store.RoleFilter{VisibleTo: "zed"})
	if len(roles) != 1 || roles[0].Name != "a" {
		t.Errorf("roles visible to zed = %v, want [a]", roles)
	}

	mustTx(t, s, func(tx pgx.Tx) error {
		deleted, err := store.DeleteRoles(ctx, tx, []string{"a", "nope"})
		if !cmp.Equal(deleted, []string{"a"}) {
			t.Errorf("DeleteRoles = %v, want [a]", deleted)
		}
		return err
	})
	if u, _ = store.FindUser(ctx, s.DB(), "zed"); len(u.Roles) != 0 {
		t.Errorf("zed's roles after deleting a = %v", u.Roles)
	}
	if _, err := store.FindUser(ctx, s.DB(), "ghost"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("FindUser(ghost) error = %v, want ErrNotFound", err)
	}
}

func TestKeysAndSessions(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	ctx := context.Background()
	now := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	s.Now = func() time.Time { return now }
	k := store.APIKey{ID: uuid.New(), Name: "k", Prefix: "esk_1234", Username: "kim", CreatedBy: "kim", CreatedAt: now}
	mustTx(t, s, func(tx pgx.Tx) error {
		if err := store.UpsertUser(ctx, tx, store.UserUpsert{Username: "kim", Creator: "kim"}, now); err != nil {
			return err
		}
		return store.CreateKey(ctx, tx, k, []byte("hash-1"))
	})
	got, err := store.FindKeyByHash(ctx, s.DB(), []byte("hash-1"))
	if err != nil || got.ID != k.ID || got.Username != "kim" || got.Service {
		t.Fatalf("FindKeyByHash = %+v, %v", got, err)
	}
	mustTx(t, s, func(tx pgx.Tx) error { return store.RevokeKey(ctx, tx, k.ID, now) })
	if _, err := store.FindKeyByHash(ctx, s.DB(), []byte("hash-1")); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("revoked key still found: %v", err)
	}
	if err := store.SaveSession(ctx, s.DB(), store.SessionRecord{ID: "s1", Username: "kim", Data: []byte("{}"), ExpiresAt: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if _, err := store.FindSession(ctx, s.DB(), "s1", s.Now()); err != nil {
		t.Errorf("live session: %v", err)
	}
	now = now.Add(2 * time.Hour)
	if _, err := store.FindSession(ctx, s.DB(), "s1", s.Now()); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("expired session found: %v", err)
	}
	// Deleting the user ends its keys and sessions.
	now = now.Add(-2 * time.Hour)
	mustTx(t, s, func(tx pgx.Tx) error { _, err := store.DeleteUsers(ctx, tx, []string{"kim"}); return err })
	if _, err := store.FindSession(ctx, s.DB(), "s1", s.Now()); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("session of a deleted user found: %v", err)
	}
	if keys, _ := store.ListKeys(ctx, s.DB(), store.KeyFilter{}); len(keys) != 0 {
		t.Errorf("keys of a deleted user remain: %v", keys)
	}
}
