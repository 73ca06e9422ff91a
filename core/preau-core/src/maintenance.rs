//! Periodic housekeeping that `preau serve` runs every hour: ended sessions, connection traces
//! past their retention, accounts departed for longer than the configured delay (CNIL limits,
//! see `config.rs`), used or expired one-time tokens. Several nodes may run it at once: every
//! purge is a single idempotent `DELETE`.

use std::sync::Arc;
use std::time::Duration;

use crate::clock::Clock;
use crate::config::Config;
use crate::db::{Db, DbResult};

/// How often the purges run.
pub const EVERY: Duration = Duration::from_secs(3600);

/// What one run removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PurgeReport {
    pub sessions: u64,
    pub traces: u64,
    pub departed_users: u64,
    pub tokens: u64,
}

fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX / 2)
}

/// Runs every purge once, as of the clock's now.
pub async fn run_purges(db: &Db, clock: &Clock, config: &Config) -> DbResult<PurgeReport> {
    let now = clock.now_ms();
    Ok(PurgeReport {
        sessions: db
            .purge_sessions(now, ms(config.sessions.idle_timeout))
            .await?,
        traces: db
            .purge_traces(now - ms(config.retention.connection_traces))
            .await?,
        departed_users: db
            .purge_departed_users(now - ms(config.retention.departed_users))
            .await?,
        tokens: db.purge_one_time_tokens(now).await?,
    })
}

/// Runs the purges now and then every [`EVERY`], for as long as the process lives.
pub fn spawn_periodic(db: Db, clock: Clock, config: Arc<Config>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(EVERY);
        loop {
            tick.tick().await;
            match run_purges(&db, &clock, &config).await {
                Ok(report) => tracing::info!(?report, "purges done"),
                Err(e) => tracing::warn!(error = %e, "purges failed; retrying at the next tick"),
            }
        }
    })
}
