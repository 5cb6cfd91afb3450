package main

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// listQuery is store.ListInferences' query, verbatim.
const listQuery = `
		SELECT i.id, i.task_type, i.inference_type, i.status, i.owner, i.endpoint_id, i.endpoint_name,
	i.endpoint_instance_type, i.endpoint_backend, i.params_key, i.used_models, i.image_names, i.sagemaker_raw,
	i.prompt, i.async_handle, i.create_time, i.start_time, i.run_time, i.complete_time FROM inferences i
		WHERE ($1 = '' OR i.owner = $1)
		  AND ($2 = '' OR i.status = $2)
		  AND ($3 = '' OR i.endpoint_name = $3)
		  AND ($4::timestamptz IS NULL OR i.create_time >= $4)
		  AND ($5::uuid IS NULL OR (i.create_time, i.id) < (SELECT create_time, id FROM inferences WHERE id = $5))
		ORDER BY i.create_time DESC, i.id DESC
		LIMIT $6`

const columns = `i.id, i.task_type, i.inference_type, i.status, i.owner, i.endpoint_id, i.endpoint_name,
	i.endpoint_instance_type, i.endpoint_backend, i.params_key, i.used_models, i.image_names, i.sagemaker_raw,
	i.prompt, i.async_handle, i.create_time, i.start_time, i.run_time, i.complete_time`

// sqlCases times OFFSET and keyset queries directly.
func sqlCases(ctx context.Context, db *pgx.Conn, n, pages int, deepKey string) ([]timing, error) {
	var keyTime time.Time
	if err := db.QueryRow(ctx, `SELECT create_time FROM inferences WHERE id = $1`, deepKey).Scan(&keyTime); err != nil {
		return nil, err
	}
	offset := `SELECT ` + columns + ` FROM inferences i ORDER BY i.create_time DESC, i.id DESC LIMIT 50 OFFSET $1`
	plain := `SELECT ` + columns + ` FROM inferences i WHERE (i.create_time, i.id) < ($1, $2)
		ORDER BY i.create_time DESC, i.id DESC LIMIT 50`
	var nilUUID *uuid.UUID
	deep := uuid.MustParse(deepKey)
	cases := []struct {
		name string
		sql  string
		args []any
	}{
		{"OFFSET 0 (first page)", offset, []any{0}},
		{fmt.Sprintf("OFFSET %d (page %d)", (pages-1)*pageSize, pages), offset, []any{(pages - 1) * pageSize}},
		{"Easel keyset query, first page", listQuery, []any{"", "", "", nil, nilUUID, pageSize}},
		{fmt.Sprintf("Easel keyset query, page %d", pages), listQuery, []any{"", "", "", nil, &deep, pageSize}},
		{"Easel keyset query, owner user42, first page", listQuery, []any{"user42", "", "", nil, nilUUID, pageSize}},
		{fmt.Sprintf("plain (create_time, id) < ($1, $2), page %d", pages), plain, []any{keyTime, deep}},
	}
	var out []timing
	for _, c := range cases {
		r := make([]time.Duration, 0, n)
		for range n {
			begin := time.Now()
			rows, err := db.Query(ctx, c.sql, c.args...)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", c.name, err)
			}
			got := 0
			for rows.Next() {
				if _, err := rows.Values(); err != nil {
					rows.Close()
					return nil, fmt.Errorf("%s: %w", c.name, err)
				}
				got++
			}
			rows.Close()
			if err := rows.Err(); err != nil || got != pageSize {
				return nil, fmt.Errorf("%s: %d rows, %v", c.name, got, err)
			}
			r = append(r, time.Since(begin))
		}
		out = append(out, timing{name: c.name, r: r})
	}
	return out, nil
}
