-- +goose Up
-- Where each audited change came from, and what it changed: the API key,
-- client address and request id of the request (empty for the command
-- line and background jobs), how it came (api, console, worker, cli,
-- system, or job:<River kind>), and a summary of the state before and
-- after (never secrets).
ALTER TABLE audit_log
    ADD COLUMN key_id     uuid,
    ADD COLUMN address    text NOT NULL DEFAULT '',
    ADD COLUMN request_id text NOT NULL DEFAULT '',
    ADD COLUMN via        text NOT NULL DEFAULT '',
    ADD COLUMN before     jsonb,
    ADD COLUMN after      jsonb;

-- The Audit page and GET /prod/audit filter by user, action, target and
-- time, newest first by id (keyset paging); retention deletes by time.
CREATE INDEX audit_log_at_idx ON audit_log (at);
CREATE INDEX audit_log_actor_idx ON audit_log (actor, id DESC);
CREATE INDEX audit_log_action_idx ON audit_log (action, id DESC);
CREATE INDEX audit_log_target_idx ON audit_log (target, id DESC);

-- +goose Down
DROP INDEX audit_log_at_idx, audit_log_actor_idx, audit_log_action_idx, audit_log_target_idx;
ALTER TABLE audit_log
    DROP COLUMN key_id, DROP COLUMN address, DROP COLUMN request_id,
    DROP COLUMN via, DROP COLUMN before, DROP COLUMN after;
