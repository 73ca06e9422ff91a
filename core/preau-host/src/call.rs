//! One call into a plugin: admission, a fresh instance (made ahead of the call by `warm.rs`,
//! or here when none is ready) with the call's limits and environment, the deadline (epoch
//! interruption that yields to tokio, and a tokio timeout behind it), then the checks on what
//! came back. Every export (`handler`, `widgets`, `events`, `user-data`)
//! goes through the same [`run`]; a widget has its own, shorter deadline. Every failure names
//! the request id; nothing of the instance outlives the call.

use std::time::{Duration, Instant};

use wasmtime::Trap;

use crate::bindings::exports::preau::plugin::{events, user_data, widgets};
use crate::limits::{MAX_EXPORT_BYTES, MAX_FAILURE_CHARS};
use crate::state::CallEnv;
use crate::warm;
use crate::{Failure, Plugin, Request, Response, Runtime};

/// The limits of one call (the plugin's effective limits, `preau_package::manifest::Limits`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallLimits {
    /// Wall time of a call (request, event, user data), from its start: the wait for
    /// admission, and instantiation when no instance was made ahead, included (`call_ms`).
    pub deadline: Duration,
    /// Wall time of a dashboard widget (`widget_ms`).
    pub widget_deadline: Duration,
    /// Each linear memory of the instance (`memory_mib`).
    pub memory_bytes: usize,
    /// The view's JSON (`view_kib`).
    pub view_bytes: usize,
    /// One uploaded file, and all the uploads open at once in the call (`upload_mib`).
    pub upload_bytes: usize,
    /// Wall time of one outbound HTTP request (`outbound_timeout_ms`).
    pub outbound_timeout: Duration,
}

impl Default for CallLimits {
    /// The defaults of the limits table (`docs/plugin-manifest.md`).
    fn default() -> Self {
        CallLimits {
            deadline: Duration::from_secs(2),
            widget_deadline: Duration::from_millis(300),
            memory_bytes: 64 << 20,
            view_bytes: 1 << 20,
            upload_bytes: 10 << 20,
            outbound_timeout: Duration::from_secs(5),
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
    /// A user-data export that is not JSON, or over [`MAX_EXPORT_BYTES`].
    #[error("export invalide / invalid export: {reason} (requête / request {request_id})")]
    ExportInvalid { request_id: String, reason: String },
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
            | CallError::ExportInvalid { request_id, .. }
            | CallError::Failure { request_id, .. } => request_id,
        }
    }
}

/// Extra wall time the tokio timeout allows past the deadline, for the epoch to notice first.
pub(crate) const GRACE: Duration = Duration::from_millis(250);

/// The export a call runs.
pub(crate) enum Export {
    Handle(Request),
    Widget(widgets::WidgetRequest),
    Event(events::Event),
    UserData(user_data::SubjectRequest),
    Forget(user_data::SubjectRequest),
}

/// What the export answered.
pub(crate) enum Answer {
    Handle(Result<Response, Failure>),
    View(Result<String, Failure>),
    Done(Result<(), Failure>),
}

