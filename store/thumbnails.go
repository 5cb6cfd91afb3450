package store

import (
	"context"

	"github.com/google/uuid"
)

// WithoutThumbnails returns up to limit succeeded jobs with images whose
// gallery thumbnails are not stored yet, latest first.
func WithoutThumbnails(ctx context.Context, db DBTX, limit int) ([]Inference, error) {
	rows, err := db.Query(ctx, `SELECT `+inferenceColumns+` FROM inferences i
		WHERE i.status = 'succeed' AND NOT i.thumbnails AND cardinality(i.image_names) > 0
		ORDER BY i.complete_time DESC LIMIT $1`, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Inference
	for rows.Next() {
		i, err := scanInference(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, i)
	}
	return out, rows.Err()
}

// MarkThumbnails records that job id's thumbnails are stored; false when
// the job is gone (deleted meanwhile).
func MarkThumbnails(ctx context.Context, db DBTX, id uuid.UUID) (bool, error) {
	tag, err := db.Exec(ctx, `UPDATE inferences SET thumbnails = true WHERE id = $1`, id)
	return tag.RowsAffected() == 1, err
}
