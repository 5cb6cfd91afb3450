package worker

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"

	"github.com/BurntSushi/toml"
)

// droppedKeys are settings of the merged TOML that name files or services
// of the machine the training would run on; the worker removes them (the
// folders it rewrites, the dataset config it passes itself).
var droppedKeys = []string{"reg_data_dir", "vae", "network_weights", "resume", "sample_prompts", "dataset_config",
	"in_json", "config_file", "output_config", "huggingface_repo_id", "huggingface_token", "huggingface_path_in_repo",
	"save_state_to_huggingface", "resume_from_huggingface", "log_tracker_config", "wandb_api_key", "conditioning_data_dir"}

// writeConfig rewrites the merged TOML for this machine: the base model,
// the train, output and logs folders and the output name are the worker's.
// kohya reads the keys of every table as arguments; the template's table
// is [training].
func (s *trainSpec) writeConfig(raw []byte) error {
	var doc map[string]any
	if _, err := toml.Decode(string(raw), &doc); err != nil {
		return fmt.Errorf("the training's TOML does not parse: %w", err)
	}
	table := doc
	if t, ok := doc["training"].(map[string]any); ok {
		table = t
	}
	for _, k := range droppedKeys {
		for _, t := range doc {
			if sub, ok := t.(map[string]any); ok {
				delete(sub, k)
			}
		}
		delete(doc, k)
	}
	table["pretrained_model_name_or_path"] = s.modelPath
	table["train_data_dir"] = s.trainDir
	table["output_dir"] = s.outputDir
	table["logging_dir"] = s.logsDir
	table["output_name"] = s.outputName
	table["save_model_as"] = "safetensors"
	if s.epochs > 0 {
		table["max_train_epochs"] = s.epochs
	}
	if s.saveEvery > 0 {
		table["save_every_n_epochs"] = s.saveEvery
	}
	s.settings = table
	return writeTOML(s.configPath, doc)
}

// captionExtension is the TOML's caption_extension (".txt" by default).
func (s *trainSpec) captionExtension() string {
	if v, ok := s.settings["caption_extension"].(string); ok && v != "" {
		return v
	}
	return ".txt"
}

// writeDatasetConfig writes kohya's dataset config: one dataset whose
// subsets are the image folders; resolution, batch size and buckets come
// from the training TOML (kohya falls back to its arguments).
func (s *trainSpec) writeDatasetConfig() error {
	type sub struct {
		ImageDir    string `toml:"image_dir"`
		NumRepeats  int    `toml:"num_repeats"`
		ClassTokens string `toml:"class_tokens,omitempty"`
	}
	type dataset struct {
		Subsets []sub `toml:"subsets"`
	}
	var d dataset
	for _, x := range s.subsets {
		d.Subsets = append(d.Subsets, sub{ImageDir: x.dir, NumRepeats: x.repeats, ClassTokens: x.concept})
	}
	doc := map[string]any{
		"general":  map[string]any{"caption_extension": s.captionExtension()},
		"datasets": []dataset{d},
	}
	return writeTOML(s.datasetPath, doc)
}

func writeTOML(path string, v any) error {
	var buf bytes.Buffer
	if err := toml.NewEncoder(&buf).Encode(v); err != nil {
		return err
	}
	return os.WriteFile(path, buf.Bytes(), 0o644)
}

// legacyModelHash is kohya's (and old A1111's) model hash: the first 8
// hex digits of the SHA-256 of 64 KiB at 1 MiB into the file.
func legacyModelHash(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := f.Seek(0x100000, io.SeekStart); err == nil {
		if _, err := io.CopyN(h, f, 0x10000); err != nil && err != io.EOF {
			return "", err
		}
	}
	return hex.EncodeToString(h.Sum(nil))[:8], nil
}
