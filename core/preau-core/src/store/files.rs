//! Plugin files: bytes on disk, one directory per (plugin, establishment), metadata and quota in
//! the database.
//!
//! A plugin names a file by a *path* (`devoirs/2026/sujet.pdf`) that is checked and stored in the
//! database only; on disk the file is a name the core chose (a UUID) directly in the scope's
//! directory, opened through cap-std without following symbolic links. So no path a plugin
//! writes ever reaches the file system, a planted symlink is refused rather than followed, and a
//! replaced file switches atomically (the row points to the new blob, the old one is removed
//! after the commit).
//!
//! Layout: `{data_dir}/plugin-files/{publisher}/{name}/{establishment_id}/{blob}`; an upload is
//! streamed to `{blob}.part`, counted and hashed, and refused as soon as it passes the file size
//! limit or the quota. Files live on one file system shared by every node (ARCHITECTURE).

use std::path::{Path, PathBuf};

use cap_fs_ext::{FollowSymlinks, OpenOptionsFollowExt};
use cap_std::fs::{Dir, OpenOptions};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};

use super::{Limits, MAX_PAGE_SIZE, PluginStorage, Scope, StoreError, StoreResult, check_subjects};
use crate::db::files::{FileRow, NewFile};
use crate::db::new_id;

/// Longest file path, in bytes.
pub const MAX_PATH_BYTES: usize = 512;
/// Most segments in a file path.
pub const MAX_PATH_SEGMENTS: usize = 16;
/// Longest content type.
pub const MAX_CONTENT_TYPE_BYTES: usize = 255;

/// A file as the plugin sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileMeta {
    pub path: String,
    pub size: u64,
    pub content_type: String,
    /// Hex SHA-256 of the content.
    pub sha256: String,
    pub created_at: i64,
    pub updated_at: i64,
}

impl From<FileRow> for FileMeta {
    fn from(r: FileRow) -> Self {
        FileMeta {
            path: r.path,
            size: r.size.cast_unsigned(),
            content_type: r.content_type,
            sha256: r.sha256,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

/// Bytes and files a scope holds, and its quota.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Usage {
    pub bytes: u64,
    pub files: u64,
    pub quota_bytes: u64,
}

/// The files of one plugin in one establishment.
#[derive(Debug, Clone, Copy)]
pub struct Files<'a> {
    storage: &'a PluginStorage,
    scope: &'a Scope,
    limits: Limits,
}

impl PluginStorage {
    /// The files of `scope`, within `limits`.
    pub fn files<'a>(&'a self, scope: &'a Scope, limits: Limits) -> Files<'a> {
        Files {
            storage: self,
            scope,
            limits,
        }
    }

    /// The directory of `scope`, relative to the files root; `None` if the establishment id is
    /// not a UUID (it always is: the core makes them).
    fn scope_dir_name(scope: &Scope) -> StoreResult<PathBuf> {
        uuid::Uuid::try_parse(&scope.establishment_id).map_err(|_| {
            StoreError::invalid(
                "establishment",
                "identifiant d'établissement invalide / invalid establishment id",
            )
        })?;
        Ok(Path::new(scope.plugin.publisher())
            .join(scope.plugin.name())
            .join(&scope.establishment_id))
    }

    /// Opens (creating it) the directory of `scope` through cap-std: a symlink planted on the way
    /// that leads out of the files root is refused.
    pub(super) async fn scope_dir(&self, scope: &Scope) -> StoreResult<Dir> {
        let root = self.files_root.clone();
        let rel = Self::scope_dir_name(scope)?;
        Ok(
            tokio::task::spawn_blocking(move || -> std::io::Result<Dir> {
                std::fs::create_dir_all(&root)?;
                let root = Dir::open_ambient_dir(&root, cap_std::ambient_authority())?;
                root.create_dir_all(&rel)?;
                root.open_dir(&rel)
            })
            .await
            .map_err(std::io::Error::other)??,
        )
    }

