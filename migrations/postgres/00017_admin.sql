-- +goose Up
-- One-time links an admin hands to a person: an invitation to set a first
-- password, or a password reset. Only the SHA-256 of the link's secret is
-- stored; a link works once, until it expires.
CREATE TABLE user_links (
    id         TEXT COLLATE "C" PRIMARY KEY,
    user_id    TEXT COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind       TEXT NOT NULL,
    created_by TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    used_at    TIMESTAMPTZ
);
CREATE INDEX user_links_user ON user_links (user_id);

-- Instance settings an admin may change while the instance runs (retention);
-- every process reads them from here, so one change reaches all of them.
CREATE TABLE settings (
    key        TEXT COLLATE "C" PRIMARY KEY,
    value      JSONB NOT NULL,
    updated_by TEXT NOT NULL DEFAULT '',
    updated_at TIMESTAMPTZ NOT NULL
);

CREATE INDEX audit_log_action ON audit_log (action);

-- +goose Down
DROP INDEX audit_log_action;
DROP TABLE settings;
DROP TABLE user_links;