/// Runs `export` in a fresh instance within `deadline` and the limits of `env`, then has the
/// plugin's next instance made.
pub(crate) async fn run(
    plugin: &Plugin,
    runtime: &Runtime,
    env: CallEnv,
    deadline: Duration,
    export: Export,
) -> Result<Answer, CallError> {
    let request_id = env.ctx.request_id().to_owned();
    let started = Instant::now();
    let until = started + deadline;
    // Admission: at most as many live instances as the pool holds; waiting counts against the
    // deadline (a timer only when the pool is full).
    let permit = match runtime.admission.clone().try_acquire_owned() {
        Ok(permit) => permit,
        Err(_) => {
            match tokio::time::timeout(deadline, runtime.admission.clone().acquire_owned()).await {
                Ok(Ok(permit)) => permit,
                _ => return Err(CallError::Deadline { request_id }),
            }
        }
    };
    let memory_bytes = env.limits.memory_bytes;
    let (mut store, ready) = match plugin.warm.take(memory_bytes) {
        Some((store, instance)) => (store, Some(instance)),
        None => (
            warm::store(&runtime.engine, memory_bytes, plugin.sha256.clone()),
            None,
        ),
    };
    warm::set_deadline(&mut store, until, runtime.stop.clone());
    let run = async {
        // Made ahead or now, the instance was made without the call's environment.
        let instance = match ready {
            Some(instance) => instance,
            None => warm::instantiate(&plugin.pre, &mut store).await?,
        };
        store.data_mut().enter(env);
        let answer: wasmtime::Result<Answer> = Ok(match &export {
            Export::Handle(req) => Answer::Handle(
                instance
                    .preau_plugin_handler()
                    .call_handle(&mut store, req)
                    .await?,
            ),
            Export::Widget(req) => Answer::View(
                instance
                    .preau_plugin_widgets()
                    .call_render(&mut store, req)
                    .await?,
            ),
            Export::Event(ev) => Answer::Done(
                instance
                    .preau_plugin_events()
                    .call_handle(&mut store, ev)
                    .await?,
            ),
            Export::UserData(req) => Answer::View(
                instance
                    .preau_plugin_user_data()
                    .call_export(&mut store, req)
                    .await?,
            ),
            Export::Forget(req) => Answer::Done(
                instance
                    .preau_plugin_user_data()
                    .call_delete(&mut store, req)
                    .await?,
            ),
        });
        answer
    };
    let outcome = tokio::time::timeout(deadline + GRACE, run).await;
    let memory_denied = store.data().limiter.memory_denied;
    drop(store);
    drop(permit);
    runtime.refill(plugin, memory_bytes);
    match outcome {
        Err(_) => Err(CallError::Deadline { request_id }),
        Ok(Err(e)) => Err(if memory_denied {
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
                None if e.downcast_ref::<warm::StreamAtStart>().is_some() => CallError::Trap {
                    request_id,
                    detail: warm::StreamAtStart.to_string(),
                },
                None => CallError::Trap {
                    request_id,
                    detail: "erreur de l'hôte / host error".into(),
                },
            }
        }),
        Ok(Ok(answer)) => Ok(answer),
    }
}

/// The plugin's own failure: its status (400, 403, 404, 409; anything else is 500) and its
/// message, cut.
pub(crate) fn failure(request_id: &str, failure: Failure) -> CallError {
    CallError::Failure {
        request_id: request_id.to_owned(),
        status: if matches!(failure.status, 400 | 403 | 404 | 409) {
            failure.status
        } else {
            500
        },
        message: failure.message.chars().take(MAX_FAILURE_CHARS).collect(),
    }
}

/// A route's answer: a checked view, or a redirect inside the plugin.
pub(crate) fn route_answer(
    request_id: &str,
    answer: Result<Response, Failure>,
    limits: &CallLimits,
) -> Result<Response, CallError> {
    match answer {
        Err(f) => Err(failure(request_id, f)),
        Ok(Response::View(view)) => {
            check_view(request_id, &view, limits.view_bytes)?;
            Ok(Response::View(view))
        }
        Ok(Response::Raw(raw)) => {
            if raw.body.len() > limits.view_bytes {
                return Err(CallError::ViewTooLarge {
                    request_id: request_id.to_owned(),
                    size: raw.body.len(),
                    limit: limits.view_bytes,
                });
            }
            if let Some(name) = &raw.filename
                && !is_file_name(name)
            {
                return Err(CallError::ViewInvalid {
                    request_id: request_id.to_owned(),
                    reason: "nom de fichier invalide (lettres, chiffres, « . », « - », « _ », 1 à 100) / invalid file name (letters, digits, '.', '-', '_', 1 to 100)".into(),
                });
            }
            Ok(Response::Raw(raw))
        }
        Ok(Response::Download(path)) => {
            if path.is_empty() || path.len() > crate::limits::MAX_PATH_BYTES {
                return Err(CallError::ViewInvalid {
                    request_id: request_id.to_owned(),
                    reason: "chemin de fichier invalide / invalid file path".into(),
                });
            }
            Ok(Response::Download(path))
        }
        Ok(Response::Redirect(path)) => {
            if crate::view::is_local_path(&path) {
                Ok(Response::Redirect(path))
            } else {
                Err(CallError::ViewInvalid {
                    request_id: request_id.to_owned(),
                    reason: format!(
                        "redirection hors du service / redirect outside the service: « {} »",
                        path.chars().take(80).collect::<String>()
                    ),
                })
            }
        }
    }
}

