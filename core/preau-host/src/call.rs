//! One call into a plugin: admission, a fresh `Store` with the call's limits, the deadline
//! (epoch interruption that yields to tokio, and a tokio timeout behind it), then the checks on
//! what came back. Every failure names the request id; nothing of the instance outlives the call.

use std::time::{Duration, Instant};

use wasmtime::{Store, Trap, UpdateDeadline};

use crate::state::State;
use crate::{Plugin, Request, Response, Runtime};

/// The limits of one call (the plugin's effective limits, `preau_package::manifest::Limits`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallLimits {
    /// Wall time of the call, instantiation included.
    pub deadline: Duration,
    /// Each linear memory of the instance.
    pub memory_bytes: usize,
    /// The view's JSON.
    pub view_bytes: usize,
}

impl Default for CallLimits {
    fn default() -> Self {
        CallLimits {
            deadline: Duration::from_secs(2),
            memory_bytes: 64 << 20,
            view_bytes: 1 << 20,
        }
    }
}

/// How a call failed. Messages are for logs and error pages: French, then English, with the
/// request id; none carries what the plugin printed or held.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    #[error(
        "le service a dépassé son délai / the service ran out of time (requête / request {request_id})"
    )]
    Deadline { request_id: String },
    #[error(
        "le service a dépassé sa mémoire / the service ran out of memory (requête / request {request_id})"
    )]
    Memory { request_id: String },
    #[error(
        "le service s'est arrêté sur une erreur / the service stopped on an error: {detail} (requête / request {request_id})"
    )]
    Trap { request_id: String, detail: String },
    #[error(
        "vue trop grande : {size} octets, limite {limit} / view too large: {size} bytes, limit {limit} (requête / request {request_id})"
    )]
    ViewTooLarge {
        request_id: String,
        size: usize,
        limit: usize,
    },
    #[error("vue invalide / invalid view: {reason} (requête / request {request_id})")]
    ViewInvalid { request_id: String, reason: String },
    /// The plugin answered with a failure of its own (a 404, a refused form…).
    #[error("{message} ({status}, requête / request {request_id})")]
    Failure {
        request_id: String,
        status: u16,
        message: String,
    },
}

impl CallError {
    pub fn request_id(&self) -> &str {
        match self {
            CallError::Deadline { request_id }
            | CallError::Memory { request_id }
            | CallError::Trap { request_id, .. }
            | CallError::ViewTooLarge { request_id, .. }
            | CallError::ViewInvalid { request_id, .. }
            | CallError::Failure { request_id, .. } => request_id,
        }
    }
}

/// Extra wall time the tokio timeout allows past the deadline, for the epoch to notice first.
const GRACE: Duration = Duration::from_millis(250);

pub async fn handle(
    plugin: &Plugin,
    runtime: &Runtime,
    request: Request,
    limits: CallLimits,
) -> Result<Response, CallError> {
    let request_id = request.request_id.clone();
    let started = Instant::now();
    let deadline = started + limits.deadline;
    // Admission: at most as many live instances as the pool holds; waiting counts against the
    // deadline.
    let permit = match tokio::time::timeout(
        limits.deadline,
        runtime.admission.clone().acquire_owned(),
    )
    .await
    {
        Ok(Ok(permit)) => permit,
        _ => return Err(CallError::Deadline { request_id }),
    };
    let mut store = Store::new(
        &runtime.engine,
        State::new(
            limits.memory_bytes,
            request_id.clone(),
            plugin.sha256.clone(),
        ),
    );
    store.limiter(|s| &mut s.limiter);
    store.set_epoch_deadline(1);
    store.epoch_deadline_callback(move |_| {
        Ok(if Instant::now() >= deadline {
            UpdateDeadline::Interrupt
        } else {
            UpdateDeadline::Yield(1)
        })
    });
    let run = async {
        let instance = plugin.pre.instantiate_async(&mut store).await?;
        instance
            .preau_plugin_handler()
            .call_handle(&mut store, &request)
            .await
    };
    let outcome = tokio::time::timeout(limits.deadline + GRACE, run).await;
    let memory_denied = store.data().limiter.memory_denied;
    drop(store);
    drop(permit);
    let answer = match outcome {
        Err(_) => return Err(CallError::Deadline { request_id }),
        Ok(Err(e)) => {
            return Err(if memory_denied {
                CallError::Memory { request_id }
            } else {
                match e.downcast_ref::<Trap>() {
                    Some(Trap::Interrupt) => CallError::Deadline { request_id },
                    Some(Trap::UnreachableCodeReached) => CallError::Trap {
                        request_id,
                        detail: "arrêt brutal (panique) / abort (panic)".into(),
                    },
                    Some(trap) => CallError::Trap {
                        request_id,
                        detail: trap.to_string(),
                    },
                    None => CallError::Trap {
                        request_id,
                        detail: "erreur de l'hôte / host error".into(),
                    },
                }
            });
        }
        Ok(Ok(answer)) => answer,
    };
    match answer {
        Err(failure) => Err(CallError::Failure {
            request_id,
            status: if matches!(failure.status, 400 | 403 | 404 | 409) {
                failure.status
            } else {
                500
            },
            message: failure.message.chars().take(500).collect(),
        }),
        Ok(Response::View(view)) => {
            check_view(&view, limits.view_bytes).map_err(|reason| match reason {
                ViewProblem::TooLarge(size) => CallError::ViewTooLarge {
                    request_id: request_id.clone(),
                    size,
                    limit: limits.view_bytes,
                },
                ViewProblem::Invalid(reason) => CallError::ViewInvalid {
                    request_id: request_id.clone(),
                    reason,
                },
            })?;
            Ok(Response::View(view))
        }
        Ok(Response::Redirect(path)) => {
            if crate::view::is_local_path(&path) {
                Ok(Response::Redirect(path))
            } else {
                Err(CallError::ViewInvalid {
                    request_id,
                    reason: format!(
                        "redirection hors du service / redirect outside the service: « {} »",
                        path.chars().take(80).collect::<String>()
                    ),
                })
            }
        }
    }
}

enum ViewProblem {
    TooLarge(usize),
    Invalid(String),
}

/// A view: at most `limit` bytes of JSON following `view/1.x` (`view.rs`).
fn check_view(view: &str, limit: usize) -> Result<(), ViewProblem> {
    if view.len() > limit {
        return Err(ViewProblem::TooLarge(view.len()));
    }
    let value: serde_json::Value = serde_json::from_str(view)
        .map_err(|e| ViewProblem::Invalid(format!("JSON illisible / unreadable JSON: {e}")))?;
    crate::view::check(&value).map_err(ViewProblem::Invalid)
}
