package actions

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"sort"

	"github.com/BurntSushi/toml"

	"easel/store"
)

// kohyaTemplates are ESD 1.6.0's kohya settings, one [training] table
// each (CONTRACT-TRAINING §3.2); Easel embeds them instead of reading
// template/ from the bucket.
//
//go:embed kohya/*.toml
var kohyaTemplates embed.FS

// KohyaTemplate names the template of an fm_type.
func KohyaTemplate(fmType string) string {
	if fmType == "sd_xl" {
		return "kohya_config_cloud_xl.toml"
	}
	return "kohya_config_cloud.toml"
}

// MergeKohyaConfig returns the template of fmType with each top-level key
// of config replacing or adding a [training] key: JSON types kept
// (integers stay integers), objects become sub-tables, unknown keys kept.
// A value TOML cannot hold (null) is an EInvalid error naming the key.
func MergeKohyaConfig(fmType string, config map[string]any) ([]byte, error) {
	raw, err := kohyaTemplates.ReadFile("kohya/" + KohyaTemplate(fmType))
	if err != nil {
		return nil, err
	}
	var doc map[string]any
	if _, err := toml.Decode(string(raw), &doc); err != nil {
		return nil, fmt.Errorf("kohya template %s: %w", KohyaTemplate(fmType), err)
	}
	training, _ := doc["training"].(map[string]any)
	keys := make([]string, 0, len(config))
	for k := range config {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v, err := tomlValue(config[k], "config_params."+k)
		if err != nil {
			return nil, err
		}
		training[k] = v
	}
	var out bytes.Buffer
	if err := toml.NewEncoder(&out).Encode(doc); err != nil {
		return nil, store.FieldError("config_params", "config_params cannot be written as kohya TOML: %v", err)
	}
	var check map[string]any
	if _, err := toml.Decode(out.String(), &check); err != nil {
		return nil, store.FieldError("config_params", "config_params cannot be written as kohya TOML: %v", err)
	}
	return out.Bytes(), nil
}

// tomlValue turns a JSON value (numbers as json.Number) into what the TOML
// encoder writes with the same type.
func tomlValue(v any, path string) (any, error) {
	switch x := v.(type) {
	case nil:
		return nil, store.FieldError("config_params", "%s is null, which TOML cannot hold", path)
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i, nil
		}
		f, err := x.Float64()
		if err != nil {
			return nil, store.FieldError("config_params", "%s: %s is not a number TOML can hold", path, x)
		}
		return f, nil
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			t, err := tomlValue(e, path+"."+k)
			if err != nil {
				return nil, err
			}
			out[k] = t
		}
		return out, nil
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			t, err := tomlValue(e, fmt.Sprintf("%s[%d]", path, i))
			if err != nil {
				return nil, err
			}
			out[i] = t
		}
		return out, nil
	}
	return v, nil
}

// ConfigFromTOML reads the [training] table of an edited kohya TOML (the
// console's advanced settings) as config_params.
func ConfigFromTOML(text string) (map[string]any, error) {
	var doc map[string]any
	if _, err := toml.Decode(text, &doc); err != nil {
		return nil, store.FieldError("config_params", "the kohya settings are not valid TOML: %v", err)
	}
	training, ok := doc["training"].(map[string]any)
	if !ok {
		return nil, store.FieldError("config_params", "the kohya settings have no [training] table")
	}
	return training, nil
}

// PreviewConfig is the merged TOML a training with config would use.
func (h *Trainings) PreviewConfig(fmType string, config map[string]any) ([]byte, error) {
	fm, err := checkFMType(fmType)
	if err != nil {
		return nil, err
	}
	return MergeKohyaConfig(fm, config)
}
