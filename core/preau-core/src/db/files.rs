//! SQL of plugin files: their metadata, the accounts they are about, and the usage counter per
//! scope that quotas are checked against (`store::files` moves the bytes).

use sqlx::FromRow;

use super::tx::{Tx, run_tx};
use super::{Db, DbResult, run};
use crate::store::Scope;

/// A file's metadata row.
#[derive(Debug, Clone, FromRow)]
pub struct FileRow {
    pub path: String,
    pub blob_id: String,
    pub size: i64,
    pub content_type: String,
    pub sha256: String,
    pub created_at: i64,
    pub updated_at: i64,
}

const FILE_COLUMNS: &str = "path, blob_id, size, content_type, sha256, created_at, updated_at";

/// The new row of a file write.
#[derive(Debug)]
pub struct NewFile<'a> {
    pub path: &'a str,
    pub blob_id: &'a str,
    pub size: i64,
    pub content_type: &'a str,
    pub sha256: &'a str,
    pub subjects: &'a [String],
}

impl Db {
    /// One file's metadata.
    pub async fn plugin_file(&self, scope: &Scope, path: &str) -> DbResult<Option<FileRow>> {
        let sql = format!(
            "SELECT {FILE_COLUMNS} FROM plugin_files WHERE plugin = $1 AND establishment_id = $2 AND path = $3"
        );
        Ok(run!(self, pool => {
            sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(scope.plugin.as_str()).bind(&scope.establishment_id).bind(path)
                .fetch_optional(pool).await?
        }))
    }

    /// The contents (blob names) the files of `scope` point to.
    pub async fn plugin_blob_ids(
        &self,
        scope: &Scope,
    ) -> DbResult<std::collections::HashSet<String>> {
        let ids: Vec<String> = run!(self, pool => {
            sqlx::query_scalar(
                "SELECT blob_id FROM plugin_files WHERE plugin = $1 AND establishment_id = $2",
            )
            .bind(scope.plugin.as_str()).bind(&scope.establishment_id)
            .fetch_all(pool).await?
        });
        Ok(ids.into_iter().collect())
    }

    /// Files whose path starts with `prefix`, after `after`, by path.
    pub async fn plugin_files(
        &self,
        scope: &Scope,
        prefix: &str,
        after: Option<&str>,
        limit: u32,
    ) -> DbResult<Vec<FileRow>> {
        // No checked path holds U+10FFFF: every extension of `prefix` sorts below this bound.
        let upper = format!("{prefix}\u{10FFFF}");
        let sql = format!(
            "SELECT {FILE_COLUMNS} FROM plugin_files WHERE plugin = $1 AND establishment_id = $2 \
             AND path >= $3 AND path < $4 AND path > $5 ORDER BY path LIMIT $6"
        );
        Ok(run!(self, pool => {
            sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(scope.plugin.as_str()).bind(&scope.establishment_id).bind(prefix).bind(&upper)
                .bind(after.unwrap_or("")).bind(i64::from(limit))
                .fetch_all(pool).await?
        }))
    }

    /// Bytes and files held by `scope`.
    pub async fn plugin_file_usage(&self, scope: &Scope) -> DbResult<(i64, i64)> {
        Ok(run!(self, pool => {
            sqlx::query_as("SELECT bytes, files FROM plugin_file_usage WHERE plugin = $1 AND establishment_id = $2")
                .bind(scope.plugin.as_str()).bind(&scope.establishment_id)
                .fetch_optional(pool).await?
        })
        .unwrap_or((0, 0)))
    }
}

impl Tx {
    /// Locks the usage row of `scope` (creating it): every file write of a scope goes through it,
    /// so quota checks never race, on either engine.
    pub async fn plugin_lock_file_usage(&mut self, scope: &Scope) -> DbResult<()> {
        run_tx!(self, conn => {
            sqlx::query(
                "INSERT INTO plugin_file_usage (plugin, establishment_id, bytes, files) VALUES ($1, $2, 0, 0) \
                 ON CONFLICT DO NOTHING",
            )
            .bind(scope.plugin.as_str()).bind(&scope.establishment_id)
            .execute(&mut *conn).await?;
            sqlx::query("UPDATE plugin_file_usage SET bytes = bytes WHERE plugin = $1 AND establishment_id = $2")
                .bind(scope.plugin.as_str()).bind(&scope.establishment_id)
                .execute(&mut *conn).await?;
        });
        Ok(())
    }

