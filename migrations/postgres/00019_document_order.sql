-- +goose Up
-- A workflow document is kept as written: jsonb reorders object keys (a map
-- step's fields came back sorted), json keeps the text. Nothing queries
-- inside documents, so no jsonb operator or index is lost.
ALTER TABLE workflow_versions ALTER COLUMN document TYPE JSON USING document::text::json;

-- +goose Down
ALTER TABLE workflow_versions ALTER COLUMN document TYPE JSONB USING document::jsonb;
