package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"easel/actions"
	"easel/policy"
	"easel/store"
)

type userItem struct {
	Username    string   `json:"username"`
	Roles       []string `json:"roles"`
	Creator     string   `json:"creator"`
	Permissions []string `json:"permissions"`
	Password    string   `json:"password"`
}

type userList struct {
	Users            []userItem `json:"users"`
	PreviousEvaluted string     `json:"previous_evaluated_key"`
	LastEvaluated    string     `json:"last_evaluated_key"`
}

// showPasswordValues are the show_password values that ask for plaintext.
var showPasswordValues = map[string]bool{"True": true, "true": true, "1": true}

// ListAPI is GET /users.
func (h *Users) ListAPI(c echo.Context) error {
	who := actor(c)
	users, err := h.List(c.Request().Context(), who, c.QueryParam("username"))
	if err != nil {
		return err
	}
	reveal := h.RevealsPasswords() && showPasswordValues[c.QueryParam("show_password")] && h.policy.Can(who, policy.UserAll)
	out := userList{Users: make([]userItem, len(users)), PreviousEvaluted: "not_applicable", LastEvaluated: "not_applicable"}
	for i, u := range users {
		pw := actions.MaskedPassword
		if reveal {
			pw = h.RevealPassword(u)
		}
		out.Users[i] = userItem{Username: u.Username, Roles: u.Roles, Creator: u.Creator,
			Permissions: h.policy.PermissionsOf(u.Roles), Password: pw}
	}
	return Respond(c, http.StatusOK, out, "")
}

// CreateAPI is POST /users: an upsert, or ESD's bootstrap with initial=true.
func (h *Users) CreateAPI(c echo.Context) error {
	var in actions.UserInput
	if err := decodeBody(c, &in); err != nil {
		return err
	}
	ctx := c.Request().Context()
	if !in.Initial {
		if err := h.Upsert(ctx, actor(c), in); err != nil {
			return err
		}
		return Respond(c, http.StatusCreated, nil, "Created")
	}
	if err := h.Bootstrap(ctx, actor(c), in); err != nil {
		return err
	}
	roles, err := store.ListRoles(ctx, h.store.DB(), store.RoleFilter{})
	if err != nil {
		return err
	}
	names := make([]string, len(roles))
	for i, r := range roles {
		names[i] = r.Name
	}
	return Respond(c, http.StatusCreated, map[string]any{
		"user":      map[string]any{"username": in.Username, "roles": []string{store.DefaultRole}},
		"all_roles": names,
	}, "Created")
}

// DeleteAPI is DELETE /users.
func (h *Users) DeleteAPI(c echo.Context) error {
	var in struct {
		Names []string `json:"user_name_list"`
	}
	if err := decodeBody(c, &in); err != nil {
		return err
	}
	if err := h.Delete(c.Request().Context(), actor(c), in.Names); err != nil {
		return err
	}
	return Respond(c, http.StatusNoContent, nil, "Users Deleted")
}
