-- +goose Up
CREATE TABLE checkpoints (
    id             uuid PRIMARY KEY,
    type           text NOT NULL,
    status         text NOT NULL CHECK (status IN ('Initial', 'Active', 'Disabled', 'Failed')),
    s3_location    text NOT NULL,
    names          text[] NOT NULL,
    allowed_roles  text[] NOT NULL,
    creator        text NOT NULL,
    message        text NOT NULL DEFAULT '',
    source_url     text NOT NULL DEFAULT '',
    uploads        jsonb NOT NULL DEFAULT '{}',
    size_bytes     bigint,
    sha256         text NOT NULL DEFAULT '',
    progress_bytes bigint NOT NULL DEFAULT 0,
    total_bytes    bigint,
    error          text NOT NULL DEFAULT '',
    created_at     timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL
);
CREATE INDEX checkpoints_created_idx ON checkpoints (created_at DESC, id DESC);
CREATE INDEX checkpoints_status_idx ON checkpoints (status, created_at);

-- One row per file name: names are unique across the library, and a
-- deleted checkpoint frees its names at once.
CREATE TABLE checkpoint_names (
    name          text PRIMARY KEY,
    checkpoint_id uuid NOT NULL REFERENCES checkpoints (id) ON DELETE CASCADE
);

-- +goose Down
DROP TABLE checkpoint_names, checkpoints;
