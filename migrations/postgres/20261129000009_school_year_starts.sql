-- The school years Préau has seen begin (`Tx::record_school_year`, run by the hourly
-- maintenance): a new one after the latest is the rollover, announced to plugins as
-- `school-year.started` in the transaction that records it; the year current when Préau first
-- ran is recorded without an announcement.
CREATE TABLE school_year_starts (
    school_year_id TEXT PRIMARY KEY,
    recorded_at BIGINT NOT NULL,
    announced BOOLEAN NOT NULL
);
