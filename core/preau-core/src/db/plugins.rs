//! SQL of the plugin lifecycle: installed versions, enablements per establishment, and the
//! lifecycle journal (`plugins::lifecycle` decides; this module only reads and writes rows).
//! Every change is a [`Tx`] method, so that a command re-reads, checks, changes and journals in
//! one transaction under the plugin's lifecycle lock.

use sqlx::FromRow;

use super::tx::{Tx, TxInner, run_tx};
use super::{Db, DbResult, run};

/// Inserts `$journal` through `$conn` (a connection or transaction of either engine).
macro_rules! journal_insert {
    ($conn:expr, $journal:expr) => {{
        let j: &JournalEntry<'_> = $journal;
        sqlx::query(
            "INSERT INTO plugin_journal (at, actor, action, plugin, version, establishment_id, detail) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(j.at).bind(j.actor).bind(j.action.as_str()).bind(j.plugin)
        .bind(j.version).bind(j.establishment_id).bind(j.detail)
        .execute($conn).await?;
    }};
}

/// One installed version of a plugin.
#[derive(Debug, Clone, FromRow)]
pub struct InstallRow {
    pub plugin: String,
    pub version: String,
    pub package_sha256: String,
    pub package_size: i64,
    pub component_sha256: String,
    pub capabilities_digest: String,
    pub manifest: String,
    pub signed_by: Option<String>,
    pub installed_by: String,
    pub installed_at: i64,
}

const INSTALL_COLUMNS: &str = "plugin, version, package_sha256, package_size, component_sha256, \
    capabilities_digest, manifest, signed_by, installed_by, installed_at";

/// An installed version, without its manifest: what choosing the version to run needs.
#[derive(Debug, Clone, FromRow)]
pub struct VersionRow {
    pub plugin: String,
    pub version: String,
    pub package_sha256: String,
    pub capabilities_digest: String,
}

/// A plugin enabled in an establishment.
#[derive(Debug, Clone, FromRow)]
pub struct EnablementRow {
    pub plugin: String,
    pub establishment_id: String,
    pub uai: String,
    pub approved_digest: String,
    pub pinned_version: Option<String>,
    pub approved_by: String,
    pub approved_at: i64,
}

/// The installed versions of one plugin (`$1`), oldest first.
fn versions_of() -> String {
    format!(
        "SELECT {INSTALL_COLUMNS} FROM plugin_installs WHERE plugin = $1 ORDER BY installed_at, version"
    )
}

const ENABLEMENT_SELECT: &str = "SELECT e.plugin, e.establishment_id, s.uai, e.approved_digest, \
    e.pinned_version, e.approved_by, e.approved_at \
    FROM plugin_enablements e JOIN establishments s ON s.id = e.establishment_id";

/// One line of the lifecycle journal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JournalAction {
    Install,
    InstallUnsigned,
    Remove,
    Purge,
    Enable,
    Disable,
}

impl JournalAction {
    fn as_str(self) -> &'static str {
        match self {
            JournalAction::Install => "install",
            JournalAction::InstallUnsigned => "install_unsigned",
            JournalAction::Remove => "remove",
            JournalAction::Purge => "purge",
            JournalAction::Enable => "enable",
            JournalAction::Disable => "disable",
        }
    }
}

/// What a journal line records.
#[derive(Debug)]
pub struct JournalEntry<'a> {
    pub at: i64,
    pub actor: &'a str,
    pub action: JournalAction,
    pub plugin: &'a str,
    pub version: Option<&'a str>,
    pub establishment_id: Option<&'a str>,
    pub detail: &'a str,
}

/// A journal line as read back.
#[derive(Debug, Clone, FromRow)]
pub struct JournalRow {
    pub at: i64,
    pub actor: String,
    pub action: String,
    pub plugin: String,
    pub version: Option<String>,
    pub establishment_id: Option<String>,
    pub detail: String,
}

