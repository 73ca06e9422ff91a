//! The RGPD rights of access and erasure across the core and every installed plugin.
//!
//! **Access** ([`export_archive`], "Mes données" in Mon compte): a ZIP written to an anonymous
//! temporary file under the data directory, then streamed. It holds `preau.json` (what the core
//! keeps: the account, attachments, roles, classes and groups, teachings, family links, open
//! sessions and connection traces) and, for every installed plugin holding something about the
//! person (enabled, disabled or not running: the newest installed version answers then),
//! `extensions/{publisher}/{name}/{uai}/`: `export.json` (the plugin's own `user-data.export`
//! answer), `documents.json` (the documents naming the person as a subject), `fichiers.json`
//! and `fichiers/{path}` (the files naming them, copied without loading them in memory).
//!
//! **Erasure** ([`erase_account`], run by the purge of departed accounts): every installed
//! plugin's `user-data.delete` in each establishment concerned, then the documents and files
//! naming the person, then the account in the core. A plugin that fails leaves everything in
//! place: the purge logs it and tries again at its next run, so a deletion is delayed, never lost.
//!
//! The establishments a plugin is asked about: those where it holds data about the person, and
//! those the person is attached to where the plugin was ever enabled (its journal).

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Seek, Write};
use std::path::Path;

use serde::Serialize;
use serde_json::{Value, json};

use crate::clock::Clock;
use crate::db::{Db, DbError, new_id};
use crate::plugins::host::{HostError, LoadedPlugin, PluginHost};
use crate::store::privacy::SubjectData;
use crate::store::{Limits, PluginId, Scope, StoreError};

/// Why an export or an erasure could not be done.
#[derive(Debug, thiserror::Error)]
pub enum PrivacyError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("stockage des extensions / plugin storage: {0}")]
    Store(#[from] StoreError),
    #[error("extension / plugin: {0}")]
    Host(#[from] HostError),
    #[error("archive: {0}")]
    Io(#[from] std::io::Error),
    #[error("archive: {0}")]
    Zip(#[from] zip::result::ZipError),
    #[error("compte inconnu / unknown account {0}")]
    UnknownAccount(String),
    /// Some plugins did not forget the person: nothing was deleted, the next purge retries.
    #[error("effacement reporté / erasure deferred: {}", .0.join("; "))]
    Deferred(Vec<String>),
}

/// What an erasure deleted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Erased {
    /// `user-data.delete` calls answered.
    pub plugin_calls: u64,
    pub documents: u64,
    pub files: u64,
    /// The plugins whose `user-data.delete` failed when the erasure went on without them
    /// ([`OnHookFailure::EraseAnyway`]): "plugin (UAI): why".
    pub hooks_failed: Vec<String>,
}

/// What a plugin's failing `user-data.delete` does to an erasure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnHookFailure {
    /// Nothing is erased ([`PrivacyError::Deferred`]): the next purge asks the plugin again.
    Defer,
    /// The erasure is overdue: the core erases what it holds (the plugin's documents and files
    /// about the person, the account) and names the plugins that failed
    /// ([`Erased::hooks_failed`]); what such a plugin keeps outside the core is its own.
    EraseAnyway,
}

/// Where a plugin is asked about the person: establishment id → UAI.
type Places = BTreeMap<String, String>;

/// What the core needs to reach the plugins on the person's behalf.
struct Reach<'a> {
    db: &'a Db,
    plugins: &'a PluginHost,
    /// Every establishment: id → UAI.
    uai: BTreeMap<String, String>,
    /// The person's establishments.
    attached: BTreeSet<String>,
}

impl<'a> Reach<'a> {
    async fn new(db: &'a Db, plugins: &'a PluginHost, user_id: &str) -> Result<Self, PrivacyError> {
        let uai = db
            .establishments()
            .await?
            .into_iter()
            .map(|e| (e.id, e.uai.to_string()))
            .collect();
        let attached = db
            .attachments_of(user_id)
            .await?
            .into_iter()
            .map(|a| a.establishment_id)
            .collect();
        Ok(Reach {
            db,
            plugins,
            uai,
            attached,
        })
    }

