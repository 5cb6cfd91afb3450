package views

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"unicode"
)

func csrfHeaders(token string) string {
	b, _ := json.Marshal(map[string]string{"X-CSRF-Token": token})
	return string(b)
}

func pathEscape(s string) string { return url.PathEscape(s) }

// cssEscape makes a value usable in an id selector (hx-target).
func cssEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r < 128 && (r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r)) {
			b.WriteRune(r)
		} else {
			fmt.Fprintf(&b, "\\%x ", r)
		}
	}
	return b.String()
}
