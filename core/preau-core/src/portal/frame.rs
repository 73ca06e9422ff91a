//! The frame every page sits in (`templates/base.html`): language, title, navigation, the
//! establishment switcher, the language switch, the CSRF token of its forms, and rendering.

use askama::Template;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::error::PageError;
use super::i18n::Tr;
use super::session::{CSRF_COOKIE, Visitor};
use crate::access::Access;
use crate::api::AppState;
use crate::auth::client::host_cookie_name;
use crate::auth::token::Token;
use crate::db::auth::SessionRow;
use crate::rights::reset::reset_scope;

/// What `base.html` shows around a page.
#[derive(Debug, Clone)]
pub struct Frame {
    pub tr: Tr,
    pub lang: &'static str,
    pub title: String,
    /// Which navigation entry is current (`home`, `account`, or empty).
    pub section: &'static str,
    /// The token every form of the page carries in `_csrf` (empty: no forms).
    pub csrf: String,
    /// The page's path, for "come back here" fields.
    pub path: String,
    pub user: Option<FrameUser>,
    pub notice: Option<String>,
    /// Whether the navigation shows the accounts page (the person may reset accounts here).
    pub accounts_link: bool,
    /// The services console of the current establishment, for its head and admins.
    pub console_link: Option<String>,
    /// Unread notifications, for the bell.
    pub unread: i64,
}

/// The signed-in person, as the header shows them.
#[derive(Debug, Clone)]
pub struct FrameUser {
    pub display_name: String,
    pub establishments: Vec<EstablishmentChoice>,
}

/// An establishment the person can switch to.
#[derive(Debug, Clone)]
pub struct EstablishmentChoice {
    pub uai: String,
    pub name: String,
    pub current: bool,
}

/// A rendered page and the cookies it sets.
pub struct Rendered {
    pub status: StatusCode,
    pub html: String,
    pub cookies: Vec<String>,
}

impl IntoResponse for Rendered {
    fn into_response(self) -> Response {
        let mut response = (
            self.status,
            [
                (header::CONTENT_TYPE, "text/html; charset=utf-8"),
                (header::CACHE_CONTROL, "no-store"),
            ],
            self.html,
        )
            .into_response();
        for c in self.cookies {
            if let Ok(v) = c.parse() {
                response.headers_mut().append(header::SET_COOKIE, v);
            }
        }
        response
    }
}

/// Renders a page template.
pub fn render<T: Template>(
    page: &T,
    status: StatusCode,
    cookies: Vec<String>,
    tr: Tr,
) -> Result<Rendered, PageError> {
    let html = page.render().map_err(|e| {
        tracing::error!(error = %e, "template failed");
        PageError::internal(tr.lang)
    })?;
    Ok(Rendered {
        status,
        html,
        cookies,
    })
}

/// A `Set-Cookie` value: `Path=/`, `HttpOnly`, `Secure` behind https.
pub fn cookie(
    name: &str,
    value: &str,
    max_age: Option<i64>,
    same_site: &str,
    https: bool,
) -> String {
    let mut c = format!("{name}={value}; Path=/; HttpOnly; SameSite={same_site}");
    if let Some(age) = max_age {
        c.push_str(&format!("; Max-Age={age}"));
    }
    if https {
        c.push_str("; Secure");
    }
    c
}

/// The `Set-Cookie` value of the session or CSRF cookie `base`: [`cookie`] under the name the
/// connection gives it (`__Host-{base}` behind https, `auth::client::host_cookie_name`).
pub fn host_cookie(
    base: &str,
    value: &str,
    max_age: Option<i64>,
    same_site: &str,
    https: bool,
) -> String {
    cookie(
        &host_cookie_name(base, https),
        value,
        max_age,
        same_site,
        https,
    )
}

impl Frame {
    /// A frame without a person nor forms (error pages).
    pub fn bare(tr: Tr, title: &str) -> Frame {
        Frame {
            tr,
            lang: tr.lang.as_str(),
            title: title.to_string(),
            section: "",
            csrf: String::new(),
            path: "/".into(),
            user: None,
            notice: None,
            accounts_link: false,
            console_link: None,
            unread: 0,
        }
    }

