//! The document store a plugin sees: get, query by index or key with cursor pagination, and
//! atomic transactions whose operations may carry preconditions.
//!
//! Optimistic concurrency is built from conditional statements that both engines make atomic on
//! their own — `INSERT … ON CONFLICT DO NOTHING` for "absent", `UPDATE/DELETE … WHERE revision = r`
//! for "at revision r" — checked through the rows they touched, so a lost race is a typed
//! [`Conflict`] and never a failed statement. Operations are applied in (collection, key) order so
//! that two transactions lock shared documents in the same order; a transaction that meets a
//! transient failure (SQLite busy, PostgreSQL deadlock) is retried a bounded number of times.
//!
//! The guard pattern (DESIGN: two bookings of one slot, exactly one wins): a booking transaction
//! also writes one guard document per (resource, day) with a precondition on the revision it read,
//! so two bookings that touch the same day cannot both commit, whatever their own keys.

use std::ops::Bound;
use std::time::Duration;

use rand::RngExt;

use super::encoding::{Cursor, IndexValue, entry_value, index_range};
use super::spec::{CollectionSpec, StoreSpec};
use super::{
    Conflict, DEFAULT_PAGE_SIZE, Limits, MAX_KEY_BYTES, MAX_OPS_PER_TRANSACTION, MAX_PAGE_SIZE,
    PluginStorage, Revision, Scope, StoreError, StoreResult,
};
use crate::db::documents::{Direction, DocRow, EntryRow, KeyRange};

/// Most bytes of documents one transaction writes.
pub const MAX_TRANSACTION_BYTES: usize = 8 * 1024 * 1024;

/// Attempts of a transaction that meets a transient failure (SQLite busy, PostgreSQL deadlock).
pub const MAX_ATTEMPTS: u32 = 5;

/// A document as the plugin reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    pub collection: String,
    pub key: String,
    pub revision: Revision,
    /// A JSON object, as text.
    pub body: String,
    /// When it was last written, in milliseconds since the epoch.
    pub updated_at: i64,
}

impl Document {
    /// The body, parsed.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or(serde_json::Value::Null)
    }
}

impl From<DocRow> for Document {
    fn from(r: DocRow) -> Self {
        Document {
            collection: r.collection,
            key: r.doc_key,
            revision: Revision(r.revision.cast_unsigned()),
            body: r.body,
            updated_at: r.updated_at,
        }
    }
}

/// What a write requires of the document's current state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precondition {
    /// The document does not exist (creation).
    Absent,
    /// The document exists at this revision (update after a read).
    Revision(Revision),
}

/// One operation of a transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WriteOp {
    /// Creates or replaces a document. `subjects` are the accounts it is about (ids): what the
    /// export and deletion of a person's data reach.
    Put {
        collection: String,
        key: String,
        body: String,
        subjects: Vec<String>,
        precondition: Option<Precondition>,
    },
    /// Deletes a document (if at `revision`, when given).
    Delete {
        collection: String,
        key: String,
        revision: Option<Revision>,
    },
    /// Writes nothing, but fails the transaction unless the document is at `revision` (it stays
    /// so until the transaction ends).
    Require {
        collection: String,
        key: String,
        revision: Revision,
    },
}

impl WriteOp {
    fn target(&self) -> (&str, &str) {
        match self {
            WriteOp::Put {
                collection, key, ..
            }
            | WriteOp::Delete {
                collection, key, ..
            }
            | WriteOp::Require {
                collection, key, ..
            } => (collection, key),
        }
    }
}

/// What each operation did, in the order of the transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The document's new revision.
    Written(Revision),
    /// Whether there was a document to delete.
    Deleted(bool),
    Checked,
}

/// A query: by an index (equality on its first fields, then a range on the next), or by key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    pub collection: String,
    /// `None`: by key (then `equals` must be empty and bounds are strings).
    pub index: Option<String>,
    pub equals: Vec<IndexValue>,
    pub lower: Bound<IndexValue>,
    pub upper: Bound<IndexValue>,
    pub descending: bool,
    /// At most [`MAX_PAGE_SIZE`]; [`DEFAULT_PAGE_SIZE`] when `None`.
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