/// A file name a raw answer may be offered under: 1 to 100 ASCII letters, digits, `.`, `-`,
/// `_`, not starting with `.` (nothing a `Content-Disposition` header could be bent with).
fn is_file_name(name: &str) -> bool {
    (1..=100).contains(&name.len())
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
}

/// A view: at most `limit` bytes of JSON following `view/1.x` (`view.rs`).
pub(crate) fn check_view(request_id: &str, view: &str, limit: usize) -> Result<(), CallError> {
    if view.len() > limit {
        return Err(CallError::ViewTooLarge {
            request_id: request_id.to_owned(),
            size: view.len(),
            limit,
        });
    }
    let invalid = |reason: String| CallError::ViewInvalid {
        request_id: request_id.to_owned(),
        reason,
    };
    let value: serde_json::Value = serde_json::from_str(view)
        .map_err(|e| invalid(format!("JSON illisible / unreadable JSON: {e}")))?;
    crate::view::check(&value).map_err(invalid)
}

/// A user-data export: JSON of at most [`MAX_EXPORT_BYTES`].
pub(crate) fn check_export(request_id: &str, text: &str) -> Result<serde_json::Value, CallError> {
    let invalid = |reason: String| CallError::ExportInvalid {
        request_id: request_id.to_owned(),
        reason,
    };
    if text.len() > MAX_EXPORT_BYTES {
        return Err(invalid(format!(
            "{} octets, limite {MAX_EXPORT_BYTES} / {} bytes, limit {MAX_EXPORT_BYTES}",
            text.len(),
            text.len()
        )));
    }
    serde_json::from_str(text)
        .map_err(|e| invalid(format!("JSON illisible / unreadable JSON: {e}")))
}

pub(crate) fn handle_route(
    request_id: &str,
    answer: Answer,
    limits: &CallLimits,
) -> Result<Response, CallError> {
    match answer {
        Answer::Handle(answer) => route_answer(request_id, answer, limits),
        _ => unreachable_answer(request_id),
    }
}

pub(crate) fn view_answer(request_id: &str, answer: Answer) -> Result<String, CallError> {
    match answer {
        Answer::View(Ok(text)) => Ok(text),
        Answer::View(Err(f)) => Err(failure(request_id, f)),
        _ => unreachable_answer(request_id),
    }
}

pub(crate) fn done_answer(request_id: &str, answer: Answer) -> Result<(), CallError> {
    match answer {
        Answer::Done(Ok(())) => Ok(()),
        Answer::Done(Err(f)) => Err(failure(request_id, f)),
        _ => unreachable_answer(request_id),
    }
}

/// An answer of another export than the one called: cannot happen (`run` pairs them).
fn unreachable_answer<T>(request_id: &str) -> Result<T, CallError> {
    Err(CallError::Trap {
        request_id: request_id.to_owned(),
        detail: "erreur de l'hôte / host error".into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_keeps_known_statuses_and_a_cut_message() {
        let f = |status: u16, message: String| Failure { status, message };
        for (status, kept) in [
            (400, 400),
            (403, 403),
            (404, 404),
            (409, 409),
            (418, 500),
            (200, 500),
        ] {
            match failure("req", f(status, "non / no".into())) {
                CallError::Failure { status, .. } => assert_eq!(status, kept),
                other => panic!("{other:?}"),
            }
        }
        match failure("req", f(400, "é".repeat(MAX_FAILURE_CHARS + 10))) {
            CallError::Failure { message, .. } => {
                assert_eq!(message.chars().count(), MAX_FAILURE_CHARS)
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn an_export_is_json_of_at_most_the_cap() {
        assert_eq!(
            check_export("req", r#"{"a":1}"#).expect("json"),
            serde_json::json!({"a": 1})
        );
        assert!(matches!(
            check_export("req", "pas du JSON"),
            Err(CallError::ExportInvalid { .. })
        ));
        let big = format!("\"{}\"", "x".repeat(MAX_EXPORT_BYTES - 2));
        check_export("req", &big).expect("at the cap");
        let over = format!("\"{}\"", "x".repeat(MAX_EXPORT_BYTES - 1));
        let e = check_export("req-big", &over).expect_err("over the cap");
        assert!(e.to_string().contains("req-big"), "{e}");
    }
}
