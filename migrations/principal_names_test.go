package migrations_test

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"

	"easel/internal/testenv"
	"easel/migrations"
)

// TestPrincipalNamesMigration: users named like a role or a reserved name
// are renamed with what they own; rows recorded under "service" stay the
// service principal's; sharing lists naming a role keep meaning the role.
func TestPrincipalNamesMigration(t *testing.T) {
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, testenv.EmptyDatabaseURL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	db := stdlib.OpenDBFromPool(pool)
	defer db.Close()
	provider, err := goose.NewProvider(goose.DialectPostgres, db, migrations.Files)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := provider.UpTo(ctx, 4); err != nil {
		t.Fatal(err)
	}
	exec := func(sql string, args ...any) {
		t.Helper()
		if _, err := pool.Exec(ctx, sql, args...); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	exec(`INSERT INTO roles (name, creator, permissions) VALUES ('IT Operator', 'admin', '{user:all}'), ('byoc', 'admin', '{train:all}')`)
	exec(`INSERT INTO users (username, creator, roles) VALUES
		('admin', 'admin', '{IT Operator}'),
		('IT Operator', 'admin', '{byoc}'),
		('service', 'admin', '{byoc}'),
		('Service', 'admin', '{}'),
		('service-user', 'admin', '{}')`)
	exec(`INSERT INTO casbin_rule (ptype, v0, v1) VALUES ('g', 'u:IT Operator', 'r:byoc'), ('g', 'u:service', 'r:byoc')`)
	exec(`INSERT INTO sessions (id, username, data, expires_at) VALUES ('s1', 'service', '', now() + interval '1 day')`)
	exec(`INSERT INTO api_keys (id, name, hash, prefix, username, service, created_by)
		VALUES ('00000000-0000-0000-0000-000000000001', 'k', '\x01', 'p', 'IT Operator', false, 'IT Operator')`)
	exec(`INSERT INTO checkpoints (id, type, status, s3_location, names, allowed_roles, creator, created_at, updated_at) VALUES
		('00000000-0000-0000-0000-00000000000a', 'Lora', 'Active', 's3://b/a', '{a}', '{IT Operator,Service}', 'IT Operator', now(), now()),
		('00000000-0000-0000-0000-00000000000b', 'Lora', 'Active', 's3://b/b', '{b}', '{}', 'service', now(), now())`)
	exec(`INSERT INTO users (username, creator) VALUES ('made-by-service', 'service')`)

	if _, err := provider.UpTo(ctx, 5); err != nil {
		t.Fatal(err)
	}
	strings := func(sql string) []string {
		t.Helper()
		rows, err := pool.Query(ctx, sql)
		if err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
		var out []string
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				t.Fatal(err)
			}
			out = append(out, s)
		}
		return out
	}
	for _, tc := range []struct {
		sql  string
		want []string
	}{
		{`SELECT username FROM users ORDER BY username COLLATE "C"`,
			[]string{"IT Operator-user", "Service-user", "admin", "made-by-service", "service-user", "service-user2"}},
		{`SELECT v0 || '>' || v1 FROM casbin_rule WHERE ptype = 'g' ORDER BY 1`, []string{"u:IT Operator-user>r:byoc", "u:service-user2>r:byoc"}},
		{`SELECT count(*)::text FROM sessions`, []string{"0"}},
		{`SELECT username || '/' || created_by FROM api_keys`, []string{"IT Operator-user/IT Operator-user"}},
		{`SELECT creator || ':' || array_to_string(allowed_roles, ',') FROM checkpoints ORDER BY id`,
			[]string{"IT Operator-user:IT Operator,Service-user", "service:"}},
		{`SELECT creator FROM users WHERE username = 'made-by-service'`, []string{"service"}},
	} {
		if diff := cmp.Diff(tc.want, strings(tc.sql)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tc.sql, diff)
		}
	}
}
