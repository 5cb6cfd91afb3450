package store

import "testing"

func TestOperationNamesStatementsBoundedly(t *testing.T) {
	for sql, want := range map[string]string{
		`SELECT ` + inferenceColumns + ` FROM inferences i WHERE i.id = $1`:    "select inferences",
		"\n\t\tSELECT a, b\n\t\tFROM users u JOIN roles r ON true":             "select users",
		`INSERT INTO audit (at, actor) VALUES ($1, $2)`:                        "insert audit",
		"UPDATE checkpoints SET completing_since = $2 WHERE id = $1":           "update checkpoints",
		"delete from sessions where expires < now()":                           "delete sessions",
		"WITH next AS (SELECT 1) UPDATE inferences SET x = 1":                  "with",
		"-- name: JobGetAvailable :many\nWITH locked_jobs AS (SELECT * FROM x": "river JobGetAvailable",
		"-- a comment\nSELECT count(*) FROM (SELECT 1) t":                      "select",
		"begin isolation level serializable":                                   "begin",
		"commit":                                                               "commit",
		`LISTEN "easel_wake"`:                                                  "listen",
		"SELECT 1":                                                             "select",
		"":                                                                     "other",
		"(SELECT 1)":                                                           "other",
	} {
		if got := Operation(sql); got != want {
			t.Errorf("Operation(%.40q) = %q, want %q", sql, got, want)
		}
	}
}
