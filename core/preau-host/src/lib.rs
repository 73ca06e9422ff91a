//! The Préau plugin runtime: the only crate that depends on wasmtime.
//!
//! One [`Runtime`] per process holds the wasmtime `Engine` (component model, epoch interruption,
//! the pooling allocator when the address space allows it), the `Linker` with the host side of
//! the plugin API (`preau:plugin@1.0.0`, [`INTERFACES`]), and an admission semaphore sized to the
//! pool. [`Runtime::load`] compiles a component once and caches the precompiled artefact on disk
//! (keyed by the component's SHA-256 and the engine's compatibility hash, which covers the
//! wasmtime version and configuration); the result is a [`Plugin`] holding an `InstancePre`.
//! Every call ([`Plugin::handle`], [`Plugin::widget`], [`Plugin::event`],
//! [`Plugin::export_user_data`], [`Plugin::delete_user_data`]) gets a fresh instance with its own
//! memory cap, a deadline enforced by epoch interruption (yielding to tokio meanwhile) and a
//! tokio timeout as a backstop; a misbehaving call ends in a [`CallError`] naming the request id,
//! and nothing of it survives the call. The instance is usually made ahead of the call, in the
//! background (`warm.rs`); made ahead or not, code it runs at instantiation is refused every
//! service, and the call's environment goes in only after.
//!
//! The imports reach the embedding core through the [`Services`] trait, with a [`CallContext`]
//! the caller builds and the plugin never sees nor forges; the host checks and bounds what the
//! plugin asks first (`limits`), and decides outbound HTTP itself against the plugin's
//! [`Grants`]. What comes back is checked too: a view is JSON of at most the plugin's view limit,
//! following `view/1.x` (`docs/view-schema.md`).

mod bindings {
    wasmtime::component::bindgen!({
        path: "../../plugin-sdk/wit",
        world: "plugin",
        imports: { default: async },
        exports: { default: async },
        additional_derives: [PartialEq, Eq],
        with: {
            "preau:plugin/files.upload": crate::storage::UploadState,
            "preau:plugin/files.download": crate::storage::DownloadState,
        },
    });
}

mod cache;
mod call;
mod event;
mod host_api;
pub mod limits;
mod outbound;
mod services;
mod state;
mod storage;
#[doc(hidden)]
pub mod testing;
pub mod view;
mod warm;

pub use bindings::exports::preau::plugin::handler::{
    Failure, RawAnswer, RawKind, Request, Response, Upload,
};
pub use call::{CallError, CallLimits};
/// The date and time types of [`Services`], re-exported so that the core uses the same version.
pub use chrono;
pub use event::{Event, EventKind};
pub use services::*;
/// The URL type of [`OutboundRequest`] and [`CasService`], re-exported likewise.
pub use url;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Semaphore;
use wasmtime::component::{Component, Linker};
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

use call::Export;
use state::{CallEnv, State};

/// The version of the plugin API this host offers.
pub const API_VERSION: &str = "1.0.0";

/// The `preau:plugin` interfaces this host links (imports, and `http-types` for their types).
pub const INTERFACES: &[&str] = &[
    "log",
    "clock",
    "calendar",
    "directory",
    "rights",
    "notifications",
    "documents",
    "files",
    "http",
    "sso",
    "http-types",
];

/// Bytes of each pooled memory (and a sixteenth of it for tables) reset by hand rather than
/// given back to the kernel between calls, when Linux's PAGEMAP_SCAN (6.7+) tells which pages
/// the last instance touched: a Rust plugin's stack (1 MiB) and first heap pages.
const KEEP_RESIDENT_SCANNED: usize = 2 << 20;
/// The same without PAGEMAP_SCAN, where the whole span is memset at every reuse: the first
/// pages a small plugin touches (BENCHMARKS, 2026-11-28: the best latency of 0, 256 KiB, 1 MiB).
const KEEP_RESIDENT_UNSCANNED: usize = 256 << 10;

