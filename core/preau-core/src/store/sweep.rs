//! The sweep of plugin file contents that nothing references: a blob left by a node that died
//! between the rename and the commit of an upload, a `.part` left by an interrupted upload, a
//! blob whose removal failed after a replacement or a deletion (`files.rs` logs those). The
//! hourly maintenance runs it.
//!
//! Only names the core gives contents are considered (a UUID, or a UUID and `.part`), only
//! regular files (a symlink is never followed nor removed), and only once they were last written
//! `older_than` ago: an upload in progress keeps writing its `.part`, and a finished one is
//! committed within moments of its rename, so neither is ever taken for an orphan. Several nodes
//! may sweep at once: a content already removed is not an error.

use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use cap_std::fs::Dir;

use super::{PluginId, PluginStorage, Scope, StoreResult};

/// What a sweep removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Swept {
    pub files: u64,
    pub bytes: u64,
}

/// A scope's directory: `{publisher}/{name}/{establishment_id}` under the files root.
struct ScopeDir {
    scope: Scope,
    rel: PathBuf,
}

impl PluginStorage {
    /// Removes the contents no file row references that were last written `older_than` ago,
    /// one scope at a time (its old contents listed, then the references asked, then the
    /// orphans removed). A content that cannot be removed is logged and left for the next
    /// sweep.
    pub async fn sweep_orphans(&self, older_than: Duration) -> StoreResult<Swept> {
        let before = SystemTime::now()
            .checked_sub(older_than)
            .unwrap_or(SystemTime::UNIX_EPOCH);
        let root = self.files_root.clone();
        let scopes = tokio::task::spawn_blocking(move || scope_dirs(&root))
            .await
            .map_err(std::io::Error::other)??;
        let mut swept = Swept::default();
        for ScopeDir { scope, rel } in scopes {
            let root = self.files_root.clone();
            let listed = tokio::task::spawn_blocking(move || -> std::io::Result<_> {
                let dir =
                    Dir::open_ambient_dir(&root, cap_std::ambient_authority())?.open_dir(&rel)?;
                let old = old_contents(&dir, before)?;
                Ok((dir, old))
            })
            .await
            .map_err(std::io::Error::other)?;
            let (dir, old) = match listed {
                Ok(listed) => listed,
                // Removed since it was listed (a plugin purged): nothing to sweep there.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(e.into()),
            };
            if old.is_empty() {
                continue;
            }
            let referenced = self.db.plugin_blob_ids(&scope).await?;
            let orphans: Vec<(String, u64)> = old
                .into_iter()
                .filter(|(name, _)| {
                    !referenced.contains(name.strip_suffix(".part").unwrap_or(name))
                })
                .collect();
            if orphans.is_empty() {
                continue;
            }
            let removed = tokio::task::spawn_blocking(move || remove(&dir, orphans))
                .await
                .map_err(std::io::Error::other)?;
            swept.files += removed.files;
            swept.bytes += removed.bytes;
        }
        Ok(swept)
    }
}

/// Whether `name` is one the core gives a content.
fn is_content_name(name: &str) -> bool {
    uuid::Uuid::try_parse(name.strip_suffix(".part").unwrap_or(name)).is_ok()
}

/// The directories directly under `dir`, by name (symlinks and other entries skipped).
fn subdirs(dir: &Dir) -> std::io::Result<Vec<(String, Dir)>> {
    let mut out = Vec::new();
    for entry in dir.entries()? {
        let entry = entry?;
        if !entry.file_type()?.is_dir() {
            continue;
        }
        let Ok(name) = entry.file_name().into_string() else {
            continue;
        };
        out.push((name, entry.open_dir()?));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

/// Every scope directory under the files root (only the names the core gives them).
fn scope_dirs(root: &std::path::Path) -> std::io::Result<Vec<ScopeDir>> {
    if !root.exists() {
        return Ok(Vec::new());
    }
    let root = Dir::open_ambient_dir(root, cap_std::ambient_authority())?;
    let mut out = Vec::new();
    for (publisher, publisher_dir) in subdirs(&root)? {
        for (name, name_dir) in subdirs(&publisher_dir)? {
            let Ok(plugin) = PluginId::parse(&format!("{publisher}:{name}")) else {
                continue;
            };
            for (establishment, _) in subdirs(&name_dir)? {
                if uuid::Uuid::try_parse(&establishment).is_err() {
                    continue;
                }
                out.push(ScopeDir {
                    scope: Scope::new(plugin.clone(), establishment.clone()),
                    rel: PathBuf::from(&publisher).join(&name).join(&establishment),
                });
            }
        }
    }
    Ok(out)
}

/// The contents of `dir` (regular files with the core's names) last written before `before`,
/// with their sizes; one gone meanwhile is skipped.
fn old_contents(dir: &Dir, before: SystemTime) -> std::io::Result<Vec<(String, u64)>> {
    let mut out = Vec::new();
    for entry in dir.entries()? {
        let entry = entry?;
        let Ok(name) = entry.file_name().into_string() else {
            continue;
        };
        if !is_content_name(&name) {
            continue;
        }
        // Does not follow a symlink: a link is not a regular file, and is left alone.
        let meta = match entry.metadata() {
            Ok(meta) => meta,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        };
        if meta.is_file() && meta.modified()?.into_std() < before {
            out.push((name, meta.len()));
        }
    }
    Ok(out)
}

/// Removes `orphans` from `dir`; one gone meanwhile is not counted, one that cannot be removed
/// is logged and left.
fn remove(dir: &Dir, orphans: Vec<(String, u64)>) -> Swept {
    let mut removed = Swept::default();
    for (name, size) in orphans {
        match dir.remove_file(&name) {
            Ok(()) => {
                removed.files += 1;
                removed.bytes += size;
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => tracing::warn!(
                content = name,
                error = %e,
                "contenu orphelin non supprimé / orphan content not removed"
            ),
        }
    }
    removed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_core_s_names_are_contents() {
        let id = crate::db::new_id();
        assert!(is_content_name(&id));
        assert!(is_content_name(&format!("{id}.part")));
        for other in ["notes.txt", "", ".part", "README", "../etc/passwd"] {
            assert!(!is_content_name(other), "{other}");
        }
    }
}
