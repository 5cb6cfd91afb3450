-- +goose Up
-- A browser upload is completed in three steps (mark, complete in the
-- object store, record) so that no row lock is held while the store
-- assembles a large file; completing_since marks the middle step.
ALTER TABLE checkpoints ADD COLUMN completing_since timestamptz;

-- +goose Down
ALTER TABLE checkpoints DROP COLUMN completing_since;
