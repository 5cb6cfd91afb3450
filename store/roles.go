package store

import (
	"context"
	"time"
)

// DefaultRole is ESD's administrator role; it cannot be deleted or modified.
const DefaultRole = "IT Operator"

// Role is a named set of permission strings ("resource:action").
type Role struct {
	Name        string
	Creator     string
	Permissions []string
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// RoleFilter narrows ListRoles. Zero values mean "no restriction".
type RoleFilter struct {
	Name string
	// VisibleTo, when set, keeps roles created by this user or held by it.
	VisibleTo string
}

const roleColumns = `name, creator, permissions, created_at, updated_at`

func scanRole(row interface{ Scan(...any) error }) (Role, error) {
	var r Role
	err := row.Scan(&r.Name, &r.Creator, &r.Permissions, &r.CreatedAt, &r.UpdatedAt)
	return r, err
}

// ListRoles returns the roles matching f, ordered by name (byte order, as ESD).
func ListRoles(ctx context.Context, db DBTX, f RoleFilter) ([]Role, error) {
	rows, err := db.Query(ctx, `
		SELECT `+roleColumns+` FROM roles r
		WHERE ($1 = '' OR r.name = $1)
		  AND ($2 = '' OR r.creator = $2
		       OR r.name = ANY (SELECT unnest(roles) FROM users WHERE username = $2))
		ORDER BY r.name COLLATE "C"`, f.Name, f.VisibleTo)
	if err != nil {
		return nil, translate("list roles", err)
	}
	defer rows.Close()
	out := []Role{}
	for rows.Next() {
		r, err := scanRole(rows)
		if err != nil {
			return nil, translate("list roles", err)
		}
		out = append(out, r)
	}
	return out, translate("list roles", rows.Err())
}

// FindRole returns the role called name, or ErrNotFound.
func FindRole(ctx context.Context, db DBTX, name string) (Role, error) {
	r, err := scanRole(db.QueryRow(ctx, `SELECT `+roleColumns+` FROM roles WHERE name = $1`, name))
	return r, translate("find role", err)
}

// MissingRoles returns the names in names that are not roles, in order.
func MissingRoles(ctx context.Context, db DBTX, names []string) ([]string, error) {
	rows, err := db.Query(ctx, `
		SELECT n FROM unnest($1::text[]) WITH ORDINALITY AS t(n, i)
		WHERE NOT EXISTS (SELECT 1 FROM roles WHERE name = n)
		ORDER BY i`, names)
	if err != nil {
		return nil, translate("missing roles", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, translate("missing roles", err)
		}
		out = append(out, n)
	}
	return out, translate("missing roles", rows.Err())
}

// PermissionsOfRoles returns the permission strings of the named roles that
// exist, de-duplicated and sorted in byte order.
func PermissionsOfRoles(ctx context.Context, db DBTX, names []string) ([]string, error) {
	var perms []string
	err := db.QueryRow(ctx, `
		SELECT COALESCE(array_agg(DISTINCT p COLLATE "C" ORDER BY p COLLATE "C"), '{}')
		FROM roles, unnest(permissions) AS p WHERE name = ANY ($1)`, names).Scan(&perms)
	return perms, translate("permissions of roles", err)
}

// UpsertRole creates or fully overwrites a role.
func UpsertRole(ctx context.Context, db DBTX, r Role, now time.Time) error {
	_, err := db.Exec(ctx, `
		INSERT INTO roles (name, creator, permissions, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $4)
		ON CONFLICT (name) DO UPDATE
		SET creator = EXCLUDED.creator, permissions = EXCLUDED.permissions, updated_at = $4`,
		r.Name, r.Creator, r.Permissions, now)
	return translate("upsert role", err)
}

// DeleteRoles removes the named roles and takes them off every user that
// holds them. Unknown names are ignored. It returns the names it deleted.
func DeleteRoles(ctx context.Context, db DBTX, names []string) ([]string, error) {
	rows, err := db.Query(ctx, `DELETE FROM roles WHERE name = ANY ($1) RETURNING name`, names)
	if err != nil {
		return nil, translate("delete roles", err)
	}
	var deleted []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return nil, translate("delete roles", err)
		}
		deleted = append(deleted, n)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, translate("delete roles", err)
	}
	_, err = db.Exec(ctx, `
		UPDATE users SET roles = ARRAY(SELECT r FROM unnest(roles) AS r WHERE NOT r = ANY ($1))
		WHERE roles && $1`, deleted)
	return deleted, translate("delete roles from users", err)
}
