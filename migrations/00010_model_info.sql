-- +goose Up
-- What a checkpoint's file says about itself (modelfile.Info as JSON:
-- kind, base model, tensor count, ss_* metadata, pickle imports), read
-- once its object is complete; NULL until then or for files not read.
-- unsafe marks a pickle that imports something outside the allow-list
-- (named in unsafe_globals) or that could not be read.
ALTER TABLE checkpoints
    ADD COLUMN model_info jsonb,
    ADD COLUMN unsafe boolean NOT NULL DEFAULT false,
    ADD COLUMN unsafe_globals text[] NOT NULL DEFAULT '{}';

-- +goose Down
ALTER TABLE checkpoints DROP COLUMN model_info, DROP COLUMN unsafe, DROP COLUMN unsafe_globals;
