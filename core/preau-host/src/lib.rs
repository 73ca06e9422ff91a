//! The Préau plugin runtime: the only crate that depends on wasmtime.
//!
//! One [`Runtime`] per process holds the wasmtime `Engine` (component model, epoch interruption,
//! the pooling allocator when the address space allows it), the `Linker` with the host side of
//! the plugin API, and an admission semaphore sized to the pool. [`Runtime::load`] compiles a
//! component once and caches the precompiled artefact on disk (keyed by the component's SHA-256
//! and the engine's compatibility hash, which covers the wasmtime version and configuration);
//! the result is a [`Plugin`] holding an `InstancePre`. Every call gets a fresh `Store` with its
//! own memory cap, a deadline enforced by epoch interruption (yielding to tokio meanwhile) and a
//! tokio timeout as a backstop; a misbehaving call ends in a [`CallError`] naming the request id,
//! and nothing of it survives the call.
//!
//! What crosses the boundary is checked here too: a view is JSON of at most the plugin's view
//! limit, following `view/1.x` (`docs/view-schema.md`).

mod bindings {
    wasmtime::component::bindgen!({
        path: "../../plugin-sdk/wit",
        world: "plugin",
        imports: { default: async },
        exports: { default: async },
    });
}

mod cache;
mod call;
mod state;
#[doc(hidden)]
pub mod testing;
pub mod view;

pub use bindings::exports::preau::plugin::handler::{Failure, Request, Response};
pub use call::{CallError, CallLimits};

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Semaphore;
use wasmtime::component::{Component, Linker};
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

use state::State;

/// The version of the plugin API (`preau:plugin`) this host implements.
pub const API_VERSION: &str = "1.0.0";

/// The `preau:plugin` interfaces this host links (what a component may import, `docs/plugin-api.md`).
pub const INTERFACES: &[&str] = &["http-types", "log"];

/// Bytes of each pooled memory (and a sixteenth of it for tables) kept resident between calls.
const KEEP_RESIDENT_BYTES: usize = 256 << 10;

/// How often the epoch advances: the granularity of deadlines.
pub const EPOCH_TICK: Duration = Duration::from_millis(5);

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
}

impl Default for HostConfig {
    fn default() -> Self {
        HostConfig {
            cache_dir: None,
            max_instances: 64,
            max_memory_bytes: 64 << 20,
            pooling: true,
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
    /// starts the epoch ticker.
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
            let mut pool = PoolingAllocationConfig::default();
            pool.total_component_instances(config.max_instances)
                // A Rust component uses a few core instances, 1-2 memories and 2 tables.
                .total_core_instances(config.max_instances * 4)
                .total_memories(config.max_instances * 2)
                .total_tables(config.max_instances * 4)
                .max_memories_per_component(2)
                .max_tables_per_component(4)
                .max_memory_size(config.max_memory_bytes)
                // Reset the first pages of a slot by hand when it is reused instead of giving
                // them back to the kernel (BENCHMARKS: 256 KiB gave 21.8 µs per call against
                // 27.6 µs without and 33.6 µs with 1 MiB).
                .linear_memory_keep_resident(KEEP_RESIDENT_BYTES)
                .table_keep_resident(KEEP_RESIDENT_BYTES / 16);
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
        let ticker = {
            let (engine, stop) = (engine.clone(), stop.clone());
            std::thread::Builder::new()
                .name("preau-epoch".into())
                .spawn(move || {
                    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                        std::thread::sleep(EPOCH_TICK);
                        engine.increment_epoch();
                    }
                })
                .map_err(HostError::Cache)?
        };
        Ok(Runtime {
            engine,
            linker,
            cache_dir: config.cache_dir.clone(),
            admission: Arc::new(Semaphore::new(config.max_instances as usize)),
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
        Ok(Plugin { pre, sha256 })
    }
}

impl Drop for Runtime {
    /// Stops the epoch ticker (it notices within one tick).
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        if let Some(ticker) = self.ticker.take() {
            let _ = ticker.join();
        }
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

    /// Instantiates the plugin and keeps the instance alive until the result is dropped, without
    /// calling it: for measuring what a live instance costs (benchmarks).
    #[doc(hidden)]
    pub async fn instantiate_idle(
        &self,
        runtime: &Runtime,
        memory_bytes: usize,
    ) -> Result<IdleInstance, HostError> {
        let mut store = wasmtime::Store::new(
            &runtime.engine,
            State::new(memory_bytes, "idle".into(), self.sha256.clone()),
        );
        store.limiter(|s| &mut s.limiter);
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

    /// Handles one request in a fresh instance, within `limits`.
    pub async fn handle(
        &self,
        runtime: &Runtime,
        request: Request,
        limits: CallLimits,
    ) -> Result<Response, CallError> {
        call::handle(self, runtime, request, limits).await
    }
}
