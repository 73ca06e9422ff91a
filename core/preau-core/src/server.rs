//! The HTTP server: the router (every route of the instance in one place), its layers (body size
//! limit, request tracing), `/healthz`, and the JSON 404 for unknown routes.

use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

use crate::api::{self, ApiError, AppState};
use crate::apps;
use crate::portal;
use crate::portal::error::PageError;
use crate::portal::i18n::Lang;

/// Largest request body the core's own routes accept (plugin routes: `apps::body`).
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// Every route of the instance.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .nest("/api/v1", api::routes())
        .merge(portal::routes())
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        // Plugin routes read their bodies within their own limits (apps/body.rs: fields, and
        // each file within the plugin's `upload_mib`).
        .merge(apps::routes())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        // No page may be framed (clickjacking), load anything from elsewhere, or leak its URL
        // (one-time links carry secrets) to another site.
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'",
            ),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")))
        .layer(SetResponseHeaderLayer::if_not_present(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer")))
        .layer(SetResponseHeaderLayer::if_not_present(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")))
        .layer(axum::middleware::map_response(json_too_large))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// `GET /healthz`: 200 when the database answers within two seconds, 503 otherwise.
async fn healthz(State(state): State<AppState>) -> impl IntoResponse {
    match tokio::time::timeout(Duration::from_secs(2), state.db.ping()).await {
        Ok(Ok(())) => (
            StatusCode::OK,
            axum::Json(serde_json::json!({"status": "ok"})),
        )
            .into_response(),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "health check: database error");
            unavailable().into_response()
        }
        Err(_) => {
            tracing::warn!("health check: database timeout");
            unavailable().into_response()
        }
    }
}

fn unavailable() -> ApiError {
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "unavailable",
        "La base de données ne répond pas.",
        "The database does not answer.",
    )
}

/// The body-size limit answers 413 in plain text: give it the API's error shape.
async fn json_too_large(response: Response) -> Response {
    if response.status() != StatusCode::PAYLOAD_TOO_LARGE {
        return response;
    }
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
        format!(
            "La requête dépasse la taille maximale de {} Kio.",
            MAX_BODY_BYTES / 1024
        ),
        format!(
            "The request exceeds the maximum size of {} KiB.",
            MAX_BODY_BYTES / 1024
        ),
    )
    .into_response()
}

async fn method_not_allowed(uri: Uri, headers: HeaderMap) -> Response {
    if !is_api(&uri) {
        let mut r = PageError::not_found(Lang::of_request(&headers)).into_response();
        *r.status_mut() = StatusCode::METHOD_NOT_ALLOWED;
        return r;
    }
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "Cette méthode n'est pas acceptée ici.",
        "This method is not allowed here.",
    )
    .into_response()
}

/// Whether a path belongs to the JSON API (errors in JSON) rather than the portal (HTML pages).
fn is_api(uri: &Uri) -> bool {
    uri.path().starts_with("/api/") || uri.path() == "/healthz"
}

async fn not_found(uri: Uri, headers: HeaderMap) -> Response {
    if is_api(&uri) {
        ApiError::not_found("Cette page n'existe pas.", "This page does not exist.").into_response()
    } else {
        PageError::not_found(Lang::of_request(&headers)).into_response()
    }
}

/// Serves `router` on `listener` until Ctrl-C or SIGTERM.
pub async fn serve(listener: tokio::net::TcpListener, router: Router) -> std::io::Result<()> {
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("arrêt demandé / shutting down");
}
