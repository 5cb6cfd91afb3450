// Package store holds the domain types and their Postgres persistence.
package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// DBTX is what both a pool and a transaction offer, so helpers compose
// inside one transaction.
type DBTX interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// Store is the Postgres-backed data layer: the functions of this package
// take a DBTX (DB, or the transaction of InTx), so they compose inside one
// transaction; Store itself only hands out connections and the clock.
type Store struct {
	pool *pgxpool.Pool
	Now  func() time.Time
}

// New returns a Store on pool using the wall clock.
func New(pool *pgxpool.Pool) *Store {
	return &Store{pool: pool, Now: time.Now}
}

// DB returns the pool as a DBTX, for work outside a transaction.
func (s *Store) DB() DBTX { return s.pool }

// InTx runs fn in one transaction, committed when fn returns nil.
func (s *Store) InTx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, s.pool, fn)
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	return s.pool.Ping(ctx)
}

// Listen LISTENs on channel, then calls onNotify with "" (for anything
// sent before) and with the payload of every notification, until ctx
// ends, the connection fails or onNotify returns an error.
func (s *Store) Listen(ctx context.Context, channel string, onNotify func(payload string) error) error {
	pooled, err := s.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	conn := pooled.Hijack()
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, `LISTEN `+pgx.Identifier{channel}.Sanitize()); err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	payload := ""
	for {
		if err := onNotify(payload); err != nil {
			return err
		}
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		payload = n.Payload
	}
}
