package store

// ESD's row-visibility rule, the one place it is written: a row is visible
// to a viewer when its owner list is empty or holds "*", the viewer's name
// or one of the viewer's roles; a nil viewer sees every row. Lists and
// single-row reads alike use it as a SQL predicate, with the viewer as the
// first three arguments (viewerArgs).

// visibleTo returns the predicate over the owner-list column col.
func visibleTo(col string) string {
	return `($1::boolean OR cardinality(` + col + `) = 0 OR '*' = ANY (` + col + `)
	OR $2 = ANY (` + col + `) OR ` + col + ` && $3::text[])`
}

// viewerArgs returns $1..$3 of visibleTo for v.
func viewerArgs(v *Viewer) []any {
	if v == nil {
		return []any{true, "", []string{}}
	}
	return []any{false, v.Username, nonNil(v.Roles)}
}
