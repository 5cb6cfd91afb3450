package gpu

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"
)

// maxFailureText bounds the text a failure keeps of an answer.
const maxFailureText = 2000

// ParseResult reads an inference server's successful answer in A1111's
// shape. An "image" (extras) becomes Images[0]. An answer that is null, or
// an object with a non-empty "error" (a failing WebUI's {"error",
// "detail", "errors"}), is no result: Failure says what it said. An answer that is
// not JSON is an error.
func ParseResult(body []byte) (Result, error) {
	trimmed := bytes.TrimSpace(body)
	if string(trimmed) == "null" {
		return Result{Failure: "the server answered null instead of a result"}, nil
	}
	var r struct {
		Result
		Image  string          `json:"image"`
		Error  json.RawMessage `json:"error"`
		Detail json.RawMessage `json:"detail"`
		Errors json.RawMessage `json:"errors"`
	}
	if err := json.Unmarshal(trimmed, &r); err != nil {
		return Result{}, fmt.Errorf("the answer is not an inference result: %w", err)
	}
	if jsonText(r.Error) != "" {
		var parts []string
		for _, raw := range []json.RawMessage{r.Error, r.Detail, r.Errors} {
			if t := jsonText(raw); t != "" && !slices.Contains(parts, t) {
				parts = append(parts, t)
			}
		}
		return Result{Failure: truncate(strings.Join(parts, ": "))}, nil
	}
	if len(r.Images) == 0 && r.Image != "" {
		r.Images = []string{r.Image}
	}
	return r.Result, nil
}

// jsonText is a JSON value as text: a string's content, null as "",
// anything else compact.
func jsonText(raw json.RawMessage) string {
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return strings.TrimSpace(s)
	}
	var buf bytes.Buffer
	if json.Compact(&buf, raw) != nil {
		return string(raw)
	}
	return buf.String()
}

func truncate(s string) string {
	if len(s) <= maxFailureText {
		return s
	}
	cut := maxFailureText
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
