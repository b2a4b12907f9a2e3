-- +goose Up
-- PostgreSQL changes workflow_versions.document from jsonb to json (keys in
-- the order written); SQLite already keeps the text as it is.
SELECT 1;

-- +goose Down
SELECT 1;
