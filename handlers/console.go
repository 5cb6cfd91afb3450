package handlers

import (
	"net/http"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"easel/policy"
	"easel/views"
)

// pageBase is BaseView plus what console pages offer to create, so every
// button and hint matches the viewer's permissions (the server still
// enforces each).
func pageBase(c echo.Context, p *policy.Policy, title, active string) views.Base {
	b := BaseView(c, p, title, active)
	who := actor(c)
	b.Can.AllJobs = p.Can(who, policy.InferenceAll)
	b.Can.CreateModels = p.Can(who, policy.CheckpointCreate)
	b.Can.CreateEndpoints = p.Can(who, policy.EndpointCreate)
	return b
}

// consoleCan is the viewer's pageBase permissions alone.
func consoleCan(c echo.Context, p *policy.Policy) views.Can {
	return pageBase(c, p, "", "").Can
}

// renderDone answers with comp and a success notice in the layout's
// notice region.
func renderDone(c echo.Context, status int, comp templ.Component, done string) error {
	return Render(c, status, templComponents(comp, views.Notice(views.Done(done))))
}

// renderFailed answers with a form re-shown with its field errors errs (the
// map the form's view model holds); an error about no one field goes to the
// notice region instead, in the console's words.
func renderFailed(c echo.Context, status int, errs views.FormErrors, can views.Can, form templ.Component) error {
	msg, whole := errs[""]
	delete(errs, "")
	if !whole {
		return Render(c, status, templComponents(form, views.NoNotice()))
	}
	return Render(c, status, templComponents(form, views.Notice(views.Failed(msg, can))))
}

// saveRow answers a console row's save: save runs the action; a mistake
// the form can show re-renders the row's form (edit) with the errors;
// success renders the saved row (saved) with the notice done.
func saveRow(c echo.Context, p *policy.Policy, save func() error,
	edit func(views.FormErrors) (templ.Component, error), saved func() (templ.Component, error), done string) error {
	if err := save(); err != nil {
		errs, status, ok := formErrors(err)
		if !ok {
			return err
		}
		form, err := edit(errs)
		if err != nil {
			return err
		}
		return renderFailed(c, status, errs, consoleCan(c, p), form)
	}
	row, err := saved()
	if err != nil {
		return err
	}
	return renderDone(c, http.StatusOK, row, done)
}
