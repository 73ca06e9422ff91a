-- Accounts: sessions (cookie and bearer), login throttling, connection traces, the charter,
-- one-time tokens (first-run setup link, password reset). Same portable types as the first migration.

-- A session is known by the SHA-256 of its secret token: the token itself is never stored.
CREATE TABLE sessions (
    id_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('cookie', 'bearer')),
    csrf_token TEXT NOT NULL,
    establishment_id TEXT REFERENCES establishments(id) ON DELETE SET NULL,
    created_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,     -- absolute end; the idle end is last_seen_at + idle timeout
    ip TEXT NOT NULL,
    user_agent TEXT NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id);

-- Failed-login counters, per account ('account:<login>') and per address ('ip:<address>').
CREATE TABLE login_throttle (
    key TEXT PRIMARY KEY,
    failures BIGINT NOT NULL,
    window_start BIGINT NOT NULL,
    locked_until BIGINT NOT NULL
);

-- Connection traces (CNIL): kept for the configured retention, even after the account is purged.
CREATE TABLE connection_traces (
    id TEXT PRIMARY KEY,
    at BIGINT NOT NULL,
    user_id TEXT,
    login TEXT NOT NULL,
    event TEXT NOT NULL CHECK (event IN ('login', 'logout', 'activation', 'password_change', 'password_reset')),
    success BOOLEAN NOT NULL,
    ip TEXT NOT NULL,
    user_agent TEXT NOT NULL,
    establishment_id TEXT,
    profiles TEXT NOT NULL
);
CREATE INDEX connection_traces_at ON connection_traces(at);
CREATE INDEX connection_traces_user ON connection_traces(user_id, at);

-- The charter every user accepts, versioned; accepting again is required when it changes.
CREATE TABLE charters (
    version BIGINT PRIMARY KEY,
    published_at BIGINT NOT NULL,
    body_fr TEXT NOT NULL,
    body_en TEXT NOT NULL
);
ALTER TABLE users ADD COLUMN charter_version BIGINT;
ALTER TABLE users ADD COLUMN must_change_password BOOLEAN NOT NULL DEFAULT FALSE;

-- Single-use secrets sent by link: the first-run setup link, password resets. Only digests are stored.
CREATE TABLE one_time_tokens (
    token_hash TEXT PRIMARY KEY,
    purpose TEXT NOT NULL CHECK (purpose IN ('setup', 'password_reset')),
    user_id TEXT REFERENCES users(id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);
