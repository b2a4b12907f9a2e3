-- +goose Up
-- Named credentials. Every field is sealed together in fields_sealed
-- (AES-256-GCM, bound to the row id); public holds the non-secret fields
-- for display.
CREATE TABLE connections (
    id            TEXT COLLATE "C" PRIMARY KEY,
    name          TEXT NOT NULL UNIQUE,
    connector     TEXT NOT NULL,
    fields_sealed TEXT NOT NULL,
    public        JSONB,
    key_id        TEXT NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL
);

-- +goose Down
DROP TABLE connections;