/// How often the epoch advances: the granularity of deadlines.
pub const EPOCH_TICK: Duration = Duration::from_millis(5);
/// Epoch ticks between two sweeps of idle ready instances (one second).
const SWEEP_TICKS: u32 = 200;

/// How the runtime is set up.
#[derive(Debug, Clone)]
pub struct HostConfig {
    /// Where precompiled components are cached (`None`: compile at every load).
    pub cache_dir: Option<PathBuf>,
    /// Instances alive at once (the pool's size and the admission limit).
    pub max_instances: u32,
    /// The largest memory any plugin may be given (the pool reserves this per memory).
    pub max_memory_bytes: usize,
    /// Use the pooling allocator if the address space allows it.
    pub pooling: bool,
    /// Instances made ahead of a call and not yet taken, at most one per plugin (0: every call
    /// makes its own instance). The pool has this many slots more than `max_instances`.
    pub warm_instances: u32,
    /// How long a ready instance waits for a call before it is dropped.
    pub warm_idle: Duration,
}

impl Default for HostConfig {
    fn default() -> Self {
        HostConfig {
            cache_dir: None,
            max_instances: 64,
            max_memory_bytes: 64 << 20,
            pooling: true,
            warm_instances: 16,
            warm_idle: Duration::from_secs(60),
        }
    }
}

/// Errors of loading a component.
#[derive(Debug, thiserror::Error)]
pub enum HostError {
    #[error("composant invalide / invalid component: {0}")]
    Component(String),
    #[error(
        "le composant n'est pas compatible avec l'API de l'hôte / the component does not fit the host API: {0}"
    )]
    Link(String),
    #[error("cache des composants / component cache: {0}")]
    Cache(#[from] std::io::Error),
    #[error("moteur / engine: {0}")]
    Engine(String),
}

/// The plugin runtime of the process.
pub struct Runtime {
    engine: Engine,
    linker: Linker<State>,
    cache_dir: Option<PathBuf>,
    admission: Arc<Semaphore>,
    /// Places for ready instances (`warm.rs`).
    warm_places: Arc<Semaphore>,
    warm_slots: Arc<warm::WarmSlots>,
    pooling: bool,
    ticker: Option<std::thread::JoinHandle<()>>,
    stop: Arc<std::sync::atomic::AtomicBool>,
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime")
            .field("pooling", &self.pooling)
            .field("cache_dir", &self.cache_dir)
            .finish()
    }
}

