//! Write transactions: [`Tx`] wraps a transaction on either engine; the domain's write operations
//! are methods on it, so that a caller groups several of them atomically (a directory import, the
//! demo) and commits once.

use super::{BeginWrite, Db, DbResult, Pool};

/// An open write transaction. Dropped without [`Tx::commit`], it rolls back.
///
/// Expected refusals (a duplicate, an unknown reference checked beforehand) are reported as
/// [`super::DbError::Conflict`] or [`super::DbError::Invalid`] *without* failing the transaction,
/// identically on both engines: writes use `ON CONFLICT DO NOTHING` and check what they touched,
/// rather than letting a constraint fail (which aborts a PostgreSQL transaction). After any other
/// error, roll back.
pub struct Tx {
    pub(super) inner: TxInner,
    /// The instant the transaction started, in milliseconds: every row it writes carries it.
    pub(super) now_ms: i64,
    /// The key activation codes are digested with (the [`Db`]'s).
    pub(super) codes: std::sync::Arc<crate::identity::CodeKey>,
}

pub(super) enum TxInner {
    Sqlite(sqlx::Transaction<'static, sqlx::Sqlite>),
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
}

/// Runs `$body` with `$conn` bound to the transaction's concrete connection (compiled once per
/// engine, like [`super::run!`]).
macro_rules! run_tx {
    ($tx:expr, $conn:ident => $body:expr) => {
        match &mut $tx.inner {
            $crate::db::tx::TxInner::Sqlite(t) => {
                let $conn = &mut **t;
                $body
            }
            $crate::db::tx::TxInner::Postgres(t) => {
                let $conn = &mut **t;
                $body
            }
        }
    };
}
pub(crate) use run_tx;

impl Db {
    /// Starts a write transaction; `now_ms` stamps the rows it writes.
    pub async fn begin(&self, now_ms: i64) -> DbResult<Tx> {
        let inner = match self.pool() {
            Pool::Sqlite(p) => TxInner::Sqlite(p.begin_write().await?),
            Pool::Postgres(p) => TxInner::Postgres(p.begin_write().await?),
        };
        Ok(Tx {
            inner,
            now_ms,
            codes: self.codes.clone(),
        })
    }
}

impl Tx {
    /// Makes every write of the transaction durable and visible.
    pub async fn commit(self) -> DbResult<()> {
        match self.inner {
            TxInner::Sqlite(t) => t.commit().await?,
            TxInner::Postgres(t) => t.commit().await?,
        }
        Ok(())
    }

    /// Abandons every write of the transaction.
    pub async fn rollback(self) -> DbResult<()> {
        match self.inner {
            TxInner::Sqlite(t) => t.rollback().await?,
            TxInner::Postgres(t) => t.rollback().await?,
        }
        Ok(())
    }
}
