//! The running plugins of the server: the one `preau_host::Runtime` of the process (created at
//! the first plugin call, its pool sized to the largest memory an operator allows), the loaded
//! versions (each compiled or read from the cache once, with its `CoreServices`, grants and
//! limits), and the question every plugin route and the dashboard ask: what runs for this
//! plugin in this establishment right now.
//!
//! What runs is read from the database on every request (enablements and installed versions,
//! two small queries), so a disable or an approval on one node is obeyed by every node at its
//! next request; only the compiled code is kept in memory, keyed by the package's SHA-256.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use preau_host::{CallContext, CallError, Grants, HostConfig, Plugin, Runtime, Services};
use preau_package::Manifest;
use tokio::sync::OnceCell;

use super::{CoreServices, Lifecycle, LifecycleError, Resolution, candidates, limits, resolution};
use crate::clock::Clock;
use crate::config::PluginsConfig;
use crate::db::plugins::EnablementRow;
use crate::db::{Db, DbError};
use crate::recent::Recent;
use crate::store::PluginStorage;

/// Instances alive at once on this node: the pool's size and the admission limit.
const MAX_INSTANCES: u32 = 64;

/// Why a plugin could not be reached.
#[derive(Debug, thiserror::Error)]
pub enum HostError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error(transparent)]
    Lifecycle(#[from] LifecycleError),
    #[error(transparent)]
    Host(#[from] preau_host::HostError),
    #[error("stockage des extensions / plugin storage: {0}")]
    Store(#[from] crate::store::StoreError),
}

/// One installed version, loaded: ready to call.
pub struct LoadedPlugin {
    pub manifest: Manifest,
    plugin: Plugin,
    services: Arc<dyn Services>,
    grants: Arc<Grants>,
    pub limits: preau_host::CallLimits,
    /// What the storage enforces for this plugin (uploads go through it).
    pub store_limits: crate::store::Limits,
}

impl std::fmt::Debug for LoadedPlugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadedPlugin")
            .field("id", &self.manifest.id)
            .field("version", &self.manifest.version)
            .finish()
    }
}

/// The plugins of this server.
pub struct PluginHost {
    db: Db,
    storage: PluginStorage,
    lifecycle: Lifecycle,
    config: PluginsConfig,
    cache_dir: PathBuf,
    runtime: OnceCell<Arc<Runtime>>,
    /// Loaded versions by package SHA-256; the cell makes concurrent first requests load once.
    loaded: Mutex<HashMap<String, Arc<OnceCell<Arc<LoadedPlugin>>>>>,
    /// What runs in each establishment, as routes and widgets see it.
    resolved: Recent<String, Vec<Enabled>>,
}

/// How long routes and widgets may reuse what they read of the enablements: an enable,
/// approval or disable made by another process (the CLI, another node) is obeyed within this
/// delay; one made through this server's console at once ([`PluginHost::invalidate`]). Rights
/// are not cached: a grant change is obeyed at the next request.
pub const RESOLUTION_TTL: std::time::Duration = std::time::Duration::from_secs(1);

impl std::fmt::Debug for PluginHost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PluginHost")
            .field("cache_dir", &self.cache_dir)
            .finish()
    }
}

/// A plugin enabled in an establishment and what it runs there.
#[derive(Debug, Clone)]
pub struct Enabled {
    pub enablement: EnablementRow,
    pub resolution: Resolution,
    /// The package of the running version, when one runs.
    pub package_sha256: Option<String>,
}

impl PluginHost {
    /// The plugins kept under `data_dir` (packages in `plugins/`, compiled code in
    /// `plugin-cache/`), with the operator's limits.
    pub fn new(db: Db, clock: Clock, data_dir: &std::path::Path, config: PluginsConfig) -> Self {
        let lifecycle = Lifecycle::new(db.clone(), clock, data_dir, Vec::new(), "system");
        PluginHost {
            storage: PluginStorage::new(db.clone(), clock, data_dir),
            cache_dir: lifecycle.cache_dir(),
            lifecycle,
            db,
            config,
            runtime: OnceCell::new(),
            loaded: Mutex::new(HashMap::new()),
            resolved: Recent::new(RESOLUTION_TTL),
        }
    }

