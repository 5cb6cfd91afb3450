package handlers

import (
	"net/http"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"easel/actions"
	"easel/store"
	"easel/views"
)

// Page is GET /keys.
func (h *Keys) Page(c echo.Context) error {
	keys, err := h.List(c.Request().Context(), actor(c))
	if err != nil {
		return err
	}
	canService := h.MayMakeServiceKey(actor(c))
	return Render(c, http.StatusOK, views.Keys(views.KeysPage{
		Base: pageBase(c, h.policy, "API keys", "keys"), Keys: keys, CanService: canService,
		Form: views.KeyForm{CSRF: CSRFToken(c), CanService: canService, Errors: views.FormErrors{}},
	}))
}

// CreatePage is POST /keys: the new key is shown once in the form.
func (h *Keys) CreatePage(c echo.Context) error {
	form, _ := c.FormParams()
	canService := h.MayMakeServiceKey(actor(c))
	f := views.KeyForm{CSRF: CSRFToken(c), CanService: canService, Errors: views.FormErrors{}}
	secret, k, err := h.Create(c.Request().Context(), actor(c), actions.KeyInput{
		Name: form.Get("name"), Service: form.Get("service") == "1",
	})
	if err != nil {
		errs, status, ok := formErrors(err)
		if !ok {
			return err
		}
		f.Name, f.Errors = form.Get("name"), errs
		return renderFailed(c, status, errs, consoleCan(c, h.policy), views.KeyCreateForm(f))
	}
	f.Secret = secret
	return renderDone(c, http.StatusOK, templComponents(
		views.KeyCreateForm(f),
		oobPrepend("keys-body", views.KeyRow(k)),
	), "Key “"+k.Name+"” created.")
}

// RevokePage is DELETE /keys/:id; the row comes back marked revoked.
func (h *Keys) RevokePage(c echo.Context) error {
	id, err := uuid.Parse(c.Param("id"))
	if err != nil {
		return store.ErrNotFound
	}
	ctx := c.Request().Context()
	if err := h.Revoke(ctx, actor(c), id); err != nil {
		return err
	}
	k, err := store.FindKey(ctx, h.store.DB(), id)
	if err != nil {
		return err
	}
	return Render(c, http.StatusOK, views.KeyRow(k))
}
