package handlers

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"easel/actions"
	"easel/policy"
	"easel/store"
	"easel/views"
)

// Page is GET /trainings.
func (h *Trainings) Page(c echo.Context) error {
	page, err := h.List(c.Request().Context(), actor(c), 0, "")
	if err != nil {
		return err
	}
	p := views.TrainingsPage{Base: pageBase(c, h.policy, "Trainings", "trainings"), Rows: page.Trainings,
		CanCreate: h.policy.Can(actor(c), policy.TrainCreate)}
	if p.CanCreate {
		if p.Form, err = h.form(c, views.TrainingForm{}); err != nil {
			return err
		}
	}
	return Render(c, http.StatusOK, views.Trainings(p))
}

// form fills the create form's choices: the active checkpoints and data
// sets the user sees, and what can train now.
func (h *Trainings) form(c echo.Context, f views.TrainingForm) (views.TrainingForm, error) {
	ctx := c.Request().Context()
	v, err := h.Viewer(ctx, actor(c))
	if err != nil {
		return f, err
	}
	models, _, err := store.ListCheckpoints(ctx, h.store.DB(), store.CheckpointFilter{VisibleTo: v,
		Statuses: []string{store.CheckpointActive}, Types: []string{"Stable-diffusion"}})
	if err != nil {
		return f, err
	}
	for _, m := range models {
		f.Models = append(f.Models, m.Names[0])
	}
	datasets, _, err := store.ListDatasets(ctx, h.store.DB(), store.DatasetFilter{VisibleTo: v})
	if err != nil {
		return f, err
	}
	for _, d := range datasets {
		f.Datasets = append(f.Datasets, d.Name)
	}
	if f.InstanceTypes, err = h.InstanceTypes(ctx); err != nil {
		return f, err
	}
	f.DefaultType = h.DefaultInstanceType()
	if f.Errors == nil {
		f.Errors = views.FormErrors{}
	}
	return f, nil
}

// configOf reads the form's kohya settings: the fields (numbers as
// numbers), then the edited TOML over them, the LoRA name excepted.
func configOf(form url.Values) (map[string]any, error) {
	config := map[string]any{"output_name": form.Get("output_name")}
	for _, fld := range views.TrainingFields {
		v := strings.TrimSpace(form.Get(fld.Name))
		switch {
		case v == "":
		case fld.Name == "resolution":
			config[fld.Name] = v
		case isNumber(v):
			config[fld.Name] = json.Number(v)
		case strings.HasSuffix(fld.Name, "epochs"):
			config[fld.Name] = v // the epochs' own check words it
		default:
			return nil, store.FieldError("config_params."+fld.Name, "%s must be a number", fld.Label)
		}
	}
	if text := strings.TrimSpace(form.Get("advanced_toml")); text != "" {
		edited, err := actions.ConfigFromTOML(text)
		if err != nil {
			return nil, err
		}
		for k, v := range edited {
			if k != "output_name" {
				config[k] = v
			}
		}
	}
	return config, nil
}

func isNumber(s string) bool {
	_, err := strconv.ParseFloat(s, 64)
	return err == nil && json.Valid([]byte(s))
}

// inputOf is the form as a POST /trainings body.
func inputOf(form url.Values) (actions.TrainingInput, error) {
	config, err := configOf(form)
	if err != nil {
		return actions.TrainingInput{}, err
	}
	return actions.TrainingInput{LoraTrainType: "kohya", Params: map[string]any{
		"training_params": map[string]any{"training_instance_type": form.Get("instance_type"),
			"model": form.Get("model"), "dataset": form.Get("dataset"), "fm_type": form.Get("fm_type")},
		"config_params":      config,
		"enable_wd14_tagger": form.Get("enable_wd14_tagger") == "1",
	}}, nil
}

// CreatePage is POST /trainings from the console form: the new training's
// page on success, else the form with its errors.
func (h *Trainings) CreatePage(c echo.Context) error {
	form, _ := c.FormParams()
	f := views.TrainingForm{Values: map[string]string{}, Tagger: form.Get("enable_wd14_tagger") == "1",
		Advanced: form.Get("advanced_toml")}
	for k := range form {
		f.Values[k] = form.Get(k)
	}
	in, err := inputOf(form)
	if err == nil {
		var t store.Training
		if t, err = h.Create(c.Request().Context(), actor(c), in); err == nil {
			c.Response().Header().Set("HX-Redirect", "/trainings/"+t.ID.String())
			return c.HTML(http.StatusCreated, "")
		}
	}
	errs, status, ok := formErrors(err)
	if !ok {
		return err
	}
	if f, err = h.form(c, f); err != nil {
		return err
	}
	f.Errors = errs
	return renderFailed(c, status, errs, consoleCan(c, h.policy), views.TrainingCreateForm(f))
}

// PreviewPage is POST /trainings/preview: the merged TOML of the form.
func (h *Trainings) PreviewPage(c echo.Context) error {
	form, _ := c.FormParams()
	config, err := configOf(form)
	if err == nil {
		var merged []byte
		if merged, err = h.PreviewConfig(form.Get("fm_type"), config); err == nil {
			return Render(c, http.StatusOK, views.TrainingTOML(string(merged), ""))
		}
	}
	if _, _, ok := formErrors(err); !ok {
		return err
	}
	return Render(c, http.StatusOK, views.TrainingTOML(form.Get("advanced_toml"), store.ErrorMessage(err)))
}

// view builds the training page of the training in the path.
func (h *Trainings) view(c echo.Context) (views.TrainingPage, error) {
	ctx := c.Request().Context()
	t, err := h.Get(ctx, actor(c), c.Param("id"))
	if err != nil {
		return views.TrainingPage{}, err
	}
	p := views.TrainingPage{Base: pageBase(c, h.policy, t.OutputName, "trainings"), Training: t,
		CanModify: h.MayDelete(actor(c), t)}
	logs, err := h.Logs(ctx, t)
	if err != nil {
		return p, err
	}
	for _, l := range logs {
		p.Logs = append(p.Logs, views.TrainingLog{Name: l.Filename, URL: l.URL})
	}
	p.LoRAs, err = store.TrainedCheckpoints(ctx, h.store.DB(), t.ID)
	return p, err
}

// DetailPage is GET /trainings/:id.
func (h *Trainings) DetailPage(c echo.Context) error {
	p, err := h.view(c)
	if err != nil {
		return err
	}
	return Render(c, http.StatusOK, views.Training(p))
}

// DetailFragment is GET /trainings/:id/detail: the live part of the page.
func (h *Trainings) DetailFragment(c echo.Context) error {
	p, err := h.view(c)
	if err != nil {
		return err
	}
	return Render(c, http.StatusOK, views.TrainingDetail(p))
}

// StopPage is POST /trainings/:id/stop: the training stops and keeps its
// record.
func (h *Trainings) StopPage(c echo.Context) error {
	if err := h.Stop(c.Request().Context(), actor(c), c.Param("id")); err != nil {
		return err
	}
	return h.DetailFragment(c)
}

// DeletePage is DELETE /trainings/:id: back to the list.
func (h *Trainings) DeletePage(c echo.Context) error {
	t, err := h.Get(c.Request().Context(), actor(c), c.Param("id"))
	if err != nil {
		return err
	}
	if !h.MayDelete(actor(c), t) {
		return policy.Denied(actor(c), policy.TrainAll)
	}
	if err := h.Delete(c.Request().Context(), actor(c), []string{t.ID.String()}); err != nil {
		return err
	}
	c.Response().Header().Set("HX-Redirect", "/trainings")
	return c.HTML(http.StatusOK, "")
}
