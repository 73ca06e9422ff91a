//! SQL of the plugin document store (`store::documents` decides; this reads and writes). Every
//! statement starts from the (plugin, establishment) of a [`Scope`], so nothing here can reach
//! another scope's rows.

use sqlx::FromRow;

use super::tx::{Tx, TxInner, run_tx};
use super::{Db, DbResult, run};
use crate::store::Scope;
use crate::store::encoding::{ByteRange, Cursor};

/// A stored document.
#[derive(Debug, Clone, FromRow)]
pub struct DocRow {
    pub collection: String,
    pub doc_key: String,
    pub revision: i64,
    pub body: String,
    pub updated_at: i64,
}

/// A document found through an index, with its entry (for the next cursor).
#[derive(Debug, FromRow)]
pub struct IndexedRow {
    #[sqlx(flatten)]
    pub doc: DocRow,
    pub value: Vec<u8>,
}

/// A PostgreSQL advisory lock key for one of a plugin's locks (`storage`, `lifecycle`): the first
/// 8 bytes of the SHA-256 of `{namespace}:{plugin}`.
pub(super) fn advisory_key(namespace: &str, plugin: &str) -> i64 {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(format!("{namespace}:{plugin}").as_bytes());
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&digest[..8]);
    i64::from_be_bytes(bytes)
}

/// Which way a query reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Ascending,
    Descending,
}

impl Direction {
    fn sql(self) -> (&'static str, &'static str) {
        match self {
            Direction::Ascending => ("ASC", ">"),
            Direction::Descending => ("DESC", "<"),
        }
    }
}

/// The bounds of a query by key: `lower <= key` (or `<`) and so on; `None` is unbounded.
#[derive(Debug, Clone)]
pub struct KeyRange {
    pub lower: std::ops::Bound<String>,
    pub upper: std::ops::Bound<String>,
}

impl Db {
    /// One document, if present.
    pub async fn plugin_document(
        &self,
        scope: &Scope,
        collection: &str,
        key: &str,
    ) -> DbResult<Option<DocRow>> {
        Ok(run!(self, pool => {
            sqlx::query_as(
                "SELECT collection, doc_key, revision, body, updated_at FROM plugin_documents \
                 WHERE plugin = $1 AND establishment_id = $2 AND collection = $3 AND doc_key = $4",
            )
            .bind(scope.plugin.as_str()).bind(&scope.establishment_id).bind(collection).bind(key)
            .fetch_optional(pool).await?
        }))
    }

    /// Up to `limit` documents of `collection` whose entry in `index` lies in `range`, after
    /// `cursor`, ordered by (entry, key).
    #[expect(
        clippy::too_many_arguments,
        reason = "one query, every part of it named"
    )]
    pub async fn plugin_index_query(
        &self,
        scope: &Scope,
        collection: &str,
        index: &str,
        range: &ByteRange,
        cursor: Option<&Cursor>,
        direction: Direction,
        limit: u32,
    ) -> DbResult<Vec<IndexedRow>> {
        let (order, after) = direction.sql();
        Ok(run!(self, pool => {
            let mut q = sqlx::QueryBuilder::new(
                "SELECT d.collection, d.doc_key, d.revision, d.body, d.updated_at, e.value \
                 FROM plugin_index_entries e JOIN plugin_documents d ON d.plugin = e.plugin \
                 AND d.establishment_id = e.establishment_id AND d.collection = e.collection \
                 AND d.doc_key = e.doc_key WHERE e.plugin = ",
            );
            q.push_bind(scope.plugin.as_str());
            q.push(" AND e.establishment_id = ").push_bind(&scope.establishment_id);
            q.push(" AND e.collection = ").push_bind(collection);
            q.push(" AND e.index_name = ").push_bind(index);
            q.push(" AND e.value >= ").push_bind(range.lower.clone());
            if let Some(upper) = &range.upper {
                q.push(" AND e.value < ").push_bind(upper.clone());
            }
            if let Some(c) = cursor {
                q.push(format_args!(" AND (e.value, e.doc_key) {after} ("));
                q.push_bind(c.value.clone()).push(", ").push_bind(c.key.clone()).push(")");
            }
            q.push(format_args!(" ORDER BY e.value {order}, e.doc_key {order} LIMIT "));
            q.push_bind(i64::from(limit));
            q.build_query_as().fetch_all(pool).await?
        }))
    }

    /// Up to `limit` documents of `collection` with keys in `range`, after `cursor`, by key.
    pub async fn plugin_key_query(
        &self,
        scope: &Scope,
        collection: &str,
        range: &KeyRange,
        cursor: Option<&str>,
        direction: Direction,
        limit: u32,
    ) -> DbResult<Vec<DocRow>> {
        use std::ops::Bound;
        let (order, after) = direction.sql();
        Ok(run!(self, pool => {
            let mut q = sqlx::QueryBuilder::new(
                "SELECT collection, doc_key, revision, body, updated_at FROM plugin_documents WHERE plugin = ",
            );
            q.push_bind(scope.plugin.as_str());
            q.push(" AND establishment_id = ").push_bind(&scope.establishment_id);
            q.push(" AND collection = ").push_bind(collection);
            match &range.lower {
                Bound::Included(k) => { q.push(" AND doc_key >= ").push_bind(k.clone()); }
                Bound::Excluded(k) => { q.push(" AND doc_key > ").push_bind(k.clone()); }
                Bound::Unbounded => {}
            }
            match &range.upper {
                Bound::Included(k) => { q.push(" AND doc_key <= ").push_bind(k.clone()); }
                Bound::Excluded(k) => { q.push(" AND doc_key < ").push_bind(k.clone()); }
                Bound::Unbounded => {}
            }
            if let Some(c) = cursor {
                q.push(format_args!(" AND doc_key {after} ")).push_bind(c.to_owned());
            }
            q.push(format_args!(" ORDER BY doc_key {order} LIMIT ")).push_bind(i64::from(limit));
            q.build_query_as().fetch_all(pool).await?
        }))
    }
}