impl Query {
    /// Every document of `collection`, by key.
    pub fn all(collection: &str) -> Query {
        Query {
            collection: collection.to_owned(),
            index: None,
            equals: Vec::new(),
            lower: Bound::Unbounded,
            upper: Bound::Unbounded,
            descending: false,
            limit: None,
            cursor: None,
        }
    }

    /// Documents of `collection` through `index`, all of them until narrowed.
    pub fn index(collection: &str, index: &str) -> Query {
        Query {
            index: Some(index.to_owned()),
            ..Query::all(collection)
        }
    }
}

/// One page of results.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    pub documents: Vec<Document>,
    /// Present when more documents follow.
    pub next_cursor: Option<String>,
}

/// A plugin's documents in one establishment: what the host hands the plugin's calls.
#[derive(Debug, Clone, Copy)]
pub struct Documents<'a> {
    storage: &'a PluginStorage,
    scope: &'a Scope,
    spec: &'a StoreSpec,
    limits: Limits,
}

impl PluginStorage {
    /// The documents of `scope`, as declared in `spec`, within `limits`.
    pub fn documents<'a>(
        &'a self,
        scope: &'a Scope,
        spec: &'a StoreSpec,
        limits: Limits,
    ) -> Documents<'a> {
        Documents {
            storage: self,
            scope,
            spec,
            limits,
        }
    }
}

/// A put, checked and with its index entries computed, ready to apply.
struct PreparedPut {
    body: String,
    subjects: Vec<String>,
    entries: Vec<EntryRow>,
}

