package handlers

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"easel/actions"
	"easel/gpu"
	"easel/policy"
	"easel/store"
	"easel/views"
)

// Page is GET /endpoints.
func (h *Endpoints) Page(c echo.Context) error {
	ctx := c.Request().Context()
	list, err := h.List(ctx, actor(c), actions.EndpointQuery{})
	if err != nil {
		return err
	}
	form, err := h.form(c, views.EndpointForm{})
	if err != nil {
		return err
	}
	p := views.EndpointsPage{Base: pageBase(c, h.policy, "Endpoints", "endpoints"), Form: form,
		CanCreate: h.policy.Can(actor(c), policy.EndpointCreate)}
	if p.CanCreate {
		p.Checks = h.Prerequisites(ctx)
	}
	v, err := h.Viewer(ctx, actor(c))
	if err != nil {
		return err
	}
	for _, e := range list {
		p.Rows = append(p.Rows, h.row(actor(c), v, e))
	}
	return Render(c, http.StatusOK, views.Endpoints(p))
}

func (h *Endpoints) row(who policy.Principal, v *store.Viewer, e store.Endpoint) views.EndpointRow {
	return views.EndpointRow{Endpoint: e, CanDelete: h.MayDelete(who, v, e)}
}

func (h *Endpoints) form(c echo.Context, f views.EndpointForm) (views.EndpointForm, error) {
	roles, err := store.ListRoles(c.Request().Context(), h.store.DB(), store.RoleFilter{})
	if err != nil {
		return f, err
	}
	for _, r := range roles {
		f.RoleChoices = append(f.RoleChoices, r.Name)
	}
	f.Catalogue = h.Catalogue()
	if f.Errors == nil {
		f.Errors = views.FormErrors{}
	}
	return f, nil
}

// visibleEndpoint returns the endpoint named in the path if actor may see it.
func (h *Endpoints) visibleEndpoint(c echo.Context) (store.Endpoint, *store.Viewer, error) {
	return h.Visible(c.Request().Context(), actor(c), c.Param("name"))
}

// RowPage is GET /endpoints/:name/row: the row's live refresh.
func (h *Endpoints) RowPage(c echo.Context) error {
	e, v, err := h.visibleEndpoint(c)
	if err != nil {
		if store.ErrorCode(err) == store.ENotFound {
			return c.HTML(http.StatusOK, "") // deleted meanwhile: the row goes
		}
		return err
	}
	return Render(c, http.StatusOK, views.EndpointRowView(h.row(actor(c), v, e)))
}

// DetailPage is GET /endpoints/:name.
func (h *Endpoints) DetailPage(c echo.Context) error {
	e, v, err := h.visibleEndpoint(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	history, err := store.RecentAuditOf(ctx, h.store.DB(), e.Name, 20)
	if err != nil {
		return err
	}
	p := views.EndpointPage{Base: pageBase(c, h.policy, e.Name, "endpoints"), Endpoint: e,
		CanDelete: h.row(actor(c), v, e).CanDelete, History: history}
	// Everyone's jobs for holders of inference:all, else one's own.
	if h.policy.Can(actor(c), policy.InferenceList) {
		f := store.InferenceFilter{Endpoint: e.Name, Limit: 10}
		if !h.policy.Can(actor(c), policy.InferenceAll) {
			f.Owner = actor(c).Name()
		}
		err = store.ListInferences(ctx, h.store.DB(), f, func(j store.Inference) error {
			p.Jobs = append(p.Jobs, j)
			return nil
		})
		if err != nil {
			return err
		}
	}
	if e.Backend == gpu.KindWorkers && h.workers != nil {
		if p.Workers, err = h.workers.rows(c, []string{e.InstanceType}); err != nil {
			return err
		}
	}
	return Render(c, http.StatusOK, views.EndpointDetail(p))
}

// CreatePage is POST /endpoints from the console form.
func (h *Endpoints) CreatePage(c echo.Context) error {
	form, _ := c.FormParams()
	count := form.Get("initial_instance_count")
	in := actions.EndpointInput{Name: form.Get("endpoint_name"), Type: form.Get("endpoint_type"),
		InstanceType: form.Get("instance_type"), Count: json.RawMessage(strconv.Quote(count)),
		Autoscaling: form.Get("autoscaling_enabled") == "1", Roles: form["assign_to_roles"]}
	f := views.EndpointForm{Name: in.Name, Type: in.Type, InstanceType: in.InstanceType, Count: count,
		Autoscaling: in.Autoscaling, Roles: in.Roles}
	if len(in.Roles) == 0 {
		return h.formFailed(c, f, store.FieldError("assign_to_roles", "Pick at least one role."))
	}
	e, err := h.Create(c.Request().Context(), actor(c), in)
	if err != nil {
		return h.formFailed(c, f, err)
	}
	fresh, err := h.form(c, views.EndpointForm{})
	if err != nil {
		return err
	}
	v, err := h.Viewer(c.Request().Context(), actor(c))
	if err != nil {
		return err
	}
	return renderDone(c, http.StatusOK, templComponents(views.EndpointCreateForm(fresh),
		oobPrepend("endpoints-body", views.EndpointRowView(h.row(actor(c), v, e)))),
		"Endpoint "+e.Name+" created; it is being deployed.")
}

func (h *Endpoints) formFailed(c echo.Context, f views.EndpointForm, err error) error {
	errs, status, ok := formErrors(err)
	if !ok {
		return err
	}
	f, ferr := h.form(c, f)
	if ferr != nil {
		return ferr
	}
	f.Errors = errs
	return renderFailed(c, status, errs, consoleCan(c, h.policy), views.EndpointCreateForm(f))
}

// DeletePage is DELETE /endpoints/:name.
func (h *Endpoints) DeletePage(c echo.Context) error {
	e, _, err := h.visibleEndpoint(c)
	if err != nil {
		return err
	}
	if err := h.Delete(c.Request().Context(), actor(c), []string{e.Name}); err != nil {
		return err
	}
	return c.HTML(http.StatusOK, "")
}
