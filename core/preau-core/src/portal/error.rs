//! What a page answers when it cannot show itself: a redirect (to the login page, the charter…),
//! or an error page (403, 404, CSRF, bad form, internal) in the visitor's language.

use askama::Template;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::frame::Frame;
use super::i18n::{Lang, Tr};
use crate::db::DbError;

/// A page's refusal.
#[derive(Debug)]
pub struct PageError {
    kind: Kind,
    lang: Lang,
}

#[derive(Debug)]
enum Kind {
    Redirect(String),
    Forbidden,
    NotFound,
    Csrf,
    BadRequest(String),
    /// A service (plugin) refused or failed: its status and message (already in the
    /// visitor's language).
    Service(StatusCode, String),
    Internal,
}

#[derive(Template)]
#[template(path = "errors.html")]
struct ErrorPage {
    frame: Frame,
    errors: Vec<String>,
    message: String,
}

impl PageError {
    /// 303 to `to`.
    pub fn redirect(to: String, lang: Lang) -> PageError {
        PageError {
            kind: Kind::Redirect(to),
            lang,
        }
    }
    /// 403.
    pub fn forbidden(lang: Lang) -> PageError {
        PageError {
            kind: Kind::Forbidden,
            lang,
        }
    }
    /// 404.
    pub fn not_found(lang: Lang) -> PageError {
        PageError {
            kind: Kind::NotFound,
            lang,
        }
    }
    /// 403 for a form without its anti-forgery token.
    pub fn csrf(lang: Lang) -> PageError {
        PageError {
            kind: Kind::Csrf,
            lang,
        }
    }
    /// 400 with a reason (already bilingual).
    pub fn bad_request(lang: Lang, reason: &str) -> PageError {
        PageError {
            kind: Kind::BadRequest(reason.to_string()),
            lang,
        }
    }
    /// A service's refusal or failure, with its status and message.
    pub fn service(status: StatusCode, message: &str, lang: Lang) -> PageError {
        PageError {
            kind: Kind::Service(status, message.to_string()),
            lang,
        }
    }
    /// 500.
    pub fn internal(lang: Lang) -> PageError {
        PageError {
            kind: Kind::Internal,
            lang,
        }
    }
    /// From a database error: refusals keep their message, failures are logged.
    pub fn from_db(e: DbError, lang: Lang) -> PageError {
        match e {
            DbError::NotFound(_) => PageError::not_found(lang),
            DbError::Invalid(m) | DbError::Conflict(m) => PageError::bad_request(lang, &m),
            other => {
                tracing::error!(error = %other, "page failed");
                PageError::internal(lang)
            }
        }
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let tr = Tr { lang: self.lang };
        let (status, title, message, errors) = match self.kind {
            Kind::Redirect(to) => {
                return (StatusCode::SEE_OTHER, [(header::LOCATION, to)]).into_response();
            }
            Kind::Forbidden => (
                StatusCode::FORBIDDEN,
                "error-forbidden-title",
                tr.t("error-forbidden"),
                vec![],
            ),
            Kind::NotFound => (
                StatusCode::NOT_FOUND,
                "error-not-found-title",
                tr.t("error-not-found"),
                vec![],
            ),
            Kind::Csrf => (
                StatusCode::FORBIDDEN,
                "error-forbidden-title",
                tr.t("error-csrf"),
                vec![],
            ),
            Kind::BadRequest(reason) => (
                StatusCode::BAD_REQUEST,
                "error-internal-title",
                String::new(),
                vec![reason],
            ),
            Kind::Service(status, message) => {
                (status, "error-service-title", String::new(), vec![message])
            }
            Kind::Internal => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "error-internal-title",
                tr.t("error-internal"),
                vec![],
            ),
        };
        let page = ErrorPage {
            frame: Frame::bare(tr, &tr.t(title)),
            errors,
            message,
        };
        match page.render() {
            Ok(html) => (
                status,
                [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
                html,
            )
                .into_response(),
            Err(e) => {
                tracing::error!(error = %e, "error page failed to render");
                (status, message_only(&tr)).into_response()
            }
        }
    }
}

fn message_only(tr: &Tr) -> String {
    tr.t("error-internal")
}
