//! SQL of the event outbox (`events.rs` delivers): enqueueing an event inside the transaction of
//! the change it reports, listing its deliveries (one per plugin enabled in its establishment),
//! claiming due deliveries safely with several nodes, and recording what became of each.
//!
//! An event is one `INSERT … SELECT … WHERE EXISTS` (nothing is written where no plugin is
//! enabled), so an import of thousands of people adds one cheap statement per person and calls
//! no plugin. A claim pushes `next_attempt_at` forward by a lease and counts the attempt in the
//! claiming transaction: on PostgreSQL with `FOR UPDATE … SKIP LOCKED`, so two nodes never
//! claim one delivery at once; on SQLite every write transaction is exclusive. A node that dies
//! holding a claim loses it when the lease runs out, and another node delivers again (at least
//! once). Finishing or rescheduling names the attempt it claimed, so a late worker whose lease
//! another node took over changes nothing.

use std::sync::LazyLock;

use preau_host::EventKind;
use sqlx::FromRow;
use tokio::sync::watch;

use super::tx::{Tx, TxInner, run_tx};
use super::{Db, DbResult, new_id, run};

/// An event to enqueue.
#[derive(Debug, Clone)]
pub struct NewEvent<'a> {
    pub kind: EventKind,
    pub establishment_id: &'a str,
    /// Only this plugin (`plugin.enabled`); `None`: every plugin enabled in the establishment.
    pub plugin: Option<&'a str>,
    /// The account or class-group the event is about.
    pub subject: Option<&'a str>,
    /// A JSON object.
    pub payload: serde_json::Value,
}

/// An enqueued event whose deliveries are not listed yet.
#[derive(Debug, Clone, FromRow)]
pub struct PendingEvent {
    pub id: String,
    pub establishment_id: String,
    pub plugin: Option<String>,
}

/// A delivery claimed by this worker, with its event.
#[derive(Debug, Clone, FromRow)]
pub struct ClaimedDelivery {
    pub event_id: String,
    pub plugin: String,
    /// Attempts so far, this one included: the claim's fencing token.
    pub attempts: i32,
    pub kind: String,
    pub establishment_id: String,
    pub uai: String,
    pub subject: Option<String>,
    pub payload: String,
}

/// An event as stored, for inspection.
#[derive(Debug, Clone, FromRow, PartialEq, Eq)]
pub struct OutboxEvent {
    pub id: String,
    pub kind: String,
    pub establishment_id: String,
    pub plugin: Option<String>,
    pub subject: Option<String>,
    pub payload: String,
    pub created_at: i64,
    pub fanned_out_at: Option<i64>,
}

/// One (event, plugin) delivery, for inspection.
#[derive(Debug, Clone, FromRow, PartialEq, Eq)]
pub struct DeliveryRow {
    pub event_id: String,
    pub plugin: String,
    pub attempts: i32,
    pub next_attempt_at: i64,
    pub done_at: Option<i64>,
    /// `delivered`, `skipped`, `gave-up`; `None` while pending.
    pub outcome: Option<String>,
    pub last_error: Option<String>,
}

/// How a delivery ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Delivered,
    /// The plugin is no longer enabled in the establishment.
    Skipped,
    /// It failed as many times as allowed.
    GaveUp,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Delivered => "delivered",
            Outcome::Skipped => "skipped",
            Outcome::GaveUp => "gave-up",
        }
    }
}

/// "Something was enqueued and committed": the delivery workers of this process wait on it (and
/// poll besides, for events other nodes or other code paths committed).
static WAKE: LazyLock<watch::Sender<u64>> = LazyLock::new(|| watch::channel(0).0);

/// Wakes the delivery workers of this process; call it after committing a transaction that
/// enqueued events.
pub fn wake() {
    WAKE.send_modify(|n| *n = n.wrapping_add(1));
}

/// A receiver that sees every later [`wake`].
pub fn wakes() -> watch::Receiver<u64> {
    WAKE.subscribe()
}

