package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"easel/actions"
	"easel/policy"
	"easel/store"
	"easel/views"
)

// Dashboard shows counts of what the user may see.
type Dashboard struct {
	store       *store.Store
	policy      *policy.Policy
	users       *Users
	roles       *Roles
	keys        *Keys
	checkpoints *Checkpoints
	endpoints   *Endpoints
	inferences  *Inferences
}

// NewDashboard returns the dashboard handler.
func NewDashboard(s *store.Store, p *policy.Policy, users *Users, roles *Roles, keys *Keys,
	checkpoints *Checkpoints, endpoints *Endpoints, inferences *Inferences) *Dashboard {
	return &Dashboard{store: s, policy: p, users: users, roles: roles, keys: keys,
		checkpoints: checkpoints, endpoints: endpoints, inferences: inferences}
}

// Page is GET /.
func (h *Dashboard) Page(c echo.Context) error {
	ctx := c.Request().Context()
	who := actor(c)
	p := views.DashboardPage{Base: pageBase(c, h.policy, "Dashboard", "dashboard")}
	if p.Can.ListUsers {
		users, err := h.users.List(ctx, who, "")
		if err != nil {
			return err
		}
		p.Users = len(users)
	}
	if p.Can.ListRoles {
		roles, err := h.roles.List(ctx, who, "")
		if err != nil {
			return err
		}
		p.Roles = len(roles)
	}
	if p.Can.ListModels {
		var err error
		if _, p.Models, err = h.checkpoints.List(ctx, who, actions.CheckpointQuery{Statuses: []string{store.CheckpointActive}, Page: 1, PerPage: 1}); err != nil {
			return err
		}
	}
	if p.Can.ListEndpoints {
		eps, err := h.endpoints.List(ctx, who, actions.EndpointQuery{Statuses: []string{"InService"}})
		if err != nil {
			return err
		}
		p.Endpoints = len(eps)
	}
	if p.Can.ListJobs {
		err := h.inferences.List(ctx, who, store.InferenceFilter{Status: store.InferenceInProgress}, "", func(store.Inference) error {
			p.Running++
			return nil
		})
		if err != nil {
			return err
		}
	}
	keys, err := h.keys.List(ctx, who)
	if err != nil {
		return err
	}
	for _, k := range keys {
		if k.RevokedAt == nil {
			p.Keys++
		}
	}
	if p.Can.AllUsers {
		entries, err := store.RecentAudit(ctx, h.store.DB(), 10)
		if err != nil {
			return err
		}
		if p.Changes, err = (changeNamer{h.store}).changes(ctx, entries, p.Can); err != nil {
			return err
		}
	}
	return Render(c, http.StatusOK, views.Dashboard(p))
}
