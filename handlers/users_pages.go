package handlers

import (
	"context"
	"net/http"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"easel/actions"
	"easel/policy"
	"easel/store"
	"easel/views"
)

// Page is GET /users.
func (h *Users) Page(c echo.Context) error {
	ctx := c.Request().Context()
	users, err := h.List(ctx, actor(c), "")
	if err != nil {
		return err
	}
	form, err := h.form(c, "", nil)
	if err != nil {
		return err
	}
	return Render(c, http.StatusOK, views.Users(views.UsersPage{
		Base: pageBase(c, h.policy, "Users", "users"), Users: users, Form: form,
	}))
}

// form builds the user form with the roles the actor may assign.
func (h *Users) form(c echo.Context, username string, roles []string) (views.UserForm, error) {
	who := actor(c)
	all, err := store.ListRoles(c.Request().Context(), h.store.DB(), store.RoleFilter{})
	if err != nil {
		return views.UserForm{}, err
	}
	var choices []string
	for _, r := range all {
		if h.policy.CanGrantAll(who, r.Permissions) {
			choices = append(choices, r.Name)
		}
	}
	return views.UserForm{CSRF: CSRFToken(c), Username: username, Roles: roles, Choices: choices, Errors: views.FormErrors{}}, nil
}

// CreatePage is POST /users from the console form.
func (h *Users) CreatePage(c echo.Context) error {
	ctx := c.Request().Context()
	form, _ := c.FormParams()
	pw := form.Get("password")
	in := actions.UserInput{Username: form.Get("username"), Password: &pw, Roles: form["roles"]}
	if err := h.upsertUnlessWeak(ctx, actor(c), in); err != nil {
		errs, status, ok := formErrors(err)
		if !ok {
			return err
		}
		f, ferr := h.form(c, in.Username, in.Roles)
		if ferr != nil {
			return ferr
		}
		f.Errors = errs
		return renderFailed(c, status, errs, consoleCan(c, h.policy), views.UserCreateForm(f))
	}
	u, err := store.FindUser(ctx, h.store.DB(), in.Username)
	if err != nil {
		return err
	}
	f, err := h.form(c, "", nil)
	if err != nil {
		return err
	}
	return renderDone(c, http.StatusOK, templComponents(
		views.UserCreateForm(f),
		oobAppend("users-body", views.UserRowView(views.UserRow{User: u, CanModify: true, CSRF: CSRFToken(c)})),
	), "User "+u.Username+" created.")
}

// EditRow is GET /users/:name/edit: the row as an inline form.
func (h *Users) EditRow(c echo.Context) error {
	u, err := h.visibleUser(c)
	if err != nil {
		return err
	}
	f, err := h.form(c, u.Username, u.Roles)
	if err != nil {
		return err
	}
	f.Editing = true
	return Render(c, http.StatusOK, views.UserEditRow(f))
}

// Row is GET /users/:name/row: the plain row (cancel of an edit).
func (h *Users) Row(c echo.Context) error {
	u, err := h.visibleUser(c)
	if err != nil {
		return err
	}
	return Render(c, http.StatusOK, views.UserRowView(h.row(c, u)))
}

// UpdatePage is POST /users/:name: roles and, when given, a new password.
func (h *Users) UpdatePage(c echo.Context) error {
	ctx := c.Request().Context()
	u, err := h.visibleUser(c)
	if err != nil {
		return err
	}
	form, _ := c.FormParams()
	in := actions.UserInput{Username: u.Username, Roles: form["roles"], KeepSession: sessionID(c)}
	pw := form.Get("password")
	if pw != "" {
		in.Password = &pw
	}
	return saveRow(c, h.policy, func() error { return h.upsertUnlessWeak(ctx, actor(c), in) },
		func(errs views.FormErrors) (templ.Component, error) {
			f, err := h.form(c, u.Username, in.Roles)
			f.Editing, f.Errors = true, errs
			return views.UserEditRow(f), err
		},
		func() (templ.Component, error) {
			u, err := store.FindUser(ctx, h.store.DB(), u.Username)
			return views.UserRowView(h.row(c, u)), err
		},
		"User "+u.Username+" saved.")
}

// DeletePage is DELETE /users/:name; the emptied row replaces the old one.
func (h *Users) DeletePage(c echo.Context) error {
	u, err := h.visibleUser(c)
	if err != nil {
		return err
	}
	return deleteRow(c, u.Username, h.Delete)
}

// visibleUser returns the user named in the path if the actor may see it;
// otherwise ErrNotFound, so names of hidden users do not leak.
func (h *Users) visibleUser(c echo.Context) (store.User, error) {
	users, err := h.List(c.Request().Context(), actor(c), "")
	if err != nil {
		return store.User{}, err
	}
	for _, u := range users {
		if u.Username == c.Param("name") {
			return u, nil
		}
	}
	return store.User{}, store.ErrNotFound
}

func (h *Users) row(c echo.Context, u store.User) views.UserRow {
	who := actor(c)
	return views.UserRow{User: u, CanModify: h.MayModify(who, u), CSRF: CSRFToken(c)}
}

// minConsolePassword is the console's password policy (the ESD API has none).
const minConsolePassword = 8

// upsertUnlessWeak applies the console's password policy, then Upsert.
func (h *Users) upsertUnlessWeak(ctx context.Context, who policy.Principal, in actions.UserInput) error {
	if in.Password != nil && len([]rune(*in.Password)) < minConsolePassword {
		return store.FieldError("password", "Use a password of at least %d characters.", minConsolePassword)
	}
	return h.Upsert(ctx, who, in)
}
