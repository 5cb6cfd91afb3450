package views

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"unicode"

	"github.com/a-h/templ"
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

// initial is the avatar letter of a user name.
func initial(name string) string {
	for _, r := range name {
		return strings.ToUpper(string(r))
	}
	return "?"
}

func statusCode(status int) string {
	if status == 0 {
		return ""
	}
	return strconv.Itoa(status)
}

// errorHint is the next step the error page suggests for a status.
func errorHint(status int) string {
	switch {
	case status == 403:
		return "None of your roles grants this. Ask an administrator if you need it."
	case status == 404:
		return "Check the address, or start again from the dashboard."
	case status == 429:
		return "Wait a moment, then try again."
	case status >= 500:
		return "If it keeps happening, tell whoever runs this Easel."
	}
	return ""
}

// lockedAny reports whether the matrix has a permission the actor cannot grant.
func lockedAny(f RoleForm) bool {
	for _, grantable := range f.Grantable {
		if !grantable {
			return true
		}
	}
	return false
}

// invalid marks a form control whose field has an error, so pico draws it
// red and screen readers read the message with it.
func invalid(errs FormErrors, field string) templ.Attributes {
	if _, ok := errs[field]; !ok {
		return templ.Attributes{}
	}
	return templ.Attributes{"aria-invalid": "true", "aria-describedby": "error-" + field}
}