impl Documents<'_> {
    /// One document, if present.
    pub async fn get(&self, collection: &str, key: &str) -> StoreResult<Option<Document>> {
        self.spec.collection(collection)?;
        check_key(key, "key")?;
        Ok(self
            .storage
            .db
            .plugin_document(self.scope, collection, key)
            .await?
            .map(Document::from))
    }

    /// One page of the documents `query` selects.
    pub async fn query(&self, query: &Query) -> StoreResult<Page> {
        let collection = self.spec.collection(&query.collection)?;
        let limit = match query.limit {
            None => DEFAULT_PAGE_SIZE,
            Some(n) if (1..=MAX_PAGE_SIZE).contains(&n) => n,
            Some(_) => {
                return Err(StoreError::invalid(
                    "query.limit",
                    format!("entre 1 et {MAX_PAGE_SIZE} / between 1 and {MAX_PAGE_SIZE}"),
                ));
            }
        };
        let direction = if query.descending {
            Direction::Descending
        } else {
            Direction::Ascending
        };
        match &query.index {
            Some(name) => {
                let index = collection.index(name)?;
                let range = index_range(index, &query.equals, &query.lower, &query.upper)?;
                let cursor = query
                    .cursor
                    .as_deref()
                    .map(|c| Cursor::decode(c, name))
                    .transpose()?;
                let mut rows = self
                    .storage
                    .db
                    .plugin_index_query(
                        self.scope,
                        &collection.name,
                        name,
                        &range,
                        cursor.as_ref(),
                        direction,
                        limit + 1,
                    )
                    .await?;
                let more = rows.len() > limit as usize;
                rows.truncate(limit as usize);
                let next_cursor = more.then(|| rows.last()).flatten().map(|r| {
                    Cursor {
                        value: r.value.clone(),
                        key: r.doc.doc_key.clone(),
                    }
                    .encode(name)
                });
                Ok(Page {
                    documents: rows.into_iter().map(|r| Document::from(r.doc)).collect(),
                    next_cursor,
                })
            }
            None => {
                if !query.equals.is_empty() {
                    return Err(StoreError::invalid(
                        "query.equals",
                        "une requête par clé n'a pas de valeurs d'égalité (lire le document) / \
                         a query by key has no equality values (get the document)",
                    ));
                }
                let range = KeyRange {
                    lower: key_bound(&query.lower)?,
                    upper: key_bound(&query.upper)?,
                };
                let cursor = query
                    .cursor
                    .as_deref()
                    .map(|c| Cursor::decode(c, ""))
                    .transpose()?;
                let mut rows = self
                    .storage
                    .db
                    .plugin_key_query(
                        self.scope,
                        &collection.name,
                        &range,
                        cursor.as_ref().map(|c| c.key.as_str()),
                        direction,
                        limit + 1,
                    )
                    .await?;
                let more = rows.len() > limit as usize;
                rows.truncate(limit as usize);
                let next_cursor = more.then(|| rows.last()).flatten().map(|r| {
                    Cursor {
                        value: Vec::new(),
                        key: r.doc_key.clone(),
                    }
                    .encode("")
                });
                Ok(Page {
                    documents: rows.into_iter().map(Document::from).collect(),
                    next_cursor,
                })
            }
        }
    }

    /// Writes one document without precondition; its new revision.
    pub async fn put(
        &self,
        collection: &str,
        key: &str,
        body: &str,
        subjects: &[String],
    ) -> StoreResult<Revision> {
        let op = WriteOp::Put {
            collection: collection.to_owned(),
            key: key.to_owned(),
            body: body.to_owned(),
            subjects: subjects.to_vec(),
            precondition: None,
        };
        match self.commit(vec![op]).await?.first() {
            Some(Outcome::Written(r)) => Ok(*r),
            _ => Err(StoreError::invalid(
                "op",
                "résultat inattendu / unexpected outcome",
            )),
        }
    }

    /// Deletes one document; whether there was one.
    pub async fn delete(&self, collection: &str, key: &str) -> StoreResult<bool> {
        let op = WriteOp::Delete {
            collection: collection.to_owned(),
            key: key.to_owned(),
            revision: None,
        };
        Ok(matches!(
            self.commit(vec![op]).await?.first(),
            Some(Outcome::Deleted(true))
        ))
    }

    /// Applies every operation, or none: a failed precondition or a unique index is
    /// [`StoreError::Conflict`] naming the operation, and nothing is written.
    pub async fn commit(&self, ops: Vec<WriteOp>) -> StoreResult<Vec<Outcome>> {
        if ops.is_empty() || ops.len() > MAX_OPS_PER_TRANSACTION {
            return Err(StoreError::too_large(
                "ops",
                format!(
                    "une transaction a de 1 à {MAX_OPS_PER_TRANSACTION} opérations / \
                     a transaction has 1 to {MAX_OPS_PER_TRANSACTION} operations"
                ),
            ));
        }
        let mut prepared = Vec::with_capacity(ops.len());
        for (n, op) in ops.iter().enumerate() {
            let (collection, key) = op.target();
            let spec = self.spec.collection(collection).map_err(|e| at_op(n, e))?;
            check_key(key, &format!("ops[{n}].key"))?;
            if ops[..n]
                .iter()
                .any(|other| other.target() == (collection, key))
            {
                return Err(StoreError::invalid(
                    format!("ops[{n}]"),
                    format!(
                        "le document {collection}/{key} figure deux fois dans la transaction / \
                         document {collection}/{key} appears twice in the transaction"
                    ),
                ));
            }
            prepared.push(match op {
                WriteOp::Put { body, subjects, .. } => {
                    Some(self.prepare_put(n, spec, body, subjects)?)
                }
                _ => None,
            });
        }
        let total: usize = prepared.iter().flatten().map(|p| p.body.len()).sum();
        if total > MAX_TRANSACTION_BYTES {
            return Err(StoreError::too_large(
                "ops",
                format!(
                    "une transaction écrit au plus {MAX_TRANSACTION_BYTES} octets / \
                     a transaction writes at most {MAX_TRANSACTION_BYTES} bytes"
                ),
            ));
        }
        // One lock order for every transaction: by (collection, key).
        let mut order: Vec<usize> = (0..ops.len()).collect();
        order.sort_by(|a, b| ops[*a].target().cmp(&ops[*b].target()));

        let mut attempt = 1;
        loop {
            match self.try_commit(&ops, &prepared, &order).await {
                Err(StoreError::Db(e)) if e.is_transient() && attempt < MAX_ATTEMPTS => {
                    tracing::debug!(attempt, error = %e, "plugin transaction retried");
                    tokio::time::sleep(Duration::from_millis(5 << attempt)).await;
                    attempt += 1;
                }
                other => return other,
            }
        }
    }

    fn prepare_put(
        &self,
        n: usize,
        spec: &CollectionSpec,
        body: &str,
        subjects: &[String],
    ) -> StoreResult<PreparedPut> {
        if body.len() > self.limits.document_bytes {
            return Err(StoreError::too_large(
                format!("ops[{n}].body"),
                format!(
                    "un document fait au plus {} octets / a document is at most {} bytes",
                    self.limits.document_bytes, self.limits.document_bytes
                ),
            ));
        }
        let object: serde_json::Map<String, serde_json::Value> = serde_json::from_str(body)
            .map_err(|e| {
                StoreError::invalid(
                    format!("ops[{n}].body"),
                    format!(
                        "un document est un objet JSON ({e}) / a document is a JSON object ({e})"
                    ),
                )
            })?;
        let subjects = super::check_subjects(subjects).map_err(|e| at_op(n, e))?;
        let mut entries = Vec::new();
        for index in &spec.indexes {
            if let Some(value) = entry_value(index, &object).map_err(|e| at_op(n, e))? {
                entries.push((index.name.clone(), value, index.unique));
            }
        }
        // Stored canonical (duplicate fields resolved as the indexes saw them); the limit holds
        // for what is stored too.
        let body = serde_json::Value::Object(object).to_string();
        if body.len() > self.limits.document_bytes {
            return Err(StoreError::too_large(
                format!("ops[{n}].body"),
                format!(
                    "un document fait au plus {} octets / a document is at most {} bytes",
                    self.limits.document_bytes, self.limits.document_bytes
                ),
            ));
        }
        Ok(PreparedPut {
            body,
            subjects,
            entries,
        })
    }

    async fn try_commit(
        &self,
        ops: &[WriteOp],
        prepared: &[Option<PreparedPut>],
        order: &[usize],
    ) -> StoreResult<Vec<Outcome>> {
        let scope = self.scope;
        let mut tx = self.storage.begin().await?;
        tx.plugin_storage_lock(scope.plugin.as_str(), false).await?;
        let mut outcomes = vec![Outcome::Checked; ops.len()];
        for &n in order {
            let outcome = match (&ops[n], &prepared[n]) {
                (
                    WriteOp::Put {
                        collection,
                        key,
                        precondition,
                        ..
                    },
                    Some(put),
                ) => {
                    let revision = new_revision();
                    let written = match precondition {
                        None => {
                            tx.plugin_upsert_document(scope, collection, key, revision, &put.body)
                                .await?;
                            true
                        }
                        Some(Precondition::Absent) => {
                            tx.plugin_insert_document(scope, collection, key, revision, &put.body)
                                .await?
                        }
                        Some(Precondition::Revision(r)) => {
                            let expected = r.0.cast_signed();
                            tx.plugin_update_document(
                                scope, collection, key, expected, revision, &put.body,
                            )
                            .await?
                        }
                    };
                    if !written {
                        let actual = tx.plugin_revision(scope, collection, key, false).await?;
                        return Err(StoreError::Conflict(precondition_conflict(
                            n,
                            collection,
                            key,
                            *precondition,
                            actual,
                        )));
                    }
                    tx.plugin_clear_document_links(scope, collection, key)
                        .await?;
                    if let Err((index, holder)) = tx
                        .plugin_insert_entries(scope, collection, key, &put.entries)
                        .await?
                    {
                        return Err(StoreError::Conflict(Conflict::Unique {
                            op: n,
                            collection: collection.clone(),
                            index,
                            holder,
                        }));
                    }
                    tx.plugin_insert_subjects(scope, collection, key, &put.subjects)
                        .await?;
                    Outcome::Written(Revision(revision.cast_unsigned()))
                }
                (
                    WriteOp::Delete {
                        collection,
                        key,
                        revision,
                    },
                    _,
                ) => {
                    let expected = revision.map(|r| r.0.cast_signed());
                    let deleted = tx
                        .plugin_delete_document(scope, collection, key, expected)
                        .await?;
                    if let (Some(r), false) = (revision, deleted) {
                        let actual = tx.plugin_revision(scope, collection, key, false).await?;
                        return Err(StoreError::Conflict(precondition_conflict(
                            n,
                            collection,
                            key,
                            Some(Precondition::Revision(*r)),
                            actual,
                        )));
                    }
                    Outcome::Deleted(deleted)
                }
                (
                    WriteOp::Require {
                        collection,
                        key,
                        revision,
                    },
                    _,
                ) => {
                    let actual = tx.plugin_revision(scope, collection, key, true).await?;
                    if actual != Some(revision.0.cast_signed()) {
                        return Err(StoreError::Conflict(precondition_conflict(
                            n,
                            collection,
                            key,
                            Some(Precondition::Revision(*revision)),
                            actual,
                        )));
                    }
                    Outcome::Checked
                }
                (WriteOp::Put { .. }, None) => {
                    return Err(StoreError::invalid(
                        format!("ops[{n}]"),
                        "opération non préparée / unprepared operation",
                    ));
                }
            };
            outcomes[n] = outcome;
        }
        tx.commit().await?;
        Ok(outcomes)
    }
}

