-- +goose Up
-- Switchboard's own events, sent as Standard Webhooks to subscriptions.
CREATE TABLE subscriptions (
    id                 TEXT COLLATE "C" PRIMARY KEY,
    url                TEXT NOT NULL,
    description        TEXT NOT NULL DEFAULT '',
    events             TEXT NOT NULL,              -- JSON array of event types
    workflow_id        TEXT COLLATE "C",           -- only this workflow's events, when set
    headers            TEXT NOT NULL DEFAULT '{}', -- JSON object of custom headers
    secret_sealed      TEXT NOT NULL,
    prev_secret_sealed TEXT NOT NULL DEFAULT '',   -- still signs until prev_secret_until
    prev_secret_until  TIMESTAMPTZ,
    enabled            BOOLEAN NOT NULL,
    disabled_reason    TEXT NOT NULL DEFAULT '',
    failing_since      TIMESTAMPTZ,
    created_at         TIMESTAMPTZ NOT NULL,
    updated_at         TIMESTAMPTZ NOT NULL
);

-- The outbox: an event and its deliveries commit with the change they describe.
CREATE TABLE events (
    id          TEXT COLLATE "C" PRIMARY KEY,
    type        TEXT NOT NULL,
    workflow_id TEXT COLLATE "C",
    payload     TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX events_created_at ON events (created_at);

CREATE TABLE event_deliveries (
    id              TEXT COLLATE "C" PRIMARY KEY,
    event_id        TEXT COLLATE "C" NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    subscription_id TEXT COLLATE "C" NOT NULL REFERENCES subscriptions (id) ON DELETE CASCADE,
    state           TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMPTZ NOT NULL,
    lease_until     TIMESTAMPTZ,
    last_status     INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT NOT NULL DEFAULT '',
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL
);
CREATE INDEX event_deliveries_due ON event_deliveries (state, next_attempt_at);
CREATE INDEX event_deliveries_subscription ON event_deliveries (subscription_id, id);
CREATE INDEX event_deliveries_event ON event_deliveries (event_id);

CREATE TABLE event_attempts (
    id            TEXT COLLATE "C" PRIMARY KEY,
    delivery_id   TEXT COLLATE "C" NOT NULL REFERENCES event_deliveries (id) ON DELETE CASCADE,
    attempt       INTEGER NOT NULL,
    url           TEXT NOT NULL,
    status        INTEGER NOT NULL DEFAULT 0,
    latency_ms    BIGINT NOT NULL DEFAULT 0,
    response_body TEXT NOT NULL DEFAULT '',
    error         TEXT NOT NULL DEFAULT '',
    signatures    INTEGER NOT NULL DEFAULT 1,
    created_at    TIMESTAMPTZ NOT NULL
);
CREATE INDEX event_attempts_delivery ON event_attempts (delivery_id, attempt);

-- +goose Down
DROP TABLE event_attempts;
DROP TABLE event_deliveries;
DROP TABLE events;
DROP TABLE subscriptions;
