package views

import (
	"bytes"
	"encoding/json"

	"github.com/google/uuid"
)

// AuditPage is the console's audit log: the filter form, one page of
// entries newest first, and the links to the next page and the CSV.
type AuditPage struct {
	Base
	Filter AuditFilter
	Rows   []Change
	// Older is the address of the next (older) page, "" at the end.
	Older string
	// Newest is the address of the first page, "" on it.
	Newest string
	// CSV downloads every entry the filter matches.
	CSV    string
	Errors FormErrors
}

// AuditFilter is the filter form as the user filled it.
type AuditFilter struct {
	User, Action, Target, Since, Until string
}

// Filtered reports whether any filter is set.
func (f AuditFilter) Filtered() bool { return f != AuditFilter{} }

// auditKey shows an entry's API key id, "" for none.
func auditKey(id uuid.UUID) string {
	if id == uuid.Nil {
		return ""
	}
	return id.String()
}

// auditJSON shows a before/after summary indented, "" for none.
func auditJSON(raw json.RawMessage) string {
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	var buf bytes.Buffer
	if err := json.Indent(&buf, raw, "", "  "); err != nil {
		return string(raw)
	}
	return buf.String()
}

// viaWords says how a change came, for people.
func viaWords(via string) string {
	switch via {
	case "api":
		return "the API"
	case "console":
		return "the console"
	case "worker":
		return "a GPU worker"
	case "cli":
		return "the command line"
	case "system":
		return "Easel itself"
	case "":
		return "not recorded"
	}
	if len(via) > 4 && via[:4] == "job:" {
		return "background job " + via[4:]
	}
	return via
}
