-- +goose Up
-- One row per deduplicated webhook event (or schedule tick): the key is
-- unique per workflow while it has not expired.
CREATE TABLE webhook_events (
    workflow_id TEXT COLLATE "C" NOT NULL REFERENCES workflows (id) ON DELETE CASCADE,
    event_key   TEXT COLLATE "C" NOT NULL,
    run_id      TEXT COLLATE "C" NOT NULL,
    expires_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (workflow_id, event_key)
);
CREATE INDEX webhook_events_expires_at ON webhook_events (expires_at);

ALTER TABLE workflows ADD COLUMN sample JSONB;
ALTER TABLE workflows ADD COLUMN sample_at TIMESTAMPTZ;

-- +goose Down
ALTER TABLE workflows DROP COLUMN sample_at;
ALTER TABLE workflows DROP COLUMN sample;
DROP TABLE webhook_events;
