-- +goose Up
-- The inbox keeps the body byte for byte; "body" stays the readable copy.
ALTER TABLE inbound_requests ADD COLUMN body_raw BLOB;

-- Rate limit buckets (GCRA), as on PostgreSQL: theoretical arrival time in
-- microseconds since the epoch.
CREATE TABLE rate_limits (
    key TEXT PRIMARY KEY,
    tat INTEGER NOT NULL
);

-- +goose Down
DROP TABLE rate_limits;
ALTER TABLE inbound_requests DROP COLUMN body_raw;
