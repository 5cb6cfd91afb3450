package handlers

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/url"
	"strconv"

	"github.com/labstack/echo/v4"

	"easel/actions"
	"easel/jobs"
	"easel/store"
	"easel/views"
)

// jobView builds the job page's view model.
func (h *Inferences) jobView(c echo.Context, job store.Inference) (views.JobPage, error) {
	ctx := c.Request().Context()
	p := views.JobPage{Base: pageBase(c, h.policy, "Job", "gallery"), Job: job, CanModify: true}
	for i, n := range job.ImageNames {
		key := jobs.ResultPrefix(job.ID) + n
		show, err := h.blob.PresignGet(ctx, key, actions.PresignTTL)
		if err != nil {
			return p, err
		}
		name := job.ID.String()[:8] + "-" + strconv.Itoa(i+1) + ".png"
		save, err := h.blob.PresignDownload(ctx, key, name, actions.PresignTTL)
		if err != nil {
			return p, err
		}
		p.Images = append(p.Images, views.JobImage{URL: show, Download: save, Name: name})
	}
	raw := h.readSmall(ctx, job.ParamsKey)
	p.Params = pretty(raw)
	p.Settings = settingsOf(raw)
	if job.Status == store.InferenceSucceeded {
		var file struct {
			Info string `json:"info"`
		}
		if out := h.readSmall(ctx, jobs.ParamFileKey(job.ID)); out != nil && json.Unmarshal(out, &file) == nil {
			var info struct {
				Seed      *int64   `json:"seed"`
				Infotexts []string `json:"infotexts"`
			}
			_ = json.Unmarshal([]byte(file.Info), &info)
			p.Infotexts = info.Infotexts
			if info.Seed != nil {
				p.Settings.Seed = *info.Seed
			}
		}
	}
	if p.Settings.Known && (job.TaskType == "txt2img") {
		p.Again = againURL(job, p.Settings)
	}
	return p, nil
}

// settingsOf reads the A1111 fields of a parameter file; Known is false
// when it has none of them.
func settingsOf(raw []byte) views.JobSettings {
	var f struct {
		Prompt   *string  `json:"prompt"`
		Negative string   `json:"negative_prompt"`
		Sampler  string   `json:"sampler_name"`
		Width    *float64 `json:"width"`
		Height   *float64 `json:"height"`
		Steps    *float64 `json:"steps"`
		CFG      *float64 `json:"cfg_scale"`
		Seed     *float64 `json:"seed"`
		Batch    *float64 `json:"batch_size"`
	}
	if raw == nil || json.Unmarshal(raw, &f) != nil || f.Prompt == nil {
		return views.JobSettings{}
	}
	or := func(p *float64, def float64) float64 {
		if p == nil {
			return def
		}
		return *p
	}
	s := views.JobSettings{Known: true, Prompt: *f.Prompt, Negative: f.Negative, Sampler: f.Sampler,
		Width: int(or(f.Width, 512)), Height: int(or(f.Height, 512)), Steps: int(or(f.Steps, 20)),
		CFG: or(f.CFG, 7), Seed: int64(or(f.Seed, -1)), Batch: int(or(f.Batch, 1))}
	if s.Sampler == "" {
		s.Sampler = "Euler a"
	}
	return s
}

// againURL opens Generate with a job's settings and its seed.
func againURL(job store.Inference, s views.JobSettings) string {
	q := url.Values{"prompt": {s.Prompt}, "negative_prompt": {s.Negative}, "sampler": {s.Sampler},
		"steps": {strconv.Itoa(s.Steps)}, "cfg_scale": {strconv.FormatFloat(s.CFG, 'f', -1, 64)},
		"width": {strconv.Itoa(s.Width)}, "height": {strconv.Itoa(s.Height)},
		"seed": {strconv.FormatInt(s.Seed, 10)}, "batch_size": {strconv.Itoa(s.Batch)},
		"inference_type": {job.InferenceType}}
	if models := job.UsedModels["Stable-diffusion"]; len(models) > 0 {
		q.Set("model", models[0].Name)
	}
	return "/generate?" + q.Encode()
}

// readSmall reads an object of at most 1 MiB; nil when it cannot.
func (h *Inferences) readSmall(ctx context.Context, key string) []byte {
	r, err := h.blob.Get(ctx, key)
	if err != nil {
		return nil
	}
	defer r.Close()
	b, err := io.ReadAll(io.LimitReader(r, 1<<20))
	if err != nil {
		return nil
	}
	return b
}

// pretty indents a JSON document; other text is shown as it is.
func pretty(raw []byte) string {
	if raw == nil {
		return "(not uploaded)"
	}
	var buf bytes.Buffer
	if json.Indent(&buf, raw, "", "  ") != nil {
		return string(raw)
	}
	return buf.String()
}
