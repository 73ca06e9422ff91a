//! The legal pages, open to everyone: mentions légales, the personal-data notice (purposes,
//! retention taken from the configuration, rights, cookies) and the accessibility statement.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::error::PageError;
use super::frame::{Frame, render};
use super::session::Visitor;
use crate::api::AppState;

#[derive(Template)]
#[template(path = "legal.html")]
struct LegalPage {
    frame: Frame,
    publisher: String,
    address: String,
    director: String,
    host: String,
}

#[derive(Template)]
#[template(path = "privacy.html")]
struct PrivacyPage {
    frame: Frame,
    publisher: String,
    dpo: String,
    traces_days: u64,
    departed_days: u64,
    idle_minutes: u64,
}

#[derive(Template)]
#[template(path = "accessibility.html")]
struct AccessibilityPage {
    frame: Frame,
    publisher: String,
}

async fn frame(
    state: &AppState,
    visitor: &Visitor,
    title_key: &str,
) -> Result<(Frame, Vec<String>), PageError> {
    let title = visitor.tr.t(title_key);
    match &visitor.session {
        Some(s) => Ok((
            Frame::signed_in(state, visitor, s, &title, "").await?,
            vec![],
        )),
        None => Ok(Frame::anonymous(visitor, &title)),
    }
}

async fn publisher(state: &AppState, visitor: &Visitor) -> Result<String, PageError> {
    Ok(state
        .db
        .collectivite()
        .await
        .map_err(|e| PageError::from_db(e, visitor.tr.lang))?
        .map_or_else(|| "la collectivité".to_string(), |c| c.name))
}

/// `GET /mentions-legales`.
pub async fn legal(State(state): State<AppState>, visitor: Visitor) -> Result<Response, PageError> {
    let (frame, cookies) = frame(&state, &visitor, "legal-title").await?;
    let l = &state.config.legal;
    let page = LegalPage {
        frame,
        publisher: publisher(&state, &visitor).await?,
        address: l.address.clone(),
        director: l.director.clone(),
        host: l.host.clone(),
    };
    Ok(render(&page, StatusCode::OK, cookies, visitor.tr)?.into_response())
}

/// `GET /donnees-personnelles`.
pub async fn privacy(
    State(state): State<AppState>,
    visitor: Visitor,
) -> Result<Response, PageError> {
    let (frame, cookies) = frame(&state, &visitor, "privacy-title").await?;
    let c = &state.config;
    let page = PrivacyPage {
        frame,
        publisher: publisher(&state, &visitor).await?,
        dpo: c.legal.dpo_contact.clone(),
        traces_days: c.retention.connection_traces.as_secs() / 86_400,
        departed_days: c.retention.departed_users.as_secs() / 86_400,
        idle_minutes: c.sessions.idle_timeout.as_secs() / 60,
    };
    Ok(render(&page, StatusCode::OK, cookies, visitor.tr)?.into_response())
}

/// `GET /accessibilite`.
pub async fn accessibility(
    State(state): State<AppState>,
    visitor: Visitor,
) -> Result<Response, PageError> {
    let (frame, cookies) = frame(&state, &visitor, "accessibility-title").await?;
    let page = AccessibilityPage {
        frame,
        publisher: publisher(&state, &visitor).await?,
    };
    Ok(render(&page, StatusCode::OK, cookies, visitor.tr)?.into_response())
}
