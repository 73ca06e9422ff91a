//! What a plugin holds about a person, and in total: the core's half of the RGPD export and
//! deletion hooks, and what `preau plugin remove` checks before it forgets a plugin.
//!
//! A document or file is *about* the accounts its writer listed as subjects. Export and deletion
//! reach every establishment of the plugin at once (a person may be attached to several).

use serde::Serialize;

use super::documents::Document;
use super::files::FileMeta;
use super::{Limits, PluginId, PluginStorage, Scope, StoreResult};

/// Everything a plugin holds about one person.
#[derive(Debug, Clone, Default)]
pub struct SubjectData {
    /// (establishment id, document)
    pub documents: Vec<(String, Document)>,
    /// (establishment id, file)
    pub files: Vec<(String, FileMeta)>,
}

/// Counts and bytes of what a plugin holds (or what was deleted).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Holdings {
    pub documents: u64,
    pub document_bytes: u64,
    pub files: u64,
    pub file_bytes: u64,
}

impl Holdings {
    pub fn is_empty(&self) -> bool {
        self.documents == 0 && self.files == 0
    }
}

impl PluginStorage {
    /// Every document and file of `plugin` about `user_id` (the export hook adds them to the
    /// person's archive; file contents are read through [`PluginStorage::files`]).
    pub async fn subject_data(&self, plugin: &PluginId, user_id: &str) -> StoreResult<SubjectData> {
        let documents = self
            .db
            .plugin_subject_documents(plugin.as_str(), user_id)
            .await?
            .into_iter()
            .map(|r| (r.establishment_id, Document::from(r.doc)))
            .collect();
        let files = self
            .db
            .plugin_subject_files(plugin.as_str(), user_id)
            .await?
            .into_iter()
            .map(|r| (r.establishment_id, FileMeta::from(r.file)))
            .collect();
        Ok(SubjectData { documents, files })
    }

    /// Deletes every document and file of `plugin` about `user_id`; what was deleted.
    pub async fn delete_subject_data(
        &self,
        plugin: &PluginId,
        user_id: &str,
    ) -> StoreResult<Holdings> {
        let mut tx = self.begin().await?;
        tx.plugin_storage_lock(plugin.as_str(), false).await?;
        let (documents, bytes) = tx
            .plugin_delete_subject_documents(plugin.as_str(), user_id)
            .await?;
        tx.commit().await?;
        let mut deleted = Holdings {
            documents: documents.max(0).cast_unsigned(),
            document_bytes: bytes.max(0).cast_unsigned(),
            ..Holdings::default()
        };
        // Files one by one (their blobs go after each commit); only their metadata is loaded.
        let files = self
            .db
            .plugin_subject_files(plugin.as_str(), user_id)
            .await?;
        let data = SubjectData {
            documents: Vec::new(),
            files: files
                .into_iter()
                .map(|r| (r.establishment_id, FileMeta::from(r.file)))
                .collect(),
        };
        for (establishment_id, file) in &data.files {
            let scope = Scope::new(plugin.clone(), establishment_id.clone());
            if self
                .files(&scope, Limits::default())
                .delete(&file.path)
                .await?
            {
                deleted.files += 1;
                deleted.file_bytes += file.size;
            }
        }
        Ok(deleted)
    }

    /// What `plugin` holds in every establishment.
    pub async fn holdings(&self, plugin: &PluginId) -> StoreResult<Holdings> {
        let (documents, document_bytes) = self.db.plugin_document_totals(plugin.as_str()).await?;
        let (files, file_bytes) = self.db.plugin_file_totals(plugin.as_str()).await?;
        let n = |v: i64| v.max(0).cast_unsigned();
        Ok(Holdings {
            documents: n(documents),
            document_bytes: n(document_bytes),
            files: n(files),
            file_bytes: n(file_bytes),
        })
    }

    /// Deletes everything `plugin` holds, in every establishment (`plugin remove --purge-data`);
    /// what it held.
    pub async fn purge(&self, plugin: &PluginId) -> StoreResult<Holdings> {
        let held = self.holdings(plugin).await?;
        let mut tx = self.begin().await?;
        tx.plugin_purge(plugin.as_str()).await?;
        tx.commit().await?;
        self.remove_plugin_files(plugin).await?;
        Ok(held)
    }

    /// Removes the directory of `plugin`'s file contents (after its rows are gone).
    pub(crate) async fn remove_plugin_files(&self, plugin: &PluginId) -> StoreResult<()> {
        let root = self.files_root.clone();
        let (publisher, name) = (plugin.publisher().to_owned(), plugin.name().to_owned());
        let removed = tokio::task::spawn_blocking(move || -> std::io::Result<()> {
            if !root.exists() {
                return Ok(());
            }
            let root = cap_std::fs::Dir::open_ambient_dir(&root, cap_std::ambient_authority())?;
            match root.remove_dir_all(std::path::Path::new(&publisher).join(&name)) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
                _ => Ok(()),
            }
        })
        .await
        .map_err(std::io::Error::other)?;
        removed?;
        Ok(())
    }
}
