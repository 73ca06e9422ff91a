-- Personal feed tokens: the secret in the URL of a plugin's `auth = "token"` route (an iCal
-- feed…), one per (person, establishment, plugin), revocable. Only its SHA-256 is stored.
CREATE TABLE feed_tokens (
    digest TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    establishment_id TEXT NOT NULL REFERENCES establishments(id) ON DELETE CASCADE,
    plugin TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT
);
CREATE UNIQUE INDEX feed_tokens_owner ON feed_tokens(user_id, establishment_id, plugin);
