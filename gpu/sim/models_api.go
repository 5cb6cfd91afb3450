package sim

import (
	"net/http"
	"path/filepath"
	"runtime"
)

func (s *server) sdModels(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	list := s.models.checkpoints
	s.mu.Unlock()
	out := []map[string]any{}
	for _, c := range list {
		file := c.path
		if file == "" {
			file = "(easel simulator: no checkpoint file)"
		}
		out = append(out, map[string]any{"title": c.title(), "model_name": c.modelName(),
			"hash": c.hash10(), "sha256": c.sha256, "filename": file, "config": nil})
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *server) sdVAE(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	list := s.models.vaes
	s.mu.Unlock()
	out := []map[string]any{}
	for _, c := range list {
		out = append(out, map[string]any{"model_name": c.name, "filename": c.path})
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *server) loras(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	list := s.models.loras
	s.mu.Unlock()
	out := []map[string]any{}
	for _, c := range list {
		out = append(out, map[string]any{"name": c.shortName(), "alias": c.shortName(),
			"path": c.path, "metadata": map[string]any{}})
	}
	writeJSON(w, http.StatusOK, out)
}

// refresh rescans every model folder (A1111 rescans one per route).
func (s *server) refresh(w http.ResponseWriter, r *http.Request) {
	if err := s.rescan(); err != nil {
		exception(w, "OSError", err.Error())
		return
	}
	writeJSON(w, http.StatusOK, nil)
}

// optionDefaults are the options the simulator knows, with their
// defaults: override_settings may set these and no others (A1111
// answers a KeyError for an unknown one).
var optionDefaults = map[string]any{
	"sd_model_checkpoint":                    nil, // set by options
	"sd_checkpoint_hash":                     nil,
	"sd_vae":                                 "Automatic",
	"CLIP_stop_at_last_layers":               1,
	"eta_noise_seed_delta":                   0,
	"eta_ancestral":                          1.0,
	"eta_ddim":                               0.0,
	"s_churn":                                0.0,
	"s_tmin":                                 0.0,
	"s_tmax":                                 0.0,
	"s_noise":                                1.0,
	"s_min_uncond":                           0.0,
	"randn_source":                           "GPU",
	"token_merging_ratio":                    0.0,
	"token_merging_ratio_img2img":            0.0,
	"samples_format":                         "png",
	"samples_save":                           true,
	"grid_save":                              true,
	"save_init_img":                          false,
	"save_images_before_face_restoration":    false,
	"save_images_before_highres_fix":         false,
	"save_images_before_color_correction":    false,
	"outdir_samples":                         "",
	"outdir_txt2img_samples":                 "outputs/txt2img-images",
	"outdir_img2img_samples":                 "outputs/img2img-images",
	"outdir_grids":                           "",
	"samples_filename_pattern":               "",
	"directories_filename_pattern":           "[date]",
	"enable_pnginfo":                         true,
	"img2img_fix_steps":                      false,
	"sd_vae_overrides_per_model_preferences": true,
}

func (s *server) options(w http.ResponseWriter, r *http.Request) {
	out := map[string]any{"easel_simulator": true}
	for k, v := range optionDefaults {
		out[k] = v
	}
	s.mu.Lock()
	if c := s.findLocked(s.models.checkpoints, s.dflt); c != nil {
		out["sd_model_checkpoint"], out["sd_checkpoint_hash"] = c.title(), c.sha256
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, out)
}

// cmdFlags answers the launch flags a worker reads: the model folders.
func (s *server) cmdFlags(w http.ResponseWriter, r *http.Request) {
	flags := map[string]any{"ckpt_dir": nil, "vae_dir": nil, "lora_dir": nil, "embeddings_dir": nil,
		"hypernetwork_dir": nil, "data_dir": nil, "models_dir": nil, "api": true, "nowebui": true,
		"api_auth": nil, "easel_simulator": true}
	if d := s.opts.ModelsDir; d != "" {
		abs, _ := filepath.Abs(d)
		for k, sub := range map[string]string{"ckpt_dir": CheckpointDir, "vae_dir": VAEDir, "lora_dir": LoraDir,
			"embeddings_dir": "embeddings", "hypernetwork_dir": "hypernetworks"} {
			flags[k] = filepath.Join(abs, sub)
		}
		flags["data_dir"], flags["models_dir"] = abs, abs
	}
	writeJSON(w, http.StatusOK, flags)
}

// memory answers the process's RAM; there is no GPU.
func (s *server) memory(w http.ResponseWriter, r *http.Request) {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	writeJSON(w, http.StatusOK, map[string]any{
		"ram":  map[string]any{"free": m.Sys - m.HeapInuse, "used": m.HeapInuse, "total": m.Sys},
		"cuda": map[string]any{"error": "unavailable"},
	})
}