impl Tx {
    fn is_postgres(&self) -> bool {
        matches!(self.inner, TxInner::Postgres(_))
    }

    /// Holds the plugin's storage lock until the end of the transaction: shared by document
    /// transactions, exclusive for an index rebuild, so that a rebuild never interleaves with
    /// writes. On SQLite every write transaction is already exclusive (`BEGIN IMMEDIATE`).
    pub async fn plugin_storage_lock(&mut self, plugin: &str, exclusive: bool) -> DbResult<()> {
        let TxInner::Postgres(t) = &mut self.inner else {
            return Ok(());
        };
        let key = advisory_key("storage", plugin);
        let sql = if exclusive {
            "SELECT pg_advisory_xact_lock($1)"
        } else {
            "SELECT pg_advisory_xact_lock_shared($1)"
        };
        sqlx::query(sql).bind(key).execute(&mut **t).await?;
        Ok(())
    }

    /// The revision of a document, if present; `lock` holds it (PostgreSQL `FOR SHARE`; SQLite's
    /// write transaction already excludes every other writer) until the end of the transaction.
    pub async fn plugin_revision(
        &mut self,
        scope: &Scope,
        collection: &str,
        key: &str,
        lock: bool,
    ) -> DbResult<Option<i64>> {
        let suffix = if lock && self.is_postgres() {
            " FOR SHARE"
        } else {
            ""
        };
        let sql = format!(
            "SELECT revision FROM plugin_documents WHERE plugin = $1 AND establishment_id = $2 \
             AND collection = $3 AND doc_key = $4{suffix}"
        );
        Ok(run_tx!(self, conn => {
            sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
                .bind(scope.plugin.as_str()).bind(&scope.establishment_id).bind(collection).bind(key)
                .fetch_optional(&mut *conn).await?
        }))
    }

    /// Creates a document; `false` when it already exists (nothing written).
    pub async fn plugin_insert_document(
        &mut self,
        scope: &Scope,
        collection: &str,
        key: &str,
        revision: i64,
        body: &str,
    ) -> DbResult<bool> {
        let now = self.now_ms;
        Ok(run_tx!(self, conn => {
            sqlx::query(
                "INSERT INTO plugin_documents (plugin, establishment_id, collection, doc_key, revision, body, size, \
                 created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) ON CONFLICT DO NOTHING",
            )
            .bind(scope.plugin.as_str()).bind(&scope.establishment_id).bind(collection).bind(key)
            .bind(revision).bind(body).bind(body.len() as i64).bind(now)
            .execute(&mut *conn).await?.rows_affected()
        }) == 1)
    }

