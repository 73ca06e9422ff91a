//! First connection and the charter: `GET/POST /premiere-connexion` (login + activation code →
//! password + accepted charter, then signed in), `GET/POST /charte` (read it; accept a new version).

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::error::PageError;
use super::frame::{Frame, render, signed_in_redirect};
use super::i18n::{Lang, Tr};
use super::session::{CsrfForm, SignedInAny, Visitor};
use crate::api::AppState;
use crate::auth::login::{self, LoginError};
use crate::auth::password;
use crate::auth::throttle::{self, account_key, address_key};
use crate::db::auth::{Charter, SessionKind, Trace, TraceEvent};
use crate::identity::ActivationCode;

#[derive(Template)]
#[template(path = "activation.html")]
struct ActivationPage {
    frame: Frame,
    errors: Vec<String>,
    login: String,
    charter: Vec<String>,
    charter_version: String,
}

#[derive(Template)]
#[template(path = "charter.html")]
struct CharterPage {
    frame: Frame,
    errors: Vec<String>,
    charter: Vec<String>,
    charter_version: String,
    must_accept: bool,
}

/// The paragraphs of a charter in a language.
fn paragraphs(charter: Option<&Charter>, lang: Lang) -> Vec<String> {
    charter
        .map(|c| match lang {
            Lang::Fr => c.body_fr.as_str(),
            Lang::En => c.body_en.as_str(),
        })
        .unwrap_or("")
        .split("\n\n")
        .map(|p| p.trim().to_string())
        .filter(|p| !p.is_empty())
        .collect()
}

fn version_label(tr: &Tr, charter: Option<&Charter>) -> String {
    charter
        .map(|c| tr.t_with("charter-version", &[("version", &c.version.to_string())]))
        .unwrap_or_default()
}

async fn activation_page(
    state: &AppState,
    visitor: &Visitor,
    login: &str,
    errors: Vec<String>,
    status: StatusCode,
) -> Result<Response, PageError> {
    let charter = state
        .db
        .current_charter()
        .await
        .map_err(|e| PageError::from_db(e, visitor.tr.lang))?;
    let (frame, cookies) = Frame::anonymous(visitor, &visitor.tr.t("activation-title"));
    let page = ActivationPage {
        frame,
        errors,
        login: login.to_string(),
        charter: paragraphs(charter.as_ref(), visitor.tr.lang),
        charter_version: version_label(&visitor.tr, charter.as_ref()),
    };
    Ok(render(&page, status, cookies, visitor.tr)?.into_response())
}

/// `GET /premiere-connexion`.
pub async fn form(State(state): State<AppState>, visitor: Visitor) -> Result<Response, PageError> {
    activation_page(&state, &visitor, "", vec![], StatusCode::OK).await
}

/// Body of `POST /premiere-connexion`.
#[derive(Debug, Deserialize)]
pub struct ActivationForm {
    #[serde(default)]
    pub login: String,
    #[serde(default)]
    pub code: String,
    #[serde(default)]
    pub password: String,
    #[serde(default)]
    pub confirm: String,
    #[serde(default)]
    pub accept: Option<String>,
}

