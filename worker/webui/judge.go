package webui

import (
	"encoding/json"
	"net/http"
	"strings"
)

// JudgeError reads a failed answer of an A1111-compatible server. reason
// is the server's text; callers reports whether the request itself is at
// fault, so that running it again elsewhere cannot help (the job fails)
// rather than the server (another worker may try).
//
// A1111 answers many caller mistakes with a 500 (a bad base64 image, an
// unknown override_settings key), so a 500 is judged by its text. The
// push pools (gpu/a1111) make the same judgement; they are to be unified.
func JudgeError(status int, body []byte) (reason string, callers bool) {
	reason = errorText(body)
	if reason == "" {
		reason = http.StatusText(status)
	}
	switch {
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return reason, false // the worker's --webui credentials
	case status == http.StatusRequestTimeout || status == http.StatusTooManyRequests:
		return reason, false
	case status >= 400 && status < 500:
		return reason, true // validation (422), unknown sampler, no init image
	case status == http.StatusInternalServerError:
		low := strings.ToLower(reason)
		for _, m := range callerMarkers {
			if strings.Contains(low, m) {
				return reason, true
			}
		}
	}
	return reason, false
}

// callerMarkers are texts of 500s the request causes.
var callerMarkers = []string{
	"invalid encoded image",    // bad base64 or image URL
	"incorrect padding",        // base64
	"binascii",                 // base64
	"cannot identify image",    // PIL: not an image
	"keyerror",                 // unknown override_settings key
	"not found",                // sampler, scheduler, script, upscaler, checkpoint
	"is not in list",           // an unknown choice
	"valueerror",               // a value out of range
	"out of memory",            // the request is too big for the GPU
	"outofmemoryerror",         // torch.cuda.OutOfMemoryError
	"size of tensor a",         // sizes the model cannot take
	"expected size",            // idem
	"sizes of tensors must",    // idem
	"refiner_checkpoint",       // a bad refiner
	"hr_checkpoint_name",       // a bad hires checkpoint
	"could not convert string", // a number that is not
}

// errorText gathers the error texts of the bodies A1111 (error, detail,
// errors), its validation errors (detail[].msg), Forge (message) and
// SD.Next use; a body that is not JSON is taken as plain text.
func errorText(body []byte) string {
	var v map[string]any
	if json.Unmarshal(body, &v) != nil {
		return clip(strings.TrimSpace(string(body)))
	}
	var parts []string
	add := func(s string) {
		s = strings.TrimSpace(s)
		for _, p := range parts {
			if strings.Contains(p, s) {
				return
			}
		}
		if s != "" {
			parts = append(parts, s)
		}
	}
	for _, k := range []string{"error", "detail", "errors", "message", "msg"} {
		switch x := v[k].(type) {
		case string:
			add(x)
		case []any:
			for _, d := range x {
				if m, ok := d.(map[string]any); ok {
					msg, _ := m["msg"].(string)
					loc, _ := json.Marshal(m["loc"])
					add(strings.TrimSpace(string(loc) + " " + msg))
				}
			}
		}
	}
	return clip(strings.Join(parts, ": "))
}

func clip(s string) string {
	if len(s) > 1000 {
		return s[:1000] + "…"
	}
	return s
}
