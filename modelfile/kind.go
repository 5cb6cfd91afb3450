package modelfile

import (
	"slices"
	"strings"
)

// Model families of Info.Base.
const (
	SD1  = "SD 1.x"
	SD2  = "SD 2.x"
	SDXL = "SDXL"
)

// Info summarises the header for the model library.
func (h Header) Info() Info {
	names := make([]string, len(h.Tensors))
	var dtypes []string
	for i, t := range h.Tensors {
		names[i] = t.Name
		if !slices.Contains(dtypes, t.DType) {
			dtypes = append(dtypes, t.DType)
		}
	}
	slices.Sort(dtypes)
	kind, base := classify(names)
	if b := baseFromMetadata(h.Metadata); b != "" {
		base = b
	}
	return Info{Format: FormatSafetensors, Kind: kind, Base: base, BaseName: h.Metadata["ss_sd_model_name"],
		Tensors: len(h.Tensors), DTypes: dtypes, Metadata: h.Metadata}
}

// classify tells the kind and family of a model from its tensor names,
// by the keys each kind of file characteristically has.
func classify(names []string) (kind, base string) {
	has := func(prefixes ...string) bool {
		return slices.ContainsFunc(names, func(n string) bool {
			return slices.ContainsFunc(prefixes, func(p string) bool { return strings.HasPrefix(n, p) })
		})
	}
	contains := func(part string) bool {
		return slices.ContainsFunc(names, func(n string) bool { return strings.Contains(n, part) })
	}
	switch {
	case has("lora_unet_", "lora_te_", "lora_te1_", "lora_te2_") || contains(".lora_down.") || contains(".lora_A."):
		kind = "Lora"
		switch {
		case has("lora_te1_", "lora_te2_"):
			base = SDXL
		case has("lora_te_text_model_"):
			base = SD1
		}
	case has("control_model.") || has("input_hint_block.", "controlnet_cond_embedding."):
		kind = "ControlNet"
	case has("model.diffusion_model."):
		kind = "Stable-diffusion"
		switch {
		case has("conditioner.embedders.1."):
			base = SDXL
		case has("cond_stage_model.model."):
			base = SD2
		case has("cond_stage_model.transformer."):
			base = SD1
		}
	case has("encoder.down.", "decoder.up.", "first_stage_model.encoder."):
		kind = "VAE"
	case len(names) <= 4 && (has("emb_params", "clip_l", "clip_g", "string_to_param")):
		kind = "embeddings"
		if has("clip_g") {
			base = SDXL
		}
	}
	return kind, base
}

// baseFromMetadata reads the family from kohya's and the model spec's
// metadata keys.
func baseFromMetadata(m map[string]string) string {
	v := strings.ToLower(m["ss_base_model_version"] + " " + m["modelspec.architecture"])
	switch {
	case strings.Contains(v, "sdxl") || strings.Contains(v, "stable-diffusion-xl"):
		return SDXL
	case strings.Contains(v, "sd_v2") || strings.Contains(v, "stable-diffusion-v2"):
		return SD2
	case strings.Contains(v, "sd_v1") || strings.Contains(v, "stable-diffusion-v1"):
		return SD1
	case m["ss_v2"] == "True":
		return SD2
	}
	return ""
}
