//! What one call's `Store` holds: the WASI context (nothing granted), the resource table, the
//! memory limiter, the call's environment (context, services, grants, limits) and the counters
//! of open file streams; plus the host side of `log` and the shared mapping of service errors.

use std::sync::Arc;

use wasmtime::ResourceLimiter;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use crate::bindings::preau::plugin::log::{Host as LogHost, Level};
use crate::limits::MAX_LOG_MESSAGE;
use crate::{CallContext, CallLimits, Grants, ServiceError, Services};

/// What a call may use, as its caller gave it.
#[derive(Clone)]
pub(crate) struct CallEnv {
    pub ctx: CallContext,
    pub services: Arc<dyn Services>,
    pub grants: Arc<Grants>,
    pub limits: CallLimits,
}

pub struct State {
    wasi: WasiCtx,
    pub(crate) table: ResourceTable,
    pub(crate) limiter: Limiter,
    pub(crate) env: CallEnv,
    /// The component's SHA-256, for logs.
    pub(crate) component: String,
    pub(crate) streams: Streams,
}

/// File streams open in the call: counted against [`crate::limits::MAX_OPEN_STREAMS`], and the
/// bytes uploads hold (together at most the call's `upload_bytes`).
#[derive(Debug, Default)]
pub(crate) struct Streams {
    pub uploads: usize,
    pub downloads: usize,
    pub buffered: usize,
}

impl Streams {
    /// No stream open and nothing buffered.
    pub(crate) fn is_empty(&self) -> bool {
        self.uploads == 0 && self.downloads == 0 && self.buffered == 0
    }
}

impl State {
    /// Puts a call's environment into an instance made beforehand (`warm.rs`); the memory
    /// limit stays the one the instance was made with, which the caller checked is the call's.
    pub(crate) fn enter(&mut self, env: CallEnv) {
        debug_assert_eq!(self.limiter.memory_bytes, env.limits.memory_bytes);
        self.env = env;
    }

    pub(crate) fn new(env: CallEnv, component: String) -> State {
        State {
            // No preopened directory, no environment, no arguments, no network, no stdio: the
            // guest's std sees an empty world.
            wasi: WasiCtx::builder().build(),
            table: ResourceTable::new(),
            limiter: Limiter {
                memory_bytes: env.limits.memory_bytes,
                memory_denied: false,
            },
            env,
            component,
            streams: Streams::default(),
        }
    }

    pub(crate) fn ctx(&self) -> &CallContext {
        &self.env.ctx
    }

    /// The message an unexpected service error reaches the plugin with: an internal error is
    /// logged here, with the call's ids, and never shown; another variant the interface has no
    /// case for is a bug of the service, logged too.
    pub(crate) fn unavailable(&self, interface: &str, error: &ServiceError) -> String {
        let ctx = self.ctx();
        match error {
            ServiceError::Unavailable => {}
            ServiceError::Internal(e) => tracing::warn!(
                plugin = ctx.plugin(),
                request_id = ctx.request_id(),
                interface,
                error = %e,
                "service interne en échec / internal service failure"
            ),
            other => tracing::warn!(
                plugin = ctx.plugin(),
                request_id = ctx.request_id(),
                interface,
                error = %other,
                "réponse inattendue d'un service / unexpected service answer"
            ),
        }
        UNAVAILABLE.to_owned()
    }
}

/// What a plugin learns of a service that could not answer.
pub(crate) const UNAVAILABLE: &str = "service indisponible / service unavailable";

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

/// `s` cut to at most `max` bytes, on a character boundary.
pub(crate) fn cut(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

impl LogHost for State {
    async fn log(&mut self, level: Level, message: String) {
        let message = cut(&message, MAX_LOG_MESSAGE);
        let (component, plugin, request_id) = (
            &self.component,
            self.env.ctx.plugin(),
            self.env.ctx.request_id(),
        );
        match level {
            Level::Debug => tracing::debug!(plugin, component, request_id, "{message}"),
            Level::Info => tracing::info!(plugin, component, request_id, "{message}"),
            Level::Warn => tracing::warn!(plugin, component, request_id, "{message}"),
            Level::Error => tracing::error!(plugin, component, request_id, "{message}"),
        }
    }
}

/// `http-types` only defines types; its host side is empty.
impl crate::bindings::preau::plugin::http_types::Host for State {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_log_message_is_cut_on_a_character_boundary() {
        assert_eq!(cut("court", MAX_LOG_MESSAGE), "court");
        let long = "é".repeat(MAX_LOG_MESSAGE);
        let kept = cut(&long, MAX_LOG_MESSAGE);
        assert_eq!(kept.len(), MAX_LOG_MESSAGE);
        assert_eq!(cut("aé", 2), "a");
    }
}