impl Runtime {
    /// Builds the engine (pooling allocator when possible, on-demand otherwise), the linker, and
    /// starts the epoch ticker (which also drops idle ready instances).
    pub fn new(config: &HostConfig) -> Result<Runtime, HostError> {
        let base = || {
            let mut c = Config::new();
            c.epoch_interruption(true);
            c.wasm_component_model(true);
            c.max_wasm_stack(1 << 20);
            c
        };
        let mut engine = None;
        let mut pooling = false;
        if config.pooling {
            let keep_resident = if PoolingAllocationConfig::is_pagemap_scan_available() {
                KEEP_RESIDENT_SCANNED
            } else {
                tracing::info!("PAGEMAP_SCAN unavailable: pooled memory reset by its first pages");
                KEEP_RESIDENT_UNSCANNED
            };
            let mut pool = PoolingAllocationConfig::default();
            // Calls' instances, and ready ones.
            let instances = config.max_instances.saturating_add(config.warm_instances);
            pool.total_component_instances(instances)
                // A Rust component uses a few core instances, 1-2 memories and 2 tables.
                .total_core_instances(instances.saturating_mul(4))
                .total_memories(instances.saturating_mul(2))
                .total_tables(instances.saturating_mul(4))
                .max_memories_per_component(2)
                .max_tables_per_component(4)
                .max_memory_size(config.max_memory_bytes)
                // When a slot is reused, reset by hand (memset) the pages the last instance
                // touched, found with Linux's PAGEMAP_SCAN, instead of giving them back to the
                // kernel with madvise, whose TLB shootdowns stall every thread of the process
                // (BENCHMARKS: 11.9 µs per call and 114,000 calls/s against 28.0 µs and 27,500
                // with 256 KiB memset and the rest madvised, which older kernels still get).
                .linear_memory_keep_resident(keep_resident)
                .table_keep_resident(keep_resident / 16)
                .pagemap_scan(wasmtime::Enabled::Auto);
            let mut c = base();
            c.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
            match Engine::new(&c) {
                Ok(e) => {
                    engine = Some(e);
                    pooling = true;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "pooling allocator unavailable, using on-demand allocation")
                }
            }
        }
        let engine = match engine {
            Some(e) => e,
            None => Engine::new(&base()).map_err(|e| HostError::Engine(e.to_string()))?,
        };
        let mut linker = Linker::new(&engine);
        // WASI p2, linked with nothing granted: a Rust std guest imports it even if it uses none.
        wasmtime_wasi::p2::add_to_linker_async(&mut linker)
            .map_err(|e| HostError::Engine(e.to_string()))?;
        bindings::Plugin::add_to_linker::<_, wasmtime::component::HasSelf<State>>(
            &mut linker,
            |s| s,
        )
        .map_err(|e| HostError::Engine(e.to_string()))?;

        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let warm_slots = Arc::new(warm::WarmSlots::new(config.warm_idle));
        let ticker = {
            let (engine, stop, warm_slots) = (engine.clone(), stop.clone(), warm_slots.clone());
            std::thread::Builder::new()
                .name("preau-epoch".into())
                .spawn(move || {
                    let mut ticks: u32 = 0;
                    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                        std::thread::sleep(EPOCH_TICK);
                        engine.increment_epoch();
                        ticks = ticks.wrapping_add(1);
                        if ticks.is_multiple_of(SWEEP_TICKS) {
                            warm_slots.sweep();
                        }
                    }
                })
                .map_err(HostError::Cache)?
        };
        Ok(Runtime {
            engine,
            linker,
            cache_dir: config.cache_dir.clone(),
            admission: Arc::new(Semaphore::new(config.max_instances as usize)),
            warm_places: Arc::new(Semaphore::new(config.warm_instances as usize)),
            warm_slots,
            pooling,
            ticker: Some(ticker),
            stop,
        })
    }

    /// Whether the pooling allocator is in use.
    pub fn is_pooling(&self) -> bool {
        self.pooling
    }

    /// Compiles `component` (or loads its cached artefact) and links it: a plugin ready to call.
    /// A component importing something the host does not offer is refused here.
    pub async fn load(&self, component: &[u8]) -> Result<Plugin, HostError> {
        let compiled =
            cache::load_or_compile(&self.engine, self.cache_dir.as_deref(), component).await?;
        self.link(compiled.component, compiled.sha256)
    }

    fn link(&self, component: Component, sha256: String) -> Result<Plugin, HostError> {
        let pre = self
            .linker
            .instantiate_pre(&component)
            .map_err(|e| HostError::Link(format!("{e:#}")))?;
        let pre = bindings::PluginPre::new(pre).map_err(|e| HostError::Link(format!("{e:#}")))?;
        Ok(Plugin {
            pre,
            sha256,
            warm: self.warm_slots.slot(),
        })
    }

    /// Starts making `plugin`'s next instance in the background (`warm.rs`).
    fn refill(&self, plugin: &Plugin, memory_bytes: usize) {
        let maker = || warm::Maker {
            engine: self.engine.clone(),
            pre: plugin.pre.clone(),
            component: plugin.sha256.clone(),
            closed: self.stop.clone(),
        };
        warm::refill(&plugin.warm, &self.warm_places, maker, memory_bytes);
    }
}

