-- +goose Up
-- OAuth2 connections. oauth_sealed holds the OAuth2 client settings given on
-- the connection and its tokens, sealed like fields_sealed (bound to the row
-- id); the status columns are plain so a list can show them without opening
-- anything. oauth_status is '' (never connected), 'ok' or 'needs_attention'.
ALTER TABLE connections ADD COLUMN oauth_sealed TEXT NOT NULL DEFAULT '';
ALTER TABLE connections ADD COLUMN oauth_status TEXT NOT NULL DEFAULT '';
ALTER TABLE connections ADD COLUMN oauth_error TEXT NOT NULL DEFAULT '';
ALTER TABLE connections ADD COLUMN oauth_expires_at TIMESTAMPTZ;

-- One row per authorization started in a browser: the SHA-256 of its state,
-- who started it, and the PKCE verifier. Used once, then deleted.
CREATE TABLE oauth_states (
    state_hash    TEXT COLLATE "C" PRIMARY KEY,
    connection_id TEXT COLLATE "C" NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    user_id       TEXT NOT NULL,
    verifier      TEXT NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL,
    expires_at    TIMESTAMPTZ NOT NULL
);
CREATE INDEX oauth_states_expires_at ON oauth_states (expires_at);

-- +goose Down
DROP TABLE oauth_states;
ALTER TABLE connections DROP COLUMN oauth_expires_at;
ALTER TABLE connections DROP COLUMN oauth_error;
ALTER TABLE connections DROP COLUMN oauth_status;
ALTER TABLE connections DROP COLUMN oauth_sealed;
