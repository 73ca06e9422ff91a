//! What one call's `Store` holds: the WASI context (nothing granted), the resource table, the
//! memory limiter, and the call's identity for logs; plus the host side of the `log` import.

use wasmtime::ResourceLimiter;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use crate::bindings::preau::plugin::log::{Host as LogHost, Level};

/// The longest message a plugin may log in one call; longer ones are cut.
pub const MAX_LOG_MESSAGE: usize = 4096;

pub struct State {
    wasi: WasiCtx,
    table: ResourceTable,
    pub(crate) limiter: Limiter,
    pub(crate) request_id: String,
    /// The component's SHA-256 (the plugin id once the lifecycle passes it).
    pub(crate) component: String,
}

impl State {
    pub fn new(memory_bytes: usize, request_id: String, component: String) -> State {
        State {
            // No preopened directory, no environment, no arguments, no network, no stdio: the
            // guest's std sees an empty world.
            wasi: WasiCtx::builder().build(),
            table: ResourceTable::new(),
            limiter: Limiter {
                memory_bytes,
                memory_denied: false,
            },
            request_id,
            component,
        }
    }
}

impl WasiView for State {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

/// Caps each linear memory of the instance; a refused growth traps and is remembered, so that
/// the call reports "memory limit" rather than a bare trap.
pub struct Limiter {
    pub(crate) memory_bytes: usize,
    pub(crate) memory_denied: bool,
}

impl ResourceLimiter for Limiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.memory_bytes {
            self.memory_denied = true;
            wasmtime::bail!("memory limit of {} bytes reached", self.memory_bytes);
        }
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= 100_000)
    }
}

impl LogHost for State {
    async fn log(&mut self, level: Level, message: String) {
        let mut message = message;
        if message.len() > MAX_LOG_MESSAGE {
            let mut cut = MAX_LOG_MESSAGE;
            while !message.is_char_boundary(cut) {
                cut -= 1;
            }
            message.truncate(cut);
        }
        let (component, request_id) = (&self.component, &self.request_id);
        match level {
            Level::Debug => tracing::debug!(component, request_id, "{message}"),
            Level::Info => tracing::info!(component, request_id, "{message}"),
            Level::Warn => tracing::warn!(component, request_id, "{message}"),
            Level::Error => tracing::error!(component, request_id, "{message}"),
        }
    }
}

/// `http-types` only defines types; its host side is empty.
impl crate::bindings::preau::plugin::http_types::Host for State {}
