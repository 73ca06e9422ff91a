//! Personal feed tokens for a plugin's `auth = "token"` routes (an iCal feed a phone's calendar
//! fetches without a session): `GET /e/{uai}/apps/{publisher}/{name}/_flux` lists the token
//! routes the person may use and whether they have an address; `POST …/_flux` creates one
//! (shown once: only its digest is kept; a new one revokes the previous) or revokes it. A token
//! route is served only with a valid token (`?jeton=`), for its owner, while the owner still
//! holds the route's permission — and only while the running version declares token routes,
//! which the establishment approved with its capabilities. The plugin never sees the token.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use preau_package::manifest::RouteAuth;
use serde::Deserialize;

use crate::access::Access;
use crate::api::AppState;
use crate::auth::token::Token;
use crate::db::DbResult;
use crate::identity::Uai;
use crate::portal::error::PageError;
use crate::portal::frame::{Frame, render};
use crate::portal::session::{CsrfForm, SignedIn};
use crate::rights::authorize_named;

/// The query parameter carrying the token.
pub const PARAM: &str = "jeton";

/// The owner of the token the request carries, if it is valid for this plugin here.
pub async fn user_of(
    state: &AppState,
    parts: &Parts,
    plugin_id: &str,
    establishment_id: &str,
) -> DbResult<Option<String>> {
    let token = parts.uri.query().and_then(|q| {
        serde_urlencoded::from_str::<Vec<(String, String)>>(q)
            .ok()?
            .into_iter()
            .find(|(k, _)| k == PARAM)
            .and_then(|(_, v)| Token::parse(&v))
    });
    match token {
        Some(t) => {
            state
                .db
                .feed_token_owner(
                    &t.digest(),
                    establishment_id,
                    plugin_id,
                    state.clock.now_ms(),
                )
                .await
        }
        None => Ok(None),
    }
}

#[derive(Template)]
#[template(path = "feed_tokens.html")]
struct TokensPage {
    frame: Frame,
    action: String,
    service: String,
    /// The token routes the person may use: (path, full address when just created).
    feeds: Vec<(String, Option<String>)>,
    created: Option<String>,
}

async fn context(
    state: &AppState,
    user: &SignedIn,
    uai: &str,
    publisher: &str,
    name: &str,
) -> Result<
    (
        String,
        String,
        std::sync::Arc<crate::plugins::host::LoadedPlugin>,
        Vec<String>,
    ),
    PageError,
> {
    let lang = user.visitor.tr.lang;
    let uai: Uai = uai.parse().map_err(|_| PageError::not_found(lang))?;
    let establishment = state
        .establishments
        .by_uai(&state.db, &uai)
        .await
        .map_err(|e| PageError::from_db(e, lang))?
        .ok_or_else(|| PageError::not_found(lang))?;
    let id = format!("{publisher}:{name}");
    let loaded = state
        .plugins
        .running(&establishment.id, &id)
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "feed tokens: plugin cannot be loaded");
            PageError::internal(lang)
        })?
        .ok_or_else(|| PageError::not_found(lang))?;
    let access = Access::load(&state.db, &user.session.user_id)
        .await
        .map_err(|e| PageError::from_db(e, lang))?;
    let mut feeds = Vec::new();
    for route in &loaded.manifest.routes {
        if route.auth != RouteAuth::Token {
            continue;
        }
        let permission = route.permission.as_deref().unwrap_or_default();
        if authorize_named(&state.db, &access, &establishment.id, &id, permission)
            .await
            .map_err(|e| PageError::from_db(e, lang))?
        {
            feeds.push(route.path.clone());
        }
    }
    if feeds.is_empty() {
        return Err(PageError::not_found(lang));
    }
    Ok((establishment.id.clone(), uai.to_string(), loaded, feeds))
}

/// `GET …/_flux`.
pub async fn page(
    State(state): State<AppState>,
    user: SignedIn,
    Path((uai, publisher, name)): Path<(String, String, String)>,
) -> Result<Response, PageError> {
    show(&state, &user, &uai, &publisher, &name, None).await
}

async fn show(
    state: &AppState,
    user: &SignedIn,
    uai: &str,
    publisher: &str,
    name: &str,
    token: Option<Token>,
) -> Result<Response, PageError> {
    let tr = user.visitor.tr;
    let (establishment_id, uai, loaded, feeds) = context(state, user, uai, publisher, name).await?;
    let created = state
        .db
        .feed_token_created(
            &user.session.user_id,
            &establishment_id,
            &loaded.manifest.id,
        )
        .await
        .map_err(|e| PageError::from_db(e, tr.lang))?
        .map(|at| state.clock.format_ms(at, "%d/%m/%Y %H:%M"));
    let base = format!(
        "{}/e/{uai}/apps/{publisher}/{name}",
        state.config.public_base_url()
    );
    let feeds = feeds
        .into_iter()
        .map(|path| {
            let full = token
                .as_ref()
                .map(|t| format!("{base}{path}?{PARAM}={}", t.expose()));
            (path, full)
        })
        .collect();
    let service = match tr.lang {
        crate::portal::i18n::Lang::Fr => loaded.manifest.name.fr.clone(),
        crate::portal::i18n::Lang::En => loaded.manifest.name.en.clone(),
    };
    let frame = Frame::signed_in(
        state,
        &user.visitor,
        &user.session,
        &tr.t("feeds-title"),
        "apps",
    )
    .await?;
    let page = TokensPage {
        frame,
        action: format!("/e/{uai}/apps/{publisher}/{name}/_flux"),
        service,
        feeds,
        created,
    };
    Ok(render(&page, StatusCode::OK, vec![], tr)?.into_response())
}

#[derive(Debug, Deserialize)]
pub struct TokenForm {
    action: String,
}

/// `POST …/_flux`: `action=creer` (a new address, shown once) or `action=revoquer`.
pub async fn change(
    State(state): State<AppState>,
    user: SignedIn,
    Path((uai, publisher, name)): Path<(String, String, String)>,
    CsrfForm(form): CsrfForm<TokenForm>,
) -> Result<Response, PageError> {
    let lang = user.visitor.tr.lang;
    let (establishment_id, _, loaded, _) = context(&state, &user, &uai, &publisher, &name).await?;
    let plugin = &loaded.manifest.id;
    match form.action.as_str() {
        "creer" => {
            let token = Token::generate();
            state
                .db
                .replace_feed_token(
                    &token.digest(),
                    &user.session.user_id,
                    &establishment_id,
                    plugin,
                    state.clock.now_ms(),
                )
                .await
                .map_err(|e| PageError::from_db(e, lang))?;
            show(&state, &user, &uai, &publisher, &name, Some(token)).await
        }
        "revoquer" => {
            state
                .db
                .revoke_feed_token(&user.session.user_id, &establishment_id, plugin)
                .await
                .map_err(|e| PageError::from_db(e, lang))?;
            Err(PageError::redirect(
                format!("/e/{uai}/apps/{publisher}/{name}/_flux"),
                lang,
            ))
        }
        _ => Err(PageError::bad_request(
            lang,
            "action inconnue (creer, revoquer) / unknown action (creer, revoquer)",
        )),
    }
}
