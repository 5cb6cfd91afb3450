package store

import (
	"context"
	"time"
)

// DatasetCursor is the position after which a page of datasets starts
// (newest first): the last row of the previous page.
type DatasetCursor struct {
	CreatedAt time.Time
	Name      string
}

// DatasetFilter narrows ListDatasets. Zero values mean "no restriction".
type DatasetFilter struct {
	Status string
	// VisibleTo applies the row-visibility rule; nil sees all.
	VisibleTo *Viewer
	After     *DatasetCursor
	// Limit bounds the page; 0 returns every row.
	Limit int
}

// ListDatasets returns the datasets matching f, newest first, filtered
// before paging; more reports whether rows follow the page.
func ListDatasets(ctx context.Context, db DBTX, f DatasetFilter) (out []Dataset, more bool, err error) {
	limit := f.Limit
	if limit <= 0 {
		limit = 1 << 30
	}
	var afterAt *time.Time
	afterName := ""
	if f.After != nil {
		afterAt, afterName = &f.After.CreatedAt, f.After.Name
	}
	rows, err := db.Query(ctx, `SELECT `+datasetColumns+` FROM datasets d
		WHERE `+visibleTo("d.allowed_roles")+`
		AND ($4 = '' OR d.status = $4)
		AND ($5::timestamptz IS NULL OR (d.created_at, d.name) < ($5, $6))
		ORDER BY d.created_at DESC, d.name DESC LIMIT $7`,
		append(viewerArgs(f.VisibleTo), f.Status, afterAt, afterName, limit+1)...)
	if err != nil {
		return nil, false, translate("list datasets", err)
	}
	defer rows.Close()
	out = []Dataset{}
	for rows.Next() {
		d, err := scanDataset(rows)
		if err != nil {
			return nil, false, translate("list datasets", err)
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, false, translate("list datasets", err)
	}
	if len(out) > limit {
		return out[:limit], true, nil
	}
	return out, false, nil
}