/// `POST /premiere-connexion`: checks the code (throttled like a password), the new password and
/// the charter, activates the account and signs in.
pub async fn submit(
    State(state): State<AppState>,
    visitor: Visitor,
    CsrfForm(form): CsrfForm<ActivationForm>,
) -> Result<Response, PageError> {
    let tr = visitor.tr;
    let db_err = |e| PageError::from_db(e, tr.lang);
    let now = state.clock.now_ms();
    let account = account_key(&form.login);
    let address = address_key(&visitor.client.ip);
    if state.db.is_throttled(&account, now).await.map_err(db_err)?
        || state.db.is_throttled(&address, now).await.map_err(db_err)?
    {
        return activation_page(
            &state,
            &visitor,
            &form.login,
            vec![tr.t("login-throttled")],
            StatusCode::TOO_MANY_REQUESTS,
        )
        .await;
    }
    // Count the attempt before checking the code (no race past the limit).
    let counted = state
        .db
        .record_failure(&account, throttle::ACCOUNT_MAX_FAILURES, now)
        .await
        .map_err(db_err)?;
    if counted.failures > throttle::ACCOUNT_MAX_FAILURES {
        return activation_page(
            &state,
            &visitor,
            &form.login,
            vec![tr.t("login-throttled")],
            StatusCode::TOO_MANY_REQUESTS,
        )
        .await;
    }
    let credentials = state.db.credentials(&form.login).await.map_err(db_err)?;
    let code = ActivationCode::parse(&form.code).ok();
    let matching = credentials.as_ref().filter(|c| {
        c.state == "active"
            && c.password_hash.is_none()
            && match (&c.activation_digest, &code) {
                (Some(stored), Some(code)) => code.matches(state.db.code_key(), &c.user_id, stored),
                _ => false,
            }
    });
    let Some(credentials) = matching else {
        state
            .db
            .record_failure(
                &address,
                state.config.login.address_max_failures(&visitor.client.ip),
                now,
            )
            .await
            .map_err(db_err)?;
        return activation_page(
            &state,
            &visitor,
            &form.login,
            vec![tr.t("activation-failed")],
            StatusCode::UNAUTHORIZED,
        )
        .await;
    };
    // The code was right: this attempt is not a guess, whatever the rest of the form says.
    state.db.clear_failures(&account).await.map_err(db_err)?;
    let mut errors = Vec::new();
    if let Err(e) = password::check_policy(&form.password, &credentials.login) {
        errors.push(e.to_string());
    }
    if form.password != form.confirm {
        errors.push(tr.t("password-mismatch"));
    }
    if form.accept.is_none() {
        errors.push(tr.t("charter-required"));
    }
    if !errors.is_empty() {
        return activation_page(
            &state,
            &visitor,
            &form.login,
            errors,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    let hash = password::hash_off_thread(&form.password)
        .await
        .ok_or_else(|| PageError::internal(tr.lang))?;
    let charter = state.db.current_charter().await.map_err(db_err)?;
    state
        .db
        .activate(&credentials.user_id, &hash, charter.map(|c| c.version), now)
        .await
        .map_err(db_err)?;
    state.db.clear_failures(&account).await.map_err(db_err)?;
    state
        .db
        .record_trace(&Trace::success(
            now,
            TraceEvent::Activation,
            &credentials.user_id,
            &credentials.login,
            &visitor.client,
        ))
        .await
        .map_err(db_err)?;
    // Signed in straight away, through the ordinary login path.
    match login::login(
        &state.db,
        &state.clock,
        &state.config,
        &credentials.login,
        &form.password,
        &visitor.client,
        SessionKind::Cookie,
    )
    .await
    {
        Ok(logged) => Ok(signed_in_redirect(
            &state,
            &visitor,
            &logged.token,
            "/".to_string(),
        )),
        Err(LoginError::Db(e)) => Err(db_err(e)),
        Err(_) => Err(PageError::redirect("/connexion".into(), tr.lang)),
    }
}

/// `GET /charte`: the current charter; with an accept form when the signed-in person owes it.
pub async fn page(State(state): State<AppState>, visitor: Visitor) -> Result<Response, PageError> {
    charter_page(&state, &visitor, vec![], StatusCode::OK).await
}

async fn charter_page(
    state: &AppState,
    visitor: &Visitor,
    errors: Vec<String>,
    status: StatusCode,
) -> Result<Response, PageError> {
    let tr = visitor.tr;
    let charter = state
        .db
        .current_charter()
        .await
        .map_err(|e| PageError::from_db(e, tr.lang))?;
    let title = tr.t("charter-title");
    let (frame, cookies, must_accept) = match &visitor.session {
        Some(s) => (
            Frame::signed_in(state, visitor, s, &title, "").await?,
            vec![],
            s.charter_outdated(),
        ),
        None => {
            let (f, c) = Frame::anonymous(visitor, &title);
            (f, c, false)
        }
    };
    let page = CharterPage {
        frame,
        errors,
        charter: paragraphs(charter.as_ref(), tr.lang),
        charter_version: version_label(&tr, charter.as_ref()),
        must_accept,
    };
    Ok(render(&page, status, cookies, tr)?.into_response())
}

/// Body of `POST /charte`.
#[derive(Debug, Deserialize)]
pub struct AcceptForm {
    #[serde(default)]
    pub accept: Option<String>,
}

/// `POST /charte`: accepts the current version.
pub async fn accept(
    State(state): State<AppState>,
    user: SignedInAny,
    CsrfForm(form): CsrfForm<AcceptForm>,
) -> Result<Response, PageError> {
    let tr = user.visitor.tr;
    if form.accept.is_none() {
        return charter_page(
            &state,
            &user.visitor,
            vec![tr.t("charter-required")],
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    if let Some(c) = state
        .db
        .current_charter()
        .await
        .map_err(|e| PageError::from_db(e, tr.lang))?
    {
        state
            .db
            .accept_charter(&user.session.user_id, c.version)
            .await
            .map_err(|e| PageError::from_db(e, tr.lang))?;
    }
    Err(PageError::redirect("/".into(), tr.lang))
}