/// A fresh revision: random and positive, so that a document deleted and created again never
/// reuses the revision a stale writer holds.
fn new_revision() -> i64 {
    rand::rng().random_range(1..=i64::MAX)
}

fn precondition_conflict(
    op: usize,
    collection: &str,
    key: &str,
    precondition: Option<Precondition>,
    actual: Option<i64>,
) -> Conflict {
    let actual = actual.map(|r| Revision(r.cast_unsigned()));
    match (precondition, actual) {
        (Some(Precondition::Absent), Some(actual)) => Conflict::Exists {
            op,
            collection: collection.to_owned(),
            key: key.to_owned(),
            actual,
        },
        (Some(Precondition::Revision(expected)), actual) => Conflict::Revision {
            op,
            collection: collection.to_owned(),
            key: key.to_owned(),
            expected,
            actual,
        },
        // An insert refused, then the row gone (deleted meanwhile): still a lost race.
        (_, actual) => Conflict::Revision {
            op,
            collection: collection.to_owned(),
            key: key.to_owned(),
            expected: Revision(0),
            actual,
        },
    }
}

/// Prefixes an error's field with where it comes from (`ops[2]`, `students/s1`).
fn within(prefix: &str, e: StoreError) -> StoreError {
    match e {
        StoreError::Invalid { field, message } => StoreError::Invalid {
            field: format!("{prefix}.{field}"),
            message,
        },
        StoreError::TooLarge { field, message } => StoreError::TooLarge {
            field: format!("{prefix}.{field}"),
            message,
        },
        other => other,
    }
}

