package actions

import "strings"

// dedupe returns xs without repeats, first occurrence kept.
func dedupe(xs []string) []string {
	seen := make(map[string]bool, len(xs))
	out := make([]string, 0, len(xs))
	for _, x := range xs {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

func joinComma(xs []string) string { return strings.Join(xs, ",") }

// firstName is the first of names, "" when there is none.
func firstName(names []string) string {
	if len(names) == 0 {
		return ""
	}
	return names[0]
}