    /// Writes a document whatever its state.
    pub async fn plugin_upsert_document(
        &mut self,
        scope: &Scope,
        collection: &str,
        key: &str,
        revision: i64,
        body: &str,
    ) -> DbResult<()> {
        let now = self.now_ms;
        run_tx!(self, conn => {
            sqlx::query(
                "INSERT INTO plugin_documents (plugin, establishment_id, collection, doc_key, revision, body, size, \
                 created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) \
                 ON CONFLICT (plugin, establishment_id, collection, doc_key) DO UPDATE SET \
                 revision = excluded.revision, body = excluded.body, size = excluded.size, updated_at = excluded.updated_at",
            )
            .bind(scope.plugin.as_str()).bind(&scope.establishment_id).bind(collection).bind(key)
            .bind(revision).bind(body).bind(body.len() as i64).bind(now)
            .execute(&mut *conn).await?;
        });
        Ok(())
    }

    /// Replaces a document that is at `expected`; `false` when it is not (nothing written).
    pub async fn plugin_update_document(
        &mut self,
        scope: &Scope,
        collection: &str,
        key: &str,
        expected: i64,
        revision: i64,
        body: &str,
    ) -> DbResult<bool> {
        let now = self.now_ms;
        Ok(run_tx!(self, conn => {
            sqlx::query(
                "UPDATE plugin_documents SET revision = $5, body = $6, size = $7, updated_at = $8 \
                 WHERE plugin = $1 AND establishment_id = $2 AND collection = $3 AND doc_key = $4 AND revision = $9",
            )
            .bind(scope.plugin.as_str()).bind(&scope.establishment_id).bind(collection).bind(key)
            .bind(revision).bind(body).bind(body.len() as i64).bind(now).bind(expected)
            .execute(&mut *conn).await?.rows_affected()
        }) == 1)
    }

    /// Deletes a document (only at `expected` when given) with its index entries and subjects;
    /// `false` when nothing matched.
    pub async fn plugin_delete_document(
        &mut self,
        scope: &Scope,
        collection: &str,
        key: &str,
        expected: Option<i64>,
    ) -> DbResult<bool> {
        let deleted = run_tx!(self, conn => {
            sqlx::query(
                "DELETE FROM plugin_documents WHERE plugin = $1 AND establishment_id = $2 AND collection = $3 \
                 AND doc_key = $4 AND ($5 IS NULL OR revision = $5)",
            )
            .bind(scope.plugin.as_str()).bind(&scope.establishment_id).bind(collection).bind(key).bind(expected)
            .execute(&mut *conn).await?.rows_affected()
        }) == 1;
        if deleted {
            self.plugin_clear_document_links(scope, collection, key)
                .await?;
        }
        Ok(deleted)
    }

    /// Removes a document's index entries and subjects (before writing new ones, or on delete).
    pub async fn plugin_clear_document_links(
        &mut self,
        scope: &Scope,
        collection: &str,
        key: &str,
    ) -> DbResult<()> {
        run_tx!(self, conn => {
            for table in ["plugin_index_entries", "plugin_document_subjects"] {
                let sql = format!(
                    "DELETE FROM {table} WHERE plugin = $1 AND establishment_id = $2 AND collection = $3 AND doc_key = $4"
                );
                sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(scope.plugin.as_str()).bind(&scope.establishment_id).bind(collection).bind(key)
                    .execute(&mut *conn).await?;
            }
        });
        Ok(())
    }