    /// Every installed plugin, by id.
    async fn installed(&self) -> Result<Vec<PluginId>, PrivacyError> {
        let ids: BTreeSet<String> = self
            .db
            .plugin_installs()
            .await?
            .into_iter()
            .map(|r| r.plugin)
            .collect();
        Ok(ids
            .iter()
            .filter_map(|id| PluginId::parse(id).ok())
            .collect())
    }

    /// Where `plugin` is asked about the person: where it holds data about them, and their
    /// establishments where it was ever enabled.
    async fn places(&self, plugin: &PluginId, data: &SubjectData) -> Result<Places, PrivacyError> {
        let mut ids: BTreeSet<String> = data
            .documents
            .iter()
            .map(|(e, _)| e.clone())
            .chain(data.files.iter().map(|(e, _)| e.clone()))
            .collect();
        for line in self.db.plugin_journal(plugin.as_str()).await? {
            if line.action == "enable"
                && let Some(e) = line.establishment_id
                && self.attached.contains(&e)
            {
                ids.insert(e);
            }
        }
        Ok(ids
            .into_iter()
            .filter_map(|id| Some((self.uai.get(&id)?.clone(), id)))
            .map(|(uai, id)| (id, uai))
            .collect())
    }

    /// The version answering for `plugin` in `establishment_id`: the one running there, or else
    /// the newest installed.
    async fn version(
        &self,
        plugin: &PluginId,
        establishment_id: &str,
    ) -> Result<Option<std::sync::Arc<LoadedPlugin>>, PrivacyError> {
        if let Some(loaded) = self
            .plugins
            .running(establishment_id, plugin.as_str())
            .await?
        {
            return Ok(Some(loaded));
        }
        Ok(self.plugins.newest_installed(plugin.as_str()).await?)
    }
}

/// A session as the person sees it (never its token digest or CSRF token).
#[derive(Serialize)]
struct SessionExport {
    kind: String,
    establishment_id: Option<String>,
    created_at: i64,
    last_seen_at: i64,
    expires_at: i64,
    ip: String,
    user_agent: String,
}

/// What the core holds about `user_id`, as `preau.json`.
async fn core_document(db: &Db, clock: &Clock, user_id: &str) -> Result<Value, PrivacyError> {
    let account = db
        .user(user_id)
        .await?
        .ok_or_else(|| PrivacyError::UnknownAccount(user_id.to_owned()))?;
    let year = crate::calendar::school_year_id(clock.today());
    let sessions: Vec<SessionExport> = db
        .sessions_of(user_id)
        .await?
        .into_iter()
        .map(|s| SessionExport {
            kind: s.kind,
            establishment_id: s.establishment_id,
            created_at: s.created_at,
            last_seen_at: s.last_seen_at,
            expires_at: s.expires_at,
            ip: s.ip,
            user_agent: s.user_agent,
        })
        .collect();
    let traces: Vec<Value> = db
        .traces_of(user_id, u32::MAX)
        .await?
        .into_iter()
        .map(|t| {
            json!({
                "at": t.at, "login": t.login, "event": t.event, "success": t.success,
                "ip": t.ip, "user_agent": t.user_agent,
                "establishment_id": t.establishment_id, "profiles": t.profiles,
            })
        })
        .collect();
    Ok(json!({
        "format": "preau-export/1",
        "generated_at": clock.now().to_rfc3339(),
        "note": "Instants en millisecondes depuis le 1er janvier 1970 (UTC) / instants in milliseconds since 1 January 1970 (UTC).",
        "account": account,
        "attachments": db.attachments_of(user_id).await?,
        "roles": db.roles_of(user_id).await?,
        "school_year": year,
        "classes_and_groups": db.class_groups_of(user_id, &year).await?,
        "teachings": db.teaching_assignments_of(user_id, &year).await?,
        "children": db.children_of(user_id, &year).await?,
        "parents": db.parents_of(user_id).await?,
        "sessions": sessions,
        "connection_traces": traces,
    }))
}

