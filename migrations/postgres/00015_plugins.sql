-- +goose Up
-- WebAssembly connector plugins. Modules are stored once by content address
-- (sha256:…), so every API and worker process loads the very same bytes.
CREATE TABLE plugin_modules (
    hash       TEXT COLLATE "C" PRIMARY KEY,
    wasm       BYTEA NOT NULL,
    size       BIGINT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);

-- A plugin is a connector id with its current version and an on/off switch;
-- every upload adds a version (its module, and the spec read from it then).
CREATE TABLE plugins (
    id         TEXT COLLATE "C" PRIMARY KEY,
    version    INTEGER NOT NULL,
    enabled    BOOLEAN NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE plugin_versions (
    plugin_id    TEXT COLLATE "C" NOT NULL REFERENCES plugins (id) ON DELETE CASCADE,
    version      INTEGER NOT NULL,
    hash         TEXT COLLATE "C" NOT NULL REFERENCES plugin_modules (hash),
    spec         JSONB NOT NULL,
    spec_version TEXT NOT NULL DEFAULT '',
    created_by   TEXT NOT NULL DEFAULT '',
    created_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (plugin_id, version)
);
CREATE INDEX plugin_versions_hash ON plugin_versions (hash);

-- +goose Down
DROP TABLE plugin_versions;
DROP TABLE plugins;
DROP TABLE plugin_modules;
