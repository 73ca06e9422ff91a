//! Delivery of the event outbox to plugins (`events` export): accounts created and gone, school
//! years started, a plugin enabled. The change and its event commit together (`db/outbox.rs`);
//! this worker delivers afterwards, so an import of thousands of people never waits on a plugin.
//!
//! One run ([`EventWorker::run_once`]) first lists each new event's deliveries (one per plugin
//! enabled in its establishment when the worker sees it, or only its target), then claims the
//! due deliveries in batches and calls them with bounded parallelism through the server's
//! [`PluginHost`]. A delivery ends `delivered`, `skipped` (the plugin left the establishment),
//! or, after `max_attempts` failures spaced by an exponential backoff, `gave-up` (logged as an
//! error). Guarantees: at least once per (event, plugin) while the plugin stays enabled, across
//! crashes (nothing is lost between commit and delivery: the rows wait for the next worker) and
//! across nodes (claims skip what another node holds; a dead node's claims come back after the
//! lease). No order between events is promised: handlers must be idempotent (the delivery's
//! request id, the event id, is the same at every attempt) and tolerate reordering.
//!
//! `preau serve` runs [`EventWorker::spawn`]: woken after a commit in this process
//! ([`crate::db::outbox::wake`]) and polling every few seconds for the rest.

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use preau_host::{CallContext, Event, EventKind};

use crate::clock::Clock;
use crate::db::outbox::{self, ClaimedDelivery, Outcome};
use crate::db::{Db, DbResult};
use crate::plugins::host::PluginHost;

/// How the worker paces itself.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    /// How often it looks for work when nothing woke it.
    pub poll: Duration,
    /// Events listed, and deliveries claimed, per transaction.
    pub batch: u32,
    /// Deliveries in flight at once on this node.
    pub parallelism: usize,
    /// How long a claim protects a delivery from other workers (longer than any call).
    pub lease: Duration,
    /// The wait after a first failure, doubled at each further one up to `backoff_max`.
    pub backoff_base: Duration,
    pub backoff_max: Duration,
    /// Attempts before a delivery is given up.
    pub max_attempts: i32,
}

impl Default for Settings {
    /// Polls every 5 s; 64 per batch, 8 in flight; a 5-minute lease; retries after 30 s, 1, 2, 4…
    /// minutes up to an hour, 10 attempts in all (about 4 h 15 min).
    fn default() -> Self {
        Settings {
            poll: Duration::from_secs(5),
            batch: 64,
            parallelism: 8,
            lease: Duration::from_secs(300),
            backoff_base: Duration::from_secs(30),
            backoff_max: Duration::from_secs(3600),
            max_attempts: 10,
        }
    }
}

impl Settings {
    /// The wait before attempt `attempts + 1`, after `attempts` failures.
    pub fn backoff(&self, attempts: i32) -> Duration {
        let doublings = u32::try_from(attempts.saturating_sub(1).clamp(0, 30)).unwrap_or(0);
        self.backoff_base
            .saturating_mul(1u32 << doublings)
            .min(self.backoff_max)
    }
}

/// What one run did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunReport {
    /// Events whose deliveries were listed.
    pub events: u64,
    /// Deliveries listed for them.
    pub listed: u64,
    pub delivered: u64,
    pub skipped: u64,
    /// Failed, due again after the backoff.
    pub retried: u64,
    pub gave_up: u64,
    /// Claims another worker took over meanwhile (their lease ran out).
    pub lost: u64,
}

/// What became of one claimed delivery.
enum Done {
    Delivered,
    Skipped,
    Retried,
    GaveUp,
    Lost,
}

/// The delivery worker of one node.
pub struct EventWorker {
    db: Db,
    clock: Clock,
    plugins: Arc<PluginHost>,
    settings: Settings,
}

/// Runs of claim batches at most per [`EventWorker::run_once`], so that one run ends.
const MAX_ROUNDS: u32 = 64;

fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX / 4)
}

impl EventWorker {
    /// A worker delivering through `plugins` (the server's host) with the default settings.
    pub fn new(db: Db, clock: Clock, plugins: Arc<PluginHost>) -> EventWorker {
        EventWorker {
            db,
            clock,
            plugins,
            settings: Settings::default(),
        }
    }

    /// The same with other settings.
    pub fn with_settings(mut self, settings: Settings) -> EventWorker {
        self.settings = settings;
        self
    }

    /// Lists the deliveries of every new event, then delivers what is due (a full batch is
    /// followed by another, within [`MAX_ROUNDS`]).
    pub async fn run_once(&self) -> DbResult<RunReport> {
        let mut report = RunReport::default();
        if !self.db.outbox_has_work(self.clock.now_ms()).await? {
            return Ok(report);
        }
        loop {
            let mut tx = self.db.begin(self.clock.now_ms()).await?;
            let pending = tx.outbox_pending_events(self.settings.batch).await?;
            for event in &pending {
                report.listed += tx.outbox_fan_out(event).await?;
            }
            tx.commit().await?;
            report.events += pending.len() as u64;
            if pending.len() < self.settings.batch as usize {
                break;
            }
        }
        for _ in 0..MAX_ROUNDS {
            let now = self.clock.now_ms();
            let mut tx = self.db.begin(now).await?;
            let claimed = tx
                .outbox_claim(
                    self.settings.batch,
                    now.saturating_add(ms(self.settings.lease)),
                )
                .await?;
            tx.commit().await?;
            let full = claimed.len() == self.settings.batch as usize;
            let results: Vec<DbResult<Done>> = futures_util::stream::iter(claimed)
                .map(|d| self.deliver(d))
                .buffer_unordered(self.settings.parallelism.max(1))
                .collect()
                .await;
            for result in results {
                match result? {
                    Done::Delivered => report.delivered += 1,
                    Done::Skipped => report.skipped += 1,
                    Done::Retried => report.retried += 1,
                    Done::GaveUp => report.gave_up += 1,
                    Done::Lost => report.lost += 1,
                }
            }
            if !full {
                break;
            }
        }
        Ok(report)
    }

