package web_test

import (
	"fmt"
	"strings"
	"testing"

	"easel/internal/testenv"
)

// TestTrainingCreateGetList: a training is created and started on the
// worker pool, answers ESD's shapes (numbers kept in the POST echo, as
// strings in GET bodies) and its merged kohya TOML is in the bucket.
func TestTrainingCreateGetList(t *testing.T) {
	t.Parallel()
	s := trainingServer(t)
	admin := testenv.As("admin")
	body := trainingBody("cat-lora")
	cp := params(body, "config_params")
	cp["save_every_n_epochs"], cp["max_train_epochs"] = "2", 3
	cp["network_dim"], cp["unet_lr"], cp["my_key"] = 8, 0.0005, "kept"
	cp["additional_network"] = map[string]any{"network_module": "networks.lora", "weights": 1}
	body["lora_train_type"] = "KOHYA"
	params(body, "training_params")["training_instance_type"] = ""
	created := s.MustCall(t, 201, "POST", "/trainings", admin, body).JSON(t)
	data := created["data"].(map[string]any)
	id := data["id"].(string)
	if created["statusCode"] != float64(201) || data["status"] != "Starting" || len(id) != 36 {
		t.Fatalf("created = %v", created)
	}
	bucket := s.App.Blob.Bucket
	tp := data["params"].(map[string]any)["training_params"].(map[string]any)
	want := map[string]any{"training_instance_type": "gpus", "fm_type": "sd_1_5",
		"s3_data_path": "s3://" + bucket + "/dataset/cats",
		"s3_toml_path": "s3://" + bucket + "/kohya/train/" + id + "/input/kohya_config_cloud.toml"}
	for k, v := range want {
		if tp[k] != v {
			t.Errorf("training_params.%s = %v, want %v", k, tp[k], v)
		}
	}
	if m, _ := tp["s3_model_path"].(string); !strings.HasPrefix(m, "s3://"+bucket+"/Stable-diffusion/checkpoint/custom/") || !strings.HasSuffix(m, "/base.safetensors") {
		t.Errorf("s3_model_path = %v", tp["s3_model_path"])
	}
	if tp["model"] != nil || tp["dataset"] != nil || data["params"].(map[string]any)["training_type"] != "kohya" {
		t.Errorf("params = %v", data["params"])
	}
	echo := data["params"].(map[string]any)["config_params"].(map[string]any)
	if echo["save_every_n_epochs"] != float64(2) || echo["max_train_epochs"] != float64(3) {
		t.Errorf("config_params echo = %v (numbers kept, epochs as integers)", echo)
	}
	if data["input_location"] != "s3://"+bucket+"/kohya/train/"+id+"/input" ||
		data["output_location"] != "s3://"+bucket+"/Stable-diffusion/checkpoint/custom/"+id {
		t.Errorf("locations = %v, %v", data["input_location"], data["output_location"])
	}

	tr := tomlTraining(t, s, "kohya/train/"+id+"/input/kohya_config_cloud.toml")
	for k, v := range map[string]any{"output_name": "cat-lora", "save_every_n_epochs": int64(2), "max_train_epochs": int64(3),
		"network_dim": int64(8), "unet_lr": 0.0005, "my_key": "kept", "network_alpha": int64(16), "seed": int64(1337),
		"optimizer_type": "AdamW8bit", "resolution": "512,512", "text_encoder_lr": 1e-5, "xformers": true} {
		if tr[k] != v {
			t.Errorf("TOML training.%s = %#v, want %#v", k, tr[k], v)
		}
	}
	if sub, _ := tr["additional_network"].(map[string]any); sub["network_module"] != "networks.lora" || sub["weights"] != int64(1) {
		t.Errorf("TOML training.additional_network = %#v, want a sub-table", tr["additional_network"])
	}
	if _, ok := tr["no_half_vae"]; ok {
		t.Errorf("SD 1.5 template has no_half_vae")
	}

	got := getTraining(t, s, admin, id)
	for k, v := range map[string]any{"id": id, "job_status": "Starting", "model_id": "kohya", "train_type": "Stable-diffusion",
		"sagemaker_train_name": "", "checkpoint_id": ""} {
		if got[k] != v {
			t.Errorf("GET %s = %v, want %v", k, got[k], v)
		}
	}
	if logs, _ := got["logs"].([]any); logs == nil || len(logs) != 0 {
		t.Errorf("logs = %v, want []", got["logs"])
	}
	gcp := got["params"].(map[string]any)["config_params"].(map[string]any)
	if gcp["max_train_epochs"] != "3" || gcp["unet_lr"] != "0.0005" || gcp["additional_network"].(map[string]any)["weights"] != "1" {
		t.Errorf("GET config_params = %v, want numbers as strings", gcp)
	}
	if ts, _ := got["timestamp"].(string); len(ts) < 12 || ts[len(ts)-7] != '.' {
		t.Errorf("timestamp = %v", got["timestamp"])
	}

	list := s.MustCall(t, 200, "GET", "/trainings", admin, nil).JSON(t)["data"].(map[string]any)
	items := list["trainings"].([]any)
	item := items[0].(map[string]any)
	if len(items) != 1 || item["id"] != id || item["modelName"] != "cat-lora.safetensors" || item["status"] != "Starting" ||
		item["trainType"] != "Stable-diffusion" || item["sagemakerTrainName"] != "" || item["created"] != got["timestamp"] {
		t.Errorf("list = %v", list)
	}
	if list["last_evaluated_key"] != nil {
		t.Errorf("last_evaluated_key = %v, want null", list["last_evaluated_key"])
	}

	// SDXL, fm_type in any case: the XL template.
	xl := trainingBody("xl-lora")
	params(xl, "training_params")["fm_type"] = "SD_XL"
	xlID := createTraining(t, s, admin, xl)
	if tr := tomlTraining(t, s, "kohya/train/"+xlID+"/input/kohya_config_cloud_xl.toml"); tr["no_half_vae"] != true ||
		tr["pretrained_model_name_or_path"] != "models/Stable-diffusion/sd_xl_base_1.0.safetensors" {
		t.Errorf("XL TOML = %v", tr)
	}
}