    /// Removes a blob, logging (not failing) when it cannot: an orphan blob wastes space, it does
    /// not corrupt anything.
    pub(super) async fn remove_blob(&self, dir: Dir, blob: String) {
        let result = tokio::task::spawn_blocking(move || dir.remove_file(&blob))
            .await
            .map_err(std::io::Error::other);
        match result {
            Ok(Ok(())) => {}
            Ok(Err(e)) | Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Ok(Err(e)) | Err(e) => tracing::warn!(error = %e, "plugin file blob not removed"),
        }
    }
}

impl Files<'_> {
    /// Stores the content read from `body` at `path` (replacing what was there), streaming it to
    /// disk; refused when it passes the file size limit or the scope's quota.
    pub async fn put(
        &self,
        path: &str,
        content_type: &str,
        subjects: &[String],
        mut body: impl AsyncRead + Unpin,
    ) -> StoreResult<FileMeta> {
        check_path(path)?;
        check_content_type(content_type)?;
        let subjects = check_subjects(subjects)?;
        let db = &self.storage.db;
        let quota = self.limits.file_quota_bytes;
        // The quota as it stands, for an early refusal; the transaction below has the last word.
        let (used, _) = db.plugin_file_usage(self.scope).await?;
        let replaced = db
            .plugin_file(self.scope, path)
            .await?
            .map_or(0, |f| f.size);
        let room = quota.saturating_sub((used - replaced).max(0).cast_unsigned());

        let dir = self.storage.scope_dir(self.scope).await?;
        let blob = new_id();
        let part = format!("{blob}.part");
        let file = {
            let (dir, part) = (dir.try_clone()?, part.clone());
            tokio::task::spawn_blocking(move || {
                let mut options = OpenOptions::new();
                options
                    .write(true)
                    .create_new(true)
                    .follow(FollowSymlinks::No);
                dir.open_with(&part, &options)
            })
            .await
            .map_err(std::io::Error::other)??
        };
        let streamed = async {
            let mut out = tokio::fs::File::from_std(file.into_std());
            let mut hasher = Sha256::new();
            let mut size: u64 = 0;
            let mut buf = vec![0u8; 64 * 1024];
            loop {
                let n = body.read(&mut buf).await?;
                if n == 0 {
                    break;
                }
                size += n as u64;
                if size > self.limits.file_bytes {
                    return Err(StoreError::too_large(
                        "file",
                        format!(
                            "un fichier fait au plus {} octets / a file is at most {} bytes",
                            self.limits.file_bytes, self.limits.file_bytes
                        ),
                    ));
                }
                if size > room {
                    return Err(StoreError::QuotaExceeded {
                        quota,
                        used: used.cast_unsigned(),
                        needed: size,
                    });
                }
                hasher.update(&buf[..n]);
                out.write_all(&buf[..n]).await?;
            }
            out.sync_all().await?;
            Ok((size, hex::encode(hasher.finalize())))
        };
        let (size, sha256) = match streamed.await {
            Ok(done) => done,
            Err(e) => {
                self.storage.remove_blob(dir, part).await;
                return Err(e);
            }
        };
        let committed = self
            .record(
                path,
                &blob,
                &part,
                size,
                content_type,
                &sha256,
                &subjects,
                &dir,
            )
            .await;
        match committed {
            Ok((meta, old_blob)) => {
                if let Some(old) = old_blob {
                    self.storage.remove_blob(dir, old).await;
                }
                Ok(meta)
            }
            Err(e) => {
                // Whichever name the new bytes have by now, they are not referenced.
                self.storage.remove_blob(dir.try_clone()?, part).await;
                self.storage.remove_blob(dir, blob).await;
                Err(e)
            }
        }
    }