/// Prefixes an error's field with the operation it comes from.
fn at_op(n: usize, e: StoreError) -> StoreError {
    within(&format!("ops[{n}]"), e)
}

/// Keys: 1 to [`MAX_KEY_BYTES`] bytes, no control characters.
fn check_key(key: &str, field: &str) -> StoreResult<()> {
    if key.is_empty() || key.len() > MAX_KEY_BYTES || key.chars().any(char::is_control) {
        return Err(StoreError::invalid(
            field,
            format!(
                "une clé a de 1 à {MAX_KEY_BYTES} octets, sans caractère de contrôle / \
                 a key has 1 to {MAX_KEY_BYTES} bytes, without control characters"
            ),
        ));
    }
    Ok(())
}

/// A bound of a query by key: strings only.
fn key_bound(bound: &Bound<IndexValue>) -> StoreResult<Bound<String>> {
    let text = |v: &IndexValue| match v {
        IndexValue::String(s) => check_key(s, "query.range").map(|()| s.clone()),
        _ => Err(StoreError::invalid(
            "query.range",
            "les clés sont des textes / keys are strings",
        )),
    };
    Ok(match bound {
        Bound::Included(v) => Bound::Included(text(v)?),
        Bound::Excluded(v) => Bound::Excluded(text(v)?),
        Bound::Unbounded => Bound::Unbounded,
    })
}

