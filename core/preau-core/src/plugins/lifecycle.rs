//! The operator's plugin commands: install a package (signature, manifest, imports and
//! compilation checked before anything is written), list, remove (refused while the plugin holds
//! data, unless purged), enable in an establishment (approving the version's capabilities) and
//! disable. Every action is journaled with its actor.
//!
//! Packages are kept as installed, in `{data_dir}/plugins/{publisher}/{name}/{version}.preau`
//! (and `.sig`); precompiled components in `{data_dir}/plugin-cache`.

use std::path::{Path, PathBuf};

use preau_package::signing::{PublicKey, SignatureFile, signature_path};
use preau_package::{Manifest, Package, PackageError};

use super::{Resolution, candidates, resolution};
use crate::clock::Clock;
use crate::db::plugins::{EnablementRow, InstallRow, JournalAction, JournalEntry};
use crate::db::{Db, DbError, Tx};
use crate::identity::{Profile, Uai};
use crate::store::privacy::Holdings;
use crate::store::spec::{CollectionSpec, StoreSpec};
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
    storage: PluginStorage,
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
            storage: PluginStorage::new(db.clone(), clock, data_dir),
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

    /// Where an installed package is kept: named by version and content.
    fn package_path(&self, id: &PluginId, version: &str, sha256: &str) -> PathBuf {
        self.data_dir
            .join("plugins")
            .join(id.publisher())
            .join(id.name())
            .join(format!("{version}-{sha256}.preau"))
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
        let sig_path = signature_path(path);
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
            // Nothing is called here: no instance made ahead.
            warm_instances: 0,
            ..preau_host::HostConfig::default()
        })?;
        let loaded = runtime.load(package.component()).await?;
        drop(runtime);

        let version = manifest.version.to_string();
        let same = |r: &InstallRow| r.version == version;
        if let Some(existing) = self
            .db
            .plugin_versions(id.as_str())
            .await?
            .into_iter()
            .find(same)
        {
            return self.already_installed(&id, existing, &package);
        }

        // Named after its content: two installs of one version never write the same file unless
        // they carry the same bytes, and the loser of the race below removes only its own.
        let target = self.package_path(&id, &version, &package.sha256);
        write_file(&target, &bytes)?;
        if let Some(text) = &signature
            && signed_by.is_some()
        {
            write_file(&signature_path(&target), text.as_bytes())?;
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
            None => (
                JournalAction::InstallUnsigned,
                format!("unsigned (--allow-unsigned), sha256 {}", package.sha256),
            ),
        };
        let recorded = async {
            let mut tx = self.db.begin(self.clock.now_ms()).await?;
            tx.plugin_lifecycle_lock(id.as_str()).await?;
            if !tx.insert_plugin_install(&row).await? {
                return Ok::<bool, DbError>(false);
            }
            tx.plugin_journal_append(&self.journal(
                action,
                id.as_str(),
                Some(&version),
                None,
                &detail,
            ))
            .await?;
            tx.commit().await?;
            Ok(true)
        }
        .await;
        match recorded {
            Ok(true) => {}
            // Another install of this version committed first.
            Ok(false) => {
                let existing = self
                    .db
                    .plugin_versions(id.as_str())
                    .await?
                    .into_iter()
                    .find(same);
                let existing = existing.ok_or_else(|| LifecycleError::VersionClash {
                    id: id.as_str().to_owned(),
                    version: version.clone(),
                })?;
                if existing.package_sha256 != package.sha256 {
                    remove_package_files(&target);
                }
                return self.already_installed(&id, existing, &package);
            }
            Err(e) => {
                remove_package_files(&target);
                return Err(e.into());
            }
        }
        if signed_by.is_none() {
            tracing::warn!(
                plugin = id.as_str(),
                version,
                actor = self.actor,
                "unsigned plugin installed (--allow-unsigned, development only)"
            );
        }
        tracing::info!(
            plugin = id.as_str(),
            version,
            actor = self.actor,
            "plugin installed"
        );
        // A newer version with the approved capabilities runs at once where they were approved:
        // its indexes must exist now.
        self.sync_indexes(&id, None).await?;
        Ok(Installed {
            id: id.as_str().to_owned(),
            version: manifest.version.clone(),
            signed_by,
            new: true,
        })
    }

    /// The answer to installing `package` when its version is installed already: nothing to do
    /// for the same bytes, refused for others.
    fn already_installed(
        &self,
        id: &PluginId,
        existing: InstallRow,
        package: &Package,
    ) -> LifecycleResult<Installed> {
        if existing.package_sha256 == package.sha256 {
            return Ok(Installed {
                id: id.as_str().to_owned(),
                version: package.manifest.version.clone(),
                signed_by: existing.signed_by,
                new: false,
            });
        }
        Err(LifecycleError::VersionClash {
            id: id.as_str().to_owned(),
            version: existing.version,
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
        let signer = serde_json::from_str::<SignatureFile>(text)
            .ok()
            .and_then(|f| PublicKey::from_text(&f.public_key).ok());
        if let Some(signer) = signer
            && allow_unsigned
            && !self.trusted.contains(&signer)
        {
            // A valid signature by a key this instance does not trust: still checked (a
            // mismatch is tampering), then installed as unsigned.
            preau_package::signing::verify(package, text, &[signer])?;
            return Ok(None);
        }
        let key = preau_package::signing::verify(package, text, &self.trusted)?;
        Ok(Some(key.to_text()))
    }

    /// The installed package of `row`, read back and checked against its recorded SHA-256.
    fn read_package(&self, plugin: &PluginId, row: &InstallRow) -> LifecycleResult<Package> {
        let path = self.package_path(plugin, &row.version, &row.package_sha256);
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

    /// The installed package of `id` at `version`.
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
        self.read_package(&plugin, &row)
    }

    /// The version `enable` would approve (`version`, or the newest release), with whether it
    /// was installed signed: what an operator reviews before approving.
    pub async fn proposed(
        &self,
        id: &str,
        version: Option<&semver::Version>,
    ) -> LifecycleResult<(Package, bool)> {
        let plugin = PluginId::parse(id)?;
        let installed = self.db.plugin_versions(plugin.as_str()).await?;
        let chosen = choose(&installed, id, version)?;
        Ok((
            self.read_package(&plugin, chosen)?,
            chosen.signed_by.is_some(),
        ))
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
    /// plugin is enabled anywhere or holds data, unless `purge_data`, which erases the data.
    /// Checks, removal, erasure, grants and journal are one transaction under the plugin's
    /// lifecycle lock.
    pub async fn remove(
        &self,
        id: &str,
        version: Option<&semver::Version>,
        purge_data: bool,
    ) -> LifecycleResult<Vec<String>> {
        let plugin = PluginId::parse(id)?;
        let mut tx = self.db.begin(self.clock.now_ms()).await?;
        tx.plugin_lifecycle_lock(plugin.as_str()).await?;
        let installed = tx.plugin_versions(plugin.as_str()).await?;
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
        for e in tx.plugin_enablements_of(plugin.as_str()).await? {
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
                "{id} est encore activé dans : {0} ; désactivez-le d'abord (preau plugin disable) / \
                 {id} is still enabled in: {0}; disable it first (preau plugin disable)",
                running.join(", ")
            )));
        }
        let mut erased = false;
        if last {
            // No enablement is left, so no call of the plugin writes meanwhile.
            let held = self.storage.holdings(&plugin).await?;
            if !held.is_empty() {
                if !purge_data {
                    return Err(LifecycleError::HoldsData {
                        id: id.to_owned(),
                        held,
                    });
                }
                tx.plugin_purge(plugin.as_str()).await?;
                let detail = format!(
                    "{} documents ({} bytes), {} files ({} bytes) erased",
                    held.documents, held.document_bytes, held.files, held.file_bytes
                );
                tx.plugin_journal_append(&self.journal(
                    JournalAction::Purge,
                    plugin.as_str(),
                    None,
                    None,
                    &detail,
                ))
                .await?;
                tracing::warn!(plugin = id, actor = self.actor, "{detail}");
                erased = true;
            }
        }
        let mut removed = Vec::new();
        for row in &removing {
            if tx
                .delete_plugin_install(plugin.as_str(), &row.version)
                .await?
            {
                tx.plugin_journal_append(&self.journal(
                    JournalAction::Remove,
                    plugin.as_str(),
                    Some(&row.version),
                    None,
                    "",
                ))
                .await?;
                removed.push(row.version.clone());
            }
        }
        if last {
            // Its grants go with it: a later install starts again from the manifest's defaults.
            tx.delete_service_grants(plugin.as_str()).await?;
        }
        tx.commit().await?;
        for row in &removing {
            remove_package_files(&self.package_path(&plugin, &row.version, &row.package_sha256));
        }
        if erased {
            self.storage.remove_plugin_files(&plugin).await?;
        }
        if !last {
            self.sync_indexes(&plugin, None).await?;
        }
        Ok(removed)
    }

    /// Enables `id` in the establishment `uai`, approving the capabilities of `version` (the
    /// newest installed when `None`; with `Some`, the establishment stays on exactly that
    /// version), and applies its permissions' default grants there. The document indexes are
    /// brought in line first (a unique index that existing documents break refuses the
    /// approval). What runs there afterwards.
    pub async fn enable(
        &self,
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
        let chosen = choose(&installed, id, version)?;
        let package = self.read_package(&plugin, chosen)?;
        self.sync_indexes(&plugin, Some(&package.manifest)).await?;

        let mut tx = self.db.begin(self.clock.now_ms()).await?;
        tx.plugin_lifecycle_lock(plugin.as_str()).await?;
        // Re-read under the lock: the version may have been removed meanwhile.
        let installed = tx.plugin_versions(plugin.as_str()).await?;
        let chosen = choose(&installed, id, version)?;
        if chosen.package_sha256 != package.sha256 {
            return Err(LifecycleError::Refused(format!(
                "{id} {} a changé pendant l'activation, recommencez / changed while being enabled, try again",
                chosen.version
            )));
        }
        let row = EnablementRow {
            plugin: plugin.as_str().to_owned(),
            establishment_id: establishment.id.clone(),
            uai: uai.to_string(),
            approved_digest: chosen.capabilities_digest.clone(),
            pinned_version: version.map(ToString::to_string),
            approved_by: self.actor.clone(),
            approved_at: self.clock.now_ms(),
        };
        apply_default_grants(&mut tx, &establishment.id, &plugin, &package.manifest).await?;
        tx.upsert_plugin_enablement(&row).await?;
        tx.enqueue_event(&crate::db::outbox::NewEvent {
            kind: preau_host::EventKind::PluginEnabled,
            establishment_id: &establishment.id,
            plugin: Some(plugin.as_str()),
            subject: None,
            payload: serde_json::json!({}),
        })
        .await?;
        let detail = format!("approved capabilities {}", chosen.capabilities_digest);
        tx.plugin_journal_append(&self.journal(
            JournalAction::Enable,
            plugin.as_str(),
            Some(&chosen.version),
            Some(&establishment.id),
            &detail,
        ))
        .await?;
        tx.commit().await?;
        crate::db::outbox::wake();
        tracing::info!(plugin = id, establishment = %uai, version = chosen.version, actor = self.actor, "plugin enabled");
        Ok((package.manifest, resolution(&candidates(&installed), &row)))
    }

    /// Disables `id` in `uai` (its data stays). `false` if it was not enabled there.
    pub async fn disable(&self, id: &str, uai: &Uai) -> LifecycleResult<bool> {
        let plugin = PluginId::parse(id)?;
        let establishment = self
            .db
            .establishment(uai)
            .await?
            .ok_or_else(|| LifecycleError::UnknownEstablishment(uai.to_string()))?;
        let mut tx = self.db.begin(self.clock.now_ms()).await?;
        tx.plugin_lifecycle_lock(plugin.as_str()).await?;
        let done = tx
            .delete_plugin_enablement(plugin.as_str(), &establishment.id)
            .await?;
        if done {
            tx.plugin_journal_append(&self.journal(
                JournalAction::Disable,
                plugin.as_str(),
                None,
                Some(&establishment.id),
                "",
            ))
            .await?;
        }
        tx.commit().await?;
        if done {
            tracing::info!(plugin = id, establishment = %uai, actor = self.actor, "plugin disabled");
            self.sync_indexes(&plugin, None).await?;
        }
        Ok(done)
    }

    /// Brings the plugin's document indexes in line with every version that runs somewhere
    /// (and `candidate`, about to be approved): their union, since indexes are shared by all
    /// establishments. Two running versions defining one index differently are refused.
    async fn sync_indexes(
        &self,
        plugin: &PluginId,
        candidate: Option<&Manifest>,
    ) -> LifecycleResult<()> {
        let installed = self.db.plugin_versions(plugin.as_str()).await?;
        let candidates = candidates(&installed);
        let mut manifests: Vec<(String, Manifest)> = Vec::new();
        for e in self.db.plugin_enablements_of(plugin.as_str()).await? {
            if let Resolution::Running { version, .. } = resolution(&candidates, &e) {
                let version = version.to_string();
                if manifests.iter().any(|(v, _)| *v == version) {
                    continue;
                }
                if let Some(row) = installed.iter().find(|r| r.version == version) {
                    manifests.push((version, Manifest::parse(&row.manifest)?));
                }
            }
        }
        if let Some(m) = candidate {
            manifests.push((m.version.to_string(), m.clone()));
        }
        let mut collections: Vec<CollectionSpec> = Vec::new();
        let mut origin: Vec<(String, String, String, String)> = Vec::new();
        for (version, manifest) in &manifests {
            for c in StoreSpec::from_manifest(manifest)?.collections() {
                let at = match collections.iter().position(|x| x.name == c.name) {
                    Some(at) => at,
                    None => {
                        collections.push(CollectionSpec {
                            name: c.name.clone(),
                            indexes: Vec::new(),
                        });
                        collections.len() - 1
                    }
                };
                for index in &c.indexes {
                    let definition = index.definition();
                    match origin
                        .iter()
                        .find(|(col, name, _, _)| *col == c.name && *name == index.name)
                    {
                        Some((_, _, d, other)) if *d != definition => {
                            return Err(LifecycleError::Refused(format!(
                                "l'index {}.{} diffère entre les versions {other} et {version}, en service ensemble / \
                                 index {}.{} differs between versions {other} and {version}, running side by side",
                                c.name, index.name, c.name, index.name
                            )));
                        }
                        Some(_) => {}
                        None => {
                            origin.push((
                                c.name.clone(),
                                index.name.clone(),
                                definition,
                                version.clone(),
                            ));
                            collections[at].indexes.push(index.clone());
                        }
                    }
                }
            }
        }
        self.storage
            .sync_indexes(plugin, &StoreSpec::new(collections)?)
            .await?;
        Ok(())
    }
}

