-- The notification centre: what plugins told people, read or not, and how each person wants
-- them by e-mail. One row per recipient; the link is a full portal path.
CREATE TABLE notifications (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    establishment_id TEXT NOT NULL REFERENCES establishments(id) ON DELETE CASCADE,
    plugin TEXT NOT NULL,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    link TEXT,
    created_at BIGINT NOT NULL,
    read_at BIGINT,
    -- When it went out by e-mail (alone or in a digest); NULL while it has not.
    emailed_at BIGINT
);
CREATE INDEX notifications_user ON notifications(user_id, created_at);
CREATE INDEX notifications_unmailed ON notifications(emailed_at, created_at);

-- 'never', 'immediate' or 'daily' (a digest at the end of the day); no row: 'daily'.
CREATE TABLE notification_preferences (
    user_id TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    email TEXT NOT NULL CHECK (email IN ('never', 'immediate', 'daily'))
);
