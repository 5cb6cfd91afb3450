package store

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
)

// QueryObserver receives the duration of every statement run through a
// pool traced by QueryTracer (the metrics).
type QueryObserver interface {
	Enabled() bool
	ObserveQuery(operation string, d time.Duration)
}

// QueryTracer is a pgx tracer (pgx.ConnConfig.Tracer) that times each
// statement and reports it to an observer under its Operation.
type QueryTracer struct{ Observer QueryObserver }

type queryStartKey struct{}

type queryStart struct {
	sql string
	at  time.Time
}

// TraceQueryStart notes when a statement began.
func (t QueryTracer) TraceQueryStart(ctx context.Context, _ *pgx.Conn, data pgx.TraceQueryStartData) context.Context {
	if !t.Observer.Enabled() {
		return ctx
	}
	return context.WithValue(ctx, queryStartKey{}, queryStart{sql: data.SQL, at: time.Now()})
}

// TraceQueryEnd reports the statement's duration.
func (t QueryTracer) TraceQueryEnd(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryEndData) {
	if s, ok := ctx.Value(queryStartKey{}).(queryStart); ok {
		t.Observer.ObserveQuery(cachedOperation(s.sql), time.Since(s.at))
	}
}

// operations caches Operation by statement, up to maxOperations of them.
var (
	operations     sync.Map
	operationCount atomic.Int64
)

const maxOperations = 2000

func cachedOperation(sql string) string {
	if op, ok := operations.Load(sql); ok {
		return op.(string)
	}
	op := Operation(sql)
	if operationCount.Add(1) <= maxOperations {
		operations.Store(sql, op)
	}
	return op
}

// Operation names a statement by a bounded label: River's query name
// ("river JobGetAvailable", from sqlc's "-- name:" comment), else its verb
// and, for select, insert, update and delete, its first table ("select
// users"). Statements come from the code, so the names are few.
func Operation(sql string) string {
	s := strings.TrimLeft(sql, " \t\r\n")
	if rest, ok := strings.CutPrefix(s, "-- name: "); ok {
		if name, _, _ := strings.Cut(rest, " "); isWord(name) {
			return "river " + name
		}
		return "river"
	}
	for strings.HasPrefix(s, "--") {
		_, s, _ = strings.Cut(s, "\n")
		s = strings.TrimLeft(s, " \t\r\n")
	}
	verb, rest := nextWord(s)
	verb = strings.ToLower(verb)
	if !isWord(verb) {
		return "other"
	}
	var table string
	switch verb {
	case "select", "delete":
		if i := indexFold(rest, " from "); i >= 0 {
			table, _ = nextWord(rest[i+6:])
		}
	case "insert":
		if i := indexFold(rest, "into "); i >= 0 {
			table, _ = nextWord(rest[i+5:])
		}
	case "update":
		table, _ = nextWord(rest)
	}
	if table = strings.ToLower(table); isWord(table) {
		return verb + " " + table
	}
	return verb
}

// nextWord splits s after its first word (up to a space, a parenthesis or
// a comma).
func nextWord(s string) (string, string) {
	s = strings.TrimLeft(s, " \t\r\n")
	end := strings.IndexAny(s, " \t\r\n(,;")
	if end < 0 {
		return s, ""
	}
	return s[:end], s[end:]
}

// isWord accepts short identifiers: letters, digits, _ and a schema dot.
func isWord(s string) bool {
	if s == "" || len(s) > 40 {
		return false
	}
	for _, r := range s {
		if !(r == '_' || r == '.' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9') {
			return false
		}
	}
	return true
}

// indexFold is strings.Index of the lower-case sub in s, ignoring ASCII
// case and reading any whitespace as a space.
func indexFold(s, sub string) int {
	norm := strings.NewReplacer("\n", " ", "\t", " ", "\r", " ").Replace(s)
	return strings.Index(strings.ToLower(norm), sub)
}