/// The installed version `version` names, or the newest (releases before pre-releases).
pub(crate) fn choose<'a>(
    installed: &'a [InstallRow],
    id: &str,
    version: Option<&semver::Version>,
) -> LifecycleResult<&'a InstallRow> {
    let parsed = |r: &InstallRow| semver::Version::parse(&r.version).ok();
    match version {
        Some(v) => installed
            .iter()
            .find(|r| parsed(r).as_ref() == Some(v))
            .ok_or_else(|| LifecycleError::UnknownVersion {
                id: id.to_owned(),
                version: v.to_string(),
            }),
        None => installed
            .iter()
            .filter_map(|r| Some((parsed(r)?, r)))
            .max_by(|(a, _), (b, _)| a.pre.is_empty().cmp(&b.pre.is_empty()).then(a.cmp(b)))
            .map(|(_, r)| r)
            .ok_or_else(|| LifecycleError::UnknownPlugin(id.to_owned())),
    }
}

/// Grants each permission of `manifest` to its default profiles in the establishment, the first
/// time that permission is approved there.
async fn apply_default_grants(
    tx: &mut Tx,
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
    tx.apply_plugin_default_grants(establishment_id, plugin.as_str(), &defaults)
        .await?;
    Ok(())
}

/// Removes a stored package and its signature, logging (not failing) what cannot be removed.
fn remove_package_files(path: &Path) {
    for file in [signature_path(path), path.to_path_buf()] {
        match std::fs::remove_file(&file) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                tracing::warn!(file = %file.display(), error = %e, "package file left behind");
            }
            _ => {}
        }
    }
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
