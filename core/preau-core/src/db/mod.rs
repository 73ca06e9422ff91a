//! The database: the only module of `preau-core` that writes SQL. It exposes domain operations
//! (establishments, accounts, attachments, classes, calendar…) over one connection pool, on SQLite
//! (the embedded default) or PostgreSQL, chosen from the URL scheme at start-up.
//!
//! Queries are written once, in the portable subset both engines share (`$1` placeholders,
//! `ON CONFLICT`, `RETURNING`), and compiled for each engine through [`run!`]: its body is
//! type-checked twice, once per pool type. Where the dialects differ, a function matches on
//! [`Db::engine`] in plain sight. Column types are portable too (see the first migration).

pub mod accounts;
pub mod auth;
pub mod calendar;
pub mod documents;
pub mod feed_tokens;
pub mod files;
pub mod identity;
pub mod notifications;
pub mod outbox;
pub mod plugins;
pub mod rights;
pub mod tx;

pub use tx::Tx;

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};

use crate::config::DatabaseUrl;

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/postgres");

/// A connection pool on one of the two engines.
#[derive(Clone, Debug)]
pub enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// The database handle every part of the core shares (cheap to clone), with the key activation
/// codes are digested with (kept outside the database: `identity::activation`).
#[derive(Clone, Debug)]
pub struct Db {
    pool: Pool,
    codes: std::sync::Arc<crate::identity::CodeKey>,
}

/// The engine behind a [`Db`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

/// Runs `$body` with `$pool` bound to the concrete pool of `$db`: the body is compiled once per
/// engine, so a query that only one engine understands fails to type-check nowhere but at run time
/// on that engine — the story suite runs on both to catch it.
macro_rules! run {
    ($db:expr, $pool:ident => $body:expr) => {
        match $db.pool() {
            $crate::db::Pool::Sqlite($pool) => $body,
            $crate::db::Pool::Postgres($pool) => $body,
        }
    };
}
pub(crate) use run;

/// Starts a write transaction: `BEGIN IMMEDIATE` on SQLite, so that two writers queue on the
/// busy timeout instead of failing at their first write; a plain `BEGIN` on PostgreSQL.
pub(crate) trait BeginWrite {
    type Database: sqlx::Database;
    fn begin_write(
        &self,
    ) -> impl Future<Output = sqlx::Result<sqlx::Transaction<'static, Self::Database>>> + Send;
}

impl BeginWrite for SqlitePool {
    type Database = sqlx::Sqlite;
    fn begin_write(
        &self,
    ) -> impl Future<Output = sqlx::Result<sqlx::Transaction<'static, sqlx::Sqlite>>> + Send {
        self.begin_with("BEGIN IMMEDIATE")
    }
}

impl BeginWrite for PgPool {
    type Database = sqlx::Postgres;
    fn begin_write(
        &self,
    ) -> impl Future<Output = sqlx::Result<sqlx::Transaction<'static, sqlx::Postgres>>> + Send {
        self.begin()
    }
}

/// Errors of database operations. Domain refusals carry a message for people (French, then English).
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("introuvable / not found: {0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Invalid(String),
    #[error("database error: {0}")]
    Sqlx(#[source] sqlx::Error),
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

impl From<sqlx::Error> for DbError {
    fn from(e: sqlx::Error) -> Self {
        match e {
            sqlx::Error::RowNotFound => DbError::NotFound("ligne / row".into()),
            other => DbError::Sqlx(other),
        }
    }
}

impl DbError {
    /// A failure that the same transaction may not meet again: SQLite busy or locked, a
    /// PostgreSQL deadlock or serialization failure.
    pub fn is_transient(&self) -> bool {
        let DbError::Sqlx(sqlx::Error::Database(e)) = self else {
            return matches!(self, DbError::Sqlx(sqlx::Error::PoolTimedOut));
        };
        matches!(
            e.code().as_deref(),
            Some("5" | "6" | "261" | "517" | "40P01" | "40001")
        )
    }
}

/// Result of database operations.
pub type DbResult<T> = Result<T, DbError>;

/// A new identifier: a UUID v7 (time-ordered, so indexes stay compact), as text.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

impl Db {
    /// Connects to `url` (creating the SQLite file and its directory when missing), with at most
    /// `max_connections` connections; activation codes are digested with `codes`.
    pub async fn connect(
        url: &DatabaseUrl,
        max_connections: u32,
        codes: crate::identity::CodeKey,
    ) -> DbResult<Db> {
        let pool = match url {
            DatabaseUrl::Sqlite(s) => {
                let options = SqliteConnectOptions::from_str(s)?
                    .create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(sqlx::sqlite::SqliteSynchronous::Normal)
                    .busy_timeout(Duration::from_secs(10))
                    .foreign_keys(true);
                if let Some(dir) = options.get_filename().parent()
                    && !dir.as_os_str().is_empty()
                {
                    std::fs::create_dir_all(dir).map_err(|e| {
                        DbError::Invalid(format!(
                            "impossible de créer le dossier de la base / cannot create the database folder {}: {e}",
                            dir.display()
                        ))
                    })?;
                }
                Pool::Sqlite(
                    SqlitePoolOptions::new()
                        .max_connections(max_connections)
                        .connect_with(options)
                        .await?,
                )
            }
            DatabaseUrl::Postgres(s) => {
                let options = PgConnectOptions::from_str(s)?.application_name("preau");
                Pool::Postgres(
                    PgPoolOptions::new()
                        .max_connections(max_connections)
                        .acquire_timeout(Duration::from_secs(10))
                        .connect_with(options)
                        .await?,
                )
            }
        };
        Ok(Db {
            pool,
            codes: std::sync::Arc::new(codes),
        })
    }

    /// The key activation codes are digested with.
    pub fn code_key(&self) -> &crate::identity::CodeKey {
        &self.codes
    }

    /// Applies the migrations of this engine that are not applied yet, then the shipped
    /// calendar data (without overwriting an administrator's corrections).
    pub async fn migrate(&self) -> DbResult<()> {
        match &self.pool {
            Pool::Sqlite(p) => SQLITE_MIGRATIONS.run(p).await?,
            Pool::Postgres(p) => POSTGRES_MIGRATIONS.run(p).await?,
        }
        self.seed_shipped_calendar().await?;
        self.seed_charter().await
    }

    /// The pool, for [`run!`].
    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    /// Which engine this is.
    pub fn engine(&self) -> Engine {
        match self.pool {
            Pool::Sqlite(_) => Engine::Sqlite,
            Pool::Postgres(_) => Engine::Postgres,
        }
    }

    /// Whether the database answers (for `/healthz`).
    pub async fn ping(&self) -> DbResult<()> {
        run!(self, pool => {
            sqlx::query("SELECT 1").execute(pool).await?;
        });
        Ok(())
    }

    /// Refreshes the planner's statistics (`ANALYZE`, on both engines): after a bulk load such as
    /// the demo or a directory import, so that queries get the plans their indexes allow.
    pub async fn analyze(&self) -> DbResult<()> {
        run!(self, pool => {
            sqlx::query("ANALYZE").execute(pool).await?;
        });
        Ok(())
    }

    /// Closes every connection (waits for those in use).
    pub async fn close(&self) {
        run!(self, pool => pool.close().await)
    }
}