impl Drop for Runtime {
    /// Stops the epoch ticker (it notices within one tick), then advances the epoch once more:
    /// guest code still running in an instance being made in the background (a `refill` task
    /// outliving the runtime) reaches its deadline check, sees the runtime closed, and stops.
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        if let Some(ticker) = self.ticker.take() {
            let _ = ticker.join();
        }
        self.engine.increment_epoch();
    }
}

/// A live, idle instance (see [`Plugin::instantiate_idle`]).
#[doc(hidden)]
pub struct IdleInstance {
    _store: wasmtime::Store<State>,
    _instance: bindings::Plugin,
}

/// A loaded plugin: its component linked and ready to instantiate.
pub struct Plugin {
    pre: bindings::PluginPre<State>,
    sha256: String,
    /// Its next instance, made ahead of the call.
    warm: Arc<warm::WarmSlot>,
}

impl std::fmt::Debug for Plugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Plugin")
            .field("sha256", &self.sha256)
            .finish()
    }
}

impl Plugin {
    /// SHA-256 of the component.
    pub fn sha256(&self) -> &str {
        &self.sha256
    }

    /// Whether an instance made ahead of the next call is waiting (tests).
    #[doc(hidden)]
    pub fn has_ready_instance(&self) -> bool {
        self.warm.is_ready()
    }

    /// Instantiates the plugin and keeps the instance alive until the result is dropped, without
    /// calling it: for measuring what a live instance costs (benchmarks).
    #[doc(hidden)]
    pub async fn instantiate_idle(
        &self,
        runtime: &Runtime,
        memory_bytes: usize,
    ) -> Result<IdleInstance, HostError> {
        let mut store = warm::store(&runtime.engine, memory_bytes, self.sha256.clone());
        store.set_epoch_deadline(u64::MAX / 2);
        let instance = self
            .pre
            .instantiate_async(&mut store)
            .await
            .map_err(|e| HostError::Link(format!("{e:#}")))?;
        Ok(IdleInstance {
            _store: store,
            _instance: instance,
        })
    }

    /// Handles one request to a route in a fresh instance, within `limits.deadline`. The WIT
    /// request carries the context's request id, user and establishment.
    pub async fn handle(
        &self,
        runtime: &Runtime,
        ctx: CallContext,
        services: Arc<dyn Services>,
        grants: Arc<Grants>,
        limits: CallLimits,
        request: RouteRequest,
    ) -> Result<Response, CallError> {
        let request = Request {
            request_id: ctx.request_id().to_owned(),
            method: request.method,
            path: request.path,
            query: request.query,
            form: request.form,
            uploads: request.uploads,
            user: ctx.user().map(str::to_owned),
            establishment: ctx.establishment().to_owned(),
            language: ctx.language().code().to_owned(),
        };
        let request_id = ctx.request_id().to_owned();
        let env = CallEnv {
            ctx,
            services,
            grants,
            limits,
        };
        let answer =
            call::run(self, runtime, env, limits.deadline, Export::Handle(request)).await?;
        call::handle_route(&request_id, answer, &limits)
    }

    /// Renders the dashboard widget `widget` (the `id` of one of the manifest's widgets) within
    /// `limits.widget_deadline`: a checked `view/1.x` JSON document.
    pub async fn widget(
        &self,
        runtime: &Runtime,
        ctx: CallContext,
        services: Arc<dyn Services>,
        grants: Arc<Grants>,
        limits: CallLimits,
        widget: &str,
    ) -> Result<String, CallError> {
        let request = bindings::exports::preau::plugin::widgets::WidgetRequest {
            request_id: ctx.request_id().to_owned(),
            widget: widget.to_owned(),
            user: ctx.user().map(str::to_owned),
            establishment: ctx.establishment().to_owned(),
            language: ctx.language().code().to_owned(),
        };
        let request_id = ctx.request_id().to_owned();
        let env = CallEnv {
            ctx,
            services,
            grants,
            limits,
        };
        let answer = call::run(
            self,
            runtime,
            env,
            limits.widget_deadline,
            Export::Widget(request),
        )
        .await?;
        let view = call::view_answer(&request_id, answer)?;
        call::check_view(&request_id, &view, limits.view_bytes)?;
        Ok(view)
    }