    /// Adds a document's index entries in one statement; when a unique index already holds one
    /// of the values for another document, `Err((index, holder))` and nothing is written.
    pub async fn plugin_insert_entries(
        &mut self,
        scope: &Scope,
        collection: &str,
        key: &str,
        entries: &[EntryRow],
    ) -> DbResult<Result<(), (String, String)>> {
        if entries.is_empty() {
            return Ok(Ok(()));
        }
        let inserted = run_tx!(self, conn => {
            let mut q = sqlx::QueryBuilder::new(
                "INSERT INTO plugin_index_entries (plugin, establishment_id, collection, index_name, value, doc_key, \
                 unique_value) ",
            );
            q.push_values(entries, |mut row, (index, value, unique)| {
                row.push_bind(scope.plugin.as_str())
                    .push_bind(scope.establishment_id.as_str())
                    .push_bind(collection)
                    .push_bind(index.as_str())
                    .push_bind(value.as_slice())
                    .push_bind(key)
                    .push_bind(unique.then_some(value.as_slice()));
            });
            q.push(" ON CONFLICT DO NOTHING");
            q.build().execute(&mut *conn).await?.rows_affected()
        });
        if inserted == entries.len() as u64 {
            return Ok(Ok(()));
        }
        // Some value was taken: find which unique index, and who holds it.
        for (index, value, _) in entries.iter().filter(|(_, _, unique)| *unique) {
            let holder: Option<String> = run_tx!(self, conn => {
                sqlx::query_scalar(
                    "SELECT doc_key FROM plugin_index_entries WHERE plugin = $1 AND establishment_id = $2 \
                     AND collection = $3 AND index_name = $4 AND unique_value = $5",
                )
                .bind(scope.plugin.as_str()).bind(&scope.establishment_id).bind(collection).bind(index).bind(value)
                .fetch_optional(&mut *conn).await?
            });
            if let Some(holder) = holder.filter(|h| h != key) {
                return Ok(Err((index.clone(), holder)));
            }
        }
        // The holder went away between the two statements: still a lost race on a unique value.
        let index = entries
            .iter()
            .find(|(_, _, unique)| *unique)
            .map_or_else(String::new, |(index, _, _)| index.clone());
        Ok(Err((index, String::new())))
    }

    /// Records the accounts a document is about, in one statement.
    pub async fn plugin_insert_subjects(
        &mut self,
        scope: &Scope,
        collection: &str,
        key: &str,
        subjects: &[String],
    ) -> DbResult<()> {
        if subjects.is_empty() {
            return Ok(());
        }
        run_tx!(self, conn => {
            let mut q = sqlx::QueryBuilder::new(
                "INSERT INTO plugin_document_subjects (plugin, establishment_id, user_id, collection, doc_key) ",
            );
            q.push_values(subjects, |mut row, user| {
                row.push_bind(scope.plugin.as_str())
                    .push_bind(scope.establishment_id.as_str())
                    .push_bind(user.as_str())
                    .push_bind(collection)
                    .push_bind(key);
            });
            q.push(" ON CONFLICT DO NOTHING");
            q.build().execute(&mut *conn).await?;
        });
        Ok(())
    }
}

/// One index entry of a document: (index name, encoded value, unique).
pub type EntryRow = (String, Vec<u8>, bool);

/// A document with the establishment it belongs to (for privacy exports and index rebuilds,
/// which span a plugin's establishments).
#[derive(Debug, Clone, FromRow)]
pub struct ScopedDocRow {
    pub establishment_id: String,
    #[sqlx(flatten)]
    pub doc: DocRow,
}

impl Db {
    /// Every document of `plugin` that is about `user_id`, in every establishment.
    pub async fn plugin_subject_documents(
        &self,
        plugin: &str,
        user_id: &str,
    ) -> DbResult<Vec<ScopedDocRow>> {
        Ok(run!(self, pool => {
            sqlx::query_as(
                "SELECT d.establishment_id, d.collection, d.doc_key, d.revision, d.body, d.updated_at \
                 FROM plugin_document_subjects s JOIN plugin_documents d ON d.plugin = s.plugin \
                 AND d.establishment_id = s.establishment_id AND d.collection = s.collection AND d.doc_key = s.doc_key \
                 WHERE s.plugin = $1 AND s.user_id = $2 ORDER BY d.establishment_id, d.collection, d.doc_key",
            )
            .bind(plugin).bind(user_id)
            .fetch_all(pool).await?
        }))
    }

    /// How many documents `plugin` holds, and their bytes, over every establishment.
    pub async fn plugin_document_totals(&self, plugin: &str) -> DbResult<(i64, i64)> {
        Ok(run!(self, pool => {
            sqlx::query_as(
                "SELECT COUNT(*), CAST(COALESCE(SUM(size), 0) AS BIGINT) FROM plugin_documents WHERE plugin = $1",
            )
            .bind(plugin)
            .fetch_one(pool).await?
        }))
    }
}

