package handlers

import (
	"net/http"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"easel/actions"
	"easel/policy"
	"easel/store"
	"easel/views"
)

// Page is GET /roles.
func (h *Roles) Page(c echo.Context) error {
	roles, err := h.List(c.Request().Context(), actor(c), "")
	if err != nil {
		return err
	}
	return Render(c, http.StatusOK, views.Roles(views.RolesPage{
		Base: pageBase(c, h.policy, "Roles", "roles"), Roles: roles, Form: h.form(c, "", nil),
	}))
}

func (h *Roles) form(c echo.Context, name string, perms []string) views.RoleForm {
	who := actor(c)
	f := views.RoleForm{CSRF: CSRFToken(c), Name: name, Resources: policy.Resources, Actions: policy.Actions,
		Granted: map[string]bool{}, Grantable: map[string]bool{}, Errors: views.FormErrors{}}
	for _, p := range perms {
		f.Granted[p] = true
	}
	for _, p := range policy.AllPerms() {
		f.Grantable[p.String()] = h.policy.Can(who, p)
	}
	return f
}

// CreatePage is POST /roles from the console form.
func (h *Roles) CreatePage(c echo.Context) error {
	form, _ := c.FormParams()
	in := actions.RoleInput{Name: form.Get("role_name"), Permissions: form["permissions"]}
	if err := h.createNew(c, in); err != nil {
		errs, status, ok := formErrors(err)
		if !ok {
			return err
		}
		f := h.form(c, in.Name, in.Permissions)
		f.Errors = errs
		return renderFailed(c, status, errs, consoleCan(c, h.policy), views.RoleCreateForm(f))
	}
	r, err := store.FindRole(c.Request().Context(), h.store.DB(), in.Name)
	if err != nil {
		return err
	}
	return renderDone(c, http.StatusOK, templComponents(
		views.RoleCreateForm(h.form(c, "", nil)),
		oobAppend("roles-body", views.RoleRowView(views.RoleRow{Role: r, CanModify: true, CSRF: CSRFToken(c)})),
	), "Role "+r.Name+" created.")
}

// createNew refuses to overwrite an existing role from the create form
// (the API's POST is an upsert; the console's "New role" is not).
func (h *Roles) createNew(c echo.Context, in actions.RoleInput) error {
	if in.Name != "" {
		if _, err := store.FindRole(c.Request().Context(), h.store.DB(), in.Name); err == nil {
			return store.FieldError("role_name", "A role called %q exists already; edit it in the table below.", in.Name)
		}
	}
	if len(in.Permissions) == 0 {
		return store.FieldError("permissions", "Tick at least one permission.")
	}
	return h.Upsert(c.Request().Context(), actor(c), in)
}

// EditRow is GET /roles/:name/edit.
func (h *Roles) EditRow(c echo.Context) error {
	r, err := h.visibleRole(c)
	if err != nil {
		return err
	}
	f := h.form(c, r.Name, r.Permissions)
	f.Editing = true
	return Render(c, http.StatusOK, views.RoleEditRow(f))
}

// Row is GET /roles/:name/row.
func (h *Roles) Row(c echo.Context) error {
	r, err := h.visibleRole(c)
	if err != nil {
		return err
	}
	return Render(c, http.StatusOK, views.RoleRowView(h.row(c, r)))
}

// UpdatePage is POST /roles/:name.
func (h *Roles) UpdatePage(c echo.Context) error {
	r, err := h.visibleRole(c)
	if err != nil {
		return err
	}
	form, _ := c.FormParams()
	in := actions.RoleInput{Name: r.Name, Permissions: form["permissions"]}
	return saveRow(c, h.policy, func() error { return h.Upsert(c.Request().Context(), actor(c), in) },
		func(errs views.FormErrors) (templ.Component, error) {
			f := h.form(c, r.Name, in.Permissions)
			f.Editing, f.Errors = true, errs
			return views.RoleEditRow(f), nil
		},
		func() (templ.Component, error) {
			r, err := store.FindRole(c.Request().Context(), h.store.DB(), r.Name)
			return views.RoleRowView(h.row(c, r)), err
		},
		"Role "+r.Name+" saved.")
}

// DeletePage is DELETE /roles/:name.
func (h *Roles) DeletePage(c echo.Context) error {
	r, err := h.visibleRole(c)
	if err != nil {
		return err
	}
	return deleteRow(c, r.Name, h.Delete)
}

func (h *Roles) visibleRole(c echo.Context) (store.Role, error) {
	roles, err := h.List(c.Request().Context(), actor(c), c.Param("name"))
	if err != nil {
		return store.Role{}, err
	}
	if len(roles) == 0 {
		return store.Role{}, store.ErrNotFound
	}
	return roles[0], nil
}

func (h *Roles) row(c echo.Context, r store.Role) views.RoleRow {
	return views.RoleRow{Role: r, CanModify: h.MayModify(actor(c), r), CSRF: CSRFToken(c)}
}
