package store

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Delivery statuses.
const (
	DeliveryPending   = "pending"
	DeliverySucceeded = "succeeded"
	DeliveryFailed    = "failed"
)

// WebhookDelivery is one message to one URL (webhook_deliveries are
// recorded by the database itself when an inference changes state; see
// migration 00012), with the outcome of its last attempt.
type WebhookDelivery struct {
	ID           uuid.UUID
	WebhookID    *uuid.UUID // nil: the inference's own webhook
	InferenceID  uuid.UUID
	Owner        string
	URL          string
	Event        string
	Status       string
	Attempts     int
	ResponseCode int
	LastError    string
	NextAttempt  *time.Time
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

const deliveryColumns = `id, webhook_id, inference_id, owner, url, event, status, attempts, response_code,
	last_error, next_attempt, created_at, updated_at`

func scanDelivery(row pgx.Row) (WebhookDelivery, error) {
	var d WebhookDelivery
	err := row.Scan(&d.ID, &d.WebhookID, &d.InferenceID, &d.Owner, &d.URL, &d.Event, &d.Status, &d.Attempts,
		&d.ResponseCode, &d.LastError, &d.NextAttempt, &d.CreatedAt, &d.UpdatedAt)
	return d, err
}

// FindWebhookDelivery returns delivery id, or ErrNotFound.
func FindWebhookDelivery(ctx context.Context, db DBTX, id uuid.UUID) (WebhookDelivery, error) {
	d, err := scanDelivery(db.QueryRow(ctx, `SELECT `+deliveryColumns+` FROM webhook_deliveries WHERE id = $1`, id))
	return d, translate("find webhook delivery", err)
}

// ListWebhookDeliveries returns owner's newest deliveries, at most limit.
func ListWebhookDeliveries(ctx context.Context, db DBTX, owner string, limit int) ([]WebhookDelivery, error) {
	rows, err := db.Query(ctx, `SELECT `+deliveryColumns+` FROM webhook_deliveries WHERE owner = $1
		ORDER BY created_at DESC, id DESC LIMIT $2`, owner, limit)
	if err != nil {
		return nil, translate("list webhook deliveries", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (WebhookDelivery, error) { return scanDelivery(r) })
	return out, translate("list webhook deliveries", err)
}

// ClaimWebhookDeliveries marks up to limit deliveries that have no job yet
// as queued and returns their ids; concurrent callers never get the same
// one (SKIP LOCKED). Call it in the transaction that inserts their jobs.
func ClaimWebhookDeliveries(ctx context.Context, db DBTX, limit int) ([]uuid.UUID, error) {
	rows, err := db.Query(ctx, `
		UPDATE webhook_deliveries SET queued = true
		WHERE id IN (SELECT id FROM webhook_deliveries WHERE NOT queued ORDER BY created_at LIMIT $1 FOR UPDATE SKIP LOCKED)
		RETURNING id`, limit)
	if err != nil {
		return nil, translate("claim webhook deliveries", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	return ids, translate("claim webhook deliveries", err)
}

// DeliveryAttempt is the outcome of one attempt.
type DeliveryAttempt struct {
	Status       string
	ResponseCode int
	Error        string
	NextAttempt  *time.Time
	Now          time.Time
}

// RecordDeliveryAttempt counts an attempt of delivery id and its outcome.
func RecordDeliveryAttempt(ctx context.Context, db DBTX, id uuid.UUID, a DeliveryAttempt) error {
	_, err := db.Exec(ctx, `UPDATE webhook_deliveries SET attempts = attempts + 1, status = $2, response_code = $3,
		last_error = $4, next_attempt = $5, updated_at = $6 WHERE id = $1`,
		id, a.Status, a.ResponseCode, a.Error, a.NextAttempt, a.Now)
	return translate("record delivery attempt", err)
}

// ResetWebhookDelivery makes owner's finished delivery id pending again (a
// redelivery, queued by the caller): ErrNotFound when owner has none such,
// EInvalid while it is still pending (its job retries it).
func ResetWebhookDelivery(ctx context.Context, db DBTX, owner string, id uuid.UUID, now time.Time) error {
	var status string
	err := db.QueryRow(ctx, `SELECT status FROM webhook_deliveries WHERE owner = $1 AND id = $2 FOR UPDATE`, owner, id).Scan(&status)
	if err != nil {
		return translate("reset webhook delivery", err)
	}
	if status == DeliveryPending {
		return Errorf(EInvalid, "This delivery is still being tried; redeliver it once it has succeeded or failed.")
	}
	_, err = db.Exec(ctx, `UPDATE webhook_deliveries SET status = 'pending', queued = true, next_attempt = $2,
		updated_at = $2 WHERE id = $1`, id, now)
	return translate("reset webhook delivery", err)
}
