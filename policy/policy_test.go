package policy_test

import (
	"context"
	"slices"
	"testing"

	"github.com/jackc/pgx/v5"

	"easel/internal/testenv"
	"easel/policy"
	"easel/store"
)

func TestCanFollowsRolesInTheDatabase(t *testing.T) {
	t.Parallel()
	pool := testenv.Pool(t)
	ctx := context.Background()
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if err := policy.SyncRole(ctx, tx, "ops", []string{"user:all", "checkpoint:list"}); err != nil {
			return err
		}
		if err := policy.SyncRole(ctx, tx, "u:tricky", []string{"role:all"}); err != nil {
			return err
		}
		return policy.SyncUser(ctx, tx, "ann", []string{"ops"})
	})
	if err != nil {
		t.Fatal(err)
	}
	p, err := policy.New(ctx, store.New(pool))
	if err != nil {
		t.Fatal(err)
	}
	ann := policy.User("ann")
	for _, tc := range []struct {
		who  policy.Principal
		perm string
		want bool
	}{
		{ann, "user:list", true},
		{ann, "user:create", true},
		{ann, "user:all", true},
		{ann, "checkpoint:list", true},
		{ann, "checkpoint:create", false},
		{ann, "checkpoint:all", false},
		{ann, "role:list", false},
		{ann, "nonsense", false},
		{policy.User("ops"), "user:list", false}, // a role name is not a user
		{policy.User("tricky"), "role:list", false},
		{policy.Principal{Service: true}, "train:all", true},
		{policy.Principal{}, "user:list", false},
	} {
		if _, lacking := p.Lacking(tc.who, []string{tc.perm}); !lacking != tc.want {
			t.Errorf("holds(%+v, %s) = %v, want %v", tc.who, tc.perm, !lacking, tc.want)
		}
	}
	if got, want := p.PermissionsOf([]string{"ops", "missing", "ops"}), []string{"checkpoint:list", "user:all"}; !slices.Equal(got, want) {
		t.Errorf("PermissionsOf = %v, want %v", got, want)
	}
	// Rules change in the database; Reload picks them up.
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error { return policy.DropRoles(ctx, tx, []string{"ops"}) })
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	if p.Can(ann, policy.UserList) {
		t.Error("ann keeps user:list after her role was dropped")
	}
	if err := p.Require(ann, policy.UserList); store.ErrorCode(err) != store.EForbidden || err.Error() != "User ann has no permissions: [user:list]" {
		t.Errorf("Require error = %v", err)
	}
}

func TestAdapterRoundTrip(t *testing.T) {
	t.Parallel()
	pool := testenv.Pool(t)
	a := policy.NewAdapter(store.New(pool))
	if err := a.AddPolicies("p", "p", [][]string{{"r:x", "user:list"}, {"r:x", "role:list"}}); err != nil {
		t.Fatal(err)
	}
	if err := a.AddPolicy("g", "g", []string{"u:bo", "r:x"}); err != nil {
		t.Fatal(err)
	}
	if err := a.RemovePolicy("p", "p", []string{"r:x", "role:list"}); err != nil {
		t.Fatal(err)
	}
	p, err := policy.New(context.Background(), store.New(pool))
	if err != nil {
		t.Fatal(err)
	}
	bo := policy.User("bo")
	if !p.Can(bo, policy.UserList) || p.Can(bo, policy.RoleList) {
		t.Errorf("after add/remove: user:list %v role:list %v, want true false", p.Can(bo, policy.UserList), p.Can(bo, policy.RoleList))
	}
	if err := a.RemoveFilteredPolicy("g", "g", 0, "u:bo"); err != nil {
		t.Fatal(err)
	}
	if err := p.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	if p.Can(bo, policy.UserList) {
		t.Error("bo keeps user:list after the grant was removed")
	}
}

func TestCheckPermission(t *testing.T) {
	t.Parallel()
	for perm, ok := range map[string]bool{
		"user:all": true, "sagemaker_endpoint:create": true, "train:list": true,
		"user": false, ":all": false, "user:": false, "cluster:all": false, "user:delete": false, "user:all:x": false,
	} {
		if got := policy.CheckPermission(perm) == ""; got != ok {
			t.Errorf("CheckPermission(%q) ok = %v, want %v", perm, got, ok)
		}
	}
}
