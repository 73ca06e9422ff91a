//! The portal: server-rendered, accessible HTML pages that work without JavaScript, French first
//! with English (Fluent). Every page is an askama template (`templates/`) in the frame of
//! `base.html`; every form carries a CSRF token checked by [`session::CsrfForm`].

mod account;
mod accounts;
mod activation;
mod console;
mod dashboard;
pub mod error;
pub mod frame;
pub mod i18n;
mod legal;
mod login;
mod notifications;
mod recovery;
pub mod session;
mod setup;

use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::{get, post};

use crate::api::AppState;

/// The portal's routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(dashboard::page))
        .route("/connexion", get(login::form).post(login::submit))
        .route("/deconnexion", post(login::logout))
        .route(
            "/premiere-connexion",
            get(activation::form).post(activation::submit),
        )
        .route("/charte", get(activation::page).post(activation::accept))
        .route("/mon-compte", get(account::page))
        .route("/comptes", get(accounts::page))
        .route("/comptes/reinitialiser", post(accounts::reset))
        .route("/mon-compte/mot-de-passe", post(account::change_password))
        .route("/mon-compte/sessions", post(account::close_others))
        .route("/mon-compte/mes-donnees", get(account::my_data))
        .route("/langue", post(account::language))
        .route("/etablissement", post(account::switch_establishment))
        .route("/installation", get(setup::form).post(setup::submit))
        .route(
            "/mot-de-passe-oublie",
            get(recovery::password_form).post(recovery::password_request),
        )
        .route(
            "/mot-de-passe-oublie/nouveau",
            get(recovery::new_password_form).post(recovery::new_password),
        )
        .route(
            "/identifiant-oublie",
            get(recovery::login_form).post(recovery::login_request),
        )
        .route("/notifications", get(notifications::page))
        .route("/notifications/tout-lu", post(notifications::read_all))
        .route("/notifications/preference", post(notifications::preference))
        .route("/notifications/{id}/ouvrir", post(notifications::open))
        .route("/e/{uai}/services", get(console::list))
        .route(
            "/e/{uai}/services/{publisher}/{name}",
            get(console::service),
        )
        .route(
            "/e/{uai}/services/{publisher}/{name}/approuver",
            post(console::approve),
        )
        .route(
            "/e/{uai}/services/{publisher}/{name}/desactiver",
            post(console::disable),
        )
        .route(
            "/e/{uai}/services/{publisher}/{name}/droits",
            post(console::grants),
        )
        .route("/mentions-legales", get(legal::legal))
        .route("/donnees-personnelles", get(legal::privacy))
        .route("/accessibilite", get(legal::accessibility))
        .route("/static/preau.css", get(stylesheet))
}

/// The portal's stylesheet, compiled into the binary.
async fn stylesheet() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../static/preau.css"),
    )
}