    /// The runtime, created at the first call: its pool reserves, per memory, the largest
    /// `memory_mib` the operator gives any plugin.
    pub async fn runtime(&self) -> Result<Arc<Runtime>, HostError> {
        let runtime = self
            .runtime
            .get_or_try_init(|| async {
                let largest = self
                    .config
                    .limits_for
                    .keys()
                    .map(|id| self.config.operator_limits(id).memory_mib)
                    .chain([self.config.operator_limits("").memory_mib])
                    .max()
                    .unwrap_or(64);
                let config = HostConfig {
                    cache_dir: Some(self.cache_dir.clone()),
                    max_instances: MAX_INSTANCES,
                    max_memory_bytes: usize::try_from(largest.saturating_mul(1 << 20))
                        .unwrap_or(usize::MAX),
                    pooling: true,
                    ..HostConfig::default()
                };
                Runtime::new(&config).map(Arc::new)
            })
            .await?;
        Ok(runtime.clone())
    }

    /// The plugins enabled in the establishment (or only `plugin`), with what each runs.
    pub async fn enabled_in(
        &self,
        establishment_id: &str,
        plugin: Option<&str>,
    ) -> Result<Vec<Enabled>, HostError> {
        let (enablements, versions) = self.db.plugins_enabled_in(establishment_id, plugin).await?;
        Ok(enablements
            .into_iter()
            .map(|e| {
                let mine: Vec<_> = versions.iter().filter(|v| v.plugin == e.plugin).collect();
                let owned: Vec<_> = mine.iter().map(|v| (*v).clone()).collect();
                let resolution = resolution(&candidates(&owned), &e);
                let package_sha256 = match &resolution {
                    Resolution::Running { version, .. } => mine
                        .iter()
                        .find(|v| v.version == version.to_string())
                        .map(|v| v.package_sha256.clone()),
                    Resolution::AwaitingApproval { .. } => None,
                };
                Enabled {
                    enablement: e,
                    resolution,
                    package_sha256,
                }
            })
            .collect())
    }

    /// What runs in the establishment, as routes and widgets see it: read at most once per
    /// [`RESOLUTION_TTL`] (the hot path of every plugin page and dashboard).
    pub async fn running_in(&self, establishment_id: &str) -> Result<Arc<Vec<Enabled>>, HostError> {
        if let Some(v) = self.resolved.fresh(establishment_id) {
            return Ok(v);
        }
        let v = Arc::new(self.enabled_in(establishment_id, None).await?);
        self.resolved.keep(establishment_id.to_owned(), v.clone());
        Ok(v)
    }

    /// Forgets what routes and widgets read of the enablements (after a lifecycle change made
    /// by this process).
    pub fn invalidate(&self) {
        self.resolved.clear();
    }

    /// The running version of `plugin` in the establishment, loaded; `None` when it is not
    /// enabled there or nothing approved runs (as of [`PluginHost::running_in`]).
    pub async fn running(
        &self,
        establishment_id: &str,
        plugin: &str,
    ) -> Result<Option<Arc<LoadedPlugin>>, HostError> {
        let all = self.running_in(establishment_id).await?;
        match all.iter().find(|e| e.enablement.plugin == plugin) {
            Some(e) => self.load(e).await,
            None => Ok(None),
        }
    }

    /// Loads what `enabled` runs (once per package), `None` when nothing runs.
    pub async fn load(&self, enabled: &Enabled) -> Result<Option<Arc<LoadedPlugin>>, HostError> {
        let (Some(sha), Resolution::Running { version, .. }) =
            (&enabled.package_sha256, &enabled.resolution)
        else {
            return Ok(None);
        };
        let cell = {
            let mut loaded = self.loaded.lock().unwrap_or_else(|p| p.into_inner());
            loaded.entry(sha.clone()).or_default().clone()
        };
        let plugin = cell
            .get_or_try_init(|| async {
                let package = self
                    .lifecycle
                    .package(&enabled.enablement.plugin, &version.to_string())
                    .await?;
                let runtime = self.runtime().await?;
                let plugin = runtime.load(package.component()).await?;
                let effective = limits::effective(&self.config, &package.manifest);
                let store_limits = limits::store_limits(&effective, &package.manifest);
                let services =
                    CoreServices::new(self.storage.clone(), &package.manifest, store_limits)?;
                tracing::info!(
                    plugin = package.manifest.id,
                    version = %package.manifest.version,
                    "plugin loaded"
                );
                Ok::<_, HostError>(Arc::new(LoadedPlugin {
                    grants: Arc::new(Grants {
                        outbound_hosts: package
                            .manifest
                            .capabilities
                            .outbound_hosts
                            .iter()
                            .cloned()
                            .collect(),
                        sso: package.manifest.capabilities.sso,
                    }),
                    limits: limits::call_limits(&effective),
                    store_limits,
                    manifest: package.manifest,
                    plugin,
                    services: Arc::new(services),
                }))
            })
            .await?;
        Ok(Some(plugin.clone()))
    }

