//! Who is visiting a portal page, and the checks every page and form shares: the cookie session
//! ([`Visitor`], [`SignedIn`]), the redirects a session may owe (a forced password change, a new
//! charter), and CSRF on every form ([`CsrfForm`]): against the session's token when signed in,
//! against the `preau_csrf` cookie (double submit) before; behind https both cookies carry the
//! `__Host-` prefix (`auth::client::host_cookie_name`).

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::error::PageError;
use super::i18n::{Lang, Tr};
use crate::api::{AppState, SESSION_COOKIE};
use crate::auth::client::{ClientInfo, host_cookie_value};
use crate::auth::token::{Token, constant_time_eq};
use crate::db::auth::SessionRow;

/// The pre-session CSRF cookie (login, first connection, language before signing in).
pub const CSRF_COOKIE: &str = "preau_csrf";
/// Largest form body the portal reads.
pub const MAX_FORM_BYTES: usize = 64 * 1024;

/// The visitor of a page: language, cookie session if any, the pre-session CSRF cookie.
#[derive(Debug, Clone)]
pub struct Visitor {
    pub tr: Tr,
    pub client: ClientInfo,
    pub session: Option<SessionRow>,
    pub pre_csrf: Option<String>,
    /// The request's path and query, for redirects back.
    pub path: String,
}

impl FromRequestParts<AppState> for Visitor {
    type Rejection = PageError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if let Some(v) = parts.extensions.get::<Visitor>() {
            return Ok(v.clone());
        }
        let tr = Tr {
            lang: Lang::of_request(&parts.headers),
        };
        let client = ClientInfo::from_request_parts(parts, state)
            .await
            .map_err(|_| PageError::internal(tr.lang))?;
        let mut session = None;
        if let Some(token) =
            host_cookie_value(&parts.headers, SESSION_COOKIE, client.https).and_then(Token::parse)
        {
            let digest = token.digest();
            if let Some(row) = state
                .db
                .session(&digest)
                .await
                .map_err(|e| PageError::from_db(e, tr.lang))?
            {
                let now = state.clock.now_ms();
                let alive = row.kind == "cookie"
                    && row.user_state == "active"
                    && row.is_alive(now, state.config.sessions.idle_ms());
                if alive {
                    if row.needs_touch(now) {
                        state
                            .db
                            .touch_session(&digest, now)
                            .await
                            .map_err(|e| PageError::from_db(e, tr.lang))?;
                    }
                    session = Some(row);
                } else if row.kind == "cookie" {
                    let _ = state.db.delete_session(&row.user_id, &digest).await;
                }
            }
        }
        let pre_csrf = host_cookie_value(&parts.headers, CSRF_COOKIE, client.https)
            .filter(|v| Token::parse(v).is_some())
            .map(str::to_string);
        let visitor = Visitor {
            tr,
            client,
            session,
            pre_csrf,
            path: path_without_secrets(&parts.uri),
        };
        parts.extensions.insert(visitor.clone());
        Ok(visitor)
    }
}

/// A signed-in visitor who owes nothing: pages send others to the login page, to the password
/// change (after a reset by a staff member) or to the new charter.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub visitor: Visitor,
    pub session: SessionRow,
}

/// A signed-in visitor, whatever they owe (for the charter, the password change, logout).
#[derive(Debug, Clone)]
pub struct SignedInAny {
    pub visitor: Visitor,
    pub session: SessionRow,
}

/// Where a visitor without a session is sent.
pub fn login_redirect(path: &str) -> String {
    if path == "/" {
        "/connexion".to_string()
    } else {
        format!("/connexion?suivant={}", url_encode(path))
    }
}

impl FromRequestParts<AppState> for SignedInAny {
    type Rejection = PageError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let visitor = Visitor::from_request_parts(parts, state).await?;
        match visitor.session.clone() {
            Some(session) => Ok(SignedInAny { visitor, session }),
            None => Err(PageError::redirect(
                login_redirect(&visitor.path),
                visitor.tr.lang,
            )),
        }
    }
}

