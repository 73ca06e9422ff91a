//! "Mon compte": `GET /mon-compte` (profile, password, sessions, preferences),
//! `POST /mon-compte/mot-de-passe`, `POST /mon-compte/sessions` (close the others), and the two
//! switches every page offers: `POST /langue` and `POST /etablissement`.

use askama::Template;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::TimeZone;
use serde::Deserialize;

use super::error::PageError;
use super::frame::{Frame, cookie, render, role_label};
use super::i18n::{LANG_COOKIE, Lang};
use super::login::Empty;
use super::session::{CsrfForm, SignedIn, SignedInAny, Visitor, safe_return};
use crate::access::{Access, EstablishmentAccess};
use crate::api::AppState;
use crate::auth::password;
use crate::auth::throttle::{self, account_key};
use crate::db::auth::{Trace, TraceEvent};
use crate::identity::Uai;

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage {
    frame: Frame,
    errors: Vec<String>,
    must_change: bool,
    name: String,
    login: String,
    email: String,
    attachments: Vec<String>,
    roles: Vec<String>,
    sessions: Vec<SessionLine>,
}

struct SessionLine {
    current: bool,
    when: String,
    from: String,
}

async fn account_page(
    state: &AppState,
    user: &SignedInAny,
    errors: Vec<String>,
    notice: Option<String>,
    status: StatusCode,
) -> Result<Response, PageError> {
    let tr = user.visitor.tr;
    let db_err = |e| PageError::from_db(e, tr.lang);
    let id = &user.session.user_id;
    let account = state
        .db
        .user(id)
        .await
        .map_err(db_err)?
        .ok_or_else(|| PageError::forbidden(tr.lang))?;
    let attachments = state
        .db
        .attachments_of(id)
        .await
        .map_err(db_err)?
        .into_iter()
        .map(|a| {
            format!(
                "{} ({}) — {}",
                a.establishment_name,
                a.uai,
                tr.t(&format!("profile-{}", a.profile.as_str()))
            )
        })
        .collect();
    let roles = state
        .db
        .roles_of(id)
        .await
        .map_err(db_err)?
        .into_iter()
        .map(|r| role_label(&tr, &r))
        .collect();
    let tz = state.clock.tz();
    let format = |ms: i64| {
        tz.timestamp_millis_opt(ms)
            .single()
            .map(|t| match tr.lang {
                Lang::Fr => t.format("%d/%m/%Y %H:%M").to_string(),
                Lang::En => t.format("%Y-%m-%d %H:%M").to_string(),
            })
            .unwrap_or_default()
    };
    let sessions = state
        .db
        .sessions_of(id)
        .await
        .map_err(db_err)?
        .into_iter()
        .map(|s| SessionLine {
            current: s.id_hash == user.session.id_hash,
            when: tr.t_with(
                "account-session-since",
                &[
                    ("date", &format(s.created_at)),
                    ("seen", &format(s.last_seen_at)),
                ],
            ),
            from: tr.t_with(
                "account-session-from",
                &[("ip", &s.ip), ("agent", &s.user_agent)],
            ),
        })
        .collect();
    let mut frame = Frame::signed_in(
        state,
        &user.visitor,
        &user.session,
        &tr.t("account-title"),
        "account",
    )
    .await?;
    frame.notice = notice;
    let page = AccountPage {
        frame,
        errors,
        must_change: user.session.must_change_password,
        name: account.display_name(),
        login: account.login,
        email: account.email.unwrap_or_else(|| tr.t("account-no-email")),
        attachments,
        roles,
        sessions,
    };
    Ok(render(&page, status, vec![], tr)?.into_response())
}

/// `GET /mon-compte`.
pub async fn page(State(state): State<AppState>, user: SignedInAny) -> Result<Response, PageError> {
    account_page(&state, &user, vec![], None, StatusCode::OK).await
}

