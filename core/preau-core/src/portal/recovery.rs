//! Recovering an account by e-mail, for the people who have one (most parents, the staff):
//! `/mot-de-passe-oublie` sends a single-use link (1 hour) to choose a new password,
//! `/identifiant-oublie` sends the logins linked to an address. Both answer the same whether an
//! account matched or not (no enumeration), and are throttled per address.

use askama::Template;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::error::PageError;
use super::frame::{Frame, render};
use super::i18n::Tr;
use super::session::{CsrfForm, Visitor};
use crate::api::AppState;
use crate::auth::password;
use crate::auth::token::Token;
use crate::db::auth::{Trace, TraceEvent};
use crate::mail::Mailer;

/// The purpose of reset tokens in `one_time_tokens`.
pub const PASSWORD_RESET: &str = "password_reset";
/// How long a reset link stays valid.
const RESET_VALIDITY_MS: i64 = 3600 * 1000;
/// Requests from one address within the throttling window before it is refused.
const MAX_REQUESTS_PER_ADDRESS: i64 = 20;

#[derive(Template)]
#[template(path = "recovery.html")]
struct RecoveryPage {
    frame: Frame,
    errors: Vec<String>,
    sent: bool,
    mail_available: bool,
    intro: String,
    action: &'static str,
    label: String,
    input_type: &'static str,
    autocomplete: &'static str,
    submit: String,
}

#[derive(Template)]
#[template(path = "new_password.html")]
struct NewPasswordPage {
    frame: Frame,
    errors: Vec<String>,
    valid: bool,
    done: bool,
    token: String,
}

/// Which recovery page.
#[derive(Clone, Copy)]
enum Kind {
    Password,
    Login,
}

fn recovery_page(
    state: &AppState,
    visitor: &Visitor,
    kind: Kind,
    sent: bool,
    errors: Vec<String>,
    status: StatusCode,
) -> Result<Response, PageError> {
    let tr = visitor.tr;
    let (title, intro, action, label, input_type, autocomplete, submit) = match kind {
        Kind::Password => (
            "forgot-password-title",
            "forgot-password-intro",
            "/mot-de-passe-oublie",
            "login-login",
            "text",
            "username",
            "forgot-password-submit",
        ),
        Kind::Login => (
            "forgot-login-title",
            "forgot-login-intro",
            "/identifiant-oublie",
            "forgot-login-email",
            "email",
            "email",
            "forgot-login-submit",
        ),
    };
    let (frame, cookies) = Frame::anonymous(visitor, &tr.t(title));
    let page = RecoveryPage {
        frame,
        errors,
        sent,
        mail_available: state.config.smtp.is_some(),
        intro: tr.t(intro),
        action,
        label: tr.t(label),
        input_type,
        autocomplete,
        submit: tr.t(submit),
    };
    Ok(render(&page, status, cookies, tr)?.into_response())
}

/// `GET /mot-de-passe-oublie`.
pub async fn password_form(
    State(state): State<AppState>,
    visitor: Visitor,
) -> Result<Response, PageError> {
    recovery_page(
        &state,
        &visitor,
        Kind::Password,
        false,
        vec![],
        StatusCode::OK,
    )
}

/// `GET /identifiant-oublie`.
pub async fn login_form(
    State(state): State<AppState>,
    visitor: Visitor,
) -> Result<Response, PageError> {
    recovery_page(&state, &visitor, Kind::Login, false, vec![], StatusCode::OK)
}

/// Body of both recovery forms.
#[derive(Debug, Deserialize)]
pub struct RecoveryForm {
    #[serde(default)]
    pub value: String,
}