impl Db {
    /// Every installed version, by plugin then installation time.
    pub async fn plugin_installs(&self) -> DbResult<Vec<InstallRow>> {
        let sql = format!(
            "SELECT {INSTALL_COLUMNS} FROM plugin_installs ORDER BY plugin, installed_at, version"
        );
        Ok(run!(self, pool => {
            sqlx::query_as(sqlx::AssertSqlSafe(sql)).fetch_all(pool).await?
        }))
    }

    /// The installed versions of one plugin.
    pub async fn plugin_versions(&self, plugin: &str) -> DbResult<Vec<InstallRow>> {
        Ok(run!(self, pool => {
            sqlx::query_as(sqlx::AssertSqlSafe(versions_of())).bind(plugin).fetch_all(pool).await?
        }))
    }

    /// Every enablement, with the establishment's UAI.
    pub async fn plugin_enablements(&self) -> DbResult<Vec<EnablementRow>> {
        let sql = format!("{ENABLEMENT_SELECT} ORDER BY e.plugin, s.uai");
        Ok(run!(self, pool => {
            sqlx::query_as(sqlx::AssertSqlSafe(sql)).fetch_all(pool).await?
        }))
    }

    /// The enablements of one plugin.
    pub async fn plugin_enablements_of(&self, plugin: &str) -> DbResult<Vec<EnablementRow>> {
        let sql = format!("{ENABLEMENT_SELECT} WHERE e.plugin = $1 ORDER BY s.uai");
        Ok(run!(self, pool => {
            sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(plugin).fetch_all(pool).await?
        }))
    }

    /// What may run in an establishment (one plugin, or all): its enablements, and the installed
    /// versions of those plugins (without their manifests). Two reads, no transaction: a
    /// lifecycle command committing in between is seen on the next request.
    pub async fn plugins_enabled_in(
        &self,
        establishment_id: &str,
        plugin: Option<&str>,
    ) -> DbResult<(Vec<EnablementRow>, Vec<VersionRow>)> {
        // `$2` is '' for every plugin (PostgreSQL types it from `e.plugin = $2`).
        let enablements = format!(
            "{ENABLEMENT_SELECT} WHERE e.establishment_id = $1 AND ($2 = '' OR e.plugin = $2) \
             ORDER BY e.plugin"
        );
        let versions = "SELECT i.plugin, i.version, i.package_sha256, i.capabilities_digest \
             FROM plugin_installs i JOIN plugin_enablements e ON e.plugin = i.plugin \
             WHERE e.establishment_id = $1 AND ($2 = '' OR e.plugin = $2) \
             ORDER BY i.plugin, i.installed_at";
        let plugin = plugin.unwrap_or_default();
        Ok(run!(self, pool => {
            let e: Vec<EnablementRow> = sqlx::query_as(sqlx::AssertSqlSafe(enablements))
                .bind(establishment_id).bind(plugin).fetch_all(pool).await?;
            let v: Vec<VersionRow> = sqlx::query_as(versions)
                .bind(establishment_id).bind(plugin).fetch_all(pool).await?;
            (e, v)
        }))
    }

    /// The journal of one plugin, oldest first.
    pub async fn plugin_journal(&self, plugin: &str) -> DbResult<Vec<JournalRow>> {
        Ok(run!(self, pool => {
            sqlx::query_as(
                "SELECT at, actor, action, plugin, version, establishment_id, detail \
                 FROM plugin_journal WHERE plugin = $1 ORDER BY id",
            )
            .bind(plugin).fetch_all(pool).await?
        }))
    }
}

impl Tx {
    /// Serializes the lifecycle commands of one plugin until the end of the transaction (a
    /// PostgreSQL advisory lock; on SQLite every write transaction is already exclusive).
    pub async fn plugin_lifecycle_lock(&mut self, plugin: &str) -> DbResult<()> {
        let TxInner::Postgres(t) = &mut self.inner else {
            return Ok(());
        };
        let key = super::documents::advisory_key("lifecycle", plugin);
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(key)
            .execute(&mut **t)
            .await?;
        Ok(())
    }

