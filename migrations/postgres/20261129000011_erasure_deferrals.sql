-- When the erasure of a departed account was first put off because a plugin failed to forget
-- the person (`privacy::erase_account`); the hourly maintenance erases without that plugin
-- once this is older than `maintenance::ERASURE_GRACE`. Cleared whenever the account's state
-- changes.
ALTER TABLE users ADD COLUMN erasure_deferred_at BIGINT;
