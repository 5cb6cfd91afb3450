package handlers

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/a-h/templ"
	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"easel/actions"
	"easel/policy"
	"easel/store"
	"easel/views"
)

// galleryPage is how many cards one scroll loads.
const galleryPage = 24

// GalleryPage is GET /gallery (and its infinite-scroll pages).
func (h *Inferences) GalleryPage(c echo.Context) error {
	ctx := c.Request().Context()
	who := actor(c)
	f := views.GalleryFilter{User: c.QueryParam("user"), Status: c.QueryParam("status"), Model: c.QueryParam("model"),
		Endpoint: c.QueryParam("endpoint"), Since: c.QueryParam("since")}
	q := store.InferenceFilter{Status: f.Status, Model: f.Model, Endpoint: f.Endpoint, Limit: galleryPage}
	if f.Since != "" {
		if t, err := time.Parse("2006-01-02", f.Since); err == nil {
			q.Since = &t
		}
	}
	if after, err := uuid.Parse(c.QueryParam("after")); err == nil {
		q.After = &after
	}
	p := views.GalleryPage{Base: pageBase(c, h.policy, "Gallery", "gallery"), Filter: f, CanAll: h.policy.Can(who, policy.InferenceAll)}
	var last string
	err := h.List(ctx, who, q, f.User, func(job store.Inference) error {
		card, err := h.galleryCard(ctx, job, p.Can.CreateJobs)
		if err != nil {
			return err
		}
		p.Cards = append(p.Cards, card)
		last = job.ID.String()
		return nil
	})
	if err != nil {
		return err
	}
	if len(p.Cards) == galleryPage {
		next := c.QueryParams()
		next.Set("after", last)
		p.More = next.Encode()
	}
	if err := h.galleryChoices(ctx, c, &p); err != nil {
		return err
	}
	return Render(c, http.StatusOK, views.Gallery(p))
}

// galleryChoices fills the filter's users, endpoints and models.
func (h *Inferences) galleryChoices(ctx context.Context, c echo.Context, p *views.GalleryPage) error {
	if p.CanAll {
		users, err := store.ListUsers(ctx, h.store.DB(), store.UserFilter{})
		if err != nil {
			return err
		}
		for _, u := range users {
			p.Users = append(p.Users, u.Username)
		}
	}
	eps, err := h.endpoints.List(ctx, actor(c), actions.EndpointQuery{})
	if err != nil {
		return err
	}
	for _, e := range eps {
		p.Endpoints = append(p.Endpoints, e.Name)
	}
	p.Models, err = h.activeModels(ctx, c)
	return err
}

// activeModels lists the Active Stable-diffusion checkpoints actor may use.
func (h *Inferences) activeModels(ctx context.Context, c echo.Context) ([]string, error) {
	var viewer *store.Viewer
	if who := actor(c); !h.policy.Can(who, policy.UserAll) {
		u, err := store.FindUser(ctx, h.store.DB(), who.Username)
		if err != nil {
			return nil, err
		}
		viewer = &store.Viewer{Username: u.Username, Roles: u.Roles}
	}
	list, _, err := store.ListCheckpoints(ctx, h.store.DB(), store.CheckpointFilter{Statuses: []string{store.CheckpointActive},
		Types: []string{"Stable-diffusion"}, VisibleTo: viewer, Limit: 500})
	if err != nil {
		return nil, err
	}
	var names []string
	for _, ck := range list {
		names = append(names, ck.Names...)
	}
	return names, nil
}

// JobPage is GET /gallery/:id.
func (h *Inferences) JobPage(c echo.Context) error {
	return h.renderJob(c, views.Job)
}

// JobDetailPage is GET /gallery/:id/detail: the live part of the job page.
func (h *Inferences) JobDetailPage(c echo.Context) error {
	return h.renderJob(c, views.JobDetail)
}

func (h *Inferences) renderJob(c echo.Context, view func(views.JobPage) templ.Component) error {
	job, err := h.Get(c.Request().Context(), actor(c), c.Param("id"))
	if err != nil {
		return err
	}
	p, err := h.jobView(c, job)
	if err != nil {
		return err
	}
	return Render(c, http.StatusOK, view(p))
}

