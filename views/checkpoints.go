package views

import (
	"fmt"

	"easel/store"
)

// ModelsPage is the model library.
type ModelsPage struct {
	Base
	Filter     ModelFilter
	Rows       []ModelRow
	Types      []string
	Roles      []string // roles the filter and sharing offer
	CanCreate  bool
	Total      int
	ImportForm ImportForm
}

// ModelFilter is the table's filter, echoed into its form.
type ModelFilter struct {
	Search, Type, Status, Role string
}

// ModelRow is one row of the model table.
type ModelRow struct {
	Checkpoint store.Checkpoint
	CanModify  bool
	// Sharing, when set, shows the inline sharing editor.
	Sharing *ShareForm
	// Renaming shows the inline rename form.
	Renaming bool
	// Hashing says the SHA-256 of a finished upload is being computed (the
	// row refreshes itself until it is there).
	Hashing bool
	Error   string
	// Lineage says where a trained LoRA came from (nil for others).
	Lineage *store.Lineage
}

// ShareForm edits which roles may use a model.
type ShareForm struct {
	Roles  []string
	Chosen map[string]bool
	Error  string
}

// ImportForm starts an import by URL.
type ImportForm struct {
	URL, Type string
	Types     []string
	Errors    FormErrors
}

// Statuses a model can have, for the filter.
var ModelStatuses = []string{store.CheckpointInitial, store.CheckpointActive, store.CheckpointDisabled, store.CheckpointFailed}

// humanBytes renders a size like 1.5 GiB.
func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

func sizeOf(c store.Checkpoint) string {
	if c.Size == nil {
		return "—"
	}
	return humanBytes(*c.Size)
}

// progressOf returns done and total for an import in progress (total 0
// when unknown).
func progressOf(c store.Checkpoint) (int64, int64) {
	if c.TotalBytes == nil {
		return c.ProgressBytes, 0
	}
	return c.ProgressBytes, *c.TotalBytes
}

func statusClass(status string) string {
	switch status {
	case store.CheckpointActive:
		return "badge ok"
	case store.CheckpointFailed:
		return "badge danger"
	case store.CheckpointDisabled:
		return "badge muted"
	}
	return "badge warn"
}

// modelsEmpty is the empty table's line: what the viewer can do about it.
func modelsEmpty(p ModelsPage) string {
	switch {
	case p.Filter != ModelFilter{}:
		return "No models match these filters."
	case p.CanCreate:
		return "No models yet. Upload one or import it by URL above."
	}
	return "No models have been shared with you yet."
}

// breakable cuts a file name after its dots, dashes and underscores, where
// a narrow column may wrap it.
func breakable(name string) []string {
	var parts []string
	start := 0
	for i, r := range name {
		if r == '.' || r == '-' || r == '_' {
			parts = append(parts, name[start:i+1])
			start = i + 1
		}
	}
	return append(parts, name[start:])
}

func shortHash(h string) string {
	if len(h) > 12 {
		return h[:12] + "…"
	}
	return h
}