/// The ZIP being written, moved in and out of blocking tasks.
struct Archive {
    zip: zip::ZipWriter<std::fs::File>,
    when: zip::DateTime,
}

impl Archive {
    fn options(&self, method: zip::CompressionMethod) -> zip::write::SimpleFileOptions {
        zip::write::SimpleFileOptions::default()
            .compression_method(method)
            .last_modified_time(self.when)
    }

    /// Adds `value` as pretty JSON at `name`.
    async fn json(self, name: String, value: &Value) -> Result<Archive, PrivacyError> {
        let bytes = serde_json::to_vec_pretty(value).map_err(std::io::Error::other)?;
        blocking(move || {
            let mut a = self;
            a.zip
                .start_file(name, a.options(zip::CompressionMethod::Deflated))?;
            a.zip.write_all(&bytes)?;
            Ok(a)
        })
        .await
    }

    /// Copies `file` (read from its start) to `name`, stored as it is.
    async fn file(self, name: String, file: tokio::fs::File) -> Result<Archive, PrivacyError> {
        let mut file = file.into_std().await;
        blocking(move || {
            let mut a = self;
            a.zip
                .start_file(name, a.options(zip::CompressionMethod::Stored))?;
            std::io::copy(&mut file, &mut a.zip)?;
            Ok(a)
        })
        .await
    }

    async fn finish(self) -> Result<std::fs::File, PrivacyError> {
        blocking(move || {
            let mut file = self.zip.finish()?;
            file.flush()?;
            file.rewind()?;
            Ok(file)
        })
        .await
    }
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, PrivacyError> + Send + 'static,
) -> Result<T, PrivacyError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(std::io::Error::other)?
}

/// The archive of everything held about `user_id`: an anonymous temporary file under
/// `data_dir` (gone once closed), at its start, ready to stream.
pub async fn export_archive(
    db: &Db,
    clock: &Clock,
    plugins: &PluginHost,
    data_dir: &Path,
    user_id: &str,
) -> Result<std::fs::File, PrivacyError> {
    let core = core_document(db, clock, user_id).await?;
    let reach = Reach::new(db, plugins, user_id).await?;
    std::fs::create_dir_all(data_dir)?;
    let now = clock.now_local();
    let when = {
        use chrono::{Datelike, Timelike};
        let n = |v: u32| u8::try_from(v).unwrap_or(0);
        zip::DateTime::from_date_and_time(
            u16::try_from(now.year()).unwrap_or(1980),
            n(now.month()),
            n(now.day()),
            n(now.hour()),
            n(now.minute()),
            n(now.second()),
        )
        .unwrap_or_default()
    };
    let mut archive = Archive {
        zip: zip::ZipWriter::new(tempfile::tempfile_in(data_dir)?),
        when,
    };
    archive = archive.json("preau.json".into(), &core).await?;
    for plugin in reach.installed().await? {
        let data = plugins.storage().subject_data(&plugin, user_id).await?;
        for (establishment_id, uai) in reach.places(&plugin, &data).await? {
            let dir = format!("extensions/{}/{}/{uai}", plugin.publisher(), plugin.name());
            let answer = match reach.version(&plugin, &establishment_id).await {
                Ok(Some(loaded)) => {
                    let ctx = preau_host::CallContext::new(plugin.as_str(), &uai, None, new_id());
                    match plugins.export_user_data(&loaded, ctx, user_id).await {
                        Ok(v) => Some(v),
                        Err(e) => {
                            tracing::warn!(plugin = %plugin, establishment = uai, error = %e, "user-data export failed");
                            Some(json!({ "erreur / error": e.to_string() }))
                        }
                    }
                }
                Ok(None) => None,
                Err(e) => {
                    tracing::warn!(plugin = %plugin, establishment = uai, error = %e, "plugin unavailable for the export");
                    Some(json!({ "erreur / error": "service indisponible / plugin unavailable" }))
                }
            };
            let documents: Vec<Value> = data
                .documents
                .iter()
                .filter(|(e, _)| *e == establishment_id)
                .map(|(_, d)| {
                    json!({
                        "collection": d.collection, "key": d.key, "revision": d.revision,
                        "updated_at": d.updated_at, "body": d.json(),
                    })
                })
                .collect();
            let files: Vec<_> = data
                .files
                .iter()
                .filter(|(e, _)| *e == establishment_id)
                .map(|(_, f)| f)
                .collect();
            let says_something = answer
                .as_ref()
                .is_some_and(|v| !matches!(v, Value::Null) && *v != json!({}));
            if !says_something && documents.is_empty() && files.is_empty() {
                continue;
            }
            if let Some(answer) = answer.as_ref().filter(|_| says_something) {
                archive = archive.json(format!("{dir}/export.json"), answer).await?;
            }
            if !documents.is_empty() {
                archive = archive
                    .json(format!("{dir}/documents.json"), &Value::Array(documents))
                    .await?;
            }
            if !files.is_empty() {
                let metas: Vec<Value> = files
                    .iter()
                    .map(|f| {
                        json!({
                            "path": f.path, "size": f.size, "content_type": f.content_type,
                            "sha256": f.sha256, "created_at": f.created_at, "updated_at": f.updated_at,
                        })
                    })
                    .collect();
                let metas = Value::Array(metas);
                archive = archive.json(format!("{dir}/fichiers.json"), &metas).await?;
                let scope = Scope::new(plugin.clone(), establishment_id.clone());
                for meta in files {
                    let storage = plugins.storage();
                    match storage
                        .files(&scope, Limits::default())
                        .open(&meta.path)
                        .await
                    {
                        Ok((_, file)) => {
                            archive = archive
                                .file(format!("{dir}/fichiers/{}", meta.path), file)
                                .await?;
                        }
                        // Deleted since it was listed.
                        Err(StoreError::NotFound(_)) => {}
                        Err(e) => return Err(e.into()),
                    }
                }
            }
        }
    }
    archive.finish().await
}