/// The early answer of a recovery request, if it cannot go on: no SMTP server configured, or the
/// address over its allowance ([`MAX_REQUESTS_PER_ADDRESS`] per throttling window). Otherwise the
/// request is counted against the address and `None` lets it go on.
async fn refusal(
    state: &AppState,
    visitor: &Visitor,
    kind: Kind,
) -> Result<Option<Response>, PageError> {
    if state.config.smtp.is_none() {
        return recovery_page(
            state,
            visitor,
            kind,
            false,
            vec![],
            StatusCode::SERVICE_UNAVAILABLE,
        )
        .map(Some);
    }
    let key = format!("recovery:{}", visitor.client.ip);
    let now = state.clock.now_ms();
    let db_err = |e| PageError::from_db(e, visitor.tr.lang);
    if state.db.is_throttled(&key, now).await.map_err(db_err)? {
        let errors = vec![visitor.tr.t("login-throttled")];
        return recovery_page(
            state,
            visitor,
            kind,
            false,
            errors,
            StatusCode::TOO_MANY_REQUESTS,
        )
        .map(Some);
    }
    state
        .db
        .record_failure(&key, MAX_REQUESTS_PER_ADDRESS, now)
        .await
        .map_err(db_err)?;
    Ok(None)
}

/// Sends in the background: the answer must not take longer when an account matched (that
/// would tell who has an account). The page says the same either way; failures go to the log.
fn send(state: &AppState, to: &str, subject: String, body: String) {
    let Some(config) = state.config.smtp.clone() else {
        return;
    };
    let to = to.to_string();
    tokio::spawn(async move {
        let result = match Mailer::new(&config) {
            Ok(mailer) => mailer.send(&to, &subject, body).await,
            Err(e) => Err(e),
        };
        if let Err(e) = result {
            tracing::warn!(error = %e, "recovery mail not sent");
        }
    });
}

/// `POST /mot-de-passe-oublie`.
pub async fn password_request(
    State(state): State<AppState>,
    visitor: Visitor,
    CsrfForm(form): CsrfForm<RecoveryForm>,
) -> Result<Response, PageError> {
    let tr = visitor.tr;
    if let Some(answer) = refusal(&state, &visitor, Kind::Password).await? {
        return Ok(answer);
    }
    let db_err = |e| PageError::from_db(e, tr.lang);
    if let Some(c) = state
        .db
        .credentials(&form.value)
        .await
        .map_err(db_err)?
        .filter(|c| c.state == "active" && c.password_hash.is_some())
        && let Some(user) = state.db.user(&c.user_id).await.map_err(db_err)?
        && let Some(email) = user.email.clone().filter(|e| !e.is_empty())
    {
        let token = Token::generate();
        let now = state.clock.now_ms();
        state
            .db
            .create_one_time_token(
                PASSWORD_RESET,
                Some(&user.id),
                &token.digest(),
                now,
                now + RESET_VALIDITY_MS,
            )
            .await
            .map_err(db_err)?;
        let link = format!(
            "{}/mot-de-passe-oublie/nouveau?jeton={}",
            state.config.public_base_url(),
            token.expose()
        );
        let body = tr.t_with(
            "recovery-mail-body",
            &[("name", &user.display_name()), ("link", &link)],
        );
        send(&state, &email, tr.t("recovery-mail-subject"), body);
    }
    recovery_page(
        &state,
        &visitor,
        Kind::Password,
        true,
        vec![],
        StatusCode::OK,
    )
}

/// `POST /identifiant-oublie`.
pub async fn login_request(
    State(state): State<AppState>,
    visitor: Visitor,
    CsrfForm(form): CsrfForm<RecoveryForm>,
) -> Result<Response, PageError> {
    let tr = visitor.tr;
    if let Some(answer) = refusal(&state, &visitor, Kind::Login).await? {
        return Ok(answer);
    }
    let email = form.value.trim();
    let accounts = state
        .db
        .accounts_with_email(email)
        .await
        .map_err(|e| PageError::from_db(e, tr.lang))?;
    if !accounts.is_empty() {
        let logins: Vec<String> = accounts
            .iter()
            .map(|(_, login, first, last)| format!("{login} ({first} {last})"))
            .collect();
        let body = tr.t_with("forgot-login-mail-body", &[("logins", &logins.join(", "))]);
        send(&state, email, tr.t("forgot-login-mail-subject"), body);
    }
    recovery_page(&state, &visitor, Kind::Login, true, vec![], StatusCode::OK)
}

/// Query of `GET /mot-de-passe-oublie/nouveau`.
#[derive(Debug, Default, Deserialize)]
pub struct TokenQuery {
    #[serde(default)]
    pub jeton: String,
}

