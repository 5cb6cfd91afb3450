package store

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// User is an account of the console and the API.
type User struct {
	Username     string
	Creator      string
	PasswordHash string // argon2id PHC string; empty: cannot log in
	// PasswordSealed is the AES-GCM sealed password kept only for ESD's
	// opt-in password reveal; nil when not kept.
	PasswordSealed []byte
	Roles          []string
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// UserFilter narrows ListUsers. Zero values mean "no restriction".
type UserFilter struct {
	Username string
	// CreatedByOrSelf keeps users created by this user, and the user itself.
	CreatedByOrSelf string
	// Self keeps only this user.
	Self string
}

// UserUpsert is a create-or-overwrite of a user.
type UserUpsert struct {
	Username string
	Creator  string
	Roles    []string
	// SetPassword tells whether PasswordHash/PasswordSealed replace the
	// stored ones (an overwrite without a password keeps the old one).
	SetPassword    bool
	PasswordHash   string
	PasswordSealed []byte
}

const userColumns = `u.username, u.creator, u.password_hash, u.password_sealed, u.roles, u.created_at, u.updated_at`

// listedUserColumns leave out the password hash, which no list shows.
const listedUserColumns = `u.username, u.creator, '', u.password_sealed, u.roles, u.created_at, u.updated_at`

func scanUser(row interface{ Scan(...any) error }) (User, error) {
	var u User
	err := row.Scan(&u.Username, &u.Creator, &u.PasswordHash, &u.PasswordSealed, &u.Roles, &u.CreatedAt, &u.UpdatedAt)
	return u, err
}

// ListUsers returns the users matching f ordered by username (byte order),
// without their password hashes.
func ListUsers(ctx context.Context, db DBTX, f UserFilter) ([]User, error) {
	// Only the filters in use become SQL: a statement without "$1 = ''"
	// alternatives gets a cached generic plan instead of being planned on
	// every call (the planning cost more than running it; bench/api).
	var where []string
	var args []any
	add := func(cond, v string) {
		if v != "" {
			args = append(args, v)
			where = append(where, strings.ReplaceAll(cond, "?", fmt.Sprintf("$%d", len(args))))
		}
	}
	add("u.username = ?", f.Username)
	add("(u.creator = ? OR u.username = ?)", f.CreatedByOrSelf)
	add("u.username = ?", f.Self)
	sql := `SELECT ` + listedUserColumns + ` FROM users u`
	if len(where) > 0 {
		sql += ` WHERE ` + strings.Join(where, " AND ")
	}
	rows, err := db.Query(ctx, sql+` ORDER BY u.username COLLATE "C"`, args...)
	if err != nil {
		return nil, translate("list users", err)
	}
	defer rows.Close()
	out := []User{}
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, translate("list users", err)
		}
		out = append(out, u)
	}
	return out, translate("list users", rows.Err())
}

// FindUser returns the user called name, or ErrNotFound.
func FindUser(ctx context.Context, db DBTX, name string) (User, error) {
	u, err := scanUser(db.QueryRow(ctx, `SELECT `+userColumns+` FROM users u WHERE u.username = $1`, name))
	return u, translate("find user", err)
}

// UpsertUser creates or overwrites a user.
func UpsertUser(ctx context.Context, db DBTX, u UserUpsert, now time.Time) error {
	if u.Roles == nil {
		u.Roles = []string{}
	}
	_, err := db.Exec(ctx, `
		INSERT INTO users (username, creator, password_hash, password_sealed, roles, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $7, $7)
		ON CONFLICT (username) DO UPDATE
		SET creator = EXCLUDED.creator, roles = EXCLUDED.roles, updated_at = $7,
		    password_hash = CASE WHEN $6 THEN EXCLUDED.password_hash ELSE users.password_hash END,
		    password_sealed = CASE WHEN $6 THEN EXCLUDED.password_sealed ELSE users.password_sealed END`,
		u.Username, u.Creator, u.PasswordHash, u.PasswordSealed, u.Roles, u.SetPassword, now)
	return translate("upsert user", err)
}

// SetPassword replaces a user's password.
func SetPassword(ctx context.Context, db DBTX, username, hash string, sealed []byte, now time.Time) error {
	tag, err := db.Exec(ctx, `
		UPDATE users SET password_hash = $2, password_sealed = $3, updated_at = $4 WHERE username = $1`,
		username, hash, sealed, now)
	if err == nil && tag.RowsAffected() == 0 {
		return ErrNotFound
	}
	return translate("set password", err)
}

// DeleteUsers removes the named users (their keys and sessions go with
// them). Unknown names are ignored. It returns the names it deleted.
func DeleteUsers(ctx context.Context, db DBTX, names []string) ([]string, error) {
	rows, err := db.Query(ctx, `DELETE FROM users WHERE username = ANY ($1) RETURNING username`, names)
	if err != nil {
		return nil, translate("delete users", err)
	}
	defer rows.Close()
	var deleted []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, translate("delete users", err)
		}
		deleted = append(deleted, n)
	}
	return deleted, translate("delete users", rows.Err())
}

// CountHolders returns how many users hold role.
func CountHolders(ctx context.Context, db DBTX, role string) (int, error) {
	var n int
	err := db.QueryRow(ctx, `SELECT count(*) FROM users WHERE $1 = ANY (roles)`, role).Scan(&n)
	return n, translate("count holders", err)
}

// LockUsers serialises writes that must keep an invariant over all users
// (at least one administrator) until the transaction ends.
func LockUsers(ctx context.Context, db DBTX) error {
	_, err := db.Exec(ctx, `SELECT pg_advisory_xact_lock(7470001)`)
	return translate("lock users", err)
}

// CountUsers returns the number of users.
func CountUsers(ctx context.Context, db DBTX) (int, error) {
	var n int
	err := db.QueryRow(ctx, `SELECT count(*) FROM users`).Scan(&n)
	return n, translate("count users", err)
}

// UserNames returns every user name.
func UserNames(ctx context.Context, db DBTX) ([]string, error) {
	rows, err := db.Query(ctx, `SELECT username FROM users`)
	if err != nil {
		return nil, translate("user names", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, translate("user names", err)
		}
		out = append(out, n)
	}
	return out, translate("user names", rows.Err())
}
