-- +goose Up
-- Replicas: each running `easel serve` reports here every quarter of
-- EASEL_RESCUE_AFTER; River jobs still running under a replica silent for
-- longer are handed to the others (jobs/requeue.go).
CREATE TABLE replicas (
    id         text PRIMARY KEY,
    started_at timestamptz NOT NULL DEFAULT now(),
    seen_at    timestamptz NOT NULL DEFAULT now()
);

-- Gallery thumbnails: set once the small JPEGs of a job's images are
-- stored next to them (out/<id>/result/thumbs/).
ALTER TABLE inferences ADD COLUMN thumbnails boolean NOT NULL DEFAULT false;
CREATE INDEX inferences_without_thumbnails ON inferences (complete_time)
    WHERE status = 'succeed' AND NOT thumbnails;

-- +goose Down
DROP INDEX inferences_without_thumbnails;
ALTER TABLE inferences DROP COLUMN thumbnails;
DROP TABLE replicas;
