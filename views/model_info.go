package views

import (
	"encoding/json"
	"strings"

	"easel/modelfile"
	"easel/store"
)

// ModelFacts is what the model library says about a file's contents, in
// plain words.
type ModelFacts struct {
	// Summary is one line: kind, base model, tensors; "" when not read.
	Summary string
	// Details are labelled facts from the training metadata, in order.
	Details [][2]string
	// Problem says why the file could not be read.
	Problem string
	// Unsafe marks a pickle whose loading may run code; Globals are the
	// imports why.
	Unsafe  bool
	Globals []string
}

// kindWords name the model kinds.
var kindWords = map[string]string{
	"Stable-diffusion": "Checkpoint", "Lora": "LoRA", "VAE": "VAE", "embeddings": "Embedding", "ControlNet": "ControlNet",
}

// kohyaMetadataLabels are the kohya metadata keys worth showing, with labels.
var kohyaMetadataLabels = [][2]string{
	{"ss_sd_model_name", "Trained on"},
	{"ss_output_name", "Output name"},
	{"ss_network_module", "Network"},
	{"ss_network_dim", "Network dim"},
	{"ss_network_alpha", "Network alpha"},
	{"ss_num_train_images", "Training images"},
	{"ss_num_epochs", "Epochs"},
	{"ss_max_train_steps", "Steps"},
	{"ss_resolution", "Resolution"},
	{"ss_learning_rate", "Learning rate"},
	{"ss_unet_lr", "UNet learning rate"},
	{"ss_text_encoder_lr", "Text encoder learning rate"},
	{"ss_optimizer", "Optimizer"},
	{"ss_mixed_precision", "Precision"},
	{"ss_clip_skip", "Clip skip"},
	{"ss_seed", "Seed"},
}

// modelFacts reads the checkpoint's stored model info.
func modelFacts(c store.Checkpoint) ModelFacts {
	f := ModelFacts{Unsafe: c.Unsafe, Globals: c.UnsafeGlobals}
	var info modelfile.Info
	if len(c.ModelInfo) == 0 || json.Unmarshal(c.ModelInfo, &info) != nil {
		return f
	}
	if info.Error != "" {
		f.Problem = info.Error
		return f
	}
	var parts []string
	if w, ok := kindWords[info.Kind]; ok {
		parts = append(parts, w)
	}
	if info.Base != "" {
		parts = append(parts, "for "+info.Base)
	}
	switch info.Format {
	case modelfile.FormatSafetensors:
		parts = append(parts, plural(info.Tensors, "tensor", "tensors")+" ("+strings.Join(info.DTypes, ", ")+")")
	case modelfile.FormatPickle:
		parts = append(parts, "pickle importing "+plural(len(info.Globals), "name", "names"))
	}
	f.Summary = strings.Join(parts, " · ")
	for _, fact := range kohyaMetadataLabels {
		if v := info.Metadata[fact[0]]; v != "" && v != "None" {
			f.Details = append(f.Details, [2]string{fact[1], v})
		}
	}
	if info.Format == modelfile.FormatPickle && !f.Unsafe && len(info.Globals) > 0 {
		f.Details = append(f.Details, [2]string{"Imports (all on the allow-list)", strings.Join(info.Globals, ", ")})
	}
	return f
}
