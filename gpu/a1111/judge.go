package a1111

import (
	"encoding/json"
	"net/http"
	"strings"
)

// Verdict is whom an error answer blames.
type Verdict int

const (
	// Server: the server failed or may be broken. Ask it whether it is
	// alive (GET /sdapi/v1/progress) before marking it down; the job is
	// worth retrying.
	Server Verdict = iota
	// Caller: the request cannot succeed as sent (the caller's mistake,
	// or a model the server lacks); the server is fine. The job fails
	// for good and is not tried elsewhere.
	Caller
	// Busy: the server is fine but cannot take the job now (408, 429);
	// retry later.
	Busy
)

func (v Verdict) String() string {
	switch v {
	case Caller:
		return "caller"
	case Busy:
		return "busy"
	}
	return "server"
}

// callerTexts are error texts of A1111 (and of easel sim-webui) that
// mean the request cannot succeed as sent, whatever the status: many such
// answers are 500s.
var callerTexts = []string{
	"invalid encoded image", // bad base64, or an image URL
	"init image not found",  // img2img without init_images
	"sampler not found",     // 404 in 1.8, 400 in 1.10
	"checkpoint not found",  // easel sim-webui refusing a checkpoint it lacks
	"vae not found",         // easel sim-webui refusing a VAE it lacks
}

// Judge tells from an error answer (status and body) whom it blames.
// 422 (validation) and other 4xx but 408/429 are Caller; 408 and 429 are
// Busy; 5xx are Caller when the body is a known caller mistake — a
// KeyError (an unknown override_settings key) or one of callerTexts in
// error, detail or errors — and Server otherwise.
func Judge(status int, body []byte) Verdict {
	switch {
	case status == http.StatusRequestTimeout || status == http.StatusTooManyRequests:
		return Busy
	case status >= 400 && status < 500:
		return Caller
	case status < 500:
		return Server // not an error answer; nothing to blame the caller for
	}
	var e struct {
		Error  json.RawMessage `json:"error"`
		Detail json.RawMessage `json:"detail"`
		Errors json.RawMessage `json:"errors"`
	}
	text := strings.ToLower(string(body))
	if json.Unmarshal(body, &e) == nil {
		if name := rawText(e.Error); name == "KeyError" {
			return Caller
		}
		text = strings.ToLower(rawText(e.Error) + "\n" + rawText(e.Detail) + "\n" + rawText(e.Errors))
	}
	for _, t := range callerTexts {
		if strings.Contains(text, t) {
			return Caller
		}
	}
	return Server
}

// rawText is a JSON string's content, or the raw JSON of anything else.
func rawText(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	return string(raw)
}