    /// Delivers one claimed delivery and records what became of it.
    async fn deliver(&self, d: ClaimedDelivery) -> DbResult<Done> {
        let Some(kind) = EventKind::ALL
            .iter()
            .copied()
            .find(|k| k.as_str() == d.kind)
        else {
            tracing::error!(
                event = d.event_id,
                kind = d.kind,
                "unknown event kind, given up"
            );
            return self
                .finish(
                    &d,
                    Outcome::GaveUp,
                    Some("type d'événement inconnu / unknown kind"),
                )
                .await;
        };
        let enabled = match self
            .plugins
            .enabled_in(&d.establishment_id, Some(&d.plugin))
            .await
        {
            Ok(enabled) => enabled,
            Err(e) => return self.failed(&d, &e.to_string()).await,
        };
        let Some(enabled) = enabled.into_iter().next() else {
            tracing::debug!(
                event = d.event_id,
                plugin = d.plugin,
                "plugin no longer enabled there, delivery skipped"
            );
            return self.finish(&d, Outcome::Skipped, None).await;
        };
        let loaded = match self.plugins.load(&enabled).await {
            Ok(Some(loaded)) => loaded,
            Ok(None) => {
                return self
                    .failed(&d, "aucune version approuvée / no approved version runs")
                    .await;
            }
            Err(e) => return self.failed(&d, &e.to_string()).await,
        };
        let payload = serde_json::from_str(&d.payload).unwrap_or_else(|_| serde_json::json!({}));
        let event = Event {
            kind,
            subject: d.subject.clone(),
            payload,
        };
        let ctx = CallContext::new(d.plugin.clone(), d.uai.clone(), None, d.event_id.clone());
        match self.plugins.event(&loaded, ctx, &event).await {
            Ok(()) => {
                tracing::debug!(
                    event = d.event_id,
                    kind = d.kind,
                    plugin = d.plugin,
                    "event delivered"
                );
                self.finish(&d, Outcome::Delivered, None).await
            }
            Err(e) => self.failed(&d, &e.to_string()).await,
        }
    }

    /// A failed attempt: due again after the backoff, or given up at the cap.
    async fn failed(&self, d: &ClaimedDelivery, error: &str) -> DbResult<Done> {
        let error: String = error.chars().take(500).collect();
        if d.attempts >= self.settings.max_attempts {
            tracing::error!(
                event = d.event_id,
                kind = d.kind,
                plugin = d.plugin,
                attempts = d.attempts,
                error,
                "event delivery given up"
            );
            return self.finish(d, Outcome::GaveUp, Some(&error)).await;
        }
        let wait = self.settings.backoff(d.attempts);
        tracing::warn!(
            event = d.event_id,
            kind = d.kind,
            plugin = d.plugin,
            attempts = d.attempts,
            retry_in = ?wait,
            error,
            "event delivery failed; will retry"
        );
        let next = self.clock.now_ms().saturating_add(ms(wait));
        Ok(
            if self
                .db
                .outbox_retry(&d.event_id, &d.plugin, d.attempts, next, &error)
                .await?
            {
                Done::Retried
            } else {
                Done::Lost
            },
        )
    }

    async fn finish(
        &self,
        d: &ClaimedDelivery,
        outcome: Outcome,
        error: Option<&str>,
    ) -> DbResult<Done> {
        let recorded = self
            .db
            .outbox_finish(
                &d.event_id,
                &d.plugin,
                d.attempts,
                outcome,
                error,
                self.clock.now_ms(),
            )
            .await?;
        Ok(match (recorded, outcome) {
            (false, _) => Done::Lost,
            (true, Outcome::Delivered) => Done::Delivered,
            (true, Outcome::Skipped) => Done::Skipped,
            (true, Outcome::GaveUp) => Done::GaveUp,
        })
    }

    /// Runs for as long as the process lives: a run at start, then one after each wake and at
    /// least every `poll`.
    pub fn spawn(self) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            let mut wakes = outbox::wakes();
            loop {
                match self.run_once().await {
                    Ok(report) if report != RunReport::default() => {
                        tracing::info!(?report, "events delivered");
                    }
                    Ok(_) => {}
                    Err(e) => {
                        tracing::warn!(error = %e, "event delivery failed; retrying at the next poll")
                    }
                }
                tokio::select! {
                    changed = wakes.changed() => {
                        if changed.is_err() {
                            tokio::time::sleep(self.settings.poll).await;
                        }
                    }
                    () = tokio::time::sleep(self.settings.poll) => {}
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_backoff_doubles_up_to_its_cap() {
        let s = Settings::default();
        let secs: Vec<u64> = (1..=9).map(|a| s.backoff(a).as_secs()).collect();
        assert_eq!(secs, [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]);
        assert_eq!(s.backoff(0).as_secs(), 30);
        assert_eq!(s.backoff(i32::MAX).as_secs(), 3600);
    }
}
