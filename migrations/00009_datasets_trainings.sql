-- +goose Up
-- Datasets: named folders of training images and captions, uploaded by
-- clients straight to the object store (dataset/<name>[/<prefix>]/<file>).
CREATE TABLE datasets (
    name          text PRIMARY KEY,
    prefix        text NOT NULL DEFAULT '',
    status        text NOT NULL CHECK (status IN ('Initialed', 'Enabled', 'Disabled')),
    description   text NOT NULL DEFAULT '',
    params        jsonb NOT NULL DEFAULT '{}',
    allowed_roles text[] NOT NULL,
    creator       text NOT NULL,
    -- The dataset a crop was made from, '' for uploads.
    cropped_from  text NOT NULL DEFAULT '',
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL
);
CREATE INDEX datasets_created_idx ON datasets (created_at DESC, name DESC);

-- One record per file of a dataset; key is "<epoch>_<name>".
CREATE TABLE dataset_files (
    dataset    text NOT NULL REFERENCES datasets (name) ON DELETE CASCADE,
    key        text NOT NULL,
    name       text NOT NULL,
    filename   text NOT NULL,
    type       text NOT NULL DEFAULT 'image',
    status     text NOT NULL CHECK (status IN ('Initialed', 'Enabled', 'Disabled')),
    params     jsonb NOT NULL DEFAULT '{}',
    -- Filled by a background job once the object is in the store.
    size_bytes bigint,
    sha256     text NOT NULL DEFAULT '',
    thumbnail  text NOT NULL DEFAULT '',
    PRIMARY KEY (dataset, key)
);

-- LoRA trainings (ESD 1.6.0's kohya jobs).
CREATE TABLE trainings (
    id               uuid PRIMARY KEY,
    status           text NOT NULL CHECK (status IN ('Initial', 'Starting', 'Downloading', 'Training',
                                                     'Uploading', 'Completed', 'Failed', 'Stopped')),
    lora_train_type  text NOT NULL DEFAULT 'kohya',
    train_type       text NOT NULL DEFAULT 'Stable-diffusion',
    model_id         text NOT NULL DEFAULT 'kohya',
    -- config_params.output_name; unique so two trainings cannot race for a name.
    output_name      text NOT NULL UNIQUE,
    instance_type    text NOT NULL,
    backend          text NOT NULL CHECK (backend IN ('sagemaker', 'workers')),
    fm_type          text NOT NULL CHECK (fm_type IN ('sd_1_5', 'sd_xl')),
    dataset          text NOT NULL,
    base_checkpoint  uuid,
    base_name        text NOT NULL DEFAULT '',
    base_sha256      text NOT NULL DEFAULT '',
    dataset_sha256   text NOT NULL DEFAULT '',
    -- params as POST /trainings answered them (numbers kept).
    params           jsonb NOT NULL,
    allowed_roles    text[] NOT NULL,
    creator          text NOT NULL,
    -- sagemaker_train_name: the SageMaker job name or <pool>/<worker>.
    backend_job_name text NOT NULL DEFAULT '',
    error            text NOT NULL DEFAULT '',
    logs             text[] NOT NULL DEFAULT '{}',
    -- Latest progress {epoch, epochs, step, steps, loss} and the loss curve [[step, loss], ...].
    progress         jsonb NOT NULL DEFAULT '{}',
    loss_curve       jsonb NOT NULL DEFAULT '[]',
    billable_seconds integer,
    -- Leases on worker pools, as for inferences.
    lease_token      uuid,
    lease_worker     uuid,
    lease_deadline   timestamptz,
    leases           integer NOT NULL DEFAULT 0,
    cancel_requested boolean NOT NULL DEFAULT false,
    created_at       timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL,
    finished_at      timestamptz
);
CREATE INDEX trainings_created_idx ON trainings (created_at DESC, id DESC);
CREATE INDEX trainings_leasable_idx ON trainings (instance_type, created_at)
    WHERE backend = 'workers' AND status IN ('Starting', 'Downloading', 'Training', 'Uploading');

-- Where a trained checkpoint came from: {training_id, dataset, dataset_sha256, base_model, base_sha256, ...}.
ALTER TABLE checkpoints ADD COLUMN lineage jsonb;

-- Workers started with --sd-scripts can take trainings.
ALTER TABLE workers ADD COLUMN can_train boolean NOT NULL DEFAULT false;

-- +goose Down
ALTER TABLE workers DROP COLUMN can_train;
ALTER TABLE checkpoints DROP COLUMN lineage;
DROP TABLE trainings, dataset_files, datasets;
