-- +goose Up
-- A key's prefix was the first 8 characters of its secret; it becomes the
-- first 8 hex digits of its id, which tell nothing about the secret.
UPDATE api_keys SET prefix = left(id::text, 8);

-- +goose Down
-- Nothing to do: the secrets' characters are gone for good, and the new
-- prefixes are as good as any for the old code.
