package a1111

import (
	"encoding/base64"
	"fmt"
	"slices"
	"strings"
)

// stripped are request keys that reach the server's state or disk, or
// choose models, and are never forwarded: script_name/script_args run
// scripts (the custom-code one runs Python under --allow-code; others
// load checkpoints), infotext is turned into overrides, force_task_id
// names the server's task, refiner_checkpoint and hr_checkpoint_name
// load models Easel did not choose, extra is SD.Next's pass-through.
var stripped = []string{"script_name", "script_args", "infotext", "force_task_id",
	"refiner_checkpoint", "hr_checkpoint_name", "extra"}

// AllowedOverrides are the override_settings keys a request may set;
// every other key is dropped. They change how one image is sampled and
// touch neither the disk nor the loaded models. sd_model_checkpoint and
// sd_vae are set by Select, never taken from the request.
var AllowedOverrides = []string{
	"CLIP_stop_at_last_layers", // clip skip
	"eta_noise_seed_delta",     // ENSD
	"eta_ancestral",
	"eta_ddim",
	"s_churn",
	"s_tmin",
	"s_tmax",
	"s_noise",
	"s_min_uncond",
	"randn_source",
	"token_merging_ratio",
}

// AllowedScripts are the alwayson_scripts a request may carry, compared
// case-insensitively; others are dropped.
var AllowedScripts = []string{"controlnet"}

// imageFields are the request fields A1111 decodes as images; it fetches
// one that is an http(s) URL itself, so Easel never forwards a URL.
var imageFields = []string{"init_images", "mask", "image"}

// Sanitise returns a copy of the A1111 request params for task that is
// safe to send to a shared server: save_images false and send_images
// true (txt2img, img2img); the stripped keys removed; override_settings
// cut to AllowedOverrides (restoring afterwards); alwayson_scripts cut to
// AllowedScripts. It fails with an error matching ErrInvalid, naming the
// field, when an image field is not base64 image data (a URL, or text
// that does not decode) or a field has the wrong shape.
func Sanitise(task string, params map[string]any) (map[string]any, error) {
	out := make(map[string]any, len(params)+3)
	for k, v := range params {
		if !slices.Contains(stripped, k) {
			out[k] = v
		}
	}
	if task == Txt2img || task == Img2img {
		out["save_images"] = false
		out["send_images"] = true
	}
	for _, f := range imageFields {
		if err := checkImageField(f, out[f]); err != nil {
			return nil, err
		}
	}
	if v, ok := out["override_settings"]; ok && v != nil {
		o, ok := v.(map[string]any)
		if !ok {
			return nil, fieldErrorf("override_settings", "must be an object, not %s", kind(v))
		}
		kept := map[string]any{}
		for k, v := range o {
			if slices.Contains(AllowedOverrides, k) {
				kept[k] = v
			}
		}
		out["override_settings"] = kept
	}
	if _, ok := out["override_settings"]; ok {
		// false would make the overrides the server's new defaults.
		out["override_settings_restore_afterwards"] = true
	} else {
		delete(out, "override_settings_restore_afterwards")
	}
	if v, ok := out["alwayson_scripts"]; ok && v != nil {
		s, ok := v.(map[string]any)
		if !ok {
			return nil, fieldErrorf("alwayson_scripts", "must be an object, not %s", kind(v))
		}
		kept := map[string]any{}
		for name, args := range s {
			if !slices.Contains(AllowedScripts, strings.ToLower(name)) {
				continue
			}
			if err := noURLs("alwayson_scripts."+name, args); err != nil {
				return nil, err
			}
			kept[name] = args
		}
		out["alwayson_scripts"] = kept
	}
	return out, nil
}

// Select sets the models Easel chose in params' override_settings:
// checkpoint is the file name relative to the checkpoint folder (what
// A1111 matches exactly), vae a VAE file name, "Automatic" or "None".
// Empty leaves the server's choice.
func Select(params map[string]any, checkpoint, vae string) {
	if checkpoint == "" && vae == "" {
		return
	}
	o, _ := params["override_settings"].(map[string]any)
	if o == nil {
		o = map[string]any{}
		params["override_settings"] = o
	}
	if checkpoint != "" {
		o["sd_model_checkpoint"] = checkpoint
	}
	if vae != "" {
		o["sd_vae"] = vae
	}
	// Keep the server's own default: the next request names its models too.
	params["override_settings_restore_afterwards"] = true
}

// checkImageField checks an image field: a base64 string (optionally a
// data: URL) or, for init_images, a list of them. Absent and null pass.
func checkImageField(field string, v any) error {
	switch v := v.(type) {
	case nil:
		return nil
	case string:
		if field == "init_images" {
			return fieldErrorf(field, "must be a list of base64-encoded images, not a string")
		}
		if v == "" && field != "image" { // an empty mask is no mask
			return nil
		}
		return checkImage(field, v)
	case []any:
		if field != "init_images" {
			return fieldErrorf(field, "must be one base64-encoded image, not a list")
		}
		for i, s := range v {
			str, ok := s.(string)
			if !ok {
				return fieldErrorf(fmt.Sprintf("%s[%d]", field, i), "must be a base64-encoded image, not %s", kind(s))
			}
			if err := checkImage(fmt.Sprintf("%s[%d]", field, i), str); err != nil {
				return err
			}
		}
		return nil
	default:
		return fieldErrorf(field, "must be a base64-encoded image, not %s", kind(v))
	}
}

// checkImage refuses URLs and text that is not base64.
func checkImage(field, s string) error {
	s = strings.TrimSpace(s)
	lower := strings.ToLower(s)
	if strings.HasPrefix(lower, "http://") || strings.HasPrefix(lower, "https://") {
		return fieldErrorf(field, "is a URL; send the image itself, base64-encoded (the WebUI would fetch a URL from its own network)")
	}
	if strings.HasPrefix(lower, "data:") {
		_, data, ok := strings.Cut(s, ",")
		if !ok {
			return fieldErrorf(field, "is a data URL without data")
		}
		s = data
	}
	raw, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return fieldErrorf(field, "is not base64-encoded image data")
	}
	if len(raw) == 0 {
		return fieldErrorf(field, "is empty")
	}
	return nil
}

// noURLs refuses any http(s) URL string inside a script's arguments:
// ControlNet decodes its images as A1111 does, URLs included.
func noURLs(field string, v any) error {
	switch v := v.(type) {
	case string:
		l := strings.ToLower(strings.TrimSpace(v))
		if strings.HasPrefix(l, "http://") || strings.HasPrefix(l, "https://") {
			return fieldErrorf(field, "carries a URL; send images base64-encoded (the WebUI would fetch a URL from its own network)")
		}
	case []any:
		for i, e := range v {
			if err := noURLs(fmt.Sprintf("%s[%d]", field, i), e); err != nil {
				return err
			}
		}
	case map[string]any:
		for k, e := range v {
			if err := noURLs(field+"."+k, e); err != nil {
				return err
			}
		}
	}
	return nil
}

// kind names a JSON value's type for messages.
func kind(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case []any:
		return "a list"
	case map[string]any:
		return "an object"
	case bool:
		return "a boolean"
	case nil:
		return "null"
	default:
		return "a number"
	}
}
