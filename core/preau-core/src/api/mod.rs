//! The JSON API (`/api/v1/…`, conventions in `docs/api.md`): handlers that read the identity
//! model for the authenticated user. Each handler decides access itself, through
//! [`crate::access`], before it reads anything.

mod error;
pub mod establishments;
pub mod me;

use std::sync::Arc;

use axum::Router;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::routing::get;

pub use error::ApiError;

use crate::clock::Clock;
use crate::config::Config;
use crate::db::Db;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub clock: Clock,
    pub config: Arc<Config>,
}

/// The authenticated person making the request.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    pub user_id: String,
}

impl<S: Send + Sync> FromRequestParts<S> for CurrentUser {
    type Rejection = ApiError;

    /// Sessions and bearer tokens arrive with the accounts issue (#3); until then no request is
    /// authenticated, and tests call the handlers with a [`CurrentUser`] directly.
    async fn from_request_parts(_parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Err(ApiError::unauthenticated())
    }
}

/// The `/api/v1` routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/me", get(me::me))
        .route(
            "/establishments/{uai}/classes",
            get(establishments::classes),
        )
        .route("/establishments/{uai}/users", get(establishments::users))
}
