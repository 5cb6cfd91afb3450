package actions

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"strconv"
	"strings"

	"easel/store"
)

// TrainingInput is the body of POST /trainings: lora_train_type and the
// params object, numbers as json.Number (CONTRACT-TRAINING §3.1).
type TrainingInput struct {
	LoraTrainType string         `json:"lora_train_type"`
	Params        map[string]any `json:"params"`
}

// trainingRequest is a TrainingInput that passed checks 1, 2 and 4.
type trainingRequest struct {
	trainingParams, configParams map[string]any
	model, dataset, fmType       string
	instanceType, outputName     string
	saveEvery, maxEpochs         int64
}

func object(m map[string]any, key string) map[string]any {
	o, _ := m[key].(map[string]any)
	if o == nil {
		return map[string]any{}
	}
	return o
}

func text(m map[string]any, key string) string {
	s, _ := m[key].(string)
	return s
}

// readTrainingInput applies checks 1 and 2 of §3.1 and copies what the
// later checks need.
func readTrainingInput(in TrainingInput) (trainingRequest, error) {
	if !strings.EqualFold(in.LoraTrainType, "kohya") {
		return trainingRequest{}, store.FieldError("lora_train_type", "Invalid lora train type: %s, the valid value is kohya.", in.LoraTrainType)
	}
	r := trainingRequest{trainingParams: maps.Clone(object(in.Params, "training_params")),
		configParams: maps.Clone(object(in.Params, "config_params"))}
	r.model, r.dataset, r.fmType = text(r.trainingParams, "model"), text(r.trainingParams, "dataset"), text(r.trainingParams, "fm_type")
	r.instanceType, r.outputName = text(r.trainingParams, "training_instance_type"), text(r.configParams, "output_name")
	for _, m := range []struct{ path, value string }{{"training_params.model", r.model},
		{"training_params.dataset", r.dataset}, {"training_params.fm_type", r.fmType},
		{"config_params.output_name", r.outputName}} {
		if m.value == "" {
			return trainingRequest{}, store.FieldError(m.path, "Missing %s", m.path)
		}
	}
	return r, nil
}

// readEpochs applies check 4: save_every_n_epochs and max_train_epochs
// are whole numbers of at least 1 (JSON numbers or numeric strings),
// stored as integers.
func (r *trainingRequest) readEpochs() error {
	for _, key := range []string{"save_every_n_epochs", "max_train_epochs"} {
		n, err := positiveInteger(r.configParams[key], "config_params."+key)
		if err != nil {
			return err
		}
		r.configParams[key] = n
		if key == "save_every_n_epochs" {
			r.saveEvery = n
		} else {
			r.maxEpochs = n
		}
	}
	return nil
}

func positiveInteger(v any, path string) (int64, error) {
	var n int64
	switch x := v.(type) {
	case nil:
		return 0, store.FieldError(path, "Missing %s", path)
	case json.Number:
		i, err := x.Int64()
		if err != nil {
			f, ferr := x.Float64()
			if ferr != nil || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
				return 0, store.FieldError(path, "%s must be an integer", path)
			}
			i = int64(f)
		}
		n = i
	case int64:
		n = x
	case int:
		n = int64(x)
	case float64:
		if x != math.Trunc(x) || math.Abs(x) > 1<<53 {
			return 0, store.FieldError(path, "%s must be an integer", path)
		}
		n = int64(x)
	case string:
		s := strings.TrimSpace(x)
		if s == "" {
			return 0, store.FieldError(path, "Missing %s", path)
		}
		i, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, store.FieldError(path, "%s must be an integer", path)
		}
		n = i
	default:
		return 0, store.FieldError(path, "%s must be an integer", path)
	}
	switch {
	case n == 0:
		return 0, store.FieldError(path, "Missing %s", path)
	case n < 0:
		return 0, store.FieldError(path, "%s must be at least 1, not %d", path, n)
	}
	return n, nil
}

// checkOutputName is the Easel-only part of check 8: the LoRA's file name
// must be one file name.
func checkOutputName(name string) error {
	if strings.Contains(name, "..") || checkFilename(name+".safetensors") != nil {
		return store.FieldError("config_params.output_name",
			"config_params.output_name %q must be a plain file name: no /, \\ or .., at most 243 bytes", name)
	}
	return nil
}

// checkFMType is check 7.
func checkFMType(v string) (string, error) {
	if fm := strings.ToLower(v); fm == "sd_1_5" || fm == "sd_xl" {
		return fm, nil
	}
	return "", store.FieldError("training_params.fm_type", "Invalid fm_type %s, the valid values are sd_1_5 and sd_xl", v)
}

// checkNameFree is check 3: <output_name>.safetensors is no checkpoint's
// name and output_name no training's.
func (h *Trainings) checkNameFree(ctx context.Context, output string) error {
	file := output + ".safetensors"
	taken, err := store.NameTaken(ctx, h.store.DB(), file)
	if err == nil && !taken {
		taken, err = store.TrainingOutputTaken(ctx, h.store.DB(), output)
	}
	if err != nil {
		return err
	}
	if taken {
		return store.NameTakenError(file)
	}
	return nil
}

// answeredParams is the params object POST /trainings answers and stores:
// model and dataset replaced by the three S3 paths, training_type added.
func (h *Trainings) answeredParams(in TrainingInput, r trainingRequest, modelKey, datasetKey, tomlKey string) (json.RawMessage, error) {
	params := maps.Clone(in.Params)
	if params == nil {
		params = map[string]any{}
	}
	tp := r.trainingParams
	delete(tp, "model")
	delete(tp, "dataset")
	tp["training_instance_type"], tp["fm_type"] = r.instanceType, r.fmType
	tp["s3_model_path"], tp["s3_data_path"], tp["s3_toml_path"] = h.s3(modelKey), h.s3(datasetKey), h.s3(tomlKey)
	params["training_params"], params["config_params"], params["training_type"] = tp, r.configParams, "kohya"
	raw, err := json.Marshal(params)
	if err != nil {
		return nil, fmt.Errorf("encode params: %w", err)
	}
	return raw, nil
}
