-- +goose Up
-- Webhooks: an inference's own (webhook, webhook_events) and the standing
-- ones a user registers; every delivery of either, with its attempts.
ALTER TABLE inferences
    ADD COLUMN webhook        text NOT NULL DEFAULT '',
    ADD COLUMN webhook_events text[] NOT NULL DEFAULT '{start,completed,failed,cancelled}';

CREATE TABLE webhooks (
    id              uuid PRIMARY KEY,
    owner           text NOT NULL REFERENCES users (username) ON DELETE CASCADE,
    url             text NOT NULL,
    events          text[] NOT NULL,
    enabled         boolean NOT NULL DEFAULT true,
    disabled_reason text NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL
);
CREATE INDEX webhooks_owner_idx ON webhooks (owner, created_at);

-- One signing secret per user, sealed with EASEL_SECRET (HMAC needs the
-- secret itself, so it cannot be hashed).
CREATE TABLE webhook_secrets (
    owner      text PRIMARY KEY REFERENCES users (username) ON DELETE CASCADE,
    sealed     bytea NOT NULL,
    created_at timestamptz NOT NULL
);

-- A delivery is one message (its id is the webhook-id header, the same on
-- every attempt) to one URL. queued: a River job was inserted for it.
CREATE TABLE webhook_deliveries (
    id            uuid PRIMARY KEY,
    webhook_id    uuid REFERENCES webhooks (id) ON DELETE SET NULL,
    inference_id  uuid NOT NULL REFERENCES inferences (id) ON DELETE CASCADE,
    owner         text NOT NULL,
    url           text NOT NULL,
    event         text NOT NULL,
    status        text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'succeeded', 'failed')),
    queued        boolean NOT NULL DEFAULT false,
    attempts      integer NOT NULL DEFAULT 0,
    response_code integer NOT NULL DEFAULT 0,
    last_error    text NOT NULL DEFAULT '',
    next_attempt  timestamptz,
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL
);
CREATE INDEX webhook_deliveries_owner_idx ON webhook_deliveries (owner, created_at DESC, id DESC);
CREATE INDEX webhook_deliveries_unqueued_idx ON webhook_deliveries (created_at) WHERE NOT queued;

-- Live events: every change a console or a client may watch is announced
-- on the channel easel_events when its transaction commits, whichever
-- code path made it (the one place that says what is announced). A state
-- change of an inference also records its webhook deliveries, in the same
-- transaction, and wakes the dispatcher (easel_webhooks).
-- +goose StatementBegin
CREATE FUNCTION easel_inference_changed() RETURNS trigger AS $$
DECLARE
    r  inferences;
    ev text;
BEGIN
    IF TG_OP = 'DELETE' THEN r := OLD; ELSE r := NEW; END IF;
    IF TG_OP = 'UPDATE' AND NEW.status = OLD.status AND NEW.progress = OLD.progress
       AND NEW.stage = OLD.stage AND NEW.worker_name = OLD.worker_name
       AND NEW.image_names IS NOT DISTINCT FROM OLD.image_names THEN
        RETURN NULL;
    END IF;
    PERFORM pg_notify('easel_events', json_build_object('kind', 'inference', 'id', r.id, 'owner', r.owner,
        'status', CASE WHEN TG_OP = 'DELETE' THEN 'deleted' ELSE r.status END,
        'progress', r.progress, 'stage', r.stage, 'worker', r.worker_name)::text);
    IF TG_OP = 'UPDATE' AND NEW.status <> OLD.status THEN
        -- Cancel marks a job failed with "cancelled by <user>" (actions.Cancel).
        ev := CASE
            WHEN NEW.status = 'inprogress' THEN 'start'
            WHEN NEW.status = 'succeed' THEN 'completed'
            WHEN NEW.status = 'failed' AND NEW.sagemaker_raw LIKE 'cancelled by %' THEN 'cancelled'
            WHEN NEW.status = 'failed' THEN 'failed'
        END;
        IF ev IS NOT NULL THEN
            INSERT INTO webhook_deliveries (id, webhook_id, inference_id, owner, url, event, created_at, updated_at)
            SELECT gen_random_uuid(), w.id, NEW.id, NEW.owner, w.url, ev, now(), now() FROM webhooks w
            WHERE w.owner = NEW.owner AND w.enabled AND ev = ANY (w.events)
            UNION ALL
            SELECT gen_random_uuid(), NULL, NEW.id, NEW.owner, NEW.webhook, ev, now(), now()
            WHERE NEW.webhook <> '' AND ev = ANY (NEW.webhook_events);
            IF FOUND THEN
                PERFORM pg_notify('easel_webhooks', '');
            END IF;
        END IF;
    END IF;
    RETURN NULL;
END $$ LANGUAGE plpgsql;
-- +goose StatementEnd
CREATE TRIGGER inferences_changed AFTER INSERT OR UPDATE OR DELETE ON inferences
    FOR EACH ROW EXECUTE FUNCTION easel_inference_changed();

-- +goose StatementBegin
CREATE FUNCTION easel_resource_changed() RETURNS trigger AS $$
DECLARE
    r record;
BEGIN
    IF TG_OP = 'DELETE' THEN r := OLD; ELSE r := NEW; END IF;
    PERFORM pg_notify('easel_events', json_build_object('kind', TG_ARGV[0], 'id', r.id,
        'status', CASE WHEN TG_OP = 'DELETE' THEN 'deleted' ELSE to_jsonb(r)->>TG_ARGV[1] END)::text);
    RETURN NULL;
END $$ LANGUAGE plpgsql;
-- +goose StatementEnd
CREATE TRIGGER endpoints_changed AFTER INSERT OR DELETE OR UPDATE OF status, current_count, error ON endpoints
    FOR EACH ROW EXECUTE FUNCTION easel_resource_changed('endpoint', 'status');
CREATE TRIGGER workers_changed AFTER INSERT OR DELETE OR UPDATE OF started_at, loaded ON workers
    FOR EACH ROW EXECUTE FUNCTION easel_resource_changed('worker', 'pool');
CREATE TRIGGER checkpoints_changed AFTER INSERT OR DELETE OR UPDATE OF status, progress_bytes, names, allowed_roles ON checkpoints
    FOR EACH ROW EXECUTE FUNCTION easel_resource_changed('checkpoint', 'status');

-- +goose Down
DROP TRIGGER checkpoints_changed ON checkpoints;
DROP TRIGGER workers_changed ON workers;
DROP TRIGGER endpoints_changed ON endpoints;
DROP TRIGGER inferences_changed ON inferences;
DROP FUNCTION easel_resource_changed();
DROP FUNCTION easel_inference_changed();
DROP TABLE webhook_deliveries;
DROP TABLE webhook_secrets;
DROP TABLE webhooks;
ALTER TABLE inferences DROP COLUMN webhook, DROP COLUMN webhook_events;
