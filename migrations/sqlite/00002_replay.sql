-- +goose Up
ALTER TABLE runs ADD COLUMN replay_of TEXT;
CREATE INDEX runs_workflow_created_at ON runs (workflow_id, created_at);
CREATE INDEX inbound_requests_received_at ON inbound_requests (received_at);

-- +goose Down
DROP INDEX inbound_requests_received_at;
DROP INDEX runs_workflow_created_at;
ALTER TABLE runs DROP COLUMN replay_of;
