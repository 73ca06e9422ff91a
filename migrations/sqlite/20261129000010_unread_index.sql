-- The bell's count is read with every page's session (`SELECT_SESSION` in db/auth.rs): an index
-- of the unread notifications alone keeps it a short index scan however many read ones a
-- person keeps until the retention purge.
CREATE INDEX notifications_unread ON notifications(user_id) WHERE read_at IS NULL;
