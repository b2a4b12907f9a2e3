-- +goose Up
-- A connection's last failed "Test connection" or refused use (the service
-- answered 401/403 to a step), kept until a test or a use succeeds, so its
-- status says "needs attention", why and since when.
ALTER TABLE connections ADD COLUMN failure TEXT NOT NULL DEFAULT '';
ALTER TABLE connections ADD COLUMN failure_source TEXT NOT NULL DEFAULT '';
ALTER TABLE connections ADD COLUMN failed_at TIMESTAMPTZ;

-- +goose Down
ALTER TABLE connections DROP COLUMN failed_at;
ALTER TABLE connections DROP COLUMN failure_source;
ALTER TABLE connections DROP COLUMN failure;