impl FromRequestParts<AppState> for SignedIn {
    type Rejection = PageError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let SignedInAny { visitor, session } =
            SignedInAny::from_request_parts(parts, state).await?;
        if session.must_change_password {
            return Err(PageError::redirect(
                "/mon-compte#mot-de-passe".into(),
                visitor.tr.lang,
            ));
        }
        if session.charter_outdated() {
            return Err(PageError::redirect("/charte".into(), visitor.tr.lang));
        }
        Ok(SignedIn { visitor, session })
    }
}

#[derive(Deserialize)]
struct CsrfField {
    #[serde(rename = "_csrf", default)]
    csrf: String,
}

/// A form body of type `T`, accepted only with the right `_csrf` field.
#[derive(Debug)]
pub struct CsrfForm<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for CsrfForm<T> {
    type Rejection = PageError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = req.into_parts();
        let visitor = Visitor::from_request_parts(&mut parts, state).await?;
        let lang = visitor.tr.lang;
        let bytes = axum::body::to_bytes(body, MAX_FORM_BYTES)
            .await
            .map_err(|_| {
                PageError::bad_request(lang, "formulaire trop volumineux / form too large")
            })?;
        let sent: CsrfField =
            serde_urlencoded::from_bytes(&bytes).map_err(|_| PageError::csrf(lang))?;
        let expected = visitor
            .session
            .as_ref()
            .map(|s| s.csrf_token.clone())
            .or(visitor.pre_csrf.clone())
            .ok_or_else(|| PageError::csrf(lang))?;
        if !constant_time_eq(sent.csrf.as_bytes(), expected.as_bytes()) {
            return Err(PageError::csrf(lang));
        }
        let form = serde_urlencoded::from_bytes(&bytes).map_err(|e| {
            PageError::bad_request(
                lang,
                &format!("formulaire illisible / unreadable form: {e}"),
            )
        })?;
        Ok(CsrfForm(form))
    }
}

/// The request's path and query for "come back here" links, without a feed token (`jeton`),
/// which must never be copied into a page or a redirect.
fn path_without_secrets(uri: &axum::http::Uri) -> String {
    let path = uri.path();
    match uri.query() {
        None => path.to_string(),
        Some(q) => {
            let kept: Vec<&str> = q
                .split('&')
                .filter(|pair| pair.split('=').next() != Some(crate::apps::tokens::PARAM))
                .collect();
            if kept.is_empty() {
                path.to_string()
            } else {
                format!("{path}?{}", kept.join("&"))
            }
        }
    }
}

/// Percent-encodes a path for a query parameter.
pub fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                out.push(char::from(b))
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// A local path to go back to after a form, or `/`: never another site (`//evil`, `https://…`).
pub fn safe_return(path: &str) -> String {
    let ok = path.starts_with('/')
        && !path.starts_with("//")
        && !path.contains('\\')
        && !path.chars().any(char::is_control);
    if ok {
        path.to_string()
    } else {
        "/".to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn returns_stay_on_this_site() {
        assert_eq!(safe_return("/mon-compte"), "/mon-compte");
        assert_eq!(safe_return("/e/0750652B/apps?x=1"), "/e/0750652B/apps?x=1");
        assert_eq!(safe_return("//evil.example/x"), "/");
        assert_eq!(safe_return("https://evil.example"), "/");
        assert_eq!(safe_return("/\\evil.example"), "/");
        assert_eq!(safe_return(""), "/");
    }

    #[test]
    fn feed_tokens_never_reach_return_paths() {
        let uri: axum::http::Uri = "/e/0750652B/apps/a/b/flux.ics?x=1&jeton=abc&y=2"
            .parse()
            .expect("uri");
        assert_eq!(
            path_without_secrets(&uri),
            "/e/0750652B/apps/a/b/flux.ics?x=1&y=2"
        );
        let uri: axum::http::Uri = "/a?jeton=abc".parse().expect("uri");
        assert_eq!(path_without_secrets(&uri), "/a");
    }

    #[test]
    fn login_redirect_keeps_the_page() {
        assert_eq!(login_redirect("/"), "/connexion");
        assert_eq!(
            login_redirect("/mon-compte?x=1&y"),
            "/connexion?suivant=/mon-compte%3Fx%3D1%26y"
        );
    }
}
