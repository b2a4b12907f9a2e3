-- +goose Up
-- The operations console reads run metadata only: time ranges and states for
-- the dashboard, the trigger filter and the links from a run to its replays.
CREATE INDEX runs_created_at_state ON runs (created_at, state);
CREATE INDEX runs_state_created_at ON runs (state, created_at);
CREATE INDEX runs_trigger_type ON runs (trigger_type, id DESC);
CREATE INDEX runs_replay_of ON runs (replay_of);

-- +goose Down
DROP INDEX runs_replay_of;
DROP INDEX runs_trigger_type;
DROP INDEX runs_state_created_at;
DROP INDEX runs_created_at_state;
