package store

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// WebhookEvents are the events a webhook may be told of, in order.
var WebhookEvents = []string{"start", "completed", "failed", "cancelled"}

// Webhook is a standing webhook: every inference of its owner whose state
// changes to one of its events is delivered to its URL.
type Webhook struct {
	ID             uuid.UUID
	Owner          string
	URL            string
	Events         []string
	Enabled        bool
	DisabledReason string
	CreatedAt      time.Time
}

const webhookColumns = `id, owner, url, events, enabled, disabled_reason, created_at`

func scanWebhook(row pgx.Row) (Webhook, error) {
	var w Webhook
	err := row.Scan(&w.ID, &w.Owner, &w.URL, &w.Events, &w.Enabled, &w.DisabledReason, &w.CreatedAt)
	return w, err
}

// CreateWebhook inserts w.
func CreateWebhook(ctx context.Context, db DBTX, w Webhook) error {
	_, err := db.Exec(ctx, `INSERT INTO webhooks (`+webhookColumns+`) VALUES ($1, $2, $3, $4, true, '', $5)`,
		w.ID, w.Owner, w.URL, w.Events, w.CreatedAt)
	return translate("create webhook", err)
}

// ListWebhooks returns owner's webhooks, oldest first.
func ListWebhooks(ctx context.Context, db DBTX, owner string) ([]Webhook, error) {
	rows, err := db.Query(ctx, `SELECT `+webhookColumns+` FROM webhooks WHERE owner = $1 ORDER BY created_at, id`, owner)
	if err != nil {
		return nil, translate("list webhooks", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Webhook, error) { return scanWebhook(r) })
	return out, translate("list webhooks", err)
}

// DeleteWebhook removes owner's webhook id; ErrNotFound when owner has none
// such.
func DeleteWebhook(ctx context.Context, db DBTX, owner string, id uuid.UUID) error {
	tag, err := db.Exec(ctx, `DELETE FROM webhooks WHERE owner = $1 AND id = $2`, owner, id)
	if err == nil && tag.RowsAffected() == 0 {
		return ErrNotFound
	}
	return translate("delete webhook", err)
}

// DisableWebhook stops deliveries to webhook id, saying why.
func DisableWebhook(ctx context.Context, db DBTX, id uuid.UUID, reason string) error {
	_, err := db.Exec(ctx, `UPDATE webhooks SET enabled = false, disabled_reason = $2 WHERE id = $1`, id, reason)
	return translate("disable webhook", err)
}

// SaveWebhookSecret sets owner's sealed signing secret.
func SaveWebhookSecret(ctx context.Context, db DBTX, owner string, sealed []byte, now time.Time) error {
	_, err := db.Exec(ctx, `INSERT INTO webhook_secrets (owner, sealed, created_at) VALUES ($1, $2, $3)
		ON CONFLICT (owner) DO UPDATE SET sealed = EXCLUDED.sealed, created_at = EXCLUDED.created_at`, owner, sealed, now)
	return translate("save webhook secret", err)
}

// FindWebhookSecret returns owner's sealed signing secret and when it was
// made, or ErrNotFound.
func FindWebhookSecret(ctx context.Context, db DBTX, owner string) ([]byte, time.Time, error) {
	var sealed []byte
	var at time.Time
	err := db.QueryRow(ctx, `SELECT sealed, created_at FROM webhook_secrets WHERE owner = $1`, owner).Scan(&sealed, &at)
	return sealed, at, translate("find webhook secret", err)
}

// CreateWebhookSecret stores sealed as owner's secret unless owner has one
// already; either way it returns the secret in force.
func CreateWebhookSecret(ctx context.Context, db DBTX, owner string, sealed []byte, now time.Time) ([]byte, error) {
	_, err := db.Exec(ctx, `INSERT INTO webhook_secrets (owner, sealed, created_at) VALUES ($1, $2, $3)
		ON CONFLICT (owner) DO NOTHING`, owner, sealed, now)
	if err != nil {
		return nil, translate("create webhook secret", err)
	}
	in, _, err := FindWebhookSecret(ctx, db, owner)
	return in, err
}
