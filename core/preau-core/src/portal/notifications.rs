//! The notification centre's pages: `GET /notifications` (the latest, unread first marked, and
//! the e-mail preference), `POST /notifications/{id}/ouvrir` (marks it read and follows its
//! link), `POST /notifications/tout-lu` (marks all read), `POST /notifications/preference`
//! (never, immediately, or a daily digest). Plugins write them through `CoreServices::notify`;
//! `crate::notifications` sends the e-mails.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::error::PageError;
use super::frame::{Frame, render};
use super::session::{CsrfForm, SignedIn, safe_return};
use crate::api::AppState;
use crate::db::notifications::EmailPreference;

/// How many notifications the page lists.
const SHOWN: i64 = 100;

#[derive(Template)]
#[template(path = "notifications.html")]
struct NotificationsPage {
    frame: Frame,
    items: Vec<Item>,
    preference: &'static str,
    has_email: bool,
}

struct Item {
    id: String,
    title: String,
    body: String,
    when: String,
    unread: bool,
    has_link: bool,
}

/// `GET /notifications`.
pub async fn page(State(state): State<AppState>, user: SignedIn) -> Result<Response, PageError> {
    let tr = user.visitor.tr;
    let db_err = |e| PageError::from_db(e, tr.lang);
    let id = &user.session.user_id;
    let rows = state.db.notifications_of(id, SHOWN).await.map_err(db_err)?;
    let items = rows
        .into_iter()
        .map(|n| Item {
            when: state.clock.format_ms(n.created_at, "%d/%m/%Y %H:%M"),
            unread: n.read_at.is_none(),
            has_link: n.link.is_some(),
            id: n.id,
            title: n.title,
            body: n.body,
        })
        .collect();
    let preference = state
        .db
        .email_preference(id)
        .await
        .map_err(db_err)?
        .as_str();
    let has_email = state
        .db
        .user(id)
        .await
        .map_err(db_err)?
        .is_some_and(|u| u.email.is_some());
    let frame = Frame::signed_in(
        &state,
        &user.visitor,
        &user.session,
        &tr.t("notifications-title"),
        "notifications",
    )
    .await?;
    let page = NotificationsPage {
        frame,
        items,
        preference,
        has_email,
    };
    Ok(render(&page, StatusCode::OK, vec![], tr)?.into_response())
}

/// `POST /notifications/{id}/ouvrir`: read, then to its link (or back to the list).
pub async fn open(
    State(state): State<AppState>,
    user: SignedIn,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<serde::de::IgnoredAny>,
) -> Result<Response, PageError> {
    let lang = user.visitor.tr.lang;
    let link = state
        .db
        .read_notification(&user.session.user_id, &id, state.clock.now_ms())
        .await
        .map_err(|e| PageError::from_db(e, lang))?;
    let to = link.map_or_else(|| "/notifications".to_owned(), |l| safe_return(&l));
    Err(PageError::redirect(to, lang))
}

/// `POST /notifications/tout-lu`.
pub async fn read_all(
    State(state): State<AppState>,
    user: SignedIn,
    CsrfForm(_): CsrfForm<serde::de::IgnoredAny>,
) -> Result<Response, PageError> {
    let lang = user.visitor.tr.lang;
    state
        .db
        .read_all_notifications(&user.session.user_id, state.clock.now_ms())
        .await
        .map_err(|e| PageError::from_db(e, lang))?;
    Err(PageError::redirect("/notifications".into(), lang))
}

#[derive(Debug, Deserialize)]
pub struct PreferenceForm {
    email: String,
}

/// `POST /notifications/preference`.
pub async fn preference(
    State(state): State<AppState>,
    user: SignedIn,
    CsrfForm(form): CsrfForm<PreferenceForm>,
) -> Result<Response, PageError> {
    let lang = user.visitor.tr.lang;
    let preference = EmailPreference::parse(&form.email).ok_or_else(|| {
        PageError::bad_request(
            lang,
            "choix inconnu (never, immediate, daily) / unknown choice (never, immediate, daily)",
        )
    })?;
    state
        .db
        .set_email_preference(&user.session.user_id, preference)
        .await
        .map_err(|e| PageError::from_db(e, lang))?;
    Err(PageError::redirect("/notifications".into(), lang))
}
