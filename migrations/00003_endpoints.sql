-- +goose Up
CREATE TABLE endpoints (
    id                     uuid PRIMARY KEY,
    name                   text NOT NULL UNIQUE,
    type                   text NOT NULL CHECK (type IN ('Async', 'Real-time')),
    instance_type          text NOT NULL,
    backend                text NOT NULL,
    initial_count          integer NOT NULL,
    max_instances          integer NOT NULL,
    max_instance_raw       text NOT NULL,
    autoscaling            boolean NOT NULL,
    autoscaling_registered boolean NOT NULL DEFAULT false,
    custom_image           text NOT NULL DEFAULT '',
    status                 text NOT NULL,
    current_count          integer,
    roles                  text[] NOT NULL,
    creator                text NOT NULL,
    error                  text NOT NULL DEFAULT '',
    simulator              boolean NOT NULL DEFAULT false,
    start_time             timestamptz NOT NULL,
    end_time               timestamptz
);
CREATE INDEX endpoints_start_idx ON endpoints (start_time DESC, id DESC);
CREATE INDEX endpoints_roles_idx ON endpoints USING gin (roles);

-- +goose Down
DROP TABLE endpoints;
