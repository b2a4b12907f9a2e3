-- +goose Up
-- One-time links an admin hands to a person: an invitation to set a first
-- password, or a password reset. Only the SHA-256 of the link's secret is
-- stored; a link works once, until it expires.
CREATE TABLE user_links (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind       TEXT NOT NULL,
    created_by TEXT NOT NULL DEFAULT '',
    created_at DATETIME NOT NULL,
    expires_at DATETIME NOT NULL,
    used_at    DATETIME
);
CREATE INDEX user_links_user ON user_links (user_id);

-- Instance settings an admin may change while the instance runs (retention);
-- every process reads them from here, so one change reaches all of them.
CREATE TABLE settings (
    key        TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    updated_by TEXT NOT NULL DEFAULT '',
    updated_at DATETIME NOT NULL
);

CREATE INDEX audit_log_action ON audit_log (action);

-- +goose Down
DROP INDEX audit_log_action;
DROP TABLE settings;
DROP TABLE user_links;
