-- +goose Up
CREATE TABLE inferences (
    id                     uuid PRIMARY KEY,
    task_type              text NOT NULL,
    inference_type         text NOT NULL,
    status                 text NOT NULL CHECK (status IN ('created', 'inprogress', 'succeed', 'failed')),
    owner                  text NOT NULL,
    endpoint_id            uuid NOT NULL,
    endpoint_name          text NOT NULL,
    endpoint_instance_type text NOT NULL,
    endpoint_backend       text NOT NULL,
    params_key             text NOT NULL,
    used_models            jsonb NOT NULL DEFAULT '{}',
    image_names            text[] NOT NULL DEFAULT '{}',
    sagemaker_raw          text NOT NULL DEFAULT '',
    prompt                 text NOT NULL DEFAULT '',
    async_handle           jsonb,
    create_time            timestamptz NOT NULL,
    start_time             timestamptz NOT NULL,
    run_time               timestamptz,
    complete_time          timestamptz
);
CREATE INDEX inferences_created_idx ON inferences (create_time DESC, id DESC);
CREATE INDEX inferences_owner_idx ON inferences (owner, create_time DESC, id DESC);
CREATE INDEX inferences_endpoint_busy_idx ON inferences (endpoint_id) WHERE status = 'inprogress';

-- +goose Down
DROP TABLE inferences;
