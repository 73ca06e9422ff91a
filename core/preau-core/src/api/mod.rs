//! The JSON API (`/api/v1/…`, conventions in `docs/api.md`): handlers that read the identity
//! model for the authenticated user. Each handler decides access itself, through
//! [`crate::access`], before it reads anything.

pub mod auth;
mod error;
pub mod establishments;
pub mod me;

use std::sync::Arc;

use axum::Router;
use axum::extract::FromRequestParts;
use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::routing::{delete, get, post};

pub use error::ApiError;

use crate::auth::client::{ClientInfo, host_cookie_value};
use crate::auth::token::{Token, constant_time_eq};
use crate::clock::Clock;
use crate::config::Config;
use crate::db::Db;
use crate::db::auth::SessionKind;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub clock: Clock,
    pub config: Arc<Config>,
    /// The plugins of this server (`/e/{uai}/apps/…`, the dashboard's widgets).
    pub plugins: Arc<crate::plugins::host::PluginHost>,
    /// Establishments by UAI, reused for a second (`/e/{uai}/…` lookups).
    pub establishments: Arc<crate::establishments::RecentEstablishments>,
}

impl AppState {
    /// The state of a server on `db`, its plugins under `config.data_dir`.
    pub fn new(db: Db, clock: Clock, config: Arc<Config>) -> AppState {
        let plugins = crate::plugins::host::PluginHost::new(
            db.clone(),
            clock,
            &config.data_dir,
            config.plugins.clone(),
        );
        AppState {
            db,
            clock,
            config,
            plugins: Arc::new(plugins),
            establishments: Arc::default(),
        }
    }
}

/// The authenticated person making the request, and the session they use.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    pub user_id: String,
    /// The digest of the session's token.
    pub session: String,
    pub kind: SessionKind,
    /// The establishment the session is in (the switcher changes it).
    pub establishment_id: Option<String>,
    /// The account's login and names, read with the session.
    pub login: String,
    pub first_name: String,
    pub last_name: String,
}

/// The name of the session cookie.
pub const SESSION_COOKIE: &str = "preau_session";
/// The header that carries the CSRF token of a cookie session.
pub const CSRF_HEADER: &str = "x-csrf-token";

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = ApiError;

    /// Finds the session from `Authorization: Bearer …` or the session cookie, checks that it is
    /// alive and that its account is active, and, for a cookie session, that a state-changing
    /// request carries the session's CSRF token in `X-CSRF-Token`.
    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let (token, kind) = match bearer_token(&parts.headers) {
            Some(bearer) => (bearer, SessionKind::Bearer),
            None => {
                let https = ClientInfo::from_request_parts(parts, state).await?.https;
                let cookie = host_cookie_value(&parts.headers, SESSION_COOKIE, https)
                    .ok_or_else(ApiError::unauthenticated)?;
                (cookie.to_string(), SessionKind::Cookie)
            }
        };
        let token = Token::parse(&token).ok_or_else(ApiError::unauthenticated)?;
        let digest = token.digest();
        let session = state
            .db
            .session(&digest)
            .await?
            .ok_or_else(ApiError::unauthenticated)?;
        let expected_kind = match kind {
            SessionKind::Bearer => "bearer",
            SessionKind::Cookie => "cookie",
        };
        let now = state.clock.now_ms();
        if session.kind != expected_kind || session.user_state != "active" {
            return Err(ApiError::unauthenticated());
        }
        if !session.is_alive(now, state.config.sessions.idle_ms()) {
            state
                .db
                .delete_session(&session.user_id, &digest)
                .await
                .ok();
            return Err(ApiError::session_expired());
        }
        if kind == SessionKind::Cookie && !parts.method.is_safe() {
            let sent = parts
                .headers
                .get(CSRF_HEADER)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            if !constant_time_eq(sent.as_bytes(), session.csrf_token.as_bytes()) {
                return Err(ApiError::csrf());
            }
        }
        if session.must_change_password && parts.uri.path() != "/api/v1/auth/logout" {
            return Err(ApiError::new(
                axum::http::StatusCode::FORBIDDEN,
                "password_change_required",
                "Votre mot de passe a été réinitialisé : choisissez-en un nouveau dans le portail (Mon compte).",
                "Your password was reset: choose a new one in the portal (My account).",
            ));
        }
        if session.needs_touch(now) {
            state.db.touch_session(&digest, now).await?;
        }
        Ok(CurrentUser {
            user_id: session.user_id,
            session: digest,
            kind,
            establishment_id: session.establishment_id,
            login: session.login,
            first_name: session.first_name,
            last_name: session.last_name,
        })
    }
}

fn bearer_token(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_string())
}

/// The `/api/v1` routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/auth/login", post(auth::login))
        .route("/auth/logout", post(auth::logout))
        .route("/me", get(me::me))
        .route("/me/sessions", get(auth::sessions))
        .route("/me/sessions/others", delete(auth::logout_others))
        .route(
            "/establishments/{uai}/classes",
            get(establishments::classes),
        )
        .route("/establishments/{uai}/users", get(establishments::users))
        .route(
            "/establishments/{uai}/users/{id}/reset",
            post(establishments::reset),
        )
}
