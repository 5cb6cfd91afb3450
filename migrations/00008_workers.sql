-- +goose Up
-- Worker keys: a key that belongs to one pool of GPU workers and can do
-- nothing but serve it.
ALTER TABLE api_keys ADD COLUMN pool text;
ALTER TABLE api_keys DROP CONSTRAINT api_keys_check;
ALTER TABLE api_keys ADD CONSTRAINT api_keys_kind CHECK (
    (pool IS NULL AND (service OR username IS NOT NULL))
    OR (pool IS NOT NULL AND pool <> '' AND NOT service AND username IS NULL));

-- Workers: `easel worker` processes, as they last reported themselves.
CREATE TABLE workers (
    id             uuid PRIMARY KEY,
    pool           text NOT NULL,
    name           text NOT NULL,
    key_id         uuid NOT NULL REFERENCES api_keys (id) ON DELETE CASCADE,
    gpu            text NOT NULL DEFAULT '',
    gpu_memory_mib bigint NOT NULL DEFAULT 0,
    webui          text NOT NULL DEFAULT '',
    cached         jsonb NOT NULL DEFAULT '[]',
    loaded         text NOT NULL DEFAULT '',
    started_at     timestamptz NOT NULL,
    last_seen      timestamptz NOT NULL,
    UNIQUE (key_id, name)
);
CREATE INDEX workers_pool_seen_idx ON workers (pool, last_seen DESC);

-- Leases of inferences on worker pools. A job is leasable while it is
-- inprogress and has no lease or an expired one; each lease has a new
-- token, and only the holder of the current token may end the job.
ALTER TABLE inferences
    ADD COLUMN lease_token    uuid,
    ADD COLUMN lease_worker   uuid,
    ADD COLUMN lease_deadline timestamptz,
    ADD COLUMN leases         integer NOT NULL DEFAULT 0,
    ADD COLUMN worker_name    text NOT NULL DEFAULT '',
    ADD COLUMN progress       real NOT NULL DEFAULT 0,
    ADD COLUMN stage          text NOT NULL DEFAULT '',
    ADD COLUMN downloaded     boolean NOT NULL DEFAULT false,
    ADD COLUMN switched       boolean NOT NULL DEFAULT false,
    ADD COLUMN checkpoint_sha text NOT NULL DEFAULT '';
CREATE INDEX inferences_leasable_idx ON inferences (endpoint_instance_type, start_time)
    WHERE status = 'inprogress' AND endpoint_backend = 'workers';

-- +goose Down
DROP INDEX inferences_leasable_idx;
ALTER TABLE inferences DROP COLUMN lease_token, DROP COLUMN lease_worker, DROP COLUMN lease_deadline,
    DROP COLUMN leases, DROP COLUMN worker_name, DROP COLUMN progress, DROP COLUMN stage,
    DROP COLUMN downloaded, DROP COLUMN switched, DROP COLUMN checkpoint_sha;
DROP TABLE workers;
ALTER TABLE api_keys DROP CONSTRAINT api_keys_kind;
DELETE FROM api_keys WHERE pool IS NOT NULL;
ALTER TABLE api_keys DROP COLUMN pool;
ALTER TABLE api_keys ADD CONSTRAINT api_keys_check CHECK (service OR username IS NOT NULL);
