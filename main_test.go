package main

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"easel/internal/testenv"
	"easel/secrets"
)

// TestAdminCommands runs the CLI against a cloned database.
func TestAdminCommands(t *testing.T) {
	env := map[string]string{
		"DATABASE_URL": testenv.DatabaseURL(t), "EASEL_DATA_DIR": t.TempDir(),
		"EASEL_ADMIN_PASSWORD": "first-admin-pw", "EASEL_SECRET": "cli-test-secret-0123",
	}
	getenv := func(k string) string { return env[k] }
	cli := func(args ...string) (string, error) {
		var out bytes.Buffer
		err := run(context.Background(), args, getenv, &out)
		return out.String(), err
	}
	if out, err := cli("migrate"); err != nil || !strings.Contains(out, "migrations applied") {
		t.Fatalf("migrate: %v %s", err, out)
	}
	if _, err := cli("user", "create", "bob", "--password", "bob-password", "--role", "byoc"); err != nil {
		t.Fatalf("user create: %v", err)
	}
	if _, err := cli("user", "create", "eve", "--password", "x", "--role", "no-such-role"); err == nil || !strings.Contains(err.Error(), `user roles "no-such-role" not exist`) {
		t.Errorf("user create with an unknown role: %v", err)
	}
	for _, name := range []string{"service", "Service", "IT Operator", "a/b"} {
		if _, err := cli("user", "create", name, "--password", "x-password"); err == nil {
			t.Errorf("user create %q (reserved, a role's, or unmanageable) succeeded", name)
		}
	}
	if _, err := cli("user", "passwd", "bob", "--password", "new-password"); err != nil {
		t.Fatalf("user passwd: %v", err)
	}
	out, err := cli("key", "create", "--user", "bob", "--name", "laptop")
	if err != nil {
		t.Fatalf("key create: %v", err)
	}
	m := regexp.MustCompile(`key ([0-9a-f-]{36}) created.*\n(esk_[0-9a-f]+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("key create printed %q", out)
	}
	if _, err := cli("key", "revoke", m[1]); err != nil {
		t.Fatalf("key revoke: %v", err)
	}
	if _, err := cli("key", "revoke", "not-a-uuid"); err == nil {
		t.Error("key revoke of a malformed id succeeded")
	}
	if _, err := cli("frobnicate"); err == nil {
		t.Error("an unknown command succeeded")
	}

	// What the CLI wrote is what the server sees.
	var hash string
	if err := poolOf(t, env).QueryRow(context.Background(), `SELECT password_hash FROM users WHERE username = 'bob'`).Scan(&hash); err != nil {
		t.Fatal(err)
	}
	if !secrets.VerifyPassword(hash, "new-password") || secrets.VerifyPassword(hash, "bob-password") {
		t.Error("user passwd did not replace the password")
	}
	var revoked bool
	if err := poolOf(t, env).QueryRow(context.Background(), `SELECT revoked_at IS NOT NULL FROM api_keys WHERE id = $1`, m[1]).Scan(&revoked); err != nil || !revoked {
		t.Errorf("key %s revoked = %v (%v)", m[1], revoked, err)
	}
	// Each command's change is audited as the command line's.
	var cliEntries int
	err = poolOf(t, env).QueryRow(context.Background(), `SELECT count(*) FROM audit_log
		WHERE via = 'cli' AND actor = 'service' AND action IN ('user.upsert', 'key.create', 'key.revoke')`).Scan(&cliEntries)
	if err != nil || cliEntries != 4 {
		t.Errorf("audit entries via cli: %d (%v), want 4 (create, passwd, key create, key revoke)", cliEntries, err)
	}
}

func poolOf(t *testing.T, env map[string]string) *pgxpool.Pool {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), env["DATABASE_URL"])
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}