/// Documents read per page while an index is rebuilt.
const REBUILD_PAGE: i64 = 200;

impl PluginStorage {
    /// Brings the indexes of `plugin` in line with `spec`, in every establishment: builds new
    /// ones, rebuilds those whose definition changed (fields, uniqueness, collation version),
    /// drops those no longer declared. Run when a plugin version is enabled. A unique index that
    /// existing documents violate is refused, naming both documents; nothing changes then.
    pub async fn sync_indexes(
        &self,
        plugin: &super::PluginId,
        spec: &StoreSpec,
    ) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        tx.plugin_storage_lock(plugin.as_str(), true).await?;
        let built = tx.plugin_index_definitions(plugin.as_str()).await?;
        for (collection, index, _) in &built {
            let declared = spec
                .collection(collection)
                .ok()
                .and_then(|c| c.indexes.iter().find(|i| &i.name == index));
            if declared.is_none() {
                tx.plugin_drop_index(plugin.as_str(), collection, index)
                    .await?;
            }
        }
        for collection in spec.collections() {
            for index in &collection.indexes {
                let definition = index.definition();
                let current = built
                    .iter()
                    .find(|(c, i, _)| c == &collection.name && i == &index.name)
                    .map(|(_, _, d)| d.as_str());
                if current == Some(definition.as_str()) {
                    continue;
                }
                tx.plugin_drop_index(plugin.as_str(), &collection.name, &index.name)
                    .await?;
                let mut after = (String::new(), String::new());
                loop {
                    let page = tx
                        .plugin_collection_page(
                            plugin.as_str(),
                            &collection.name,
                            (&after.0, &after.1),
                            REBUILD_PAGE,
                        )
                        .await?;
                    for row in &page {
                        let at = || format!("{}/{}", collection.name, row.doc.doc_key);
                        let body: serde_json::Map<String, serde_json::Value> =
                            serde_json::from_str(&row.doc.body)
                                .map_err(|e| StoreError::invalid(at(), e.to_string()))?;
                        let Some(value) =
                            entry_value(index, &body).map_err(|e| within(&at(), e))?
                        else {
                            continue;
                        };
                        let scope = Scope::new(plugin.clone(), row.establishment_id.clone());
                        let entry = [(index.name.clone(), value, index.unique)];
                        let inserted = tx
                            .plugin_insert_entries(
                                &scope,
                                &collection.name,
                                &row.doc.doc_key,
                                &entry,
                            )
                            .await?;
                        if let Err((_, holder)) = inserted {
                            return Err(StoreError::invalid(
                                format!("collections.{}.indexes.{}", collection.name, index.name),
                                format!(
                                    "index unique violé par les documents existants {holder} et {} / \
                                     unique index violated by existing documents {holder} and {}",
                                    row.doc.doc_key, row.doc.doc_key
                                ),
                            ));
                        }
                    }
                    match page.last() {
                        Some(last) if page.len() as i64 == REBUILD_PAGE => {
                            after = (last.establishment_id.clone(), last.doc.doc_key.clone());
                        }
                        _ => break,
                    }
                }
                tx.plugin_set_index_definition(
                    plugin.as_str(),
                    &collection.name,
                    &index.name,
                    &definition,
                )
                .await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }
}
