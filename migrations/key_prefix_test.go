package migrations_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"

	"easel/internal/testenv"
	"easel/migrations"
)

// TestKeyPrefixMigration checks that keys stored with the first characters
// of their secret as prefix get the start of their id instead.
func TestKeyPrefixMigration(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := emptyDatabase(t)
	db := stdlib.OpenDBFromPool(pool)
	defer db.Close()
	provider, err := goose.NewProvider(goose.DialectPostgres, db, migrations.Files)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := provider.UpTo(ctx, 4); err != nil {
		t.Fatalf("migrate to 4: %v", err)
	}
	ids := []uuid.UUID{uuid.New(), uuid.New()}
	for i, secret := range []string{"esdservicekey0123456", "esk_0123456789abcdef0123456789abcdef01234567"} {
		if _, err := pool.Exec(ctx, `INSERT INTO api_keys (id, name, hash, prefix, service, created_by)
			VALUES ($1, 'k', $2, $3, true, 'admin')`, ids[i], []byte(secret), secret[:8]); err != nil {
			t.Fatal(err)
		}
	}
	if err := migrations.Up(ctx, pool); err != nil {
		t.Fatalf("migrate up: %v", err)
	}
	for _, id := range ids {
		var prefix string
		if err := pool.QueryRow(ctx, `SELECT prefix FROM api_keys WHERE id = $1`, id).Scan(&prefix); err != nil {
			t.Fatal(err)
		}
		if want := strings.ReplaceAll(id.String(), "-", "")[:8]; prefix != want {
			t.Errorf("key %s: prefix %q, want %q", id, prefix, want)
		}
	}
}

// emptyDatabase creates a database without any migration, dropped when the
// test ends.
func emptyDatabase(t *testing.T) *pgxpool.Pool {
	t.Helper()
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, testenv.AdminURL())
	if err != nil {
		t.Fatalf("connect to test postgres: %v", err)
	}
	defer admin.Close(ctx)
	name := fmt.Sprintf("easel_m_%d_%d", os.Getpid(), time.Now().UnixNano())
	if _, err := admin.Exec(ctx, `CREATE DATABASE `+name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		conn, err := pgx.Connect(context.Background(), testenv.AdminURL())
		if err != nil {
			return
		}
		defer conn.Close(context.Background())
		_, _ = conn.Exec(context.Background(), `DROP DATABASE IF EXISTS `+name+` WITH (FORCE)`)
	})
	cfg, err := pgxpool.ParseConfig(testenv.AdminURL())
	if err != nil {
		t.Fatal(err)
	}
	cfg.ConnConfig.Database = name
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}
