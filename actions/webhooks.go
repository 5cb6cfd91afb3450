package actions

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"easel/jobs"
	"easel/netguard"
	"easel/policy"
	"easel/secrets"
	"easel/store"
)

// Webhooks are a user's standing webhooks, signing secret and delivery
// log: each user sees and changes only their own.
type Webhooks struct {
	store  *store.Store
	policy *policy.Policy
	sealer *secrets.Sealer
	jobs   JobInserter
	urls   netguard.Policy
	log    *slog.Logger
}

// NewWebhooks returns the webhooks actions.
func NewWebhooks(s *store.Store, p *policy.Policy, sealer *secrets.Sealer, j JobInserter, urls netguard.Policy, log *slog.Logger) *Webhooks {
	return &Webhooks{store: s, policy: p, sealer: sealer, jobs: j, urls: urls, log: log}
}

// Limits on webhooks.
const (
	maxWebhooks      = 10
	maxWebhookURL    = 2048
	deliveriesShown  = 50
	webhookEventsMsg = "start, completed, failed, cancelled"
)

// CheckWebhook validates a webhook URL (field urlField) and its events
// (eventsField): an http or https URL that the SSRF policy of URL imports
// allows, and events among start, completed, failed and cancelled (none:
// all). It returns the events, deduplicated, in their usual order.
func CheckWebhook(urls netguard.Policy, urlField, raw, eventsField string, events []string) ([]string, error) {
	if raw == "" {
		return nil, store.FieldError(urlField, "%s must be an http or https URL", urlField)
	}
	if len(raw) > maxWebhookURL {
		return nil, store.FieldError(urlField, "%s is longer than %d characters", urlField, maxWebhookURL)
	}
	if _, err := urls.CheckURL(raw); err != nil {
		return nil, store.FieldError(urlField, "%s %s is not allowed: %s", urlField, jobs.RedactURL(raw), err.Error())
	}
	if len(events) == 0 {
		return slices.Clone(store.WebhookEvents), nil
	}
	var out []string
	for _, e := range store.WebhookEvents {
		if slices.Contains(events, e) {
			out = append(out, e)
		}
	}
	for _, e := range events {
		if !slices.Contains(store.WebhookEvents, e) {
			return nil, store.FieldError(eventsField, "%s: %q is not an event; use %s", eventsField, e, webhookEventsMsg)
		}
	}
	return out, nil
}

// WebhookInput is a new standing webhook.
type WebhookInput struct {
	URL    string   `form:"url"`
	Events []string `form:"events"`
}

// WebhooksView is what a user's Webhooks page shows.
type WebhooksView struct {
	Hooks       []store.Webhook
	SecretSince *time.Time // nil: no secret yet
	Deliveries  []store.WebhookDelivery
}

// View returns actor's webhooks, secret date and newest deliveries.
func (h *Webhooks) View(ctx context.Context, actor policy.Principal) (WebhooksView, error) {
	if err := h.policy.Require(actor, policy.InferenceList); err != nil {
		return WebhooksView{}, err
	}
	var v WebhooksView
	var err error
	if v.Hooks, err = store.ListWebhooks(ctx, h.store.DB(), actor.Name()); err != nil {
		return v, err
	}
	if _, at, err := store.FindWebhookSecret(ctx, h.store.DB(), actor.Name()); err == nil {
		v.SecretSince = &at
	} else if store.ErrorCode(err) != store.ENotFound {
		return v, err
	}
	v.Deliveries, err = store.ListWebhookDeliveries(ctx, h.store.DB(), actor.Name(), deliveriesShown)
	return v, err
}

// Create registers a standing webhook for actor.
func (h *Webhooks) Create(ctx context.Context, actor policy.Principal, in WebhookInput) (store.Webhook, error) {
	if err := h.policy.Require(actor, policy.InferenceList); err != nil {
		return store.Webhook{}, err
	}
	in.URL = strings.TrimSpace(in.URL)
	events, err := CheckWebhook(h.urls, "url", in.URL, "events", in.Events)
	if err != nil {
		return store.Webhook{}, err
	}
	w := store.Webhook{ID: uuid.New(), Owner: actor.Name(), URL: in.URL, Events: events, Enabled: true, CreatedAt: h.store.Now()}
	err = h.store.InTx(ctx, func(tx pgx.Tx) error {
		have, err := store.ListWebhooks(ctx, tx, actor.Name())
		if err != nil {
			return err
		}
		if len(have) >= maxWebhooks {
			return store.Errorf(store.ETooMany, "You have %d webhooks, the most one user may have; delete one first.", len(have))
		}
		if err := store.CreateWebhook(ctx, tx, w); err != nil {
			return err
		}
		return store.Audit(ctx, tx, actor.Name(), "webhook.create", w.ID.String(), jobs.RedactURL(w.URL))
	})
	return w, err
}

// Delete removes actor's webhook id (another user's is not found).
func (h *Webhooks) Delete(ctx context.Context, actor policy.Principal, id string) error {
	if err := h.policy.Require(actor, policy.InferenceList); err != nil {
		return err
	}
	uid, err := uuid.Parse(id)
	if err != nil {
		return store.Errorf(store.ENotFound, "webhook %s not found", id)
	}
	return h.store.InTx(ctx, func(tx pgx.Tx) error {
		if err := store.DeleteWebhook(ctx, tx, actor.Name(), uid); err != nil {
			return err
		}
		return store.Audit(ctx, tx, actor.Name(), "webhook.delete", id, "")
	})
}

// RotateSecret gives actor a new signing secret and returns it: the only
// time it is shown.
func (h *Webhooks) RotateSecret(ctx context.Context, actor policy.Principal) (string, error) {
	if err := h.policy.Require(actor, policy.InferenceList); err != nil {
		return "", err
	}
	secret := jobs.NewWebhookSecret()
	sealed, err := h.sealer.Seal(secret)
	if err != nil {
		return "", err
	}
	err = h.store.InTx(ctx, func(tx pgx.Tx) error {
		if err := store.SaveWebhookSecret(ctx, tx, actor.Name(), sealed, h.store.Now()); err != nil {
			return err
		}
		return store.Audit(ctx, tx, actor.Name(), "webhook.secret", actor.Name(), "rotated")
	})
	return secret, err
}

// Redeliver sends actor's delivery id again (same webhook-id), with a
// fresh series of attempts.
func (h *Webhooks) Redeliver(ctx context.Context, actor policy.Principal, id string) error {
	if err := h.policy.Require(actor, policy.InferenceList); err != nil {
		return err
	}
	uid, err := uuid.Parse(id)
	if err != nil {
		return store.Errorf(store.ENotFound, "delivery %s not found", id)
	}
	return h.store.InTx(ctx, func(tx pgx.Tx) error {
		if err := store.ResetWebhookDelivery(ctx, tx, actor.Name(), uid, h.store.Now()); err != nil {
			return err
		}
		if _, err := h.jobs.InsertTx(ctx, tx, jobs.WebhookArgs{DeliveryID: uid}, nil); err != nil {
			return fmt.Errorf("enqueue redelivery: %w", err)
		}
		return store.Audit(ctx, tx, actor.Name(), "webhook.redeliver", id, "")
	})
}