impl Tx {
    /// The definitions the indexes of `plugin` were built with: (collection, index, definition).
    pub async fn plugin_index_definitions(
        &mut self,
        plugin: &str,
    ) -> DbResult<Vec<(String, String, String)>> {
        Ok(run_tx!(self, conn => {
            sqlx::query_as("SELECT collection, index_name, definition FROM plugin_indexes WHERE plugin = $1")
                .bind(plugin)
                .fetch_all(&mut *conn).await?
        }))
    }

    /// Forgets an index of `plugin` in every establishment: its entries and its definition.
    pub async fn plugin_drop_index(
        &mut self,
        plugin: &str,
        collection: &str,
        index: &str,
    ) -> DbResult<()> {
        run_tx!(self, conn => {
            for table in ["plugin_index_entries", "plugin_indexes"] {
                let sql = format!("DELETE FROM {table} WHERE plugin = $1 AND collection = $2 AND index_name = $3");
                sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(plugin).bind(collection).bind(index)
                    .execute(&mut *conn).await?;
            }
        });
        Ok(())
    }

    /// Records the definition an index was just built with.
    pub async fn plugin_set_index_definition(
        &mut self,
        plugin: &str,
        collection: &str,
        index: &str,
        definition: &str,
    ) -> DbResult<()> {
        run_tx!(self, conn => {
            sqlx::query(
                "INSERT INTO plugin_indexes (plugin, collection, index_name, definition) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (plugin, collection, index_name) DO UPDATE SET definition = excluded.definition",
            )
            .bind(plugin).bind(collection).bind(index).bind(definition)
            .execute(&mut *conn).await?;
        });
        Ok(())
    }

    /// Up to `limit` documents of `collection` of `plugin`, in every establishment, after
    /// (`after_establishment`, `after_key`): the pages of an index rebuild.
    pub async fn plugin_collection_page(
        &mut self,
        plugin: &str,
        collection: &str,
        after: (&str, &str),
        limit: i64,
    ) -> DbResult<Vec<ScopedDocRow>> {
        Ok(run_tx!(self, conn => {
            sqlx::query_as(
                "SELECT establishment_id, collection, doc_key, revision, body, updated_at FROM plugin_documents \
                 WHERE plugin = $1 AND collection = $2 AND (establishment_id, doc_key) > ($3, $4) \
                 ORDER BY establishment_id, doc_key LIMIT $5",
            )
            .bind(plugin).bind(collection).bind(after.0).bind(after.1).bind(limit)
            .fetch_all(&mut *conn).await?
        }))
    }

    /// Deletes, in every establishment, the documents of `plugin` that list `user_id` among
    /// their subjects, with their index entries and subjects; (documents, bytes) deleted.
    pub async fn plugin_delete_subject_documents(
        &mut self,
        plugin: &str,
        user_id: &str,
    ) -> DbResult<(i64, i64)> {
        const OF_USER: &str = "(plugin, establishment_id, collection, doc_key) IN (SELECT plugin, establishment_id, \
             collection, doc_key FROM plugin_document_subjects WHERE plugin = $1 AND user_id = $2)";
        Ok(run_tx!(self, conn => {
            let totals: (i64, i64) = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT COUNT(*), CAST(COALESCE(SUM(size), 0) AS BIGINT) FROM plugin_documents WHERE {OF_USER}"
            )))
            .bind(plugin).bind(user_id)
            .fetch_one(&mut *conn).await?;
            // The subjects table goes last: the others are found through it.
            for table in ["plugin_index_entries", "plugin_documents", "plugin_document_subjects"] {
                sqlx::query(sqlx::AssertSqlSafe(format!("DELETE FROM {table} WHERE {OF_USER}")))
                    .bind(plugin).bind(user_id)
                    .execute(&mut *conn).await?;
            }
            totals
        }))
    }

    /// Deletes every row `plugin` holds in the storage tables (documents and file metadata);
    /// the caller removes the file blobs.
    pub async fn plugin_purge(&mut self, plugin: &str) -> DbResult<()> {
        run_tx!(self, conn => {
            for table in [
                "plugin_index_entries", "plugin_document_subjects", "plugin_documents", "plugin_indexes",
                "plugin_file_subjects", "plugin_files", "plugin_file_usage",
            ] {
                let sql = format!("DELETE FROM {table} WHERE plugin = $1");
                sqlx::query(sqlx::AssertSqlSafe(sql)).bind(plugin).execute(&mut *conn).await?;
            }
        });
        Ok(())
    }
}
