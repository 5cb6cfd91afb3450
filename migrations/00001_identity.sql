-- +goose Up
CREATE TABLE roles (
    name        text PRIMARY KEY CHECK (name <> ''),
    creator     text NOT NULL,
    permissions text[] NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE users (
    username        text PRIMARY KEY CHECK (username <> ''),
    creator         text NOT NULL,
    password_hash   text NOT NULL DEFAULT '',
    password_sealed bytea,
    roles           text[] NOT NULL DEFAULT '{}',
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX users_roles_idx ON users USING gin (roles);
CREATE INDEX users_creator_idx ON users (creator);

CREATE TABLE api_keys (
    id           uuid PRIMARY KEY,
    name         text NOT NULL,
    hash         bytea NOT NULL UNIQUE,
    prefix       text NOT NULL,
    username     text REFERENCES users (username) ON DELETE CASCADE ON UPDATE CASCADE,
    service      boolean NOT NULL,
    created_by   text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    revoked_at   timestamptz,
    CHECK (service OR username IS NOT NULL)
);

CREATE TABLE sessions (
    id         text PRIMARY KEY,
    username   text REFERENCES users (username) ON DELETE CASCADE,
    data       bytea NOT NULL,
    expires_at timestamptz NOT NULL
);
CREATE INDEX sessions_expires_idx ON sessions (expires_at);

CREATE TABLE casbin_rule (
    id    bigserial PRIMARY KEY,
    ptype text NOT NULL,
    v0    text NOT NULL DEFAULT '',
    v1    text NOT NULL DEFAULT '',
    v2    text NOT NULL DEFAULT '',
    v3    text NOT NULL DEFAULT '',
    v4    text NOT NULL DEFAULT '',
    v5    text NOT NULL DEFAULT '',
    UNIQUE (ptype, v0, v1, v2, v3, v4, v5)
);

CREATE TABLE audit_log (
    id     bigserial PRIMARY KEY,
    at     timestamptz NOT NULL DEFAULT now(),
    actor  text NOT NULL,
    action text NOT NULL,
    target text NOT NULL,
    detail text NOT NULL DEFAULT ''
);

-- +goose Down
DROP TABLE audit_log, casbin_rule, sessions, api_keys, users, roles;