/// Body of `POST /mon-compte/mot-de-passe`.
#[derive(Debug, Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    pub current: String,
    #[serde(default)]
    pub password: String,
    #[serde(default)]
    pub confirm: String,
}

/// `POST /mon-compte/mot-de-passe`: checks the current password (not asked after a reset by a
/// staff member), the policy and the confirmation; then ends every other session.
pub async fn change_password(
    State(state): State<AppState>,
    user: SignedInAny,
    CsrfForm(form): CsrfForm<PasswordForm>,
) -> Result<Response, PageError> {
    let tr = user.visitor.tr;
    let db_err = |e| PageError::from_db(e, tr.lang);
    let id = user.session.user_id.clone();
    let account = state
        .db
        .user(&id)
        .await
        .map_err(db_err)?
        .ok_or_else(|| PageError::forbidden(tr.lang))?;
    let mut errors = Vec::new();
    if !user.session.must_change_password {
        // The current password is checked under the same throttle as the login: a session left
        // open on a shared computer must not allow unlimited guesses.
        let key = account_key(&account.login);
        let now = state.clock.now_ms();
        let counted = state
            .db
            .record_failure(&key, throttle::ACCOUNT_MAX_FAILURES, now)
            .await
            .map_err(db_err)?;
        if counted.failures > throttle::ACCOUNT_MAX_FAILURES {
            return account_page(
                &state,
                &user,
                vec![tr.t("login-throttled")],
                None,
                StatusCode::TOO_MANY_REQUESTS,
            )
            .await;
        }
        let stored = state
            .db
            .password_hash(&id)
            .await
            .map_err(db_err)?
            .unwrap_or_default();
        if password::verify_off_thread(stored, &form.current).await {
            state.db.clear_failures(&key).await.map_err(db_err)?;
        } else {
            errors.push(tr.t("account-password-wrong"));
        }
    }
    if let Err(e) = password::check_policy(&form.password, &account.login) {
        errors.push(e.to_string());
    }
    if form.password != form.confirm {
        errors.push(tr.t("password-mismatch"));
    }
    if !errors.is_empty() {
        return account_page(
            &state,
            &user,
            errors,
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    let hash = password::hash_off_thread(&form.password)
        .await
        .ok_or_else(|| PageError::internal(tr.lang))?;
    let now = state.clock.now_ms();
    state
        .db
        .set_password(&id, &hash, now)
        .await
        .map_err(db_err)?;
    state
        .db
        .delete_other_sessions(&id, Some(&user.session.id_hash))
        .await
        .map_err(db_err)?;
    state
        .db
        .record_trace(&Trace {
            establishment_id: user.session.establishment_id.as_deref(),
            ..Trace::success(
                now,
                TraceEvent::PasswordChange,
                &id,
                &account.login,
                &user.visitor.client,
            )
        })
        .await
        .map_err(db_err)?;
    let mut user = user;
    user.session.must_change_password = false;
    account_page(
        &state,
        &user,
        vec![],
        Some(tr.t("account-password-changed")),
        StatusCode::OK,
    )
    .await
}

/// `POST /mon-compte/sessions`: ends every session but this one.
pub async fn close_others(
    State(state): State<AppState>,
    user: SignedIn,
    CsrfForm(_): CsrfForm<Empty>,
) -> Result<Response, PageError> {
    let tr = user.visitor.tr;
    state
        .db
        .delete_other_sessions(&user.session.user_id, Some(&user.session.id_hash))
        .await
        .map_err(|e| PageError::from_db(e, tr.lang))?;
    let user = SignedInAny {
        visitor: user.visitor,
        session: user.session,
    };
    account_page(
        &state,
        &user,
        vec![],
        Some(tr.t("account-others-closed")),
        StatusCode::OK,
    )
    .await
}

/// Body of `POST /langue`.
#[derive(Debug, Deserialize)]
pub struct LanguageForm {
    #[serde(default)]
    pub langue: String,
    #[serde(default)]
    pub retour: String,
}

/// `POST /langue`: remembers the language for a year, then goes back.
pub async fn language(
    visitor: Visitor,
    CsrfForm(form): CsrfForm<LanguageForm>,
) -> Result<Response, PageError> {
    let lang = Lang::parse(&form.langue).ok_or_else(|| {
        PageError::bad_request(visitor.tr.lang, "langue inconnue / unknown language")
    })?;
    let set = cookie(
        LANG_COOKIE,
        lang.as_str(),
        Some(365 * 86_400),
        "Lax",
        visitor.client.https,
    );
    Ok((
        StatusCode::SEE_OTHER,
        [
            (header::LOCATION, safe_return(&form.retour)),
            (header::SET_COOKIE, set),
        ],
    )
        .into_response())
}

/// Body of `POST /etablissement`.
#[derive(Debug, Deserialize)]
pub struct EstablishmentForm {
    #[serde(default)]
    pub uai: String,
    #[serde(default)]
    pub retour: String,
}

/// `POST /etablissement`: moves the session to another of the person's establishments.
pub async fn switch_establishment(
    State(state): State<AppState>,
    user: SignedIn,
    CsrfForm(form): CsrfForm<EstablishmentForm>,
) -> Result<Response, PageError> {
    let lang = user.visitor.tr.lang;
    let db_err = |e| PageError::from_db(e, lang);
    let uai = Uai::parse(&form.uai).map_err(|_| PageError::not_found(lang))?;
    let establishment = state
        .db
        .establishment(&uai)
        .await
        .map_err(db_err)?
        .ok_or_else(|| PageError::not_found(lang))?;
    let access = Access::load(&state.db, &user.session.user_id)
        .await
        .map_err(db_err)?;
    if access.in_establishment(&establishment.id) == EstablishmentAccess::None {
        return Err(PageError::forbidden(lang));
    }
    state
        .db
        .set_session_establishment(&user.session.id_hash, &establishment.id)
        .await
        .map_err(db_err)?;
    Err(PageError::redirect(safe_return(&form.retour), lang))
}

/// `GET /mon-compte/mes-donnees`: everything Préau and its services hold about the signed-in
/// person, as a ZIP of JSON files and the plugins' files (`privacy::export_archive`), streamed
/// as a download from a temporary file.
pub async fn my_data(State(state): State<AppState>, user: SignedIn) -> Result<Response, PageError> {
    let tr = user.visitor.tr;
    let id = &user.session.user_id;
    let counted = state
        .db
        .record_failure(
            &throttle::export_key(id),
            throttle::EXPORTS_MAX,
            state.clock.now_ms(),
        )
        .await
        .map_err(|e| PageError::from_db(e, tr.lang))?;
    if counted.failures > throttle::EXPORTS_MAX {
        return Err(PageError::service(
            StatusCode::TOO_MANY_REQUESTS,
            &tr.t("account-export-throttled"),
            tr.lang,
        ));
    }
    let file = crate::privacy::export_archive(
        &state.db,
        &state.clock,
        &state.plugins,
        &state.config.data_dir,
        id,
    )
    .await
    .map_err(|e| {
        tracing::error!(user = id, error = %e, "personal data export failed");
        PageError::internal(tr.lang)
    })?;
    let size = file.metadata().map(|m| m.len()).ok();
    let name = format!(
        "preau-mes-donnees-{}.zip",
        state.clock.today().format("%Y-%m-%d")
    );
    let body = axum::body::Body::from_stream(tokio_util::io::ReaderStream::new(
        tokio::fs::File::from_std(file),
    ));
    let mut response = (
        [
            (header::CONTENT_TYPE, "application/zip".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        body,
    )
        .into_response();
    if let Some(size) = size {
        response
            .headers_mut()
            .insert(header::CONTENT_LENGTH, axum::http::HeaderValue::from(size));
    }
    Ok(response)
}