    /// Delivers `event` (of the context's establishment; the context's request id is the
    /// delivery's id) within `limits.deadline`.
    pub async fn event(
        &self,
        runtime: &Runtime,
        ctx: CallContext,
        services: Arc<dyn Services>,
        grants: Arc<Grants>,
        limits: CallLimits,
        event: &Event,
    ) -> Result<(), CallError> {
        let wit = bindings::exports::preau::plugin::events::Event {
            request_id: ctx.request_id().to_owned(),
            kind: event.kind.as_str().to_owned(),
            establishment: ctx.establishment().to_owned(),
            subject: event.subject.clone(),
            payload: event.payload.to_string(),
        };
        let request_id = ctx.request_id().to_owned();
        let env = CallEnv {
            ctx,
            services,
            grants,
            limits,
        };
        let answer = call::run(self, runtime, env, limits.deadline, Export::Event(wit)).await?;
        call::done_answer(&request_id, answer)
    }

    /// What the plugin keeps about `subject` (an account id) outside its documents and files in
    /// the context's establishment, within `limits.deadline`: JSON of at most
    /// [`limits::MAX_EXPORT_BYTES`].
    pub async fn export_user_data(
        &self,
        runtime: &Runtime,
        ctx: CallContext,
        services: Arc<dyn Services>,
        grants: Arc<Grants>,
        limits: CallLimits,
        subject: &str,
    ) -> Result<serde_json::Value, CallError> {
        let request_id = ctx.request_id().to_owned();
        let request = subject_request(&ctx, subject);
        let env = CallEnv {
            ctx,
            services,
            grants,
            limits,
        };
        let answer = call::run(
            self,
            runtime,
            env,
            limits.deadline,
            Export::UserData(request),
        )
        .await?;
        let text = call::view_answer(&request_id, answer)?;
        call::check_export(&request_id, &text)
    }

    /// Asks the plugin to forget `subject` (an account id) in the context's establishment, within
    /// `limits.deadline` (before the core deletes the subject's documents and files).
    pub async fn delete_user_data(
        &self,
        runtime: &Runtime,
        ctx: CallContext,
        services: Arc<dyn Services>,
        grants: Arc<Grants>,
        limits: CallLimits,
        subject: &str,
    ) -> Result<(), CallError> {
        let request_id = ctx.request_id().to_owned();
        let request = subject_request(&ctx, subject);
        let env = CallEnv {
            ctx,
            services,
            grants,
            limits,
        };
        let answer =
            call::run(self, runtime, env, limits.deadline, Export::Forget(request)).await?;
        call::done_answer(&request_id, answer)
    }
}

fn subject_request(
    ctx: &CallContext,
    subject: &str,
) -> bindings::exports::preau::plugin::user_data::SubjectRequest {
    bindings::exports::preau::plugin::user_data::SubjectRequest {
        request_id: ctx.request_id().to_owned(),
        establishment: ctx.establishment().to_owned(),
        subject: subject.to_owned(),
    }
}

/// A request the core routed to the plugin (after checking the route's permission); the host
/// adds the context's request id, user and establishment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RouteRequest {
    /// GET, POST, PUT, PATCH or DELETE.
    pub method: String,
    /// The path inside the plugin, e.g. `/devoirs/42`.
    pub path: String,
    pub query: Vec<(String, String)>,
    /// The fields of a submitted form (CSRF already checked by the core).
    pub form: Vec<(String, String)>,
    /// The form's files, already stored in the plugin's file store by the core.
    pub uploads: Vec<Upload>,
}
