package web_test

import (
	"context"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/google/uuid"

	"easel/internal/testenv"
	"easel/policy"
	"easel/store"
)

func storeKeysOf(user string) store.KeyFilter { return store.KeyFilter{Owner: user} }

func revokeKey(t *testing.T, s *testenv.Server, id uuid.UUID) {
	t.Helper()
	keys := s.App.Actions.Keys
	if err := keys.Revoke(context.Background(), policy.Principal{Service: true}, id); err != nil {
		t.Fatalf("revoke: %v", err)
	}
}

func bearer(user string) string { return "Bearer " + strings.ToUpper(hex.EncodeToString([]byte(user))) }

// mustRole creates a role through the API as admin.
func mustRole(t *testing.T, s *testenv.Server, name string, perms ...string) {
	t.Helper()
	s.MustCall(t, 201, "POST", "/roles", testenv.As("admin"),
		map[string]any{"role_name": name, "creator": "admin", "permissions": perms})
}

// mustUser creates a user through the API as creator.
func mustUser(t *testing.T, s *testenv.Server, creator, name string, roles ...string) {
	t.Helper()
	if roles == nil {
		roles = []string{}
	}
	s.MustCall(t, 201, "POST", "/users", testenv.As(creator),
		map[string]any{"username": name, "creator": creator, "password": "pw-" + name, "roles": roles})
}

func listNames(t *testing.T, r testenv.Response, list, field string) []string {
	t.Helper()
	data, _ := r.JSON(t)["data"].(map[string]any)
	items, _ := data[list].([]any)
	var out []string
	for _, it := range items {
		out = append(out, it.(map[string]any)[field].(string))
	}
	return out
}
