-- +goose Up
-- The user an API key acts for: the key never outranks them, stops while
-- they are disabled and is revoked when they are deleted. NULL: a key made
-- on the command line by the operator.
ALTER TABLE api_keys ADD COLUMN owner_id TEXT;
CREATE INDEX api_keys_owner ON api_keys (owner_id);

-- +goose Down
DROP INDEX api_keys_owner;
ALTER TABLE api_keys DROP COLUMN owner_id;