/// Erases `user_id` everywhere: each installed plugin's `user-data.delete` where it concerns
/// them, then their documents and files, then the account (journaled by the caller). A plugin
/// failing defers everything to the next purge ([`PrivacyError::Deferred`]), unless `on_failure`
/// says the erasure is overdue; an account already gone is not an error.
pub async fn erase_account(
    db: &Db,
    clock: &Clock,
    plugins: &PluginHost,
    user_id: &str,
    on_failure: OnHookFailure,
) -> Result<Erased, PrivacyError> {
    let reach = Reach::new(db, plugins, user_id).await?;
    let installed = reach.installed().await?;
    let mut erased = Erased::default();
    let mut failures = Vec::new();
    for plugin in &installed {
        let data = plugins.storage().subject_data(plugin, user_id).await?;
        for (establishment_id, uai) in reach.places(plugin, &data).await? {
            let loaded = match reach.version(plugin, &establishment_id).await {
                Ok(Some(loaded)) => loaded,
                Ok(None) => continue,
                Err(e) => {
                    failures.push(format!("{plugin} ({uai}): {e}"));
                    continue;
                }
            };
            let ctx = preau_host::CallContext::new(plugin.as_str(), &uai, None, new_id());
            match plugins.delete_user_data(&loaded, ctx, user_id).await {
                Ok(()) => erased.plugin_calls += 1,
                Err(e) => failures.push(format!("{plugin} ({uai}): {e}")),
            }
        }
    }
    if !failures.is_empty() {
        match on_failure {
            OnHookFailure::Defer => return Err(PrivacyError::Deferred(failures)),
            OnHookFailure::EraseAnyway => erased.hooks_failed = failures,
        }
    }
    for plugin in &installed {
        let deleted = plugins
            .storage()
            .delete_subject_data(plugin, user_id)
            .await?;
        erased.documents += deleted.documents;
        erased.files += deleted.files;
    }
    let mut tx = db.begin(clock.now_ms()).await?;
    match tx.delete_user(user_id).await {
        Ok(()) | Err(DbError::NotFound(_)) => {}
        Err(e) => return Err(e.into()),
    }
    tx.commit().await?;
    crate::db::outbox::wake();
    Ok(erased)
}
