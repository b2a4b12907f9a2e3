-- +goose Up
-- The inbox keeps the body byte for byte (text columns cannot hold NUL or
-- invalid UTF-8); "body" stays the readable copy.
ALTER TABLE inbound_requests ADD COLUMN body_raw BYTEA;

-- Rate limits shared by every process (GCRA): one row per bucket with its
-- theoretical arrival time in microseconds since the epoch. UNLOGGED: no WAL,
-- so taking a token costs no fsync; a crash forgets the buckets (they refill),
-- which is harmless for a rate limit.
CREATE UNLOGGED TABLE rate_limits (
    key TEXT COLLATE "C" PRIMARY KEY,
    tat BIGINT NOT NULL
);

-- +goose Down
DROP TABLE rate_limits;
ALTER TABLE inbound_requests DROP COLUMN body_raw;