const ENQUEUE: &str = "INSERT INTO event_outbox \
    (id, kind, establishment_id, plugin, subject, payload, created_at) \
    SELECT $1, $2, $3, $4, $5, $6, $7 \
    WHERE EXISTS (SELECT 1 FROM plugin_enablements \
                  WHERE establishment_id = $3 AND ($8 = '' OR plugin = $8))";

impl Tx {
    /// Enqueues `event` in this transaction, when some plugin it is for is enabled in its
    /// establishment (otherwise writes nothing): whether it was written.
    pub async fn enqueue_event(&mut self, event: &NewEvent<'_>) -> DbResult<bool> {
        let id = new_id();
        let now = self.now_ms;
        let payload = event.payload.to_string();
        let only = event.plugin.unwrap_or_default();
        let n = run_tx!(self, conn => {
            sqlx::query(ENQUEUE)
                .bind(&id).bind(event.kind.as_str()).bind(event.establishment_id)
                .bind(event.plugin).bind(event.subject).bind(&payload).bind(now).bind(only)
                .execute(&mut *conn).await?.rows_affected()
        });
        Ok(n == 1)
    }

    /// Enqueues `kind` about the account `user_id` in every establishment it is attached to;
    /// how many events were written.
    pub async fn enqueue_for_account(
        &mut self,
        kind: EventKind,
        user_id: &str,
        payload: &serde_json::Value,
    ) -> DbResult<u64> {
        let establishments: Vec<String> = run_tx!(self, conn => {
            sqlx::query_scalar(
                "SELECT DISTINCT establishment_id FROM attachments WHERE user_id = $1 ORDER BY establishment_id",
            )
            .bind(user_id).fetch_all(&mut *conn).await?
        });
        let mut written = 0;
        for establishment_id in &establishments {
            let event = NewEvent {
                kind,
                establishment_id,
                plugin: None,
                subject: Some(user_id),
                payload: payload.clone(),
            };
            written += u64::from(self.enqueue_event(&event).await?);
        }
        Ok(written)
    }

    /// Enqueues `school-year.started` for `school_year` (`2026-2027`) in every establishment
    /// where a plugin is enabled; how many events were written.
    pub async fn enqueue_school_year_started(&mut self, school_year: &str) -> DbResult<u64> {
        let establishments: Vec<String> = run_tx!(self, conn => {
            sqlx::query_scalar("SELECT DISTINCT establishment_id FROM plugin_enablements ORDER BY establishment_id")
                .fetch_all(&mut *conn).await?
        });
        let mut written = 0;
        for establishment_id in &establishments {
            let event = NewEvent {
                kind: EventKind::SchoolYearStarted,
                establishment_id,
                plugin: None,
                subject: None,
                payload: serde_json::json!({ "school-year": school_year }),
            };
            written += u64::from(self.enqueue_event(&event).await?);
        }
        Ok(written)
    }

    /// Records that `school_year` (`2026-2027`) is the current one, and when it follows the
    /// latest recorded year — the rollover —, enqueues its `school-year.started` in this same
    /// transaction. The year current when Préau first runs is only recorded (there is no
    /// rollover to announce, and a plugin must not archive the running year), and a year before
    /// the latest recorded one (a clock set back) is ignored. Nodes may call this at once: the
    /// year is the table's key, so one of them announces it. How many events were written.
    pub async fn record_school_year(&mut self, school_year: &str) -> DbResult<u64> {
        let now = self.now_ms;
        let latest: Option<String> = run_tx!(self, conn => {
            sqlx::query_scalar("SELECT MAX(school_year_id) FROM school_year_starts")
                .fetch_one(&mut *conn).await?
        });
        let announce = match latest.as_deref() {
            None => false,
            Some(latest) if latest >= school_year => return Ok(0),
            Some(_) => true,
        };
        let inserted = run_tx!(self, conn => {
            sqlx::query(
                "INSERT INTO school_year_starts (school_year_id, recorded_at, announced) VALUES ($1, $2, $3) \
                 ON CONFLICT (school_year_id) DO NOTHING",
            )
            .bind(school_year).bind(now).bind(announce)
            .execute(&mut *conn).await?.rows_affected()
        });
        if inserted == 0 || !announce {
            return Ok(0);
        }
        self.enqueue_school_year_started(school_year).await
    }