    /// Calls a route of `loaded`.
    pub async fn handle(
        &self,
        loaded: &LoadedPlugin,
        ctx: CallContext,
        request: preau_host::RouteRequest,
    ) -> Result<preau_host::Response, CallError> {
        let runtime = self.runtime().await.map_err(|e| internal(&ctx, e))?;
        loaded
            .plugin
            .handle(
                &runtime,
                ctx,
                loaded.services.clone(),
                loaded.grants.clone(),
                loaded.limits,
                request,
            )
            .await
    }

    /// Renders the widget `widget` of `loaded`.
    pub async fn widget(
        &self,
        loaded: &LoadedPlugin,
        ctx: CallContext,
        widget: &str,
    ) -> Result<String, CallError> {
        let runtime = self.runtime().await.map_err(|e| internal(&ctx, e))?;
        loaded
            .plugin
            .widget(
                &runtime,
                ctx,
                loaded.services.clone(),
                loaded.grants.clone(),
                loaded.limits,
                widget,
            )
            .await
    }

    /// The plugin storage the host's services use (uploads are stored through it).
    pub fn storage(&self) -> &PluginStorage {
        &self.storage
    }
}

/// A runtime that cannot start, as a call's error.
fn internal(ctx: &CallContext, e: HostError) -> CallError {
    tracing::error!(error = %e, plugin = ctx.plugin(), "plugin runtime unavailable");
    CallError::Trap {
        request_id: ctx.request_id().to_owned(),
        detail: "moteur indisponible / runtime unavailable".into(),
    }
}

// Events and the RGPD hooks (`events.rs`, `privacy.rs`).
impl PluginHost {
    /// Delivers `event` to `loaded` (the context names the establishment; its request id is the
    /// delivery's id).
    pub async fn event(
        &self,
        loaded: &LoadedPlugin,
        ctx: CallContext,
        event: &preau_host::Event,
    ) -> Result<(), CallError> {
        let runtime = self.runtime().await.map_err(|e| internal(&ctx, e))?;
        loaded
            .plugin
            .event(
                &runtime,
                ctx,
                loaded.services.clone(),
                loaded.grants.clone(),
                loaded.limits,
                event,
            )
            .await
    }

    /// What `loaded` keeps about `subject` outside its documents and files, in the context's
    /// establishment.
    pub async fn export_user_data(
        &self,
        loaded: &LoadedPlugin,
        ctx: CallContext,
        subject: &str,
    ) -> Result<serde_json::Value, CallError> {
        let runtime = self.runtime().await.map_err(|e| internal(&ctx, e))?;
        loaded
            .plugin
            .export_user_data(
                &runtime,
                ctx,
                loaded.services.clone(),
                loaded.grants.clone(),
                loaded.limits,
                subject,
            )
            .await
    }

    /// Asks `loaded` to forget `subject` in the context's establishment.
    pub async fn delete_user_data(
        &self,
        loaded: &LoadedPlugin,
        ctx: CallContext,
        subject: &str,
    ) -> Result<(), CallError> {
        let runtime = self.runtime().await.map_err(|e| internal(&ctx, e))?;
        loaded
            .plugin
            .delete_user_data(
                &runtime,
                ctx,
                loaded.services.clone(),
                loaded.grants.clone(),
                loaded.limits,
                subject,
            )
            .await
    }

    /// The newest installed version of `plugin` (releases before pre-releases), loaded whether
    /// or not it runs anywhere: what answers the RGPD hooks for a disabled plugin. `None` when
    /// nothing of it is installed.
    pub async fn newest_installed(
        &self,
        plugin: &str,
    ) -> Result<Option<Arc<LoadedPlugin>>, HostError> {
        let installed = self.db.plugin_versions(plugin).await?;
        // The lifecycle's own rule for "the newest": releases before pre-releases.
        let Ok(row) = super::lifecycle::choose(&installed, plugin, None) else {
            return Ok(None);
        };
        let Ok(version) = semver::Version::parse(&row.version) else {
            return Ok(None);
        };
        let row = row.clone();
        let enabled = Enabled {
            enablement: EnablementRow {
                plugin: row.plugin.clone(),
                establishment_id: String::new(),
                uai: String::new(),
                approved_digest: row.capabilities_digest.clone(),
                pinned_version: Some(row.version.clone()),
                approved_by: String::new(),
                approved_at: 0,
            },
            resolution: Resolution::Running {
                version,
                awaiting: None,
            },
            package_sha256: Some(row.package_sha256),
        };
        self.load(&enabled).await
    }
}
