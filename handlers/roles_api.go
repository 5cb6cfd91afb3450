package handlers

import (
	"net/http"

	"easel/actions"

	"github.com/labstack/echo/v4"
)

type roleItem struct {
	Name        string   `json:"role_name"`
	Creator     string   `json:"creator"`
	Permissions []string `json:"permissions"`
}

type roleList struct {
	Roles            []roleItem `json:"roles"`
	PreviousEvaluted string     `json:"previous_evaluated_key"`
	LastEvaluated    *string    `json:"last_evaluated_key"`
}

// ListAPI is GET /roles.
func (h *Roles) ListAPI(c echo.Context) error {
	roles, err := h.List(c.Request().Context(), actor(c), c.QueryParam("role"))
	if err != nil {
		return err
	}
	out := roleList{Roles: make([]roleItem, len(roles)), PreviousEvaluted: "not_applicable"}
	for i, r := range roles {
		out.Roles[i] = roleItem{Name: r.Name, Creator: r.Creator, Permissions: r.Permissions}
	}
	return Respond(c, http.StatusOK, out, "")
}

// CreateAPI is POST /roles (an upsert).
func (h *Roles) CreateAPI(c echo.Context) error {
	var in actions.RoleInput
	if err := decodeBody(c, &in); err != nil {
		return err
	}
	if err := h.Upsert(c.Request().Context(), actor(c), in); err != nil {
		return err
	}
	return Respond(c, http.StatusCreated, nil, "role created")
}

// DeleteAPI is DELETE /roles.
func (h *Roles) DeleteAPI(c echo.Context) error {
	var in struct {
		Names []string `json:"role_name_list"`
	}
	if err := decodeBody(c, &in); err != nil {
		return err
	}
	if err := h.Delete(c.Request().Context(), actor(c), in.Names); err != nil {
		return err
	}
	return Respond(c, http.StatusNoContent, nil, "roles deleted")
}
