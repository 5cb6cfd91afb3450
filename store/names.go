package store

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// ServicePrincipal is the name under which rows created by a service key
// or the command line are recorded. No user or role may take it, so no
// account can come to own those rows.
const ServicePrincipal = "service"

// maxNameLength bounds user and role names (in characters).
const maxNameLength = 128

// CheckName returns a FieldError about field when name cannot name a user,
// role or endpoint that every page can show and manage: empty, "." or
// "..", longer than 128 characters, containing "/" or "\", control
// characters, invisible characters (zero-width, bidi controls, unusual
// spaces) or leading or trailing spaces.
func CheckName(field, name string) error {
	switch {
	case name == "":
		return FieldError(field, "%s is required", field)
	case !utf8.ValidString(name):
		return FieldError(field, "%s must be valid UTF-8 text", field)
	case name == "." || name == "..":
		return FieldError(field, "%s cannot be %q", field, name)
	case utf8.RuneCountInString(name) > maxNameLength:
		return FieldError(field, "%s is too long (at most %d characters)", field, maxNameLength)
	case strings.TrimSpace(name) != name:
		return FieldError(field, "%s cannot start or end with a space", field)
	case strings.ContainsAny(name, `/\`):
		return FieldError(field, "%s cannot contain %q or %q", field, "/", `\`)
	}
	for _, r := range name {
		if invisible(r) {
			return FieldError(field, "%s cannot contain control or invisible characters (found U+%04X)", field, r)
		}
	}
	return nil
}

// CheckPrincipalName is CheckName for the names of users and roles, which
// share casbin's subject namespace and the sharing lists of rows: it also
// refuses the service principal's name (in any case) and "*", which marks
// a row shared with everyone.
func CheckPrincipalName(field, name string) error {
	if err := CheckName(field, name); err != nil {
		return err
	}
	if strings.EqualFold(name, ServicePrincipal) || name == "*" {
		return FieldError(field, "%q is a reserved name; choose another", name)
	}
	return nil
}

// invisible reports whether r renders as nothing or moves text around:
// control and format characters (zero-width spaces and joiners, bidi
// marks and overrides, the BOM), private-use and unassigned code points,
// line and paragraph separators, and every space but the plain one.
func invisible(r rune) bool {
	switch {
	case r == ' ':
		return false
	case unicode.IsControl(r), unicode.Is(unicode.Cf, r), unicode.Is(unicode.Co, r),
		unicode.Is(unicode.Zl, r), unicode.Is(unicode.Zp, r), unicode.IsSpace(r), unicode.Is(unicode.Zs, r):
		return true
	case r == '\u115F' || r == '\u1160' || r == '\u3164' || r == '\uFFA0': // Hangul fillers
		return true
	}
	return !unicode.In(r, unicode.L, unicode.M, unicode.N, unicode.P, unicode.S)
}
