-- +goose Up
-- The fire time of a schedule's latest tick; each tick's uniqueness is a
-- webhook_events key ("tick:<time>") claimed with its run.
ALTER TABLE workflows ADD COLUMN last_fired_at DATETIME;
CREATE INDEX workflows_trigger_active ON workflows (trigger_type, active);

-- +goose Down
DROP INDEX workflows_trigger_active;
ALTER TABLE workflows DROP COLUMN last_fired_at;