    /// The transaction of [`Files::put`]: quota, row, then the blob's final name, then commit.
    #[expect(clippy::too_many_arguments, reason = "the parts of one upload")]
    async fn record(
        &self,
        path: &str,
        blob: &str,
        part: &str,
        size: u64,
        content_type: &str,
        sha256: &str,
        subjects: &[String],
        dir: &Dir,
    ) -> StoreResult<(FileMeta, Option<String>)> {
        let db = &self.storage.db;
        let quota = i64::try_from(self.limits.file_quota_bytes).unwrap_or(i64::MAX);
        let size_i = i64::try_from(size).unwrap_or(i64::MAX);
        let mut tx = self.storage.begin().await?;
        tx.plugin_lock_file_usage(self.scope).await?;
        let old = tx.plugin_file(self.scope, path).await?;
        let (old_size, old_files) = old.as_ref().map_or((0, 0), |f| (f.size, 1));
        if !tx
            .plugin_add_file_usage(self.scope, size_i - old_size, 1 - old_files, quota)
            .await?
        {
            tx.rollback().await?;
            let (used, _) = db.plugin_file_usage(self.scope).await?;
            return Err(StoreError::QuotaExceeded {
                quota: self.limits.file_quota_bytes,
                used: used.cast_unsigned(),
                needed: size,
            });
        }
        let row = NewFile {
            path,
            blob_id: blob,
            size: size_i,
            content_type,
            sha256,
            subjects,
        };
        tx.plugin_upsert_file(self.scope, &row).await?;
        {
            let (dir, part, blob) = (dir.try_clone()?, part.to_owned(), blob.to_owned());
            tokio::task::spawn_blocking(move || dir.rename(&part, &dir, &blob))
                .await
                .map_err(std::io::Error::other)??;
        }
        let meta = tx.plugin_file(self.scope, path).await?.map(FileMeta::from);
        tx.commit().await?;
        let meta = meta.ok_or_else(|| StoreError::NotFound(path.to_owned()))?;
        Ok((meta, old.map(|f| f.blob_id)))
    }

    /// The metadata of the file at `path`, if there is one.
    pub async fn stat(&self, path: &str) -> StoreResult<Option<FileMeta>> {
        check_path(path)?;
        Ok(self
            .storage
            .db
            .plugin_file(self.scope, path)
            .await?
            .map(FileMeta::from))
    }

    /// The file at `path`, opened for reading (streamed by the caller).
    pub async fn open(&self, path: &str) -> StoreResult<(FileMeta, tokio::fs::File)> {
        check_path(path)?;
        let row = self
            .storage
            .db
            .plugin_file(self.scope, path)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("fichier / file {path}")))?;
        let dir = self.storage.scope_dir(self.scope).await?;
        let blob = row.blob_id.clone();
        let file = tokio::task::spawn_blocking(move || {
            let mut options = OpenOptions::new();
            options.read(true).follow(FollowSymlinks::No);
            dir.open_with(&blob, &options)
        })
        .await
        .map_err(std::io::Error::other)??;
        Ok((
            FileMeta::from(row),
            tokio::fs::File::from_std(file.into_std()),
        ))
    }

    /// Deletes the file at `path`; whether there was one.
    pub async fn delete(&self, path: &str) -> StoreResult<bool> {
        check_path(path)?;
        let mut tx = self.storage.begin().await?;
        tx.plugin_lock_file_usage(self.scope).await?;
        let Some(old) = tx.plugin_file(self.scope, path).await? else {
            tx.rollback().await?;
            return Ok(false);
        };
        tx.plugin_delete_file_row(self.scope, path).await?;
        tx.plugin_add_file_usage(self.scope, -old.size, -1, i64::MAX)
            .await?;
        tx.commit().await?;
        let dir = self.storage.scope_dir(self.scope).await?;
        self.storage.remove_blob(dir, old.blob_id).await;
        Ok(true)
    }

    /// Files whose path starts with `prefix`, by path, `limit` at a time after `after` (the last
    /// path of the previous page).
    pub async fn list(
        &self,
        prefix: &str,
        after: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<FileMeta>> {
        if !(1..=MAX_PAGE_SIZE).contains(&limit) {
            return Err(StoreError::invalid(
                "limit",
                format!("entre 1 et {MAX_PAGE_SIZE} / between 1 and {MAX_PAGE_SIZE}"),
            ));
        }
        for (field, value) in [("prefix", Some(prefix)), ("after", after)] {
            if value.is_some_and(|v| v.len() > MAX_PATH_BYTES || v.chars().any(char::is_control)) {
                return Err(StoreError::invalid(
                    field,
                    format!(
                        "au plus {MAX_PATH_BYTES} octets, sans caractère de contrôle / \
                         at most {MAX_PATH_BYTES} bytes, no control character"
                    ),
                ));
            }
        }
        let rows = self
            .storage
            .db
            .plugin_files(self.scope, prefix, after, limit)
            .await?;
        Ok(rows.into_iter().map(FileMeta::from).collect())
    }

    /// What the scope holds, and its quota.
    pub async fn usage(&self) -> StoreResult<Usage> {
        let (bytes, files) = self.storage.db.plugin_file_usage(self.scope).await?;
        Ok(Usage {
            bytes: bytes.max(0).cast_unsigned(),
            files: files.max(0).cast_unsigned(),
            quota_bytes: self.limits.file_quota_bytes,
        })
    }
}

