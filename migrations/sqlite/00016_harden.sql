-- +goose Up
-- Inline webhook secrets and Basic passwords inside workflow documents are
-- sealed at rest like connection secrets. SQL cannot seal (the key is not in
-- the database), so existing rows are marked unsealed here and the server
-- seals them at its next start (store.SealVersions); new versions are
-- written sealed.
ALTER TABLE workflow_versions ADD COLUMN secrets_sealed BOOLEAN NOT NULL DEFAULT FALSE;
CREATE INDEX workflow_versions_unsealed ON workflow_versions (id) WHERE secrets_sealed = FALSE;

-- Each delivery's error kind by the connector SDK's retry rules (retryable,
-- rate_limited, permanent; '' for a success), so a record says whether the
-- failure was worth retrying.
ALTER TABLE deliveries ADD COLUMN error_kind TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE deliveries DROP COLUMN error_kind;
DROP INDEX workflow_versions_unsealed;
ALTER TABLE workflow_versions DROP COLUMN secrets_sealed;
