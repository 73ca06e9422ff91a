//! `POST /api/v1/auth/login` (login and password → bearer token), `POST /api/v1/auth/logout`, and
//! the person's own sessions: `GET /api/v1/me/sessions`, `DELETE /api/v1/me/sessions/others`.

use axum::Json;
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use super::{ApiError, AppState, CurrentUser};
use crate::auth::client::ClientInfo;
use crate::auth::login::{self, LoginError};
use crate::db::auth::{SessionKind, Trace, TraceEvent};

/// Body of `POST /api/v1/auth/login`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginBody {
    pub login: String,
    pub password: String,
}

/// Answer of a successful login.
#[derive(Debug, Serialize)]
pub struct TokenAnswer {
    /// The bearer token: send it as `Authorization: Bearer …`.
    pub token: String,
    /// When the token stops working at the latest (milliseconds since the epoch).
    pub expires_at: i64,
    /// The account must choose a new password (through the portal) before using the API.
    pub must_change_password: bool,
}

/// Handler of `POST /api/v1/auth/login`.
pub async fn login(
    State(state): State<AppState>,
    client: ClientInfo,
    body: Result<Json<LoginBody>, JsonRejection>,
) -> Result<Json<TokenAnswer>, ApiError> {
    let Json(body) = body.map_err(|e| {
        ApiError::bad_request(
            format!("Corps attendu : {{\"login\": …, \"password\": …}} ({e})."),
            format!("Expected body: {{\"login\": …, \"password\": …}} ({e})."),
        )
    })?;
    let logged = login::login(
        &state.db,
        &state.clock,
        &state.config,
        &body.login,
        &body.password,
        &client,
        SessionKind::Bearer,
    )
    .await
    .map_err(|e| match e {
        LoginError::Failed => ApiError::new(
            StatusCode::UNAUTHORIZED,
            "login_failed",
            "Identifiant ou mot de passe incorrect.",
            "Wrong login or password.",
        ),
        LoginError::Throttled => ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "throttled",
            "Trop de tentatives : réessayez dans quelques minutes.",
            "Too many attempts: try again in a few minutes.",
        ),
        LoginError::Db(e) => e.into(),
    })?;
    Ok(Json(TokenAnswer {
        token: logged.token.expose().to_string(),
        expires_at: logged.expires_at,
        must_change_password: logged.must_change_password,
    }))
}

/// Handler of `POST /api/v1/auth/logout`: ends the session that made the request.
pub async fn logout(
    State(state): State<AppState>,
    user: CurrentUser,
    client: ClientInfo,
) -> Result<StatusCode, ApiError> {
    state
        .db
        .delete_session(&user.user_id, &user.session)
        .await?;
    let login = state
        .db
        .user(&user.user_id)
        .await?
        .map(|u| u.login)
        .unwrap_or_default();
    state
        .db
        .record_trace(&Trace {
            establishment_id: user.establishment_id.as_deref(),
            ..Trace::success(
                state.clock.now_ms(),
                TraceEvent::Logout,
                &user.user_id,
                &login,
                &client,
            )
        })
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// One of the person's open sessions.
#[derive(Debug, Serialize)]
pub struct SessionView {
    /// A short, non-secret reference to the session.
    pub id: String,
    pub current: bool,
    pub kind: String,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub expires_at: i64,
    pub ip: String,
    pub user_agent: String,
}

/// Handler of `GET /api/v1/me/sessions`.
pub async fn sessions(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Json<Vec<SessionView>>, ApiError> {
    let rows = state.db.sessions_of(&user.user_id).await?;
    Ok(Json(
        rows.into_iter()
            .map(|s| SessionView {
                id: s.id_hash.chars().take(12).collect(),
                current: s.id_hash == user.session,
                kind: s.kind,
                created_at: s.created_at,
                last_seen_at: s.last_seen_at,
                expires_at: s.expires_at,
                ip: s.ip,
                user_agent: s.user_agent,
            })
            .collect(),
    ))
}

/// Answer of `DELETE /api/v1/me/sessions/others`.
#[derive(Debug, Serialize)]
pub struct Ended {
    pub ended: u64,
}

/// Handler of `DELETE /api/v1/me/sessions/others`: ends every session but this one.
pub async fn logout_others(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Json<Ended>, ApiError> {
    let ended = state
        .db
        .delete_other_sessions(&user.user_id, Some(&user.session))
        .await?;
    Ok(Json(Ended { ended }))
}
