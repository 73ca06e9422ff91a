//! Plugin storage: the documents and files a plugin keeps through the core.
//!
//! Everything is scoped by a [`Scope`] — (plugin, establishment) — that the *host* builds from the
//! call it is serving; a plugin only ever names a collection and a key, or a file path, inside
//! it. The parts:
//!
//! - [`spec`]: the collections and indexes a plugin declares (from its manifest), checked once;
//! - [`encoding`]: index values as order-preserving byte strings, and pagination cursors;
//! - [`documents`]: reads, index queries and atomic multi-document transactions with
//!   preconditions, over [`crate::db`] (`db/documents.rs` holds their SQL);
//! - [`files`]: one cap-std directory per scope, streamed uploads under a quota;
//! - [`privacy`]: what a plugin holds about a person (export, deletion) and in total (removal).
//!
//! Every limit is a named constant here or a field of [`Limits`]; every refusal is a
//! [`StoreError`] whose text is for people (French, then English) and names the field at fault.

pub mod documents;
pub mod encoding;
pub mod files;
pub mod privacy;
pub mod spec;
pub mod sweep;

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::clock::Clock;
use crate::db::{Db, DbError};

/// The plugin storage of the whole instance: the database and the files root. Cheap to clone.
#[derive(Debug, Clone)]
pub struct PluginStorage {
    db: Db,
    clock: Clock,
    files_root: PathBuf,
}

impl PluginStorage {
    /// Storage on `db`, with files under `{data_dir}/plugin-files`; `clock` stamps the writes.
    pub fn new(db: Db, clock: Clock, data_dir: &Path) -> PluginStorage {
        PluginStorage {
            db,
            clock,
            files_root: data_dir.join("plugin-files"),
        }
    }

    /// Starts a write transaction stamped with the clock's now.
    pub(crate) async fn begin(&self) -> Result<crate::db::Tx, DbError> {
        self.db.begin(self.clock.now_ms()).await
    }

    /// The database (for the host's own bookkeeping).
    pub fn db(&self) -> &Db {
        &self.db
    }

    /// The clock that stamps the writes.
    pub fn clock(&self) -> Clock {
        self.clock
    }
}

/// Longest document key, in bytes.
pub const MAX_KEY_BYTES: usize = 512;
/// Most operations in one transaction.
pub const MAX_OPS_PER_TRANSACTION: usize = 256;
/// Most accounts one document or file may be about.
pub const MAX_SUBJECTS: usize = 256;
/// Largest page a query may ask for; [`DEFAULT_PAGE_SIZE`] when it asks for none.
pub const MAX_PAGE_SIZE: u32 = 500;
/// Page size of a query that does not say.
pub const DEFAULT_PAGE_SIZE: u32 = 50;
/// Longest string an index may hold, in bytes (index names and titles, not texts).
pub const MAX_INDEXED_STRING_BYTES: usize = 1024;

/// The limits the operator sets per plugin (a manifest may only lower them); the host passes the
/// effective values with every call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest document body (JSON text), in bytes.
    pub document_bytes: usize,
    /// Largest single file, in bytes.
    pub file_bytes: u64,
    /// Total bytes of files per (plugin, establishment).
    pub file_quota_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            document_bytes: 256 * 1024,
            file_bytes: 10 * 1024 * 1024,
            file_quota_bytes: 1024 * 1024 * 1024,
        }
    }
}

/// A plugin id, `publisher:name`, both parts kebab-case (lowercase ASCII letters, digits, single
/// hyphens inside), at most 64 bytes each.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct PluginId(String);

