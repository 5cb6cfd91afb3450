package handlers

import (
	"bytes"
	"context"
	"net/http"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"easel/policy"
	"easel/views"
)

// Sessions signs console users in and out (implemented in web/).
type Sessions interface {
	SignIn(c echo.Context, username string) error
	SignOut(c echo.Context) error
}

// CSRFToken returns the request's CSRF token (set by web's middleware).
func CSRFToken(c echo.Context) string {
	t, _ := c.Get("csrf").(string)
	return t
}

// BaseView builds the layout's view model for the signed-in user.
func BaseView(c echo.Context, p *policy.Policy, title, active string) views.Base {
	who := actor(c)
	return views.Base{
		Title: title, User: who.Username, CSRF: CSRFToken(c), Active: active,
		Can: views.Can{
			ListUsers:     p.Can(who, policy.UserList),
			CreateUsers:   p.Can(who, policy.UserCreate),
			AllUsers:      p.Can(who, policy.UserAll),
			ListRoles:     p.Can(who, policy.RoleList),
			CreateRoles:   p.Can(who, policy.RoleCreate),
			ListModels:    p.Can(who, policy.CheckpointList),
			ListEndpoints: p.Can(who, policy.EndpointList),
			ListJobs:      p.Can(who, policy.InferenceList),
			CreateJobs:    p.Can(who, policy.InferenceCreate),
			ListTrainings: p.Can(who, policy.TrainList),
		},
	}
}

// Render renders a component into a buffer first, so a failing component
// never leaves half a page, then writes status and body.
func Render(c echo.Context, status int, comp templ.Component) error {
	var buf bytes.Buffer
	if err := comp.Render(c.Request().Context(), &buf); err != nil {
		return err
	}
	return c.HTMLBlob(status, buf.Bytes())
}

// sessionID returns the id of the request's console session, "" for none
// (set by web's session loader).
func sessionID(c echo.Context) string {
	id, _ := c.Get("session_id").(string)
	return id
}

// deleteRow answers a console row's DELETE: del removes the row called
// name as the actor, and the emptied row replaces the old one.
func deleteRow(c echo.Context, name string, del func(context.Context, policy.Principal, []string) error) error {
	if err := del(c.Request().Context(), actor(c), []string{name}); err != nil {
		return err
	}
	return c.HTML(http.StatusOK, "")
}