// TestTrainingCreateChecks: every check of POST /trainings in ESD's
// order, each with its message, and nothing stored by a refused one.
func TestTrainingCreateChecks(t *testing.T) {
	t.Parallel()
	s := trainingServer(t)
	admin := testenv.As("admin")
	uploadModel(t, s, "Lora", "taken.safetensors")
	createTraining(t, s, admin, trainingBody("used"))
	before := trainingIDs(t, s, admin, "")

	type change func(b map[string]any)
	set := func(path, key string, v any) change {
		return func(b map[string]any) { params(b, path)[key] = v }
	}
	both := func(cs ...change) change {
		return func(b map[string]any) {
			for _, c := range cs {
				c(b)
			}
		}
	}
	cases := []struct {
		name   string
		change change
		want   string
	}{
		{"no params", func(b map[string]any) { delete(b, "params") }, `[object has missing required properties (["params"])]`},
		{"no model", func(b map[string]any) { delete(params(b, "training_params"), "model") }, `[object has missing required properties (["model"])]`},
		{"epochs a bool", set("config_params", "max_train_epochs", true), `[instance type (boolean) does not match any allowed primitive type (allowed: ["integer","string"])]`},
		{"lora type first", both(func(b map[string]any) { b["lora_train_type"] = "dreambooth" }, set("training_params", "model", "")),
			"Invalid lora train type: dreambooth, the valid value is kohya."},
		{"empty model", both(set("training_params", "model", ""), set("training_params", "dataset", "")), "Missing training_params.model"},
		{"empty dataset", set("training_params", "dataset", ""), "Missing training_params.dataset"},
		{"empty fm_type", set("training_params", "fm_type", ""), "Missing training_params.fm_type"},
		{"clash with a checkpoint", both(set("config_params", "output_name", "taken"), set("config_params", "max_train_epochs", 0)),
			"taken.safetensors already exists, please use another or rename/delete exists"},
		{"clash with a training", set("config_params", "output_name", "used"), "used.safetensors already exists, please use another or rename/delete exists"},
		{"save every missing", both(func(b map[string]any) { delete(params(b, "config_params"), "save_every_n_epochs") }, set("training_params", "model", "nope")),
			"Missing config_params.save_every_n_epochs"},
		{"epochs zero", set("config_params", "max_train_epochs", "0"), "Missing config_params.max_train_epochs"},
		{"epochs not a number", set("config_params", "max_train_epochs", "ten"), "config_params.max_train_epochs must be an integer"},
		{"epochs a fraction", set("config_params", "save_every_n_epochs", "1.5"), "config_params.save_every_n_epochs must be an integer"},
		{"epochs a fractional number", set("config_params", "save_every_n_epochs", 1.5), `[instance type (number) does not match any allowed primitive type (allowed: ["integer","string"])]`},
		{"unknown model", both(set("training_params", "model", "nope.safetensors"), set("training_params", "dataset", "nope")), "Model not found"},
		{"model of another kind is still a model", both(set("training_params", "model", "taken.safetensors"), set("training_params", "dataset", "nope")), "Dataset not found"},
		{"unknown dataset", both(set("training_params", "dataset", "dogs"), set("training_params", "fm_type", "sd2")), "Dataset not found"},
		{"bad fm_type", both(set("training_params", "fm_type", "sd2"), set("training_params", "training_instance_type", "idle")),
			"Invalid fm_type sd2, the valid values are sd_1_5 and sd_xl"},
		{"pool without a trainer", set("training_params", "training_instance_type", "idle"),
			"Invalid training_instance_type idle, the valid values are: gpus"},
		{"ml type without SageMaker", set("training_params", "training_instance_type", "ml.g5.2xlarge"),
			"Invalid training_instance_type ml.g5.2xlarge, the valid values are: gpus"},
		{"path in output name", set("config_params", "output_name", "../escape"), `config_params.output_name "../escape" must be a plain file name`},
		{"slash in output name", set("config_params", "output_name", `a\b`), `config_params.output_name "a\\b" must be a plain file name`},
		{"null in config", set("config_params", "clip_skip", nil), "config_params.clip_skip is null, which TOML cannot hold"},
	}
	for _, c := range cases {
		b := trainingBody("fresh")
		c.change(b)
		if got := s.MustCall(t, 400, "POST", "/trainings", admin, b).Message(t); !strings.Contains(got, c.want) {
			t.Errorf("%s: message %q, want %q", c.name, got, c.want)
		}
	}

	// Key, identity and permission come first.
	if r := s.Call(t, "POST", "/trainings", testenv.Headers{}, map[string]any{}); r.Status != 403 {
		t.Errorf("no key: %d", r.Status)
	}
	s.MustCall(t, 401, "POST", "/trainings", testenv.Key(testenv.ServiceKey), trainingBody("fresh"))
	s.MustCall(t, 401, "GET", "/trainings", testenv.Key(testenv.ServiceKey), nil)
	mustRole(t, s, "readers", "train:list")
	mustUser(t, s, "admin", "reader", "readers")
	if got := s.MustCall(t, 403, "POST", "/trainings", testenv.As("reader"), trainingBody("fresh")).Message(t); got != "User reader has no permissions: [train:create]" {
		t.Errorf("403 message = %q", got)
	}

	// A backend that refuses the job: its text, and nothing left behind.
	s.App.Actions.Trainings.SetBackend(refusingBackend{})
	b := trainingBody("refused")
	params(b, "training_params")["training_instance_type"] = "ml.g5.2xlarge"
	if got := s.MustCall(t, 400, "POST", "/trainings", admin, b).Message(t); got != "ResourceLimitExceeded: no ml.g5.2xlarge capacity" {
		t.Errorf("refused start: %q", got)
	}
	if after := trainingIDs(t, s, admin, ""); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("trainings after refused creates = %v, want %v", after, before)
	}
	objs, err := s.App.Blob.ObjectsUnder(t.Context(), "kohya/train/", 100)
	if err != nil || len(objs) != 1 {
		t.Errorf("objects under kohya/train/ = %v, %v; want only the first training's TOML", objs, err)
	}
	// The name of the refused training is free again.
	params(b, "training_params")["training_instance_type"] = "gpus"
	createTraining(t, s, admin, b)
}