    /// Up to `limit` events whose deliveries are not listed yet, oldest first, locked for this
    /// transaction (another node skips them).
    pub async fn outbox_pending_events(&mut self, limit: u32) -> DbResult<Vec<PendingEvent>> {
        let lock = match &self.inner {
            TxInner::Sqlite(_) => "",
            TxInner::Postgres(_) => " FOR UPDATE SKIP LOCKED",
        };
        let sql = format!(
            "SELECT id, establishment_id, plugin FROM event_outbox WHERE fanned_out_at IS NULL \
             ORDER BY created_at, id LIMIT $1{lock}"
        );
        Ok(run_tx!(self, conn => {
            sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(i64::from(limit)).fetch_all(&mut *conn).await?
        }))
    }

    /// Lists the deliveries of `event`: one per plugin enabled in its establishment now (only
    /// its target plugin, if it has one), due at once; how many.
    pub async fn outbox_fan_out(&mut self, event: &PendingEvent) -> DbResult<u64> {
        let now = self.now_ms;
        let only = event.plugin.as_deref().unwrap_or_default();
        Ok(run_tx!(self, conn => {
            let n = sqlx::query(
                "INSERT INTO event_deliveries (event_id, plugin, attempts, next_attempt_at) \
                 SELECT $1, plugin, 0, $2 FROM plugin_enablements \
                 WHERE establishment_id = $3 AND ($4 = '' OR plugin = $4) \
                 ON CONFLICT (event_id, plugin) DO NOTHING",
            )
            .bind(&event.id).bind(now).bind(&event.establishment_id).bind(only)
            .execute(&mut *conn).await?.rows_affected();
            sqlx::query("UPDATE event_outbox SET fanned_out_at = $2 WHERE id = $1")
                .bind(&event.id).bind(now)
                .execute(&mut *conn).await?;
            n
        }))
    }

    /// Claims up to `limit` deliveries due now, oldest first: each counts one more attempt and
    /// is not due again before `lease_until` (when a worker that died holding it is presumed
    /// dead).
    pub async fn outbox_claim(
        &mut self,
        limit: u32,
        lease_until: i64,
    ) -> DbResult<Vec<ClaimedDelivery>> {
        let now = self.now_ms;
        let lock = match &self.inner {
            TxInner::Sqlite(_) => "",
            TxInner::Postgres(_) => " FOR UPDATE OF d SKIP LOCKED",
        };
        let sql = format!(
            "SELECT d.event_id, d.plugin, d.attempts, o.kind, o.establishment_id, s.uai, \
             o.subject, o.payload \
             FROM event_deliveries d JOIN event_outbox o ON o.id = d.event_id \
             JOIN establishments s ON s.id = o.establishment_id \
             WHERE d.outcome IS NULL AND d.next_attempt_at <= $1 \
             ORDER BY d.next_attempt_at, d.event_id, d.plugin LIMIT $2{lock}"
        );
        let mut claimed: Vec<ClaimedDelivery> = run_tx!(self, conn => {
            sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(now).bind(i64::from(limit))
                .fetch_all(&mut *conn).await?
        });
        for d in &mut claimed {
            d.attempts += 1;
            run_tx!(self, conn => {
                sqlx::query(
                    "UPDATE event_deliveries SET attempts = $3, next_attempt_at = $4 \
                     WHERE event_id = $1 AND plugin = $2",
                )
                .bind(&d.event_id).bind(&d.plugin).bind(d.attempts).bind(lease_until)
                .execute(&mut *conn).await?;
            });
        }
        Ok(claimed)
    }
}

