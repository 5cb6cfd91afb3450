package views

import (
	"strings"

	"easel/store"
)

// WebhooksPage is the signed-in user's webhooks, signing secret and
// delivery log.
type WebhooksPage struct {
	Base
	Section WebhooksSection
}

// WebhooksSection is the part of the page every action re-renders.
type WebhooksSection struct {
	CSRF   string
	Hooks  []store.Webhook
	Since  string // when the secret was made; "" none yet
	Secret string // a new secret, shown this once
	// Deliveries is the newest deliveries, first the newest.
	Deliveries []store.WebhookDelivery
	URL        string
	Events     []string
	Errors     FormErrors
}

// AllWebhookEvents are the events offered in the form.
var AllWebhookEvents = store.WebhookEvents

func checkedEvent(chosen []string, e string) bool {
	if len(chosen) == 0 {
		return true
	}
	for _, c := range chosen {
		if c == e {
			return true
		}
	}
	return false
}

func joinEvents(e []string) string { return strings.Join(e, ", ") }

func deliveryTarget(d store.WebhookDelivery) string {
	if d.WebhookID == nil {
		return "the job's own webhook"
	}
	return "standing webhook"
}
