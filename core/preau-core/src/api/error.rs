//! The API's error shape: `{"error":{"code":…,"message":{"fr":…,"en":…}}}` with the matching
//! HTTP status. Internal failures are logged with their cause and answered with a generic message:
//! nothing about the database reaches the client.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::db::DbError;

/// An error answered to an API client.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub fr: String,
    pub en: String,
}

impl ApiError {
    /// An error with its status, stable code and message in both languages.
    pub fn new(
        status: StatusCode,
        code: &'static str,
        fr: impl Into<String>,
        en: impl Into<String>,
    ) -> ApiError {
        ApiError {
            status,
            code,
            fr: fr.into(),
            en: en.into(),
        }
    }

    /// 401: no authenticated user.
    pub fn unauthenticated() -> ApiError {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "Authentification requise.",
            "Authentication required.",
        )
    }

    /// 401: the session ended (idle or past its lifetime).
    pub fn session_expired() -> ApiError {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "session_expired",
            "Votre session a expiré ; reconnectez-vous.",
            "Your session has expired; please sign in again.",
        )
    }

    /// 403: a cookie session's state change without its CSRF token.
    pub fn csrf() -> ApiError {
        ApiError::new(
            StatusCode::FORBIDDEN,
            "csrf",
            "Jeton anti-falsification absent ou invalide : rechargez la page et recommencez.",
            "Missing or invalid anti-forgery token: reload the page and try again.",
        )
    }

    /// 403: authenticated, but not allowed.
    pub fn forbidden() -> ApiError {
        ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "Vous n'avez pas accès à cette ressource.",
            "You do not have access to this resource.",
        )
    }

    /// 404 for a named thing.
    pub fn not_found(fr: impl Into<String>, en: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", fr, en)
    }

    /// 400 for a bad parameter.
    pub fn bad_request(fr: impl Into<String>, en: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "bad_request", fr, en)
    }

    /// 500, after logging the cause.
    pub fn internal(cause: &dyn std::fmt::Display) -> ApiError {
        tracing::error!(%cause, "request failed");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "Une erreur interne est survenue ; réessayez plus tard.",
            "An internal error occurred; please try again later.",
        )
    }
}

impl From<DbError> for ApiError {
    fn from(e: DbError) -> Self {
        match e {
            DbError::NotFound(what) => ApiError::not_found(
                format!("Introuvable : {what}"),
                format!("Not found: {what}"),
            ),
            DbError::Conflict(m) => ApiError::new(StatusCode::CONFLICT, "conflict", m.clone(), m),
            DbError::Invalid(m) => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", m.clone(), m)
            }
            other => ApiError::internal(&other),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({"error": {"code": self.code, "message": {"fr": self.fr, "en": self.en}}});
        (self.status, Json(body)).into_response()
    }
}
