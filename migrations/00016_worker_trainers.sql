-- +goose Up
-- What a worker trains with ('' none, 'sd-scripts', 'simulator'), as it
-- said at hello; workers.can_train is whether it is anything but ''.
ALTER TABLE workers ADD COLUMN trainer text NOT NULL DEFAULT '';
-- The trainer of the worker that holds (or last held) a training's lease,
-- so a simulated training is labelled as such.
ALTER TABLE trainings ADD COLUMN trainer text NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE trainings DROP COLUMN trainer;
ALTER TABLE workers DROP COLUMN trainer;