    /// The frame of a page seen before signing in: its forms carry the pre-session CSRF token,
    /// created (with its cookie, returned) on the first visit.
    pub fn anonymous(visitor: &Visitor, title: &str) -> (Frame, Vec<String>) {
        let (csrf, cookies) = match &visitor.pre_csrf {
            Some(t) => (t.clone(), vec![]),
            None => {
                let t = Token::generate().expose().to_string();
                let c = host_cookie(CSRF_COOKIE, &t, None, "Strict", visitor.client.https);
                (t, vec![c])
            }
        };
        let frame = Frame {
            csrf,
            path: visitor.path.clone(),
            ..Frame::bare(visitor.tr, title)
        };
        (frame, cookies)
    }

    /// The frame of a signed-in person's page.
    pub async fn signed_in(
        state: &AppState,
        visitor: &Visitor,
        session: &SessionRow,
        title: &str,
        section: &'static str,
    ) -> Result<Frame, PageError> {
        let access = Access::load(&state.db, &session.user_id)
            .await
            .map_err(|e| PageError::from_db(e, visitor.tr.lang))?;
        Frame::signed_in_with(state, visitor, session, &access, title, section).await
    }

    /// The same, for a page that has loaded the person's [`Access`] already.
    pub async fn signed_in_with(
        state: &AppState,
        visitor: &Visitor,
        session: &SessionRow,
        access: &Access,
        title: &str,
        section: &'static str,
    ) -> Result<Frame, PageError> {
        let lang = visitor.tr.lang;
        let db_err = |e| PageError::from_db(e, lang);
        let mut establishments: Vec<EstablishmentChoice> = Vec::new();
        for a in &access.attachments {
            if !establishments.iter().any(|e| e.uai == a.uai.as_str()) {
                establishments.push(EstablishmentChoice {
                    uai: a.uai.to_string(),
                    name: a.establishment_name.clone(),
                    current: session.establishment_id.as_deref()
                        == Some(a.establishment_id.as_str()),
                });
            }
        }
        let accounts_link = match &session.establishment_id {
            Some(e) => reset_scope(
                &state.db,
                access,
                &session.user_id,
                e,
                &crate::calendar::school_year_id(state.clock.today()),
            )
            .await
            .map_err(db_err)?
            .is_some(),
            None => false,
        };
        let console_link = session.establishment_id.as_deref().and_then(|e| {
            let uai = access
                .attachments
                .iter()
                .find(|a| a.establishment_id == e)
                .map(|a| a.uai.to_string())
                .or_else(|| {
                    access
                        .roles
                        .iter()
                        .find(|r| r.establishment_id.as_deref() == Some(e))
                        .and_then(|r| r.uai.as_ref().map(ToString::to_string))
                })?;
            super::console::may_manage(access, e).then(|| format!("/e/{uai}/services"))
        });
        Ok(Frame {
            unread: session.unread_notifications,
            console_link,
            accounts_link,
            csrf: session.csrf_token.clone(),
            path: visitor.path.clone(),
            section,
            user: Some(FrameUser {
                display_name: format!("{} {}", session.first_name, session.last_name),
                establishments,
            }),
            ..Frame::bare(visitor.tr, title)
        })
    }
}

/// How a role reads in the portal: "Administrateur ENT (0750652B)".
pub fn role_label(tr: &Tr, role: &crate::db::identity::RoleView) -> String {
    let label = tr.t(&format!("role-{}", role.role.as_str()));
    match &role.uai {
        Some(uai) => format!("{label} ({uai})"),
        None => label,
    }
}

/// The answer to a successful sign-in: the new session's cookie (HttpOnly, SameSite=Lax, Secure
/// behind https, lasting the session's absolute lifetime) and a redirect to `to`.
pub fn signed_in_redirect(
    state: &AppState,
    visitor: &Visitor,
    token: &Token,
    to: String,
) -> Response {
    let max_age =
        i64::try_from(state.config.sessions.absolute_lifetime.as_secs()).unwrap_or(i64::MAX);
    let set = host_cookie(
        crate::api::SESSION_COOKIE,
        token.expose(),
        Some(max_age),
        "Lax",
        visitor.client.https,
    );
    (
        StatusCode::SEE_OTHER,
        [(header::LOCATION, to), (header::SET_COOKIE, set)],
    )
        .into_response()
}
