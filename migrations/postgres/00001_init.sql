-- +goose Up
-- Ids are time-ordered UUIDv7 text; "C" collation makes them sort by bytes,
-- which cursor pagination and retention rely on.
CREATE TABLE workflows (
    id              TEXT COLLATE "C" PRIMARY KEY,
    name            TEXT NOT NULL,
    active          BOOLEAN NOT NULL DEFAULT FALSE,
    current_version INTEGER NOT NULL,
    trigger_type    TEXT NOT NULL,
    webhook_token   TEXT UNIQUE,
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL
);

CREATE TABLE workflow_versions (
    id          TEXT COLLATE "C" PRIMARY KEY,
    workflow_id TEXT COLLATE "C" NOT NULL REFERENCES workflows (id) ON DELETE CASCADE,
    version     INTEGER NOT NULL,
    document    JSONB NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    UNIQUE (workflow_id, version)
);

CREATE TABLE runs (
    id           TEXT COLLATE "C" PRIMARY KEY,
    workflow_id  TEXT COLLATE "C" NOT NULL REFERENCES workflows (id) ON DELETE CASCADE,
    version_id   TEXT COLLATE "C" NOT NULL REFERENCES workflow_versions (id) ON DELETE CASCADE,
    version      INTEGER NOT NULL,
    state        TEXT NOT NULL,
    trigger_type TEXT NOT NULL,
    trigger      JSONB NOT NULL,
    error        TEXT NOT NULL DEFAULT '',
    attempt      INTEGER NOT NULL DEFAULT 0,
    created_at   TIMESTAMPTZ NOT NULL,
    started_at   TIMESTAMPTZ,
    finished_at  TIMESTAMPTZ
);
CREATE INDEX runs_workflow_id ON runs (workflow_id, id DESC);
CREATE INDEX runs_state ON runs (state, id DESC);

CREATE TABLE step_runs (
    id          TEXT COLLATE "C" PRIMARY KEY,
    run_id      TEXT COLLATE "C" NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    step_id     TEXT NOT NULL,
    item_key    TEXT NOT NULL DEFAULT '',
    seq         INTEGER NOT NULL DEFAULT 0,
    state       TEXT NOT NULL,
    input       JSONB,
    output      JSONB,
    error       TEXT NOT NULL DEFAULT '',
    attempts    INTEGER NOT NULL DEFAULT 1,
    started_at  TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ,
    UNIQUE (run_id, step_id, item_key)
);

CREATE TABLE deliveries (
    id               TEXT COLLATE "C" PRIMARY KEY,
    run_id           TEXT COLLATE "C" NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    step_id          TEXT NOT NULL,
    item_key         TEXT NOT NULL DEFAULT '',
    attempt          INTEGER NOT NULL,
    method           TEXT NOT NULL,
    url              TEXT NOT NULL,
    request_headers  JSONB,
    request_body     TEXT NOT NULL DEFAULT '',
    status           INTEGER NOT NULL DEFAULT 0,
    response_headers JSONB,
    response_body    TEXT NOT NULL DEFAULT '',
    latency_ms       INTEGER NOT NULL DEFAULT 0,
    error            TEXT NOT NULL DEFAULT '',
    created_at       TIMESTAMPTZ NOT NULL
);
CREATE INDEX deliveries_run_id ON deliveries (run_id, id);

CREATE TABLE inbound_requests (
    id          TEXT COLLATE "C" PRIMARY KEY,
    workflow_id TEXT COLLATE "C" NOT NULL REFERENCES workflows (id) ON DELETE CASCADE,
    received_at TIMESTAMPTZ NOT NULL,
    method      TEXT NOT NULL,
    path        TEXT NOT NULL,
    headers     JSONB,
    query       JSONB,
    body        TEXT NOT NULL DEFAULT '',
    body_size   INTEGER NOT NULL DEFAULT 0,
    source_ip   TEXT NOT NULL DEFAULT '',
    verdict     TEXT NOT NULL,
    reason      TEXT NOT NULL DEFAULT '',
    run_id      TEXT COLLATE "C"
);
CREATE INDEX inbound_requests_workflow_id ON inbound_requests (workflow_id, id DESC);

-- +goose Down
DROP TABLE inbound_requests;
DROP TABLE deliveries;
DROP TABLE step_runs;
DROP TABLE runs;
DROP TABLE workflow_versions;
DROP TABLE workflows;