fn new_password_page(
    visitor: &Visitor,
    tr: Tr,
    token: &str,
    valid: bool,
    done: bool,
    errors: Vec<String>,
    status: StatusCode,
) -> Result<Response, PageError> {
    let (frame, cookies) = Frame::anonymous(visitor, &tr.t("new-password-title"));
    let page = NewPasswordPage {
        frame,
        errors,
        valid,
        done,
        token: token.to_string(),
    };
    Ok(render(&page, status, cookies, tr)?.into_response())
}

async fn token_user(state: &AppState, token: &str) -> Option<String> {
    let t = Token::parse(token)?;
    let now = state.clock.now_ms();
    if !state
        .db
        .one_time_token_valid(PASSWORD_RESET, &t.digest(), now)
        .await
        .ok()?
    {
        return None;
    }
    Some(t.digest())
}

/// `GET /mot-de-passe-oublie/nouveau?jeton=…`.
pub async fn new_password_form(
    State(state): State<AppState>,
    visitor: Visitor,
    query: Result<Query<TokenQuery>, QueryRejection>,
) -> Result<Response, PageError> {
    let token = query.map(|q| q.0.jeton).unwrap_or_default();
    let valid = token_user(&state, &token).await.is_some();
    let status = if valid {
        StatusCode::OK
    } else {
        StatusCode::FORBIDDEN
    };
    new_password_page(&visitor, visitor.tr, &token, valid, false, vec![], status)
}

/// Body of `POST /mot-de-passe-oublie/nouveau`.
#[derive(Debug, Deserialize)]
pub struct NewPasswordForm {
    #[serde(default)]
    pub jeton: String,
    #[serde(default)]
    pub password: String,
    #[serde(default)]
    pub confirm: String,
}

/// `POST /mot-de-passe-oublie/nouveau`: uses the link once, sets the password, ends every session.
pub async fn new_password(
    State(state): State<AppState>,
    visitor: Visitor,
    CsrfForm(form): CsrfForm<NewPasswordForm>,
) -> Result<Response, PageError> {
    let tr = visitor.tr;
    let db_err = |e| PageError::from_db(e, tr.lang);
    let Some(digest) = token_user(&state, &form.jeton).await else {
        return new_password_page(
            &visitor,
            tr,
            &form.jeton,
            false,
            false,
            vec![],
            StatusCode::FORBIDDEN,
        );
    };
    // The account, to check the policy against its login, without using the link yet.
    let user_id: Option<String> = state
        .db
        .one_time_token_user(PASSWORD_RESET, &digest)
        .await
        .map_err(db_err)?;
    let user = match user_id {
        Some(id) => state.db.user(&id).await.map_err(db_err)?,
        None => None,
    };
    let Some(user) = user else {
        return new_password_page(
            &visitor,
            tr,
            &form.jeton,
            false,
            false,
            vec![],
            StatusCode::FORBIDDEN,
        );
    };
    let mut errors = Vec::new();
    if let Err(e) = password::check_policy(&form.password, &user.login) {
        errors.push(e.to_string());
    }
    if form.password != form.confirm {
        errors.push(tr.t("password-mismatch"));
    }
    if !errors.is_empty() {
        return new_password_page(
            &visitor,
            tr,
            &form.jeton,
            true,
            false,
            errors,
            StatusCode::UNPROCESSABLE_ENTITY,
        );
    }
    let now = state.clock.now_ms();
    if state
        .db
        .consume_one_time_token(PASSWORD_RESET, &digest, now)
        .await
        .map_err(db_err)?
        .is_none()
    {
        return new_password_page(
            &visitor,
            tr,
            &form.jeton,
            false,
            false,
            vec![],
            StatusCode::FORBIDDEN,
        );
    }
    let hash = password::hash_off_thread(&form.password)
        .await
        .ok_or_else(|| PageError::internal(tr.lang))?;
    state
        .db
        .set_password(&user.id, &hash, now)
        .await
        .map_err(db_err)?;
    state
        .db
        .delete_other_sessions(&user.id, None)
        .await
        .map_err(db_err)?;
    state
        .db
        .record_trace(&Trace::success(
            now,
            TraceEvent::PasswordReset,
            &user.id,
            &user.login,
            &visitor.client,
        ))
        .await
        .map_err(db_err)?;
    new_password_page(&visitor, tr, "", false, true, vec![], StatusCode::OK)
}
