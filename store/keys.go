package store

import (
	"context"
	"time"

	"github.com/google/uuid"
)

// APIKey is an API key's record; the secret itself is never stored, only
// its SHA-256.
type APIKey struct {
	ID       uuid.UUID
	Name     string
	Prefix   string // KeyPrefix(ID), to recognise the key; never part of the secret
	Username string // owner of a user key; empty for service and worker keys
	Service  bool
	// Pool is the worker pool a worker key serves; empty for other keys.
	Pool      string
	CreatedBy string
	CreatedAt time.Time
	RevokedAt *time.Time
}

// KeyFilter narrows ListKeys. Zero values mean "no restriction".
type KeyFilter struct {
	// Owner keeps the user keys of this user.
	Owner string
}

const keyColumns = `id, name, prefix, COALESCE(username, ''), service, COALESCE(pool, ''), created_by, created_at, revoked_at`

func scanKey(row interface{ Scan(...any) error }) (APIKey, error) {
	var k APIKey
	err := row.Scan(&k.ID, &k.Name, &k.Prefix, &k.Username, &k.Service, &k.Pool, &k.CreatedBy, &k.CreatedAt, &k.RevokedAt)
	return k, err
}

// KeyPrefix returns what the console shows to recognise the key with this
// id: the id's first 8 hex digits. (It used to be the secret's first 8
// characters, which gave part of the secret away.)
func KeyPrefix(id uuid.UUID) string { return id.String()[:8] }

// CreateKey stores a key record with the hash of its secret. The prefix
// stored is KeyPrefix(k.ID), whatever k.Prefix says.
func CreateKey(ctx context.Context, db DBTX, k APIKey, hash []byte) error {
	var owner, pool *string
	if k.Username != "" {
		owner = &k.Username
	}
	if k.Pool != "" {
		pool = &k.Pool
	}
	_, err := db.Exec(ctx, `
		INSERT INTO api_keys (id, name, hash, prefix, username, service, pool, created_by, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		k.ID, k.Name, hash, KeyPrefix(k.ID), owner, k.Service, pool, k.CreatedBy, k.CreatedAt)
	return translate("create key", err)
}

// FindKeyByHash returns the live (not revoked) key with this secret hash, or
// ErrNotFound.
func FindKeyByHash(ctx context.Context, db DBTX, hash []byte) (APIKey, error) {
	k, err := scanKey(db.QueryRow(ctx,
		`SELECT `+keyColumns+` FROM api_keys WHERE hash = $1 AND revoked_at IS NULL`, hash))
	return k, translate("find key", err)
}

// FindKey returns the key with this id, or ErrNotFound.
func FindKey(ctx context.Context, db DBTX, id uuid.UUID) (APIKey, error) {
	k, err := scanKey(db.QueryRow(ctx, `SELECT `+keyColumns+` FROM api_keys WHERE id = $1`, id))
	return k, translate("find key", err)
}

// ListKeys returns keys matching f, newest first.
func ListKeys(ctx context.Context, db DBTX, f KeyFilter) ([]APIKey, error) {
	rows, err := db.Query(ctx, `
		SELECT `+keyColumns+` FROM api_keys
		WHERE ($1 = '' OR username = $1)
		ORDER BY created_at DESC, id`, f.Owner)
	if err != nil {
		return nil, translate("list keys", err)
	}
	defer rows.Close()
	out := []APIKey{}
	for rows.Next() {
		k, err := scanKey(rows)
		if err != nil {
			return nil, translate("list keys", err)
		}
		out = append(out, k)
	}
	return out, translate("list keys", rows.Err())
}

// RevokeKey marks a key revoked; revoking twice keeps the first time.
func RevokeKey(ctx context.Context, db DBTX, id uuid.UUID, now time.Time) error {
	tag, err := db.Exec(ctx,
		`UPDATE api_keys SET revoked_at = COALESCE(revoked_at, $2) WHERE id = $1`, id, now)
	if err == nil && tag.RowsAffected() == 0 {
		return ErrNotFound
	}
	return translate("revoke key", err)
}

// LiveKeys returns every key that is not revoked, keyed by its secret's hash.
func LiveKeys(ctx context.Context, db DBTX) (map[string]APIKey, error) {
	rows, err := db.Query(ctx, `SELECT hash, `+keyColumns+` FROM api_keys WHERE revoked_at IS NULL`)
	if err != nil {
		return nil, translate("live keys", err)
	}
	defer rows.Close()
	out := map[string]APIKey{}
	for rows.Next() {
		var hash []byte
		var k APIKey
		if err := rows.Scan(&hash, &k.ID, &k.Name, &k.Prefix, &k.Username, &k.Service, &k.Pool, &k.CreatedBy, &k.CreatedAt, &k.RevokedAt); err != nil {
			return nil, translate("live keys", err)
		}
		out[string(hash)] = k
	}
	return out, translate("live keys", rows.Err())
}