impl Db {
    /// Ends the claimed attempt `attempts` of (`event_id`, `plugin`) with `outcome`; false when
    /// the claim was lost meanwhile (its lease ran out and another worker took it).
    pub async fn outbox_finish(
        &self,
        event_id: &str,
        plugin: &str,
        attempts: i32,
        outcome: Outcome,
        error: Option<&str>,
        now_ms: i64,
    ) -> DbResult<bool> {
        let n = run!(self, pool => {
            sqlx::query(
                "UPDATE event_deliveries SET outcome = $4, done_at = $5, \
                 last_error = COALESCE($6, last_error) \
                 WHERE event_id = $1 AND plugin = $2 AND attempts = $3 AND outcome IS NULL",
            )
            .bind(event_id).bind(plugin).bind(attempts).bind(outcome.as_str()).bind(now_ms).bind(error)
            .execute(pool).await?.rows_affected()
        });
        Ok(n == 1)
    }

    /// Makes the claimed attempt `attempts` of (`event_id`, `plugin`) due again at `next_at`
    /// after it failed with `error`; false when the claim was lost meanwhile.
    pub async fn outbox_retry(
        &self,
        event_id: &str,
        plugin: &str,
        attempts: i32,
        next_at: i64,
        error: &str,
    ) -> DbResult<bool> {
        let n = run!(self, pool => {
            sqlx::query(
                "UPDATE event_deliveries SET next_attempt_at = $4, last_error = $5 \
                 WHERE event_id = $1 AND plugin = $2 AND attempts = $3 AND outcome IS NULL",
            )
            .bind(event_id).bind(plugin).bind(attempts).bind(next_at).bind(error)
            .execute(pool).await?.rows_affected()
        });
        Ok(n == 1)
    }

    /// The events of an establishment, oldest first.
    pub async fn outbox_events(&self, establishment_id: &str) -> DbResult<Vec<OutboxEvent>> {
        Ok(run!(self, pool => {
            sqlx::query_as(
                "SELECT id, kind, establishment_id, plugin, subject, payload, created_at, fanned_out_at \
                 FROM event_outbox WHERE establishment_id = $1 ORDER BY created_at, id",
            )
            .bind(establishment_id).fetch_all(pool).await?
        }))
    }

    /// The deliveries of an event, by plugin.
    pub async fn event_deliveries(&self, event_id: &str) -> DbResult<Vec<DeliveryRow>> {
        Ok(run!(self, pool => {
            sqlx::query_as(
                "SELECT event_id, plugin, attempts, next_attempt_at, done_at, outcome, last_error \
                 FROM event_deliveries WHERE event_id = $1 ORDER BY plugin",
            )
            .bind(event_id).fetch_all(pool).await?
        }))
    }

    /// Whether a worker has something to do at `now_ms`: events to list or deliveries due (a
    /// read, so that an idle poll takes no write lock).
    pub async fn outbox_has_work(&self, now_ms: i64) -> DbResult<bool> {
        let n: i64 = run!(self, pool => {
            sqlx::query_scalar(
                "SELECT (SELECT COUNT(*) FROM (SELECT 1 FROM event_outbox WHERE fanned_out_at IS NULL LIMIT 1) p) \
                 + (SELECT COUNT(*) FROM (SELECT 1 FROM event_deliveries \
                                          WHERE outcome IS NULL AND next_attempt_at <= $1 LIMIT 1) d)",
            )
            .bind(now_ms).fetch_one(pool).await?
        });
        Ok(n > 0)
    }

    /// How many events are enqueued in total (inspection and tests).
    pub async fn outbox_len(&self) -> DbResult<i64> {
        Ok(run!(self, pool => {
            sqlx::query_scalar("SELECT COUNT(*) FROM event_outbox").fetch_one(pool).await?
        }))
    }

    /// Deletes the events created before `before_ms` that nothing waits on any more (listed, and
    /// every delivery ended); how many.
    pub async fn purge_events(&self, before_ms: i64) -> DbResult<u64> {
        Ok(run!(self, pool => {
            sqlx::query(
                "DELETE FROM event_outbox WHERE created_at < $1 AND fanned_out_at IS NOT NULL \
                 AND NOT EXISTS (SELECT 1 FROM event_deliveries d \
                                 WHERE d.event_id = event_outbox.id AND d.outcome IS NULL)",
            )
            .bind(before_ms).execute(pool).await?.rows_affected()
        }))
    }
}