/// A file path: 1 to [`MAX_PATH_SEGMENTS`] segments separated by `/`, at most [`MAX_PATH_BYTES`]
/// bytes; a segment holds letters, digits, spaces and `. _ - ( ) + ,`, and neither starts with a
/// dot (so no `.`, `..` or hidden names) nor starts or ends with a space.
pub fn check_path(path: &str) -> StoreResult<()> {
    let refuse = |why: &str| {
        Err(StoreError::invalid(
            "path",
            format!("« {} » : {why}", path.chars().take(80).collect::<String>()),
        ))
    };
    if path.is_empty() || path.len() > MAX_PATH_BYTES {
        return refuse(&format!(
            "un chemin a de 1 à {MAX_PATH_BYTES} octets / a path has 1 to {MAX_PATH_BYTES} bytes"
        ));
    }
    let segments: Vec<&str> = path.split('/').collect();
    if segments.len() > MAX_PATH_SEGMENTS {
        return refuse(&format!(
            "au plus {MAX_PATH_SEGMENTS} niveaux / at most {MAX_PATH_SEGMENTS} levels"
        ));
    }
    for segment in segments {
        if segment.is_empty() {
            return refuse("chemin absolu ou segment vide / absolute path or empty segment");
        }
        if segment.starts_with('.') {
            return refuse(
                "un segment ne commence pas par un point (., ..) / a segment does not start with a dot (., ..)",
            );
        }
        if segment.starts_with(' ') || segment.ends_with(' ') {
            return refuse(
                "un segment ne commence ni ne finit par une espace / a segment neither starts nor ends with a space",
            );
        }
        if !segment
            .chars()
            .all(|c| c.is_alphanumeric() || " ._-()+,".contains(c))
        {
            return refuse(
                "caractères permis : lettres, chiffres, espace et . _ - ( ) + , / \
                 allowed characters: letters, digits, space and . _ - ( ) + ,",
            );
        }
    }
    Ok(())
}

/// A media type `type/subtype` (parameters allowed), printable ASCII.
fn check_content_type(content_type: &str) -> StoreResult<()> {
    let ok = content_type.len() <= MAX_CONTENT_TYPE_BYTES
        && content_type.split(';').next().is_some_and(|essence| {
            essence.split_once('/').is_some_and(|(t, s)| {
                let token = |x: &str| {
                    !x.is_empty()
                        && x.bytes()
                            .all(|b| b.is_ascii_alphanumeric() || b"!#$&-^_.+".contains(&b))
                };
                token(t) && token(s.trim())
            })
        })
        && content_type.bytes().all(|b| (0x20..0x7f).contains(&b));
    if ok {
        Ok(())
    } else {
        Err(StoreError::invalid(
            "content_type",
            "type de contenu invalide (type/sous-type) / invalid content type (type/subtype)",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_that_could_escape_or_confuse_are_refused() {
        for good in [
            "sujet.pdf",
            "devoirs/2026/Sujet d'examen.pdf".replace('\'', "").as_str(),
            "a/b/c",
            "Élève (1).odt",
        ] {
            assert!(check_path(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "/etc/passwd",
            "../x",
            "a/../b",
            "a/./b",
            "./a",
            "a//b",
            "a/",
            ".cache",
            "a\\b",
            "a\0b",
            "C:x",
            " a",
            "a ",
            "x%2e%2e",
            "a\nb",
        ] {
            let e = check_path(bad).expect_err(bad).to_string();
            assert!(e.starts_with("path:"), "{bad}: {e}");
        }
        assert!(check_path(&"a".repeat(MAX_PATH_BYTES + 1)).is_err());
        assert!(check_path(&vec!["a"; MAX_PATH_SEGMENTS + 1].join("/")).is_err());
    }

    #[test]
    fn content_types_are_media_types() {
        for good in [
            "application/pdf",
            "image/png",
            "text/plain; charset=utf-8",
            "application/vnd.oasis.opendocument.text",
        ] {
            assert!(check_content_type(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "pdf",
            "text/",
            "/plain",
            "text/plain\r\nX-Evil: 1",
            "téxt/plain",
        ] {
            assert!(check_content_type(bad).is_err(), "{bad}");
        }
    }
}
