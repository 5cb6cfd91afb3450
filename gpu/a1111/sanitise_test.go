package a1111_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"easel/gpu/a1111"
)

const png1x1 = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="

func params(t *testing.T, s string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestSanitise(t *testing.T) {
	for _, tc := range []struct {
		name, task, in, want string
	}{
		{"pins saving and sending", "txt2img", `{"prompt":"p","save_images":true,"send_images":false}`,
			`{"prompt":"p","save_images":false,"send_images":true}`},
		{"strips state and model keys", "txt2img",
			`{"prompt":"p","script_name":"custom code","script_args":["import os"],"infotext":"Model: x","force_task_id":"t",
			  "refiner_checkpoint":"r.safetensors","hr_checkpoint_name":"h.safetensors","extra":{"a":1}}`,
			`{"prompt":"p","save_images":false,"send_images":true}`},
		{"override allow-list", "img2img",
			`{"init_images":["` + png1x1 + `"],"override_settings":{"CLIP_stop_at_last_layers":2,"eta_noise_seed_delta":31337,
			  "sd_model_checkpoint":"other.ckpt","sd_vae":"v.pt","outdir_samples":"/etc","samples_filename_pattern":"x",
			  "save_init_img":true,"samples_save":true,"grid_save":true,"save_images_before_face_restoration":true,
			  "samples_format":"webp","forge_preset":"x","no_such_key":1},"override_settings_restore_afterwards":false}`,
			`{"init_images":["` + png1x1 + `"],"save_images":false,"send_images":true,
			  "override_settings":{"CLIP_stop_at_last_layers":2,"eta_noise_seed_delta":31337},"override_settings_restore_afterwards":true}`},
		{"restore without overrides is dropped", "txt2img", `{"override_settings_restore_afterwards":false}`,
			`{"save_images":false,"send_images":true}`},
		{"script allow-list, any case", "txt2img",
			`{"alwayson_scripts":{"ControlNet":{"args":[{"image":"` + png1x1 + `","model":"canny"}]},"ADetailer":{"args":[]},"x/y/z plot":{}}}`,
			`{"alwayson_scripts":{"ControlNet":{"args":[{"image":"` + png1x1 + `","model":"canny"}]}},"save_images":false,"send_images":true}`},
		{"data URL images pass", "img2img", `{"init_images":["data:image/png;base64,` + png1x1 + `"],"mask":""}`,
			`{"init_images":["data:image/png;base64,` + png1x1 + `"],"mask":"","save_images":false,"send_images":true}`},
		{"extras are not pinned", "extra-single-image", `{"image":"` + png1x1 + `","upscaling_resize":2}`,
			`{"image":"` + png1x1 + `","upscaling_resize":2}`},
		{"null fields pass", "txt2img", `{"override_settings":null,"alwayson_scripts":null,"mask":null}`,
			`{"override_settings":null,"alwayson_scripts":null,"mask":null,"override_settings_restore_afterwards":true,"save_images":false,"send_images":true}`},
	} {
		in := params(t, tc.in)
		got, err := a1111.Sanitise(tc.task, in)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if diff := cmp.Diff(params(t, tc.want), got); diff != "" {
			t.Errorf("%s: Sanitise(%s) (-want +got):\n%s", tc.name, tc.in, diff)
		}
		if diff := cmp.Diff(params(t, tc.in), in); diff != "" {
			t.Errorf("%s: Sanitise changed its input:\n%s", tc.name, diff)
		}
	}
}

func TestSanitiseRefuses(t *testing.T) {
	for _, tc := range []struct {
		task, in, field, want string
	}{
		{"img2img", `{"init_images":["http://169.254.169.254/latest/meta-data"]}`, "init_images[0]", "URL"},
		{"img2img", `{"init_images":["` + png1x1 + `"," HTTPS://example.com/a.png"]}`, "init_images[1]", "URL"},
		{"img2img", `{"init_images":["not base64 at all!"]}`, "init_images[0]", "not base64"},
		{"img2img", `{"init_images":[7]}`, "init_images[0]", "not a number"},
		{"img2img", `{"init_images":"` + png1x1 + `"}`, "init_images", "must be a list"},
		{"img2img", `{"init_images":["` + png1x1 + `"],"mask":"https://example.com/m.png"}`, "mask", "URL"},
		{"img2img", `{"mask":["` + png1x1 + `"]}`, "mask", "not a list"},
		{"extra-single-image", `{"image":"http://internal/x.png"}`, "image", "URL"},
		{"extra-single-image", `{"image":""}`, "image", "empty"},
		{"img2img", `{"init_images":["data:image/png;base64"]}`, "init_images[0]", "without data"},
		{"txt2img", `{"alwayson_scripts":{"controlnet":{"args":[{"image":"http://10.0.0.1/x.png"}]}}}`, "alwayson_scripts.controlnet.args[0].image", "URL"},
		{"txt2img", `{"override_settings":"CLIP_stop_at_last_layers=2"}`, "override_settings", "object"},
		{"txt2img", `{"alwayson_scripts":[]}`, "alwayson_scripts", "object"},
	} {
		_, err := a1111.Sanitise(tc.task, params(t, tc.in))
		var fe *a1111.FieldError
		if !errors.As(err, &fe) || !errors.Is(err, a1111.ErrInvalid) || fe.Field != tc.field || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Sanitise(%s, %s) = %v, want an ErrInvalid about %s containing %q", tc.task, tc.in, err, tc.field, tc.want)
		}
	}
}

func TestSelect(t *testing.T) {
	for _, tc := range []struct {
		in, checkpoint, vae, want string
	}{
		{`{"prompt":"p"}`, "", "", `{"prompt":"p"}`},
		{`{"prompt":"p"}`, "sd/base.safetensors", "Automatic",
			`{"prompt":"p","override_settings":{"sd_model_checkpoint":"sd/base.safetensors","sd_vae":"Automatic"},"override_settings_restore_afterwards":true}`},
		{`{"override_settings":{"CLIP_stop_at_last_layers":2}}`, "base.ckpt", "",
			`{"override_settings":{"CLIP_stop_at_last_layers":2,"sd_model_checkpoint":"base.ckpt"},"override_settings_restore_afterwards":true}`},
	} {
		p := params(t, tc.in)
		a1111.Select(p, tc.checkpoint, tc.vae)
		if diff := cmp.Diff(params(t, tc.want), p); diff != "" {
			t.Errorf("Select(%s, %q, %q) (-want +got):\n%s", tc.in, tc.checkpoint, tc.vae, diff)
		}
	}
}

func TestModelName(t *testing.T) {
	for in, want := range map[string]string{
		"base.safetensors":            "base",
		"sd/xl/base.v2.safetensors":   "base.v2",
		`sd\base.ckpt`:                "base",
		"no-extension":                "no-extension",
		"v1-5-pruned-emaonly.ckpt":    "v1-5-pruned-emaonly",
		"sub dir/with space.safetens": "with space",
	} {
		if got := a1111.ModelName(in); got != want {
			t.Errorf("ModelName(%q) = %q, want %q", in, got, want)
		}
	}
}
