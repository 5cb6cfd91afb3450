package webui

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"strings"

	"easel/worker"
)

// Run posts the generation with the job's checkpoint and VAE selected and
// kept loaded afterwards. A refusal the request caused wraps
// worker.ErrRejected.
func (c *Client) Run(ctx context.Context, req worker.RunRequest) (worker.Result, error) {
	if req.Task != "txt2img" && req.Task != "img2img" {
		return worker.Result{}, fmt.Errorf("%w: unknown task %q", worker.ErrRejected, req.Task)
	}
	var answer struct {
		Images []string `json:"images"`
		Info   string   `json:"info"`
	}
	err := c.call(ctx, http.MethodPost, "/sdapi/v1/"+req.Task, Body(req), &answer)
	var he *httpError
	if errors.As(err, &he) {
		if reason, callers := JudgeError(he.status, he.body); callers {
			return worker.Result{}, fmt.Errorf("%w: %d %s", worker.ErrRejected, he.status, reason)
		}
	}
	if err != nil {
		return worker.Result{}, err
	}
	var info struct {
		ModelName  string `json:"sd_model_name"`
		ModelHash  string `json:"sd_model_hash"`
		FirstImage int    `json:"index_of_first_image"`
	}
	if err := json.Unmarshal([]byte(answer.Info), &info); err != nil {
		return worker.Result{}, fmt.Errorf("the WebUI's info is not JSON: %w", err)
	}
	res := worker.Result{Info: answer.Info, ModelName: info.ModelName, ModelHash: strings.ToLower(info.ModelHash)}
	images := answer.Images
	if info.FirstImage > 0 && info.FirstImage <= len(images) {
		images = images[info.FirstImage:] // a grid comes first
	}
	for i, s := range images {
		if _, data, ok := strings.Cut(s, ";base64,"); ok && strings.HasPrefix(s, "data:") {
			s = data
		}
		raw, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return worker.Result{}, fmt.Errorf("image %d of the answer is not base64: %w", i+1, err)
		}
		res.Images = append(res.Images, raw)
	}
	return res, nil
}

// Body is the generation request: the job's parameters with the models
// selected through override_settings (A1111 ignores an unknown name,
// which the worker catches in the answer's sd_model_name and hash) and
// kept loaded afterwards, so that the next job with the same checkpoint
// does not reload it.
func Body(req worker.RunRequest) map[string]any {
	body := maps.Clone(req.Params)
	if body == nil {
		body = map[string]any{}
	}
	overrides := map[string]any{}
	if o, ok := body["override_settings"].(map[string]any); ok {
		maps.Copy(overrides, o)
	}
	overrides["sd_model_checkpoint"] = req.Checkpoint
	switch v := strings.ToLower(req.VAE); v {
	case "":
	case "automatic":
		overrides["sd_vae"] = "Automatic"
	case "none":
		overrides["sd_vae"] = "None"
	default:
		overrides["sd_vae"] = req.VAE
	}
	body["override_settings"] = overrides
	body["override_settings_restore_afterwards"] = false
	// The worker needs the images back and nothing on the WebUI's disk.
	body["send_images"] = true
	body["save_images"] = false
	return body
}
