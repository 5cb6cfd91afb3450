package handlers

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"easel/actions"
	"easel/store"
)

// endpointItem is ESD's endpoint object: all 13 keys, in the seed's order,
// numbers as strings; then ours.
type endpointItem struct {
	ID           string          `json:"EndpointDeploymentJobId"`
	Autoscaling  bool            `json:"autoscaling"`
	MaxInstances json.RawMessage `json:"max_instance_number"`
	StartTime    string          `json:"startTime"`
	Status       *string         `json:"status"`
	InstanceType string          `json:"instance_type"`
	CurrentCount *string         `json:"current_instance_count"`
	EndTime      *string         `json:"endTime"`
	State        string          `json:"endpoint_status"`
	Name         string          `json:"endpoint_name"`
	Error        *string         `json:"error"`
	Type         string          `json:"endpoint_type"`
	Roles        []string        `json:"owner_group_or_role"`
	Backend      string          `json:"backend"`
	Simulator    bool            `json:"simulator"`
}

func endpointItemOf(e store.Endpoint) endpointItem {
	it := endpointItem{ID: e.ID.String(), Autoscaling: e.Autoscaling,
		MaxInstances: jsonString(strconv.Itoa(e.MaxInstances)), StartTime: e.StartTime.UTC().Format(timestampLayout),
		InstanceType: e.InstanceType, State: e.Status, Name: e.Name, Type: e.Type, Roles: e.Roles,
		Backend: e.Backend, Simulator: e.Simulator}
	if e.CurrentCount != nil {
		s := strconv.Itoa(*e.CurrentCount)
		it.CurrentCount = &s
	}
	if e.EndTime != nil {
		s := e.EndTime.UTC().Format(timestampLayout)
		it.EndTime = &s
	}
	if e.Error != "" {
		it.Error = &e.Error
	}
	return it
}

func jsonString(s string) json.RawMessage {
	b, _ := json.Marshal(s)
	return b
}

// ListAPI is GET /endpoints.
func (h *Endpoints) ListAPI(c echo.Context) error {
	limit := 0
	if raw := c.QueryParam("limit"); raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 0 {
			return store.Errorf(store.EInvalid, "limit must be a whole number, not %q", raw)
		}
		limit = n
	}
	list, err := h.List(c.Request().Context(), actor(c), actions.EndpointQuery{
		Username: c.QueryParam("username"), After: c.QueryParam("exclusive_start_key"), Limit: limit,
	})
	if err != nil {
		return err
	}
	items := make([]endpointItem, len(list))
	for i, e := range list {
		items[i] = endpointItemOf(e)
	}
	data := map[string]any{"endpoints": items}
	if limit > 0 && len(list) == limit {
		data["last_evaluated_key"] = list[len(list)-1].ID.String()
	}
	return Respond(c, http.StatusOK, data, "")
}

// CreateAPI is POST /endpoints (202: deployment started).
func (h *Endpoints) CreateAPI(c echo.Context) error {
	var in actions.EndpointInput
	if err := decodeBody(c, &in); err != nil {
		return err
	}
	e, err := h.Create(c.Request().Context(), actor(c), in)
	if err != nil {
		return err
	}
	it := endpointItemOf(e)
	it.MaxInstances = in.Count // create answers echo the request's raw value
	return Respond(c, http.StatusAccepted, it, "Endpoint deployment started: "+e.Name)
}

// DeleteAPI is DELETE /endpoints; it takes endpoint_name_list and the
// seed's delete_endpoint_list.
func (h *Endpoints) DeleteAPI(c echo.Context) error {
	var in struct {
		Names      []string `json:"endpoint_name_list"`
		SeedsNames []string `json:"delete_endpoint_list"`
	}
	if err := decodeBody(c, &in); err != nil {
		return err
	}
	names := append(in.Names, in.SeedsNames...)
	if len(names) == 0 {
		return store.Errorf(store.EInvalid, "[object has missing required properties ([\"endpoint_name_list\"])]")
	}
	if err := h.Delete(c.Request().Context(), actor(c), names); err != nil {
		return err
	}
	return Respond(c, http.StatusNoContent, nil, "Endpoints Deleted")
}
