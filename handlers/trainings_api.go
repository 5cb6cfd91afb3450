package handlers

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"easel/actions"
	"easel/policy"
	"easel/store"
)

// Trainings adapts the training actions to the API and the console.
type Trainings struct {
	*actions.Trainings
	store  *store.Store
	policy *policy.Policy
	log    *slog.Logger
}

// NewTrainings returns the trainings handler over a.
func NewTrainings(a *actions.Trainings, s *store.Store, p *policy.Policy, log *slog.Logger) *Trainings {
	return &Trainings{Trainings: a, store: s, policy: p, log: log}
}

// epochSeconds is ESD's training timestamp: "1718264512.123456".
func epochSeconds(t interface{ UnixMicro() int64 }) string {
	us := t.UnixMicro()
	return fmt.Sprintf("%d.%06d", us/1_000_000, us%1_000_000)
}

// stringNumbers returns params with every number as a JSON string (ESD's
// GET bodies).
func stringNumbers(raw json.RawMessage) any {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return map[string]any{}
	}
	var walk func(any) any
	walk = func(v any) any {
		switch x := v.(type) {
		case json.Number:
			return x.String()
		case map[string]any:
			for k, e := range x {
				x[k] = walk(e)
			}
		case []any:
			for i, e := range x {
				x[i] = walk(e)
			}
		}
		return v
	}
	return walk(v)
}

// trainingItem is one training of GET /trainings.
type trainingItem struct {
	ID                 string `json:"id"`
	ModelName          string `json:"modelName"`
	Status             string `json:"status"`
	TrainType          string `json:"trainType"`
	Created            string `json:"created"`
	SagemakerTrainName string `json:"sagemakerTrainName"`
	Params             any    `json:"params"`
}

func trainingItemOf(t store.Training) trainingItem {
	name := "not_applied"
	if t.OutputName != "" {
		name = t.OutputName + ".safetensors"
	}
	return trainingItem{ID: t.ID.String(), ModelName: name, Status: t.Status, TrainType: t.TrainType,
		Created: epochSeconds(t.CreatedAt), SagemakerTrainName: t.JobName, Params: stringNumbers(t.Params)}
}

// ListAPI is GET /trainings.
func (h *Trainings) ListAPI(c echo.Context) error {
	limit := 0
	if raw := c.QueryParam("limit"); raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 0 {
			return store.FieldError("limit", "limit must be a whole number, not %q", raw)
		}
		limit = n
	}
	page, err := h.List(c.Request().Context(), actor(c), limit, c.QueryParam("exclusive_start_key"))
	if err != nil {
		return err
	}
	items := make([]trainingItem, len(page.Trainings))
	for i, t := range page.Trainings {
		items[i] = trainingItemOf(t)
	}
	var next *string
	if page.Next != "" {
		next = &page.Next
	}
	return Respond(c, http.StatusOK, map[string]any{"trainings": items, "last_evaluated_key": next}, "")
}

// CreateAPI is POST /trainings (201: created and started).
func (h *Trainings) CreateAPI(c echo.Context) error {
	var in actions.TrainingInput
	dec := json.NewDecoder(c.Request().Body)
	dec.UseNumber()
	if err := dec.Decode(&in); err != nil {
		return store.Errorf(store.EInvalid, "Invalid request body: %s", err.Error())
	}
	t, err := h.Create(c.Request().Context(), actor(c), in)
	if err != nil {
		return err
	}
	input, output := h.Locations(t.ID.String())
	return Respond(c, http.StatusCreated, map[string]any{
		"id": t.ID.String(), "status": t.Status, "created": epochSeconds(t.CreatedAt), "params": t.Params,
		"input_location": input, "output_location": output,
	}, "")
}

// GetAPI is GET /trainings/{id}.
func (h *Trainings) GetAPI(c echo.Context) error {
	ctx := c.Request().Context()
	t, err := h.Get(ctx, actor(c), c.Param("id"))
	if err != nil {
		return err
	}
	logs, err := h.Logs(ctx, t)
	if err != nil {
		return err
	}
	return Respond(c, http.StatusOK, map[string]any{
		"id": t.ID.String(), "job_status": t.Status, "model_id": t.ModelID, "params": stringNumbers(t.Params),
		"timestamp": epochSeconds(t.CreatedAt), "train_type": t.TrainType, "sagemaker_train_name": t.JobName,
		"logs": logs, "checkpoint_id": "",
	}, "")
}

// DeleteAPI is DELETE /trainings (204).
func (h *Trainings) DeleteAPI(c echo.Context) error {
	var in struct {
		IDs []string `json:"training_id_list"`
	}
	if err := decodeBody(c, &in); err != nil {
		return err
	}
	if err := h.Delete(c.Request().Context(), actor(c), in.IDs); err != nil {
		return err
	}
	return Respond(c, http.StatusNoContent, nil, "")
}
