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

use std::collections::HashSet;
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

/// A content on disk that may be an orphan: its scope, its name and size.
struct Candidate {
    scope: Scope,
    /// `{publisher}/{name}/{establishment_id}`, relative to the files root.
    dir: PathBuf,
    name: String,
    size: u64,
}

impl PluginStorage {
    /// Removes the contents no file row references that were last written `older_than` ago.
    pub async fn sweep_orphans(&self, older_than: Duration) -> StoreResult<Swept> {
        let root = self.files_root.clone();
        let before = SystemTime::now()
            .checked_sub(older_than)
            .unwrap_or(SystemTime::UNIX_EPOCH);
        let candidates = tokio::task::spawn_blocking(move || list_candidates(&root, before))
            .await
            .map_err(std::io::Error::other)??;
        let mut swept = Swept::default();
        let mut referenced: Option<(Scope, HashSet<String>)> = None;
        for c in candidates {
            let fresh = referenced.as_ref().is_none_or(|(s, _)| *s != c.scope);
            if fresh {
                let ids = self.db.plugin_blob_ids(&c.scope).await?;
                referenced = Some((c.scope.clone(), ids));
            }
            let blob = c.name.strip_suffix(".part").unwrap_or(&c.name);
            if referenced
                .as_ref()
                .is_some_and(|(_, ids)| ids.contains(blob))
            {
                continue;
            }
            let root = self.files_root.clone();
            let path = c.dir.join(&c.name);
            let removed = tokio::task::spawn_blocking(move || {
                Dir::open_ambient_dir(&root, cap_std::ambient_authority())?.remove_file(&path)
            })
            .await
            .map_err(std::io::Error::other)?;
            match removed {
                Ok(()) => {
                    swept.files += 1;
                    swept.bytes += c.size;
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(e.into()),
            }
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

/// Every content under the files root last written before `before`, scope by scope.
fn list_candidates(root: &std::path::Path, before: SystemTime) -> std::io::Result<Vec<Candidate>> {
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
            for (establishment, dir) in subdirs(&name_dir)? {
                if uuid::Uuid::try_parse(&establishment).is_err() {
                    continue;
                }
                let scope = Scope::new(plugin.clone(), establishment.clone());
                let rel = PathBuf::from(&publisher).join(&name).join(&establishment);
                for entry in dir.entries()? {
                    let entry = entry?;
                    let Ok(file) = entry.file_name().into_string() else {
                        continue;
                    };
                    let meta = entry.metadata()?;
                    if !meta.is_file() || !is_content_name(&file) {
                        continue;
                    }
                    let written = meta.modified()?.into_std();
                    if written < before {
                        out.push(Candidate {
                            scope: scope.clone(),
                            dir: rel.clone(),
                            name: file,
                            size: meta.len(),
                        });
                    }
                }
            }
        }
    }
    Ok(out)
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