// CancelPage is POST /gallery/:id/cancel.
func (h *Inferences) CancelPage(c echo.Context) error {
	if _, err := h.Cancel(c.Request().Context(), actor(c), c.Param("id")); err != nil {
		return err
	}
	return h.JobDetailPage(c)
}

// DeletePage is DELETE /gallery/:id; the browser goes back to the gallery.
func (h *Inferences) DeletePage(c echo.Context) error {
	if err := h.Delete(c.Request().Context(), actor(c), []string{c.Param("id")}); err != nil {
		return err
	}
	c.Response().Header().Set("HX-Redirect", "/gallery")
	return c.NoContent(http.StatusOK)
}

// GeneratePage is GET /generate; query parameters named like the form's
// fields fill it in (a job page's "Use these settings").
func (h *Inferences) GeneratePage(c echo.Context) error {
	models, err := h.activeModels(c.Request().Context(), c)
	if err != nil {
		return err
	}
	f := generateForm(c.QueryParams())
	f.Models = models
	base := pageBase(c, h.policy, "Generate", "generate")
	f.Can = base.Can
	return Render(c, http.StatusOK, views.Generate(views.GeneratePage{Base: base, Form: f}))
}

// generateForm echoes the Generate fields of form (a POST or a query).
func generateForm(form url.Values) views.GenerateForm {
	return views.GenerateForm{Prompt: form.Get("prompt"), Negative: form.Get("negative_prompt"), Model: form.Get("model"),
		Sampler: form.Get("sampler"), Type: form.Get("inference_type"), Steps: form.Get("steps"), CFG: form.Get("cfg_scale"),
		Width: form.Get("width"), Height: form.Get("height"), Seed: form.Get("seed"), Batch: form.Get("batch_size"),
		Errors: views.FormErrors{}}
}

// GenerateSubmit is POST /generate: the same create, upload and start the
// API offers, then on to the job's page.
func (h *Inferences) GenerateSubmit(c echo.Context) error {
	ctx := c.Request().Context()
	form, _ := c.FormParams()
	f := generateForm(form)
	id, err := h.generate(ctx, c, form)
	if err != nil {
		errs, status, ok := formErrors(err)
		if !ok {
			return err
		}
		if f.Models, err = h.activeModels(ctx, c); err != nil {
			return err
		}
		// The prompt has its own place; every other error is the form's.
		if _, prompt := errs["prompt"]; !prompt {
			errs = views.FormErrors{"": errs[firstKey(errs)]}
		}
		f.Errors, f.Can = errs, consoleCan(c, h.policy)
		return renderFailed(c, status, errs, f.Can, views.GenerateFormView(f))
	}
	c.Response().Header().Set("HX-Redirect", "/gallery/"+id)
	return c.NoContent(http.StatusOK)
}

func firstKey(m views.FormErrors) string {
	for k := range m {
		return k
	}
	return ""
}

func (h *Inferences) generate(ctx context.Context, c echo.Context, form url.Values) (string, error) {
	num := func(name string, def float64) float64 {
		if v, err := strconv.ParseFloat(form.Get(name), 64); err == nil {
			return v
		}
		return def
	}
	if form.Get("prompt") == "" {
		return "", store.FieldError("prompt", "Write a prompt.")
	}
	models := map[string][]string{"VAE": {"Automatic"}}
	if m := form.Get("model"); m != "" {
		models["Stable-diffusion"] = []string{m}
	}
	created, err := h.Create(ctx, actor(c), actions.InferenceInput{TaskType: "txt2img", InferenceType: form.Get("inference_type"), Models: models})
	if err != nil {
		return "", err
	}
	params, _ := json.Marshal(map[string]any{
		"prompt": form.Get("prompt"), "negative_prompt": form.Get("negative_prompt"), "sampler_name": form.Get("sampler"),
		"steps": num("steps", 20), "cfg_scale": num("cfg_scale", 7), "width": num("width", 512), "height": num("height", 512),
		"seed": num("seed", -1), "batch_size": num("batch_size", 1), "n_iter": 1,
	})
	if err := h.blob.Put(ctx, created.Job.ParamsKey, params, "application/json"); err != nil {
		return "", err
	}
	id := created.Job.ID.String()
	if _, err := h.Start(ctx, actor(c), id, 0); err != nil {
		return "", err
	}
	return id, nil
}