    /// One file's metadata, inside the transaction.
    pub async fn plugin_file(&mut self, scope: &Scope, path: &str) -> DbResult<Option<FileRow>> {
        let sql = format!(
            "SELECT {FILE_COLUMNS} FROM plugin_files WHERE plugin = $1 AND establishment_id = $2 AND path = $3"
        );
        Ok(run_tx!(self, conn => {
            sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(scope.plugin.as_str()).bind(&scope.establishment_id).bind(path)
                .fetch_optional(&mut *conn).await?
        }))
    }

    /// Adds `bytes` and `files` to the usage of `scope` unless growing bytes would pass `quota`
    /// (shrinking always passes, even over a lowered quota); `false` (nothing written) when they
    /// would.
    pub async fn plugin_add_file_usage(
        &mut self,
        scope: &Scope,
        bytes: i64,
        files: i64,
        quota: i64,
    ) -> DbResult<bool> {
        Ok(run_tx!(self, conn => {
            sqlx::query(
                "UPDATE plugin_file_usage SET bytes = bytes + $3, files = files + $4 \
                 WHERE plugin = $1 AND establishment_id = $2 AND ($3 <= 0 OR bytes + $3 <= $5)",
            )
            .bind(scope.plugin.as_str()).bind(&scope.establishment_id).bind(bytes).bind(files).bind(quota)
            .execute(&mut *conn).await?.rows_affected()
        }) == 1)
    }

    /// Writes a file's row and subjects (replacing those of the same path).
    pub async fn plugin_upsert_file(&mut self, scope: &Scope, file: &NewFile<'_>) -> DbResult<()> {
        let now = self.now_ms;
        self.plugin_delete_file_row(scope, file.path).await?;
        run_tx!(self, conn => {
            sqlx::query(
                "INSERT INTO plugin_files (plugin, establishment_id, path, blob_id, size, content_type, sha256, \
                 created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)",
            )
            .bind(scope.plugin.as_str()).bind(&scope.establishment_id).bind(file.path).bind(file.blob_id)
            .bind(file.size).bind(file.content_type).bind(file.sha256).bind(now)
            .execute(&mut *conn).await?;
            for user in file.subjects {
                sqlx::query(
                    "INSERT INTO plugin_file_subjects (plugin, establishment_id, user_id, path) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT DO NOTHING",
                )
                .bind(scope.plugin.as_str()).bind(&scope.establishment_id).bind(user).bind(file.path)
                .execute(&mut *conn).await?;
            }
        });
        Ok(())
    }

    /// Removes a file's row and subjects (not its usage: the caller adjusts it).
    pub async fn plugin_delete_file_row(&mut self, scope: &Scope, path: &str) -> DbResult<()> {
        run_tx!(self, conn => {
            for table in ["plugin_files", "plugin_file_subjects"] {
                let sql = format!("DELETE FROM {table} WHERE plugin = $1 AND establishment_id = $2 AND path = $3");
                sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(scope.plugin.as_str()).bind(&scope.establishment_id).bind(path)
                    .execute(&mut *conn).await?;
            }
        });
        Ok(())
    }
}

/// A file with the establishment it belongs to.
#[derive(Debug, Clone, FromRow)]
pub struct ScopedFileRow {
    pub establishment_id: String,
    #[sqlx(flatten)]
    pub file: FileRow,
}

impl Db {
    /// Every file of `plugin` that is about `user_id`, in every establishment.
    pub async fn plugin_subject_files(
        &self,
        plugin: &str,
        user_id: &str,
    ) -> DbResult<Vec<ScopedFileRow>> {
        Ok(run!(self, pool => {
            sqlx::query_as(
                "SELECT f.establishment_id, f.path, f.blob_id, f.size, f.content_type, f.sha256, f.created_at, f.updated_at \
                 FROM plugin_file_subjects s JOIN plugin_files f ON f.plugin = s.plugin \
                 AND f.establishment_id = s.establishment_id AND f.path = s.path \
                 WHERE s.plugin = $1 AND s.user_id = $2 ORDER BY f.establishment_id, f.path",
            )
            .bind(plugin).bind(user_id)
            .fetch_all(pool).await?
        }))
    }

    /// How many files `plugin` holds, and their bytes, over every establishment.
    pub async fn plugin_file_totals(&self, plugin: &str) -> DbResult<(i64, i64)> {
        Ok(run!(self, pool => {
            sqlx::query_as(
                "SELECT CAST(COALESCE(SUM(files), 0) AS BIGINT), CAST(COALESCE(SUM(bytes), 0) AS BIGINT) \
                 FROM plugin_file_usage WHERE plugin = $1",
            )
            .bind(plugin)
            .fetch_one(pool).await?
        }))
    }
}
