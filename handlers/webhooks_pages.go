package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"easel/actions"
	"easel/policy"
	"easel/views"
)

// Webhooks adapts the webhooks actions to the console: every action
// answers with the page's section re-rendered.
type Webhooks struct {
	*actions.Webhooks
	policy *policy.Policy
}

// NewWebhooks returns the webhooks handler over a.
func NewWebhooks(a *actions.Webhooks, p *policy.Policy) *Webhooks {
	return &Webhooks{Webhooks: a, policy: p}
}

// section returns the viewer's section as it now is.
func (h *Webhooks) section(c echo.Context) (views.WebhooksSection, error) {
	v, err := h.View(c.Request().Context(), actor(c))
	s := views.WebhooksSection{CSRF: CSRFToken(c), Hooks: v.Hooks, Deliveries: v.Deliveries, Errors: views.FormErrors{}}
	if v.SecretSince != nil {
		s.Since = v.SecretSince.UTC().Format("2006-01-02 15:04 UTC")
	}
	return s, err
}

// Page is GET /webhooks.
func (h *Webhooks) Page(c echo.Context) error {
	s, err := h.section(c)
	if err != nil {
		return err
	}
	return Render(c, http.StatusOK, views.Webhooks(views.WebhooksPage{Base: pageBase(c, h.policy, "Webhooks", "webhooks"), Section: s}))
}

// CreatePage is POST /webhooks.
func (h *Webhooks) CreatePage(c echo.Context) error {
	form, _ := c.FormParams()
	in := actions.WebhookInput{URL: form.Get("url"), Events: form["events"]}
	_, err := h.Create(c.Request().Context(), actor(c), in)
	s, serr := h.section(c)
	if serr != nil {
		return serr
	}
	if err != nil {
		errs, status, ok := formErrors(err)
		if !ok {
			return err
		}
		s.URL, s.Events, s.Errors = in.URL, in.Events, errs
		return renderFailed(c, status, errs, consoleCan(c, h.policy), views.WebhooksBody(s))
	}
	return renderDone(c, http.StatusOK, views.WebhooksBody(s), "Webhook added.")
}

// DeletePage is DELETE /webhooks/:id.
func (h *Webhooks) DeletePage(c echo.Context) error {
	if err := h.Delete(c.Request().Context(), actor(c), c.Param("id")); err != nil {
		return err
	}
	return h.done(c, "", "Webhook deleted.")
}

// RotatePage is POST /webhooks/secret: the new secret is shown once.
func (h *Webhooks) RotatePage(c echo.Context) error {
	secret, err := h.RotateSecret(c.Request().Context(), actor(c))
	if err != nil {
		return err
	}
	return h.done(c, secret, "New signing secret made.")
}

// RedeliverPage is POST /webhooks/deliveries/:id/redeliver.
func (h *Webhooks) RedeliverPage(c echo.Context) error {
	if err := h.Redeliver(c.Request().Context(), actor(c), c.Param("id")); err != nil {
		return err
	}
	return h.done(c, "", "Delivery queued again.")
}

func (h *Webhooks) done(c echo.Context, secret, msg string) error {
	s, err := h.section(c)
	if err != nil {
		return err
	}
	s.Secret = secret
	return renderDone(c, http.StatusOK, views.WebhooksBody(s), msg)
}
