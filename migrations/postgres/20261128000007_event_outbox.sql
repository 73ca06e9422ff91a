-- The event outbox: what plugins are told (an account created or gone, a school year started, a
-- plugin enabled). An event is written in the same transaction as the change it reports, and
-- only where some plugin is enabled (a fresh demo or an import before any plugin writes none);
-- after commit the delivery worker lists its deliveries, one per plugin enabled in the event's
-- establishment (`plugin` set: that plugin only), and delivers each at least once, retrying
-- failures with a backoff until a cap.

CREATE TABLE event_outbox (
    id TEXT PRIMARY KEY,                     -- UUID v7: also the request id every delivery carries
    kind TEXT NOT NULL,                      -- preau_host::EventKind, as its name
    establishment_id TEXT NOT NULL REFERENCES establishments(id) ON DELETE CASCADE,
    plugin TEXT,                             -- only this plugin; NULL: every plugin enabled there
    subject TEXT,                            -- the account or class-group it is about
    payload TEXT NOT NULL,                   -- a JSON object
    created_at BIGINT NOT NULL,
    fanned_out_at BIGINT                     -- when its deliveries were listed; NULL: not yet
);
CREATE INDEX event_outbox_pending ON event_outbox (created_at) WHERE fanned_out_at IS NULL;
CREATE INDEX event_outbox_by_age ON event_outbox (created_at);

CREATE TABLE event_deliveries (
    event_id TEXT NOT NULL REFERENCES event_outbox(id) ON DELETE CASCADE,
    plugin TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,     -- claims so far
    next_attempt_at BIGINT NOT NULL,         -- due from then (a claim pushes it by the lease)
    done_at BIGINT,                          -- when it stopped being due
    outcome TEXT CHECK (outcome IN ('delivered', 'skipped', 'gave-up')), -- NULL while pending;
                                             -- skipped: the plugin left the establishment
    last_error TEXT,
    PRIMARY KEY (event_id, plugin)
);
CREATE INDEX event_deliveries_due ON event_deliveries (next_attempt_at) WHERE outcome IS NULL;

-- "Is any plugin enabled here?", asked by every enqueue.
CREATE INDEX plugin_enablements_by_establishment ON plugin_enablements (establishment_id);
