//! The establishment's accounts page, for those who may reset accounts (`rights::reset`):
//! `GET /comptes?q=…` lists the people in the actor's scope in the current establishment,
//! `POST /comptes/reinitialiser` gives one of them a new activation code or a temporary password,
//! shown once.

use askama::Template;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::error::PageError;
use super::frame::{Frame, render};
use super::session::{CsrfForm, SignedIn};
use crate::access::Access;
use crate::api::AppState;
use crate::auth::reset::{ResetError, ResetKind, ResetSecret, reset_account};
use crate::calendar::school_year_id;
use crate::rights::reset::{ResetScope, reset_scope};

/// How many people the page lists at most (narrow with the search).
const PAGE_SIZE: u32 = 100;

#[derive(Template)]
#[template(path = "accounts.html")]
struct AccountsPage {
    frame: Frame,
    intro: String,
    query: String,
    people: Vec<PersonLine>,
}

struct PersonLine {
    id: String,
    name: String,
    login: String,
    profiles: String,
    state: String,
    actions_label: String,
}

#[derive(Template)]
#[template(path = "reset_done.html")]
struct ResetDonePage {
    frame: Frame,
    heading: String,
    secret: String,
}

/// Query of `GET /comptes`.
#[derive(Debug, Default, Deserialize)]
pub struct AccountsQuery {
    #[serde(default)]
    pub q: String,
}

async fn scope_here(
    state: &AppState,
    user: &SignedIn,
) -> Result<(String, Access, ResetScope), PageError> {
    let lang = user.visitor.tr.lang;
    let establishment = user
        .session
        .establishment_id
        .clone()
        .ok_or_else(|| PageError::forbidden(lang))?;
    let access = Access::load(&state.db, &user.session.user_id)
        .await
        .map_err(|e| PageError::from_db(e, lang))?;
    let year = school_year_id(state.clock.today());
    let scope = reset_scope(
        &state.db,
        &access,
        &user.session.user_id,
        &establishment,
        &year,
    )
    .await
    .map_err(|e| PageError::from_db(e, lang))?
    .ok_or_else(|| PageError::forbidden(lang))?;
    Ok((establishment, access, scope))
}

/// `GET /comptes`.
pub async fn page(
    State(state): State<AppState>,
    user: SignedIn,
    query: Result<Query<AccountsQuery>, QueryRejection>,
) -> Result<Response, PageError> {
    let tr = user.visitor.tr;
    let query = query.map(|q| q.0.q).unwrap_or_default();
    let (establishment, access, scope) = scope_here(&state, &user).await?;
    let intro = tr.t(match scope {
        ResetScope::Anyone | ResetScope::Everyone => "accounts-intro-everyone",
        ResetScope::StudentsAndParents => "accounts-intro-students-parents",
        ResetScope::StudentsOf { .. } => "accounts-intro-students-of",
    });
    let people = state
        .db
        .resettable(&establishment, &scope, &query, PAGE_SIZE)
        .await
        .map_err(|e| PageError::from_db(e, tr.lang))?
        .into_iter()
        .filter(|p| p.id != user.session.user_id)
        .map(|p| {
            let name = format!("{} {}", p.first_name, p.last_name);
            PersonLine {
                actions_label: tr.t_with("accounts-actions", &[("name", &name)]),
                profiles: p
                    .profiles
                    .split(',')
                    .filter(|s| !s.is_empty())
                    .map(|s| tr.t(&format!("profile-{s}")))
                    .collect::<Vec<_>>()
                    .join(", "),
                state: tr.t(if p.activated {
                    "accounts-activated"
                } else {
                    "accounts-not-activated"
                }),
                id: p.id,
                login: p.login,
                name,
            }
        })
        .collect();
    let frame = Frame::signed_in_with(
        &state,
        &user.visitor,
        &user.session,
        &access,
        &tr.t("accounts-title"),
        "accounts",
    )
    .await?;
    let page = AccountsPage {
        frame,
        intro,
        query,
        people,
    };
    Ok(render(&page, StatusCode::OK, vec![], tr)?.into_response())
}

/// Body of `POST /comptes/reinitialiser`.
#[derive(Debug, Deserialize)]
pub struct ResetForm {
    pub user: String,
    pub kind: ResetKind,
}

/// `POST /comptes/reinitialiser`.
pub async fn reset(
    State(state): State<AppState>,
    user: SignedIn,
    CsrfForm(form): CsrfForm<ResetForm>,
) -> Result<Response, PageError> {
    let tr = user.visitor.tr;
    let (establishment, access, _) = scope_here(&state, &user).await?;
    let secret = reset_account(
        &state.db,
        &state.clock,
        &user.session.user_id,
        &access,
        &establishment,
        &form.user,
        form.kind,
        &user.visitor.client,
    )
    .await
    .map_err(|e| match e {
        ResetError::Forbidden => PageError::forbidden(tr.lang),
        ResetError::Db(e) => PageError::from_db(e, tr.lang),
    })?;
    let target = state
        .db
        .user(&form.user)
        .await
        .map_err(|e| PageError::from_db(e, tr.lang))?
        .ok_or_else(|| PageError::not_found(tr.lang))?;
    let key = match secret {
        ResetSecret::ActivationCode(_) => "reset-done-code",
        ResetSecret::TemporaryPassword(_) => "reset-done-password",
    };
    let frame = Frame::signed_in_with(
        &state,
        &user.visitor,
        &user.session,
        &access,
        &tr.t("reset-done-title"),
        "accounts",
    )
    .await?;
    let page = ResetDonePage {
        frame,
        heading: tr.t_with(
            key,
            &[("name", &target.display_name()), ("login", &target.login)],
        ),
        secret: secret.expose().to_string(),
    };
    Ok(render(&page, StatusCode::OK, vec![], tr)?.into_response())
}
