//! Periodic housekeeping that `preau serve` runs every hour: ended sessions, connection traces
//! past their retention, accounts departed for longer than the configured delay (CNIL limits,
//! see `config.rs`), used or expired one-time tokens, delivered events, plugin file contents
//! nothing references (`store::sweep`); and the school-year rollover, announced to plugins by the
//! first run in a new school year (1 August). Several nodes may run it at once: every purge is
//! an idempotent `DELETE`; a departed account is erased through
//! `privacy::erase_account` (every plugin's `user-data.delete`, then its documents and files,
//! then the account), and one a plugin failed to forget stays for the next run, for
//! [`ERASURE_GRACE`] at most from the first failure: then the core erases what it holds without
//! that plugin.

use std::sync::Arc;
use std::time::Duration;

use crate::clock::Clock;
use crate::config::Config;
use crate::db::{Db, DbResult};
use crate::plugins::host::PluginHost;
use crate::privacy::OnHookFailure;

/// How often the purges run.
pub const EVERY: Duration = Duration::from_secs(3600);

/// What one run removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PurgeReport {
    pub sessions: u64,
    pub traces: u64,
    pub departed_users: u64,
    pub tokens: u64,
    /// Departed accounts due but kept for the next run (a plugin did not forget them).
    pub erasures_deferred: u64,
    /// Of `departed_users`, those erased past [`ERASURE_GRACE`] although a plugin still failed
    /// to forget them (logged as errors, naming the plugins).
    pub erasures_forced: u64,
    /// Events whose deliveries all ended, past [`EVENTS_KEPT`].
    pub events: u64,
    /// Plugin file contents no file referenced, last written [`ORPHANS_AFTER`] ago
    /// (`store::sweep`), and their bytes.
    pub orphan_files: u64,
    pub orphan_bytes: u64,
    /// `school-year.started` events enqueued: the run that first sees a new school year
    /// ([`crate::db::tx::Tx::record_school_year`]) announces it.
    pub school_year_events: u64,
}

/// How long an erasure put off because a plugin fails to forget the person (a package missing
/// on this node, a plugin's bug) waits, from the first time it was put off, before the core
/// erases what it holds without that plugin.
pub const ERASURE_GRACE: Duration = Duration::from_secs(7 * 24 * 3600);

/// How long a plugin file content nothing references is left before the sweep removes it
/// (far longer than any upload takes between its last write and its commit).
pub const ORPHANS_AFTER: Duration = Duration::from_secs(3600);

/// How long an event is kept once every delivery of it ended (for inspection).
pub const EVENTS_KEPT: Duration = Duration::from_secs(7 * 24 * 3600);

fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX / 2)
}

/// Runs every purge once, as of the clock's now, reaching the plugins through a host of its
/// own (its runtime starts only if a departed account concerns an installed plugin).
pub async fn run_purges(db: &Db, clock: &Clock, config: &Config) -> DbResult<PurgeReport> {
    let plugins = PluginHost::new(db.clone(), *clock, &config.data_dir, config.plugins.clone());
    run_purges_with(db, clock, config, &plugins).await
}

/// Runs every purge once, as of the clock's now, reaching the plugins through `plugins`.
pub async fn run_purges_with(
    db: &Db,
    clock: &Clock,
    config: &Config,
    plugins: &PluginHost,
) -> DbResult<PurgeReport> {
    let now = clock.now_ms();
    let mut report = PurgeReport {
        sessions: db
            .purge_sessions(now, ms(config.sessions.idle_timeout))
            .await?,
        traces: db
            .purge_traces(now - ms(config.retention.connection_traces))
            .await?,
        tokens: db.purge_one_time_tokens(now).await?,
        events: db.purge_events(now - ms(EVENTS_KEPT)).await?,
        ..PurgeReport::default()
    };
    let mut tx = db.begin(now).await?;
    report.school_year_events = tx
        .record_school_year(&crate::calendar::school_year_id(clock.today()))
        .await?;
    tx.commit().await?;
    if report.school_year_events > 0 {
        crate::db::outbox::wake();
    }
    match plugins.storage().sweep_orphans(ORPHANS_AFTER).await {
        Ok(swept) => (report.orphan_files, report.orphan_bytes) = (swept.files, swept.bytes),
        Err(e) => {
            tracing::warn!(error = %e, "sweep of orphan plugin files failed; retried at the next run")
        }
    }
    let (due, grace_over) = (
        now - ms(config.retention.departed_users),
        now - ms(ERASURE_GRACE),
    );
    for (user_id, deferred_since) in db.departed_users_before(due).await? {
        let on_failure = match deferred_since {
            Some(since) if since < grace_over => OnHookFailure::EraseAnyway,
            _ => OnHookFailure::Defer,
        };
        match crate::privacy::erase_account(db, clock, plugins, &user_id, on_failure).await {
            Ok(erased) if !erased.hooks_failed.is_empty() => {
                report.departed_users += 1;
                report.erasures_forced += 1;
                tracing::error!(
                    user = user_id,
                    plugins = erased.hooks_failed.join("; "),
                    "departed account erased without these plugins' own deletion, overdue by \
                     the grace period"
                );
            }
            Ok(erased) => {
                report.departed_users += 1;
                tracing::info!(user = user_id, ?erased, "departed account erased");
            }
            Err(e) => {
                report.erasures_deferred += 1;
                db.record_erasure_deferred(&user_id, now).await?;
                tracing::warn!(user = user_id, error = %e, "departed account kept; erasure retried at the next run");
            }
        }
    }
    Ok(report)
}

/// Runs the purges now and then every [`EVERY`], for as long as the process lives.
pub fn spawn_periodic(
    db: Db,
    clock: Clock,
    config: Arc<Config>,
    plugins: Arc<PluginHost>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(EVERY);
        loop {
            tick.tick().await;
            match run_purges_with(&db, &clock, &config, &plugins).await {
                Ok(report) => tracing::info!(?report, "purges done"),
                Err(e) => tracing::warn!(error = %e, "purges failed; retrying at the next tick"),
            }
        }
    })
}
