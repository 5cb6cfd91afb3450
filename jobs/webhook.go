package jobs

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/riverqueue/river"

	"easel/netguard"
	"easel/secrets"
	"easel/store"
)

// WebhookArgs sends one webhook delivery, retried with WebhookRetryDelay
// for at least a day.
type WebhookArgs struct {
	DeliveryID uuid.UUID `json:"delivery_id"`
}

// Kind names the job in River.
func (WebhookArgs) Kind() string { return "webhook_delivery" }

// WebhookAttempts is how often a delivery is tried: the retries span more
// than 24 hours (TestWebhookRetriesSpanADay).
const WebhookAttempts = 12

// InsertOpts: many attempts, spaced by NextRetry.
func (WebhookArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: WebhookAttempts}
}

// WebhookRetryDelay is the wait after failed attempt n (1-based): 5 s,
// tripling, at most 10 h.
func WebhookRetryDelay(n int) time.Duration {
	d := 5 * time.Second
	for i := 1; i < n && d < 10*time.Hour; i++ {
		d *= 3
	}
	return min(d, 10*time.Hour)
}

// Limits of one attempt.
const (
	webhookTimeout   = 15 * time.Second
	webhookReadLimit = 64 << 10
)

// NewWebhookSecret returns a new signing secret, "whsec_" and the base64 of
// 32 random bytes (the Standard Webhooks form).
func NewWebhookSecret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return "whsec_" + base64.StdEncoding.EncodeToString(b)
}

// SignWebhook returns the webhook-signature header of body sent as message
// id at unix time ts under secret: "v1," and the base64 of
// HMAC-SHA256(key, "<id>.<ts>.<body>"), key being secret's base64 part.
func SignWebhook(secret, id string, ts int64, body []byte) (string, error) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		return "", fmt.Errorf("webhook secret: %w", err)
	}
	mac := hmac.New(sha256.New, key)
	fmt.Fprintf(mac, "%s.%d.", id, ts)
	mac.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil)), nil
}

// OwnerSecret returns owner's signing secret, made (and sealed) on first
// need: deliveries are always signed; the owner rotates it in the console
// to learn it.
func OwnerSecret(ctx context.Context, db store.DBTX, sealer *secrets.Sealer, owner string, now time.Time) (string, error) {
	sealed, _, err := store.FindWebhookSecret(ctx, db, owner)
	if errors.Is(err, store.ErrNotFound) {
		fresh, serr := sealer.Seal(NewWebhookSecret())
		if serr != nil {
			return "", serr
		}
		sealed, err = store.CreateWebhookSecret(ctx, db, owner, fresh, now)
	}
	if err != nil {
		return "", err
	}
	return sealer.Open(sealed)
}

type webhookWorker struct {
	river.WorkerDefaults[WebhookArgs]
	d      Deps
	client *http.Client
}

func newWebhookWorker(d Deps) *webhookWorker {
	client := d.Cfg.URLs.Client(webhookTimeout)
	// A redirect is the receiver's answer, never followed (it could lead
	// anywhere, the signature with it).
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &webhookWorker{d: d, client: client}
}

func (w *webhookWorker) NextRetry(job *river.Job[WebhookArgs]) time.Time {
	return time.Now().Add(WebhookRetryDelay(job.Attempt))
}

func (w *webhookWorker) Timeout(*river.Job[WebhookArgs]) time.Duration {
	return webhookTimeout + 15*time.Second
}

// Work makes one attempt and records it; a failure is retried by River
// until the last attempt, a 410 Gone disables a standing webhook.
func (w *webhookWorker) Work(ctx context.Context, job *river.Job[WebhookArgs]) error {
	d, err := store.FindWebhookDelivery(ctx, w.d.Store.DB(), job.Args.DeliveryID)
	if errors.Is(err, store.ErrNotFound) {
		return nil // its inference was deleted
	}
	if err != nil {
		return err
	}
	code, sendErr := w.send(ctx, d)
	now := w.d.Store.Now()
	a := store.DeliveryAttempt{Status: store.DeliverySucceeded, ResponseCode: code, Now: now}
	gone := code == http.StatusGone
	if sendErr != nil {
		a.Status, a.Error = store.DeliveryFailed, sendErr.Error()
		if job.Attempt < job.MaxAttempts && !gone {
			a.Status = store.DeliveryPending
			next := now.Add(WebhookRetryDelay(job.Attempt))
			a.NextAttempt = &next
		}
	}
	if err := store.RecordDeliveryAttempt(context.WithoutCancel(ctx), w.d.Store.DB(), d.ID, a); err != nil {
		return err
	}
	if gone && d.WebhookID != nil {
		reason := fmt.Sprintf("%s answered 410 Gone on %s", RedactURL(d.URL), now.UTC().Format(time.RFC3339))
		if err := store.DisableWebhook(context.WithoutCancel(ctx), w.d.Store.DB(), *d.WebhookID, reason); err != nil {
			return err
		}
	}
	switch {
	case sendErr == nil:
		return nil
	case gone:
		return river.JobCancel(sendErr)
	}
	return sendErr
}

// send posts the delivery once and returns the answer's status (0: none).
func (w *webhookWorker) send(ctx context.Context, d store.WebhookDelivery) (int, error) {
	inf, err := store.FindInference(ctx, w.d.Store.DB(), d.InferenceID)
	if err != nil {
		return 0, err
	}
	data, err := DetailOf(ctx, w.d.Blob, inf, time.Hour)
	if err != nil {
		return 0, err
	}
	now := w.d.Store.Now()
	body, _ := json.Marshal(map[string]any{"type": "inference." + d.Event, "timestamp": now.UTC().Format(time.RFC3339Nano), "data": data})
	secret, err := OwnerSecret(ctx, w.d.Store.DB(), w.d.Sealer, d.Owner, now)
	if err != nil {
		return 0, err
	}
	id, ts := "msg_"+d.ID.String(), now.Unix()
	sig, err := SignWebhook(secret, id, ts, body)
	if err != nil {
		return 0, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.URL, bytes.NewReader(body))
	if err != nil {
		return 0, fmt.Errorf("invalid URL: %s", RedactURL(d.URL))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Easel-Webhooks")
	req.Header.Set("webhook-id", id)
	req.Header.Set("webhook-timestamp", strconv.FormatInt(ts, 10))
	req.Header.Set("webhook-signature", sig)
	res, err := w.client.Do(req)
	if err != nil {
		var blocked *netguard.BlockedError
		if errors.As(err, &blocked) {
			return 0, blocked
		}
		return 0, redactErr(err, d.URL)
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, webhookReadLimit))
	if res.StatusCode < 200 || res.StatusCode > 299 {
		return res.StatusCode, fmt.Errorf("the receiver answered %s", res.Status)
	}
	return res.StatusCode, nil
}
