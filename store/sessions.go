package store

import (
	"context"
	"time"
)

// SessionRecord is a console session kept server-side so that it can be
// revoked (logout, user deleted).
type SessionRecord struct {
	ID        string
	Username  string
	Data      []byte
	ExpiresAt time.Time
}

// FindSession returns a session that has not expired, or ErrNotFound.
func FindSession(ctx context.Context, db DBTX, id string, now time.Time) (SessionRecord, error) {
	var r SessionRecord
	var user *string
	err := db.QueryRow(ctx, `
		SELECT id, username, data, expires_at FROM sessions WHERE id = $1 AND expires_at > $2`,
		id, now).Scan(&r.ID, &user, &r.Data, &r.ExpiresAt)
	if user != nil {
		r.Username = *user
	}
	return r, translate("find session", err)
}

// SaveSession creates or replaces a session.
func SaveSession(ctx context.Context, db DBTX, r SessionRecord) error {
	var user *string
	if r.Username != "" {
		user = &r.Username
	}
	_, err := db.Exec(ctx, `
		INSERT INTO sessions (id, username, data, expires_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (id) DO UPDATE SET username = $2, data = $3, expires_at = $4`,
		r.ID, user, r.Data, r.ExpiresAt)
	return translate("save session", err)
}

// DeleteSession removes a session; a missing one is not an error.
func DeleteSession(ctx context.Context, db DBTX, id string) error {
	_, err := db.Exec(ctx, `DELETE FROM sessions WHERE id = $1`, id)
	return translate("delete session", err)
}

// DeleteExpiredSessions removes sessions past their expiry.
func DeleteExpiredSessions(ctx context.Context, db DBTX, now time.Time) error {
	_, err := db.Exec(ctx, `DELETE FROM sessions WHERE expires_at <= $1`, now)
	return translate("delete expired sessions", err)
}

// DeleteUserSessions ends every session of username except keep (the
// session making the change, "" for none): a password change or reset
// signs the user out everywhere else.
func DeleteUserSessions(ctx context.Context, db DBTX, username, keep string) error {
	_, err := db.Exec(ctx, `DELETE FROM sessions WHERE username = $1 AND id <> $2`, username, keep)
	return translate("delete user sessions", err)
}
