//! Signing in and out of the portal: `GET/POST /connexion`, `POST /deconnexion`. A successful
//! login opens a new cookie session (a new id every time, the previous one ended).

use askama::Template;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::error::PageError;
use super::frame::{Frame, host_cookie, render, signed_in_redirect};
use super::session::{CsrfForm, SignedInAny, Visitor, safe_return};
use crate::api::{AppState, SESSION_COOKIE};
use crate::auth::login::{self, LoginError};
use crate::db::auth::{SessionKind, Trace, TraceEvent};

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    frame: Frame,
    errors: Vec<String>,
    login: String,
    next: String,
}

/// Query of `GET /connexion`.
#[derive(Debug, Default, Deserialize)]
pub struct LoginQuery {
    #[serde(default)]
    pub suivant: String,
}

/// Body of `POST /connexion`.
#[derive(Debug, Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    pub login: String,
    #[serde(default)]
    pub password: String,
    #[serde(default)]
    pub suivant: String,
}

fn login_page(
    visitor: &Visitor,
    login: &str,
    next: &str,
    errors: Vec<String>,
    status: StatusCode,
) -> Result<Response, PageError> {
    let (frame, cookies) = Frame::anonymous(visitor, &visitor.tr.t("login-title"));
    let page = LoginPage {
        frame,
        errors,
        login: login.to_string(),
        next: safe_return(next),
    };
    Ok(render(&page, status, cookies, visitor.tr)?.into_response())
}

/// `GET /connexion`.
pub async fn form(
    visitor: Visitor,
    query: Result<Query<LoginQuery>, QueryRejection>,
) -> Result<Response, PageError> {
    let next = query.map(|q| q.0.suivant).unwrap_or_default();
    if visitor.session.is_some() {
        return Err(PageError::redirect(safe_return(&next), visitor.tr.lang));
    }
    login_page(&visitor, "", &next, vec![], StatusCode::OK)
}

/// `POST /connexion`.
pub async fn submit(
    State(state): State<AppState>,
    visitor: Visitor,
    CsrfForm(form): CsrfForm<LoginForm>,
) -> Result<Response, PageError> {
    let lang = visitor.tr.lang;
    let result = login::login(
        &state.db,
        &state.clock,
        &state.config,
        &form.login,
        &form.password,
        &visitor.client,
        SessionKind::Cookie,
    )
    .await;
    match result {
        Ok(logged) => {
            // A new session id at every login: the previous session, if any, ends.
            if let Some(old) = &visitor.session {
                let _ = state.db.delete_session(&old.user_id, &old.id_hash).await;
            }
            let to = if logged.must_change_password {
                "/mon-compte#mot-de-passe".to_string()
            } else {
                safe_return(&form.suivant)
            };
            Ok(signed_in_redirect(&state, &visitor, &logged.token, to))
        }
        Err(LoginError::Failed) => login_page(
            &visitor,
            &form.login,
            &form.suivant,
            vec![visitor.tr.t("login-failed")],
            StatusCode::UNAUTHORIZED,
        ),
        Err(LoginError::Throttled) => login_page(
            &visitor,
            &form.login,
            &form.suivant,
            vec![visitor.tr.t("login-throttled")],
            StatusCode::TOO_MANY_REQUESTS,
        ),
        Err(LoginError::Db(e)) => Err(PageError::from_db(e, lang)),
    }
}

/// Body of forms that carry nothing but their CSRF token.
#[derive(Debug, Deserialize)]
pub struct Empty {}

/// `POST /deconnexion`: ends the session and clears the cookie.
pub async fn logout(
    State(state): State<AppState>,
    user: SignedInAny,
    CsrfForm(_): CsrfForm<Empty>,
) -> Result<Response, PageError> {
    let lang = user.visitor.tr.lang;
    state
        .db
        .delete_session(&user.session.user_id, &user.session.id_hash)
        .await
        .map_err(|e| PageError::from_db(e, lang))?;
    let login = state
        .db
        .user(&user.session.user_id)
        .await
        .ok()
        .flatten()
        .map(|u| u.login)
        .unwrap_or_default();
    state
        .db
        .record_trace(&Trace {
            establishment_id: user.session.establishment_id.as_deref(),
            ..Trace::success(
                state.clock.now_ms(),
                TraceEvent::Logout,
                &user.session.user_id,
                &login,
                &user.visitor.client,
            )
        })
        .await
        .map_err(|e| PageError::from_db(e, lang))?;
    let clear = host_cookie(
        SESSION_COOKIE,
        "",
        Some(0),
        "Lax",
        user.visitor.client.https,
    );
    Ok((
        StatusCode::SEE_OTHER,
        [
            (header::LOCATION, "/connexion".to_string()),
            (header::SET_COOKIE, clear),
        ],
    )
        .into_response())
}