    /// The installed versions of one plugin, as this transaction sees them.
    pub async fn plugin_versions(&mut self, plugin: &str) -> DbResult<Vec<InstallRow>> {
        Ok(run_tx!(self, conn => {
            sqlx::query_as(sqlx::AssertSqlSafe(versions_of())).bind(plugin).fetch_all(&mut *conn).await?
        }))
    }

    /// The enablements of one plugin, as this transaction sees them.
    pub async fn plugin_enablements_of(&mut self, plugin: &str) -> DbResult<Vec<EnablementRow>> {
        let sql = format!("{ENABLEMENT_SELECT} WHERE e.plugin = $1 ORDER BY s.uai");
        Ok(run_tx!(self, conn => {
            sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(plugin).fetch_all(&mut *conn).await?
        }))
    }

    /// Records an installed version; `false` when this (plugin, version) is already installed
    /// (nothing written then).
    pub async fn insert_plugin_install(&mut self, row: &InstallRow) -> DbResult<bool> {
        let insert = format!(
            "INSERT INTO plugin_installs ({INSTALL_COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING"
        );
        Ok(run_tx!(self, conn => {
            sqlx::query(sqlx::AssertSqlSafe(insert))
                .bind(&row.plugin).bind(&row.version).bind(&row.package_sha256)
                .bind(row.package_size).bind(&row.component_sha256)
                .bind(&row.capabilities_digest).bind(&row.manifest).bind(&row.signed_by)
                .bind(&row.installed_by).bind(row.installed_at)
                .execute(&mut *conn).await?.rows_affected() == 1
        }))
    }

    /// Deletes an installed version; whether it was there.
    pub async fn delete_plugin_install(&mut self, plugin: &str, version: &str) -> DbResult<bool> {
        Ok(run_tx!(self, conn => {
            sqlx::query("DELETE FROM plugin_installs WHERE plugin = $1 AND version = $2")
                .bind(plugin).bind(version)
                .execute(&mut *conn).await?.rows_affected() == 1
        }))
    }

    /// Enables a plugin in an establishment, or replaces what was approved there.
    pub async fn upsert_plugin_enablement(&mut self, row: &EnablementRow) -> DbResult<()> {
        run_tx!(self, conn => {
            sqlx::query(
                "INSERT INTO plugin_enablements \
                 (plugin, establishment_id, approved_digest, pinned_version, approved_by, approved_at) \
                 VALUES ($1, $2, $3, $4, $5, $6) \
                 ON CONFLICT (plugin, establishment_id) DO UPDATE SET \
                 approved_digest = excluded.approved_digest, pinned_version = excluded.pinned_version, \
                 approved_by = excluded.approved_by, approved_at = excluded.approved_at",
            )
            .bind(&row.plugin).bind(&row.establishment_id).bind(&row.approved_digest)
            .bind(&row.pinned_version).bind(&row.approved_by).bind(row.approved_at)
            .execute(&mut *conn).await?;
        });
        Ok(())
    }

    /// Disables a plugin in an establishment; whether it was enabled there.
    pub async fn delete_plugin_enablement(
        &mut self,
        plugin: &str,
        establishment_id: &str,
    ) -> DbResult<bool> {
        Ok(run_tx!(self, conn => {
            sqlx::query("DELETE FROM plugin_enablements WHERE plugin = $1 AND establishment_id = $2")
                .bind(plugin).bind(establishment_id)
                .execute(&mut *conn).await?.rows_affected() == 1
        }))
    }

    /// Writes one journal line.
    pub async fn plugin_journal_append(&mut self, journal: &JournalEntry<'_>) -> DbResult<()> {
        run_tx!(self, conn => {
            journal_insert!(&mut *conn, journal);
        });
        Ok(())
    }
}
