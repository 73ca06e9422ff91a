//! The operator's plugin commands: install a package (signature, manifest, imports and
//! compilation checked before anything is written), list, remove (refused while the plugin holds
//! data, unless purged), enable in an establishment (approving the version's capabilities) and
//! disable. Every action is journaled with its actor.
//!
//! Packages are kept as installed, in `{data_dir}/plugins/{publisher}/{name}/{version}.preau`
//! (and `.sig`); precompiled components in `{data_dir}/plugin-cache`.

use std::path::{Path, PathBuf};

use preau_package::signing::{PublicKey, SignatureFile};
use preau_package::{Manifest, Package, PackageError};

use super::{Candidate, Resolution, resolve};
use crate::clock::Clock;
use crate::db::plugins::{EnablementRow, InstallRow, JournalAction, JournalEntry};
use crate::db::{Db, DbError};
use crate::identity::{Profile, Uai};
use crate::store::privacy::Holdings;
use crate::store::spec::StoreSpec;
use crate::store::{PluginId, PluginStorage, StoreError};

/// Why a lifecycle command was refused. Messages are for the operator: French, then English.
#[derive(Debug, thiserror::Error)]
pub enum LifecycleError {
    #[error("lecture impossible / cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("paquet refusé / package refused: {0}")]
    Package(#[from] PackageError),
    #[error(
        "paquet non signé (pas de {0}) : signez-le avec une clé approuvée dans preau.toml ([plugins] trusted_keys), ou installez avec --allow-unsigned (développement seulement) / \
         unsigned package (no {0}): sign it with a key trusted in preau.toml ([plugins] trusted_keys), or install with --allow-unsigned (development only)"
    )]
    Unsigned(String),
    #[error(
        "{id} {version} est déjà installé avec un autre contenu : une version publiée ne change pas, publiez-en une nouvelle / \
         {id} {version} is already installed with different content: a published version never changes, publish a new one"
    )]
    VersionClash { id: String, version: String },
    #[error("le composant ne peut pas être chargé / the component cannot be loaded: {0}")]
    Host(#[from] preau_host::HostError),
    #[error("extension inconnue / unknown plugin: {0}")]
    UnknownPlugin(String),
    #[error("version non installée / version not installed: {id} {version}")]
    UnknownVersion { id: String, version: String },
    #[error("établissement inconnu / unknown establishment: {0}")]
    UnknownEstablishment(String),
    #[error("{0}")]
    Refused(String),
    #[error(
        "{id} détient encore des données ({} documents, {} fichiers) : relancez avec --purge-data pour les effacer définitivement / \
         {id} still holds data ({} documents, {} files): run again with --purge-data to erase them for good",
        held.documents, held.files, held.documents, held.files
    )]
    HoldsData { id: String, held: Holdings },
    #[error("stockage des extensions / plugin storage: {0}")]
    Store(#[from] StoreError),
    #[error("base de données / database: {0}")]
    Db(#[from] DbError),
    #[error("fichiers des extensions / plugin files: {0}")]
    Io(#[from] std::io::Error),
}

pub type LifecycleResult<T> = Result<T, LifecycleError>;

/// What `install` did.
#[derive(Debug)]
pub struct Installed {
    pub id: String,
    pub version: semver::Version,
    /// The publisher's key, `None` for an unsigned development install.
    pub signed_by: Option<String>,
    /// False when this exact package was already installed (nothing changed).
    pub new: bool,
}

/// A plugin as `list` shows it.
#[derive(Debug)]
pub struct PluginOverview {
    pub id: String,
    pub versions: Vec<InstallRow>,
    /// (UAI, what runs there).
    pub establishments: Vec<(String, Resolution)>,
}

/// The lifecycle commands, acting as `actor` (for the journal).
#[derive(Debug, Clone)]
pub struct Lifecycle {
    db: Db,
    clock: Clock,
    data_dir: PathBuf,
    trusted: Vec<PublicKey>,
    actor: String,
}

impl Lifecycle {
    pub fn new(
        db: Db,
        clock: Clock,
        data_dir: &Path,
        trusted: Vec<PublicKey>,
        actor: &str,
    ) -> Lifecycle {
        Lifecycle {
            db,
            clock,
            data_dir: data_dir.to_path_buf(),
            trusted,
            actor: actor.to_owned(),
        }
    }

    fn journal<'a>(
        &'a self,
        action: JournalAction,
        plugin: &'a str,
        version: Option<&'a str>,
        establishment_id: Option<&'a str>,
        detail: &'a str,
    ) -> JournalEntry<'a> {
        JournalEntry {
            at: self.clock.now_ms(),
            actor: &self.actor,
            action,
            plugin,
            version,
            establishment_id,
            detail,
        }
    }

    fn package_path(&self, id: &PluginId, version: &str) -> PathBuf {
        self.data_dir
            .join("plugins")
            .join(id.publisher())
            .join(id.name())
            .join(format!("{version}.preau"))
    }

    /// Where precompiled components are cached.
    pub fn cache_dir(&self) -> PathBuf {
        self.data_dir.join("plugin-cache")
    }

    /// Installs the package at `path` (its signature is `path.sig`). Refused, with nothing
    /// written: a package that does not unpack or whose manifest is wrong; a signature by an
    /// untrusted key or that does not match (a tampered package), or none without
    /// `allow_unsigned`; a component importing what its manifest does not declare or a newer
    /// API than the host's; a component the host cannot compile or link; a version already
    /// installed with other content.
    pub async fn install(&self, path: &Path, allow_unsigned: bool) -> LifecycleResult<Installed> {
        let read = |p: &Path| {
            std::fs::read(p).map_err(|source| LifecycleError::Read {
                path: p.to_path_buf(),
                source,
            })
        };
        let bytes = read(path)?;
        let package = preau_package::unpack(&bytes)?;
        let mut sig_path = path.as_os_str().to_owned();
        sig_path.push(".sig");
        let sig_path = PathBuf::from(sig_path);
        let signature = match std::fs::read_to_string(&sig_path) {
            Ok(text) => Some(text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(source) => {
                return Err(LifecycleError::Read {
                    path: sig_path,
                    source,
                });
            }
        };
        let signed_by =
            self.check_signature(&package, signature.as_deref(), allow_unsigned, &sig_path)?;
        let manifest = &package.manifest;
        let id = PluginId::parse(&manifest.id)?;
        let host_api = semver::Version::parse(preau_host::API_VERSION)
            .map_err(|e| LifecycleError::Refused(e.to_string()))?;
        preau_package::imports::check_imports(
            manifest,
            package.component(),
            &host_api,
            preau_host::INTERFACES,
        )?;
        // Compile (and cache) now, so that a component the host cannot run is refused here and
        // the first call does not pay for the compilation.
        let runtime = preau_host::Runtime::new(&preau_host::HostConfig {
            cache_dir: Some(self.cache_dir()),
            ..preau_host::HostConfig::default()
        })?;
        let loaded = runtime.load(package.component()).await?;
        drop(runtime);

        let version = manifest.version.to_string();
        if let Some(existing) = self
            .db
            .plugin_versions(id.as_str())
            .await?
            .into_iter()
            .find(|r| r.version == version)
        {
            if existing.package_sha256 == package.sha256 {
                return Ok(Installed {
                    id: id.as_str().to_owned(),
                    version: manifest.version.clone(),
                    signed_by: existing.signed_by,
                    new: false,
                });
            }
            return Err(LifecycleError::VersionClash {
                id: id.as_str().to_owned(),
                version,
            });
        }

        let target = self.package_path(&id, &version);
        write_file(&target, &bytes)?;
        if let Some(text) = &signature
            && signed_by.is_some()
        {
            write_file(&sig_of(&target), text.as_bytes())?;
        }
        let row = InstallRow {
            plugin: id.as_str().to_owned(),
            version: version.clone(),
            package_sha256: package.sha256.clone(),
            package_size: i64::try_from(package.size).unwrap_or(i64::MAX),
            component_sha256: loaded.sha256().to_owned(),
            capabilities_digest: manifest.capabilities_digest(),
            manifest: String::from_utf8_lossy(
                package
                    .files
                    .get("plugin.toml")
                    .map_or(&[][..], Vec::as_slice),
            )
            .into_owned(),
            signed_by: signed_by.clone(),
            installed_by: self.actor.clone(),
            installed_at: self.clock.now_ms(),
        };
        let (action, detail) = match &signed_by {
            Some(key) => (
                JournalAction::Install,
                format!("signed by {key}, sha256 {}", package.sha256),
            ),
            None => {
                tracing::warn!(
                    plugin = id.as_str(),
                    version,
                    actor = self.actor,
                    "unsigned plugin installed (--allow-unsigned, development only)"
                );
                (
                    JournalAction::InstallUnsigned,
                    format!("unsigned (--allow-unsigned), sha256 {}", package.sha256),
                )
            }
        };
        let journal = self.journal(action, id.as_str(), Some(&version), None, &detail);
        let inserted = self.db.insert_plugin_install(&row, &journal).await;
        match inserted {
            Ok(true) => {}
            // Another install of the same version won the race: it owns the file now.
            Ok(false) => {
                return Err(LifecycleError::VersionClash {
                    id: id.as_str().to_owned(),
                    version,
                });
            }
            Err(e) => {
                let _ = std::fs::remove_file(&target);
                let _ = std::fs::remove_file(sig_of(&target));
                return Err(e.into());
            }
        }
        tracing::info!(
            plugin = id.as_str(),
            version,
            actor = self.actor,
            "plugin installed"
        );
        Ok(Installed {
            id: id.as_str().to_owned(),
            version: manifest.version.clone(),
            signed_by,
            new: true,
        })
    }

    /// The signer's key when the signature verifies with a trusted key; `None` for an accepted
    /// unsigned install. A signature that does not match the package is refused even with
    /// `allow_unsigned`: that is a tampered package, not a development one.
    fn check_signature(
        &self,
        package: &Package,
        signature: Option<&str>,
        allow_unsigned: bool,
        sig_path: &Path,
    ) -> LifecycleResult<Option<String>> {
        let Some(text) = signature else {
            return if allow_unsigned {
                Ok(None)
            } else {
                Err(LifecycleError::Unsigned(sig_path.display().to_string()))
            };
        };
        let untrusted = serde_json::from_str::<SignatureFile>(text)
            .ok()
            .and_then(|f| PublicKey::from_text(&f.public_key).ok())
            .is_some_and(|key| !self.trusted.contains(&key));
        if untrusted && allow_unsigned {
            // A valid signature by a key this instance does not trust: still checked (a
            // mismatch is tampering), then installed as unsigned.
            let signer = serde_json::from_str::<SignatureFile>(text)
                .ok()
                .and_then(|f| PublicKey::from_text(&f.public_key).ok())
                .map(|k| vec![k])
                .unwrap_or_default();
            preau_package::signing::verify(package, text, &signer)?;
            return Ok(None);
        }
        let key = preau_package::signing::verify(package, text, &self.trusted)?;
        Ok(Some(key.to_text()))
    }

    /// The installed package of `id` at `version`, read back and checked against its recorded
    /// SHA-256.
    pub async fn package(&self, id: &str, version: &str) -> LifecycleResult<Package> {
        let plugin = PluginId::parse(id)?;
        let row = self
            .db
            .plugin_versions(plugin.as_str())
            .await?
            .into_iter()
            .find(|r| r.version == version)
            .ok_or_else(|| LifecycleError::UnknownVersion {
                id: id.to_owned(),
                version: version.to_owned(),
            })?;
        let path = self.package_path(&plugin, version);
        let bytes = std::fs::read(&path).map_err(|source| LifecycleError::Read {
            path: path.clone(),
            source,
        })?;
        let package = preau_package::unpack(&bytes)?;
        if package.sha256 != row.package_sha256 {
            return Err(LifecycleError::Refused(format!(
                "{} a changé depuis son installation / changed since it was installed",
                path.display()
            )));
        }
        Ok(package)
    }

    /// Every installed plugin with its versions and what each establishment runs.
    pub async fn overview(&self) -> LifecycleResult<Vec<PluginOverview>> {
        let installs = self.db.plugin_installs().await?;
        let enablements = self.db.plugin_enablements().await?;
        let mut ids: Vec<String> = installs.iter().map(|r| r.plugin.clone()).collect();
        ids.extend(enablements.iter().map(|e| e.plugin.clone()));
        ids.sort();
        ids.dedup();
        Ok(ids
            .into_iter()
            .map(|id| {
                let versions: Vec<InstallRow> = installs
                    .iter()
                    .filter(|r| r.plugin == id)
                    .cloned()
                    .collect();
                let candidates = candidates(&versions);
                let establishments = enablements
                    .iter()
                    .filter(|e| e.plugin == id)
                    .map(|e| (e.uai.clone(), resolution(&candidates, e)))
                    .collect();
                PluginOverview {
                    id,
                    versions,
                    establishments,
                }
            })
            .collect())
    }

    /// Removes `id` at `version`, or every version of it. Refused while an establishment runs a
    /// version being removed (disable it first), and — when no version would remain — while the
    /// plugin holds data, unless `purge_data`, which erases it (journaled with what was erased).
    pub async fn remove(
        &self,
        storage: &PluginStorage,
        id: &str,
        version: Option<&semver::Version>,
        purge_data: bool,
    ) -> LifecycleResult<Vec<String>> {
        let plugin = PluginId::parse(id)?;
        let installed = self.db.plugin_versions(plugin.as_str()).await?;
        if installed.is_empty() {
            return Err(LifecycleError::UnknownPlugin(id.to_owned()));
        }
        let removing: Vec<&InstallRow> = match version {
            Some(v) => {
                let v = v.to_string();
                let row = installed.iter().find(|r| r.version == v).ok_or_else(|| {
                    LifecycleError::UnknownVersion {
                        id: id.to_owned(),
                        version: v.clone(),
                    }
                })?;
                vec![row]
            }
            None => installed.iter().collect(),
        };
        let candidates = candidates(&installed);
        let last = removing.len() == installed.len();
        let mut running = Vec::new();
        for e in self.db.plugin_enablements_of(plugin.as_str()).await? {
            match resolution(&candidates, &e) {
                Resolution::Running { version, .. }
                    if removing.iter().any(|r| r.version == version.to_string()) =>
                {
                    running.push(format!("{} ({version})", e.uai));
                }
                // Removing every version: an enablement would be left pointing at nothing.
                _ if last => running.push(e.uai.clone()),
                _ => {}
            }
        }
        if !running.is_empty() {
            return Err(LifecycleError::Refused(format!(
                "{id} fonctionne encore dans : {0} ; désactivez-le d'abord (preau plugin disable) / \
                 {id} still runs in: {0}; disable it first (preau plugin disable)",
                running.join(", ")
            )));
        }
        if last {
            let held = storage.holdings(&plugin).await?;
            if !held.is_empty() {
                if !purge_data {
                    return Err(LifecycleError::HoldsData {
                        id: id.to_owned(),
                        held,
                    });
                }
                let erased = storage.purge(&plugin).await?;
                let detail = format!(
                    "{} documents ({} bytes), {} files ({} bytes) erased",
                    erased.documents, erased.document_bytes, erased.files, erased.file_bytes
                );
                self.db
                    .plugin_journal_append(&self.journal(
                        JournalAction::Purge,
                        plugin.as_str(),
                        None,
                        None,
                        &detail,
                    ))
                    .await?;
                tracing::warn!(plugin = id, actor = self.actor, "{detail}");
            }
        }
        let mut removed = Vec::new();
        for row in removing {
            let journal = self.journal(
                JournalAction::Remove,
                plugin.as_str(),
                Some(&row.version),
                None,
                "",
            );
            if self
                .db
                .delete_plugin_install(plugin.as_str(), &row.version, &journal)
                .await?
            {
                let path = self.package_path(&plugin, &row.version);
                for file in [sig_of(&path), path] {
                    match std::fs::remove_file(&file) {
                        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                            tracing::warn!(file = %file.display(), error = %e, "package file left behind");
                        }
                        _ => {}
                    }
                }
                removed.push(row.version.clone());
            }
        }
        if last {
            // Its grants go with it: a later install starts again from the manifest's defaults.
            self.db.delete_service_grants(plugin.as_str()).await?;
        }
        Ok(removed)
    }

    /// Enables `id` in the establishment `uai`, approving the capabilities of `version` (the
    /// newest installed when `None`; with `Some`, the establishment stays on exactly that
    /// version). Brings the plugin's document indexes in line with that version. What runs
    /// there afterwards.
    pub async fn enable(
        &self,
        storage: &PluginStorage,
        id: &str,
        uai: &Uai,
        version: Option<&semver::Version>,
    ) -> LifecycleResult<(Manifest, Resolution)> {
        let plugin = PluginId::parse(id)?;
        let establishment = self
            .db
            .establishment(uai)
            .await?
            .ok_or_else(|| LifecycleError::UnknownEstablishment(uai.to_string()))?;
        let installed = self.db.plugin_versions(plugin.as_str()).await?;
        let candidates = candidates(&installed);
        let chosen = match version {
            Some(v) => candidates.iter().find(|c| &c.version == v).ok_or_else(|| {
                LifecycleError::UnknownVersion {
                    id: id.to_owned(),
                    version: v.to_string(),
                }
            })?,
            None => candidates
                .iter()
                .max_by(|a, b| a.version.cmp(&b.version))
                .ok_or_else(|| LifecycleError::UnknownPlugin(id.to_owned()))?,
        };
        let chosen_version = chosen.version.to_string();
        let package = self.package(id, &chosen_version).await?;
        let spec = StoreSpec::from_manifest(&package.manifest)?;
        storage.sync_indexes(&plugin, &spec).await?;
        let row = EnablementRow {
            plugin: plugin.as_str().to_owned(),
            establishment_id: establishment.id.clone(),
            uai: uai.to_string(),
            approved_digest: chosen.capabilities_digest.clone(),
            pinned_version: version.map(ToString::to_string),
            approved_by: self.actor.clone(),
            approved_at: self.clock.now_ms(),
        };
        self.apply_default_grants(&establishment.id, &plugin, &package.manifest)
            .await?;
        let detail = format!("approved capabilities {}", chosen.capabilities_digest);
        let journal = self.journal(
            JournalAction::Enable,
            plugin.as_str(),
            Some(&chosen_version),
            Some(&establishment.id),
            &detail,
        );
        self.db.upsert_plugin_enablement(&row, &journal).await?;
        tracing::info!(plugin = id, establishment = %uai, version = chosen_version, actor = self.actor, "plugin enabled");
        Ok((package.manifest, resolution(&candidates, &row)))
    }

    /// Grants each permission of `manifest` to its default profiles in the establishment, the
    /// first time that permission is approved there.
    async fn apply_default_grants(
        &self,
        establishment_id: &str,
        plugin: &PluginId,
        manifest: &Manifest,
    ) -> LifecycleResult<()> {
        let mut defaults = Vec::with_capacity(manifest.permissions.len());
        for p in &manifest.permissions {
            let profiles = p
                .defaults
                .iter()
                .map(|d| d.parse::<Profile>())
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| LifecycleError::Refused(format!("permissions.{}: {e}", p.id)))?;
            defaults.push((p.id.as_str(), profiles));
        }
        let defaults: Vec<(&str, &[Profile])> =
            defaults.iter().map(|(id, p)| (*id, p.as_slice())).collect();
        let mut tx = self.db.begin(self.clock.now_ms()).await?;
        tx.apply_plugin_default_grants(establishment_id, plugin.as_str(), &defaults)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Disables `id` in `uai` (its data stays). `false` if it was not enabled there.
    pub async fn disable(&self, id: &str, uai: &Uai) -> LifecycleResult<bool> {
        let plugin = PluginId::parse(id)?;
        let establishment = self
            .db
            .establishment(uai)
            .await?
            .ok_or_else(|| LifecycleError::UnknownEstablishment(uai.to_string()))?;
        let journal = self.journal(
            JournalAction::Disable,
            plugin.as_str(),
            None,
            Some(&establishment.id),
            "",
        );
        let done = self
            .db
            .delete_plugin_enablement(plugin.as_str(), &establishment.id, &journal)
            .await?;
        if done {
            tracing::info!(plugin = id, establishment = %uai, actor = self.actor, "plugin disabled");
        }
        Ok(done)
    }
}

fn candidates(rows: &[InstallRow]) -> Vec<Candidate> {
    rows.iter()
        .filter_map(|r| {
            Some(Candidate {
                version: semver::Version::parse(&r.version).ok()?,
                capabilities_digest: r.capabilities_digest.clone(),
            })
        })
        .collect()
}

fn resolution(candidates: &[Candidate], e: &EnablementRow) -> Resolution {
    let pinned = e
        .pinned_version
        .as_deref()
        .and_then(|v| semver::Version::parse(v).ok());
    resolve(candidates, &e.approved_digest, pinned.as_ref())
}

fn sig_of(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".sig");
    PathBuf::from(name)
}

/// Writes `bytes` to `path` whole or not at all (a temporary file in the same directory, renamed).
fn write_file(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let dir = path
        .parent()
        .ok_or_else(|| std::io::Error::other("no parent directory"))?;
    std::fs::create_dir_all(dir)?;
    let mut file = tempfile::NamedTempFile::new_in(dir)?;
    file.write_all(bytes)?;
    file.as_file().sync_all()?;
    file.persist(path).map_err(|e| e.error)?;
    Ok(())
}
