package main

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// seed inserts users user1.. and the jobs, and analyzes the tables.
func seed(ctx context.Context, db *pgx.Conn, jobs, users int) error {
	if _, err := db.Exec(ctx, `INSERT INTO users (username, creator)
		SELECT 'user' || g, 'admin' FROM generate_series(1, $1 - 1) g`, users); err != nil {
		return fmt.Errorf("seed users: %w", err)
	}
	if _, err := db.Exec(ctx, `
		INSERT INTO inferences (id, task_type, inference_type, status, owner, endpoint_id, endpoint_name,
			endpoint_instance_type, endpoint_backend, params_key, used_models, image_names, prompt,
			create_time, start_time, run_time, complete_time)
		SELECT id, 'txt2img', 'Async', 'succeed', 'user' || (g % $2), $3, 'esd-async-bench', 'sim', 'webui',
			'txt2img/infer_v2/' || id || '/api_param.json', '{}', ARRAY['image_0.png'], 'a lighthouse, take ' || g,
			t, t, t + interval '10 ms', t + interval '500 ms'
		FROM (SELECT gen_random_uuid() AS id, g, now() - ($1 - g) * interval '1 second' AS t
		      FROM generate_series(0, $1 - 1) g) s
		ORDER BY g`, jobs, users, uuid.New()); err != nil {
		return fmt.Errorf("seed jobs: %w", err)
	}
	if _, err := db.Exec(ctx, `ANALYZE users, inferences`); err != nil {
		return fmt.Errorf("analyze: %w", err)
	}
	return nil
}
