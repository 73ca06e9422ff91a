//! `GET/POST /installation?jeton=…`: the first run. The single-use link printed by `preau serve`
//! (or `preau admin setup-link`) lets its holder name the collectivité and create the first
//! collectivité administrator, who is then signed in and shown their login (Mon compte).

use askama::Template;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::error::PageError;
use super::frame::{Frame, render, signed_in_redirect};
use super::i18n::Lang;
use super::session::{CsrfForm, Visitor};
use crate::api::AppState;
use crate::auth::login;
use crate::auth::password;
use crate::auth::setup::SETUP;
use crate::auth::token::Token;
use crate::db::auth::SessionKind;
use crate::db::identity::NewUser;
use crate::identity::{LoginBase, Role};

#[derive(Template)]
#[template(path = "setup.html")]
struct SetupPage {
    frame: Frame,
    errors: Vec<String>,
    valid: bool,
    token: String,
    collectivite: String,
    first_name: String,
    last_name: String,
    email: String,
}

/// Query of `GET /installation`.
#[derive(Debug, Default, Deserialize)]
pub struct SetupQuery {
    #[serde(default)]
    pub jeton: String,
}

/// Body of `POST /installation`.
#[derive(Debug, Default, Deserialize)]
pub struct SetupForm {
    #[serde(default)]
    pub jeton: String,
    #[serde(default)]
    pub collectivite: String,
    #[serde(default)]
    pub first_name: String,
    #[serde(default)]
    pub last_name: String,
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub password: String,
    #[serde(default)]
    pub confirm: String,
}

async fn token_valid(state: &AppState, token: &str, lang: Lang) -> Result<bool, PageError> {
    match Token::parse(token) {
        Some(t) => state
            .db
            .one_time_token_valid(SETUP, &t.digest(), state.clock.now_ms())
            .await
            .map_err(|e| PageError::from_db(e, lang)),
        None => Ok(false),
    }
}

fn page(
    visitor: &Visitor,
    form: &SetupForm,
    valid: bool,
    errors: Vec<String>,
    status: StatusCode,
) -> Result<Response, PageError> {
    let (frame, cookies) = Frame::anonymous(visitor, &visitor.tr.t("setup-title"));
    let page = SetupPage {
        frame,
        errors,
        valid,
        token: form.jeton.clone(),
        collectivite: form.collectivite.clone(),
        first_name: form.first_name.clone(),
        last_name: form.last_name.clone(),
        email: form.email.clone(),
    };
    Ok(render(&page, status, cookies, visitor.tr)?.into_response())
}

/// `GET /installation?jeton=…`.
pub async fn form(
    State(state): State<AppState>,
    visitor: Visitor,
    query: Result<Query<SetupQuery>, QueryRejection>,
) -> Result<Response, PageError> {
    let token = query.map(|q| q.0.jeton).unwrap_or_default();
    let valid = token_valid(&state, &token, visitor.tr.lang).await?;
    let status = if valid {
        StatusCode::OK
    } else {
        StatusCode::FORBIDDEN
    };
    page(
        &visitor,
        &SetupForm {
            jeton: token,
            ..SetupForm::default()
        },
        valid,
        vec![],
        status,
    )
}

/// `POST /installation`.
pub async fn submit(
    State(state): State<AppState>,
    visitor: Visitor,
    CsrfForm(form): CsrfForm<SetupForm>,
) -> Result<Response, PageError> {
    let tr = visitor.tr;
    let db_err = |e| PageError::from_db(e, tr.lang);
    if !token_valid(&state, &form.jeton, tr.lang).await? {
        return page(&visitor, &form, false, vec![], StatusCode::FORBIDDEN);
    }
    let mut errors = Vec::new();
    if form.collectivite.trim().is_empty()
        || form.first_name.trim().is_empty()
        || form.last_name.trim().is_empty()
    {
        errors.push(tr.t("setup-name-required"));
    }
    match LoginBase::from_names(&form.first_name, &form.last_name) {
        Ok(base) => {
            if let Err(e) = password::check_policy(&form.password, base.as_str()) {
                errors.push(e.to_string());
            }
        }
        Err(e) if errors.is_empty() => errors.push(e.to_string()),
        Err(_) => {}
    }
    if form.password != form.confirm {
        errors.push(tr.t("password-mismatch"));
    }
    if !errors.is_empty() {
        return page(
            &visitor,
            &form,
            true,
            errors,
            StatusCode::UNPROCESSABLE_ENTITY,
        );
    }
    // Use the link now, atomically: of two people racing with it, only one goes on.
    let Some(token) = Token::parse(&form.jeton) else {
        return page(&visitor, &form, false, vec![], StatusCode::FORBIDDEN);
    };
    let now = state.clock.now_ms();
    if state
        .db
        .consume_one_time_token(SETUP, &token.digest(), now)
        .await
        .map_err(db_err)?
        .is_none()
    {
        return page(&visitor, &form, false, vec![], StatusCode::FORBIDDEN);
    }
    let hash = password::hash_off_thread(&form.password)
        .await
        .ok_or_else(|| PageError::internal(tr.lang))?;
    let charter = state
        .db
        .current_charter()
        .await
        .map_err(db_err)?
        .map(|c| c.version);
    let mut tx = state.db.begin(now).await.map_err(db_err)?;
    tx.set_collectivite(form.collectivite.trim())
        .await
        .map_err(db_err)?;
    let admin = tx
        .create_user(&NewUser {
            first_name: form.first_name.clone(),
            last_name: form.last_name.clone(),
            email: Some(form.email.trim().to_string()).filter(|e| !e.is_empty()),
            password_hash: Some(hash),
            charter_version: charter,
            ..NewUser::default()
        })
        .await
        .map_err(db_err)?;
    tx.grant_role(&admin.id, Role::AdminCollectivite, None)
        .await
        .map_err(db_err)?;
    tx.commit().await.map_err(db_err)?;
    tracing::info!(login = %admin.login, "instance set up: first collectivité administrator created");
    let logged = login::login(
        &state.db,
        &state.clock,
        &state.config,
        &admin.login,
        &form.password,
        &visitor.client,
        SessionKind::Cookie,
    )
    .await
    .map_err(|_| PageError::redirect("/connexion".into(), tr.lang))?;
    Ok(signed_in_redirect(
        &state,
        &visitor,
        &logged.token,
        "/mon-compte".to_string(),
    ))
}