impl PluginId {
    pub fn parse(s: &str) -> Result<PluginId, StoreError> {
        if preau_package::names::is_plugin_id(s) {
            Ok(PluginId(s.to_owned()))
        } else {
            Err(StoreError::invalid(
                "plugin",
                format!(
                    "« {s} » n'est pas un identifiant de service « éditeur:nom » en minuscules / \
                     is not a lowercase 'publisher:name' plugin id"
                ),
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The publisher part (before the colon).
    pub fn publisher(&self) -> &str {
        self.0.split_once(':').map_or("", |(p, _)| p)
    }

    /// The name part (after the colon).
    pub fn name(&self) -> &str {
        self.0.split_once(':').map_or("", |(_, n)| n)
    }
}

impl fmt::Display for PluginId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Whose data a call reads and writes: one plugin in one establishment. Only the host builds it,
/// from the installed plugin it is running and the establishment in the request.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Scope {
    pub plugin: PluginId,
    /// The establishment's id (not its UAI: ids never change).
    pub establishment_id: String,
}

impl Scope {
    pub fn new(plugin: PluginId, establishment_id: impl Into<String>) -> Scope {
        Scope {
            plugin,
            establishment_id: establishment_id.into(),
        }
    }
}

/// An opaque document revision: new at every write, compared only for equality.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Revision(pub u64);

/// Why a transaction did not apply: a precondition or a unique index. Nothing was written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Conflict {
    /// The operation required the document to be absent, and it exists.
    Exists {
        op: usize,
        collection: String,
        key: String,
        actual: Revision,
    },
    /// The operation required this revision, and the document is at another one or absent.
    Revision {
        op: usize,
        collection: String,
        key: String,
        expected: Revision,
        actual: Option<Revision>,
    },
    /// A unique index already holds this value for another document.
    Unique {
        op: usize,
        collection: String,
        index: String,
        holder: String,
    },
}

impl Conflict {
    /// The position of the operation at fault in the transaction.
    pub fn op(&self) -> usize {
        match self {
            Conflict::Exists { op, .. }
            | Conflict::Revision { op, .. }
            | Conflict::Unique { op, .. } => *op,
        }
    }
}

impl fmt::Display for Conflict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Conflict::Exists {
                collection, key, ..
            } => write!(
                f,
                "le document {collection}/{key} existe déjà / document {collection}/{key} already exists"
            ),
            Conflict::Revision {
                collection, key, ..
            } => write!(
                f,
                "le document {collection}/{key} a changé entre-temps / document {collection}/{key} changed meanwhile"
            ),
            Conflict::Unique {
                collection,
                index,
                holder,
                ..
            } => write!(
                f,
                "valeur déjà prise dans l'index unique {collection}.{index} (par {holder}) / \
                 value already taken in unique index {collection}.{index} (by {holder})"
            ),
        }
    }
}

/// Errors of the plugin storage.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A precondition or unique index refused the transaction; nothing was written.
    #[error("conflit / conflict: {0}")]
    Conflict(Conflict),
    /// The request is malformed: `field` names what is wrong.
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    /// A size limit: `field` names it.
    #[error("{field}: {message}")]
    TooLarge { field: String, message: String },
    /// The file quota of this plugin in this establishment would be exceeded.
    #[error(
        "quota de fichiers dépassé : {used} octets utilisés, {needed} de plus demandés, quota {quota} / \
         file quota exceeded: {used} bytes used, {needed} more asked, quota {quota}"
    )]
    QuotaExceeded { quota: u64, used: u64, needed: u64 },
    #[error("introuvable / not found: {0}")]
    NotFound(String),
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("fichier / file: {0}")]
    Io(#[from] std::io::Error),
}

impl StoreError {
    pub(crate) fn invalid(field: impl Into<String>, message: impl Into<String>) -> StoreError {
        StoreError::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }

    pub(crate) fn too_large(field: impl Into<String>, message: impl Into<String>) -> StoreError {
        StoreError::TooLarge {
            field: field.into(),
            message: message.into(),
        }
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        StoreError::Db(DbError::from(e))
    }
}

/// Result of storage operations.
pub type StoreResult<T> = Result<T, StoreError>;

/// At most [`MAX_SUBJECTS`] account ids (UUIDs), returned canonical (lowercase, hyphenated, as
/// the core writes them: what export and deletion match on), sorted and without duplicates.
pub(crate) fn check_subjects(subjects: &[String]) -> StoreResult<Vec<String>> {
    if subjects.len() > MAX_SUBJECTS {
        return Err(StoreError::too_large(
            "subjects",
            format!("au plus {MAX_SUBJECTS} personnes / at most {MAX_SUBJECTS} people"),
        ));
    }
    let mut canonical = Vec::with_capacity(subjects.len());
    for s in subjects {
        let id = uuid::Uuid::try_parse(s).map_err(|_| {
            StoreError::invalid(
                "subjects",
                format!("« {s} » n'est pas un identifiant de compte / is not an account id"),
            )
        })?;
        canonical.push(id.hyphenated().to_string());
    }
    canonical.sort();
    canonical.dedup();
    Ok(canonical)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plugin_ids_are_publisher_colon_name_in_kebab_case() {
        let id = PluginId::parse("ville-paris:cahier-de-textes").expect("valid");
        assert_eq!(
            (id.publisher(), id.name()),
            ("ville-paris", "cahier-de-textes")
        );
        for bad in [
            "cahier", ":x", "x:", "A:b", "a:b:c", "a:-b", "a:b-", "a:b--c", "a:b/c", "a:../b",
        ] {
            assert!(PluginId::parse(bad).is_err(), "{bad} must be refused");
        }
    }
}
