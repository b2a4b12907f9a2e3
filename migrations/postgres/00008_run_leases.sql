-- +goose Up
-- A running run is leased by the process executing it (lease_owner) until
-- lease_until, renewed by that process's heartbeat; a lapsed lease lets
-- another worker take the run over within seconds. job_id is the run's queue
-- job, so the process that finishes the run can retire the job in the same
-- commit. A delivery is written "sending" before its call and "completed"
-- after it, so a crash in between leaves a visible attempt of unknown outcome.
ALTER TABLE runs ADD COLUMN lease_owner TEXT;
ALTER TABLE runs ADD COLUMN lease_until TIMESTAMPTZ;
ALTER TABLE runs ADD COLUMN job_id BIGINT;
ALTER TABLE deliveries ADD COLUMN state TEXT NOT NULL DEFAULT 'completed';

-- +goose Down
ALTER TABLE deliveries DROP COLUMN state;
ALTER TABLE runs DROP COLUMN job_id;
ALTER TABLE runs DROP COLUMN lease_until;
ALTER TABLE runs DROP COLUMN lease_owner;
