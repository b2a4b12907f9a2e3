-- +goose Up
-- Named credentials. Every field is sealed together in fields_sealed
-- (AES-256-GCM, bound to the row id); public holds the non-secret fields
-- for display.
CREATE TABLE connections (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL UNIQUE,
    connector     TEXT NOT NULL,
    fields_sealed TEXT NOT NULL,
    public        TEXT,
    key_id        TEXT NOT NULL,
    created_at    DATETIME NOT NULL,
    updated_at    DATETIME NOT NULL
);

-- +goose Down
DROP TABLE connections;
