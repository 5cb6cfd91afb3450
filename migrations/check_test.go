package migrations_test

import (
	"context"
	"strings"
	"testing"

	"easel/migrations"
)

// TestCheckWantsTheLatestSchema: Check fails on an empty database and on
// one behind this binary's migrations, and passes once Up has run.
func TestCheckWantsTheLatestSchema(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := emptyDatabase(t)
	if err := migrations.Check(ctx, pool); err == nil {
		t.Error("Check passed on an empty database")
	}
	if err := migrations.Up(ctx, pool); err != nil {
		t.Fatal(err)
	}
	if err := migrations.Check(ctx, pool); err != nil {
		t.Fatalf("Check after Up: %v", err)
	}
	if _, err := pool.Exec(ctx, `DELETE FROM goose_db_version WHERE version_id = (SELECT max(version_id) FROM goose_db_version)`); err != nil {
		t.Fatal(err)
	}
	err := migrations.Check(ctx, pool)
	if err == nil || !strings.Contains(err.Error(), "expects") {
		t.Errorf("Check one migration behind: %v, want an error naming both versions", err)
	}
	pool.Close()
	if err := migrations.Check(ctx, pool); err == nil {
		t.Error("Check passed on a closed pool")
	}
}
