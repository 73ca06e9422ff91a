//! Plugins in the portal: `/e/{uai}/apps/{publisher}/{name}/…` routes a request to the plugin
//! version the establishment runs, after the checks the core owes every request:
//!
//! 1. the establishment exists and runs the plugin (else 404, whoever asks);
//! 2. a route of the manifest matches the path (else 404) and the method (else 405);
//! 3. the route's `auth`: `user` needs a signed-in person (cookie, or bearer for JSON clients)
//!    holding the route's permission in this establishment (else 403) — asked of the grants at
//!    every request, so a grant change takes effect at once; `token` needs a personal feed token
//!    (`tokens.rs`) of someone holding the permission; `public` needs nothing and passes no user;
//! 4. a state change from a cookie session carries the session's CSRF token (`_csrf` field or
//!    `X-CSRF-Token` header); before signing in, the `preau_csrf` double-submit cookie
//!    (`__Host-preau_csrf` behind https);
//! 5. the body is read within limits (`body.rs`), files stored in the plugin's file store;
//! 6. the plugin answers; a view becomes HTML in the portal frame (`render.rs`) or JSON when the
//!    client asks for `application/json`; raw answers and stored files are served as downloads.
//!
//! `/apps/{publisher}/{name}/…` sends a signed-in person to the same path in their session's
//! establishment. Dashboard widgets are in `widgets.rs`.

pub mod body;
pub mod render;
pub mod tokens;
pub mod widgets;

use std::sync::Arc;

use askama::Template;
use axum::Router;
use axum::body::Body;
use axum::extract::{FromRequestParts, Path, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use preau_host::{CallContext, CallError, Language, RawKind, Response as PluginAnswer};
use preau_package::manifest::{Route, RouteAuth};

use crate::access::Access;
use crate::api::{ApiError, AppState, CSRF_HEADER, CurrentUser};
use crate::identity::Uai;
use crate::plugins::host::LoadedPlugin;
use crate::portal::error::PageError;
use crate::portal::frame::{Frame, render};
use crate::portal::i18n::{Lang, Tr};
use crate::portal::session::{SignedIn, Visitor};
use crate::rights::authorize_named;
use crate::store::{PluginId, Scope};

/// The plugin routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/e/{uai}/apps/{publisher}/{name}", any(dispatch_root))
        .route(
            "/e/{uai}/apps/{publisher}/{name}/_flux",
            get(tokens::page).post(tokens::change),
        )
        .route("/e/{uai}/apps/{publisher}/{name}/{*rest}", any(dispatch))
        .route("/apps/{publisher}/{name}", get(to_session_establishment))
        .route(
            "/apps/{publisher}/{name}/{*rest}",
            get(to_session_establishment),
        )
}

#[derive(Template)]
#[template(path = "app.html")]
struct AppPage {
    frame: Frame,
    service: String,
    base: String,
    content: String,
    /// The personal feed addresses page, when the service has token routes.
    feeds_href: Option<String>,
}

/// Who calls a plugin route.
struct Caller {
    user_id: Option<String>,
    /// The token a state change must carry (cookie session or pre-session cookie); `None` for
    /// bearer sessions and token routes, which no browser sends on its own.
    csrf: Option<String>,
    /// For the portal frame: the cookie session, when there is one.
    signed_in: Option<SignedIn>,
    /// What the person holds, loaded for the rights check (the frame reuses it).
    access: Option<Access>,
    visitor: Visitor,
}

/// A refusal, in the form the client reads: an error page, or the API's JSON error.
struct Refusal {
    status: StatusCode,
    json: bool,
    lang: Lang,
    code: &'static str,
    fr: String,
    en: String,
    /// A page's own answer (a redirect to the login page…), served as it is.
    page: Option<PageError>,
}

impl Refusal {
    fn new(
        status: StatusCode,
        json: bool,
        lang: Lang,
        code: &'static str,
        fr: &str,
        en: &str,
    ) -> Self {
        Refusal {
            status,
            json,
            lang,
            code,
            fr: fr.to_owned(),
            en: en.to_owned(),
            page: None,
        }
    }

    fn page(page: PageError, lang: Lang) -> Self {
        Refusal {
            page: Some(page),
            ..Refusal::internal(false, lang)
        }
    }

    fn not_found(json: bool, lang: Lang) -> Self {
        Refusal::new(
            StatusCode::NOT_FOUND,
            json,
            lang,
            "not_found",
            "Cette page n'existe pas.",
            "This page does not exist.",
        )
    }

    fn forbidden(json: bool, lang: Lang) -> Self {
        Refusal::new(
            StatusCode::FORBIDDEN,
            json,
            lang,
            "forbidden",
            "Vous n'avez pas accès à ce service dans cet établissement.",
            "You do not have access to this service in this establishment.",
        )
    }

    fn internal(json: bool, lang: Lang) -> Self {
        Refusal::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            json,
            lang,
            "internal",
            "Une erreur interne est survenue.",
            "An internal error occurred.",
        )
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        if let Some(page) = self.page {
            return page.into_response();
        }
        if self.json {
            return ApiError::new(self.status, self.code, self.fr, self.en).into_response();
        }
        match self.status {
            StatusCode::NOT_FOUND => PageError::not_found(self.lang).into_response(),
            StatusCode::FORBIDDEN if self.code == "forbidden" => {
                PageError::forbidden(self.lang).into_response()
            }
            status => {
                let message = match self.lang {
                    Lang::Fr => self.fr,
                    Lang::En => self.en,
                };
                PageError::service(status, &message, self.lang).into_response()
            }
        }
    }
}

fn from_db(json: bool, lang: Lang) -> impl Fn(crate::db::DbError) -> Refusal {
    move |e| {
        tracing::error!(error = %e, "plugin route: database error");
        Refusal::internal(json, lang)
    }
}

/// Whether the client asked for JSON (`Accept: application/json`, or a bearer token).
fn wants_json(headers: &HeaderMap) -> bool {
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    accept.contains("application/json") || headers.contains_key(header::AUTHORIZATION)
}

async fn dispatch_root(
    State(state): State<AppState>,
    Path((uai, publisher, name)): Path<(String, String, String)>,
    request: Request,
) -> Response {
    serve(state, uai, publisher, name, String::new(), request)
        .await
        .unwrap_or_else(IntoResponse::into_response)
}

async fn dispatch(
    State(state): State<AppState>,
    Path((uai, publisher, name, rest)): Path<(String, String, String, String)>,
    request: Request,
) -> Response {
    serve(state, uai, publisher, name, rest, request)
        .await
        .unwrap_or_else(IntoResponse::into_response)
}

/// The route of the manifest for (`method`, `path`), or whether only the method differs. Among
/// templates the path fits, the most specific wins (literal segments before parameters, from
/// the left), as the SDK's router decides: the permission checked is that of the route the
/// plugin will run.
pub fn find_route<'m>(routes: &'m [Route], method: &str, path: &str) -> Result<&'m Route, bool> {
    let specificity = |template: &str| -> Vec<bool> {
        template
            .split('/')
            .filter(|s| !s.is_empty())
            .map(|s| !(s.starts_with('{') && s.ends_with('}')))
            .collect()
    };
    let Some(best) = routes
        .iter()
        .filter(|r| path_matches(&r.path, path))
        .max_by_key(|r| specificity(&r.path))
    else {
        return Err(false);
    };
    routes
        .iter()
        .filter(|r| r.path == best.path)
        .find(|r| r.methods.iter().any(|m| m == method))
        .ok_or(true)
}

/// Whether `path` fits the template (`/devoirs/{id}`: literal segments, `{param}` any one
/// non-empty segment).
fn path_matches(template: &str, path: &str) -> bool {
    let t: Vec<&str> = template.split('/').filter(|s| !s.is_empty()).collect();
    let p: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    t.len() == p.len()
        && !path.contains("//")
        && t.iter()
            .zip(&p)
            .all(|(t, p)| (t.starts_with('{') && t.ends_with('}')) || t == p)
}

async fn serve(
    state: AppState,
    uai: String,
    publisher: String,
    name: String,
    rest: String,
    request: Request,
) -> Result<Response, Refusal> {
    let (mut parts, body) = request.into_parts();
    let json = wants_json(&parts.headers);
    let lang = Lang::of_request(&parts.headers);
    let db_err = from_db(json, lang);

    // 1. The establishment runs the plugin.
    let plugin_id = format!("{publisher}:{name}");
    let Ok(uai) = uai.parse::<Uai>() else {
        return Err(Refusal::not_found(json, lang));
    };
    if PluginId::parse(&plugin_id).is_err() {
        return Err(Refusal::not_found(json, lang));
    }
    let establishment = state
        .establishments
        .by_uai(&state.db, &uai)
        .await
        .map_err(&db_err)?
        .ok_or_else(|| Refusal::not_found(json, lang))?;
    let loaded = match state.plugins.running(&establishment.id, &plugin_id).await {
        Ok(Some(loaded)) => loaded,
        Ok(None) => return Err(Refusal::not_found(json, lang)),
        Err(e) => {
            tracing::error!(error = %e, plugin = plugin_id, "plugin cannot be loaded");
            return Err(Refusal::new(
                StatusCode::SERVICE_UNAVAILABLE,
                json,
                lang,
                "unavailable",
                "Ce service est momentanément indisponible.",
                "This service is unavailable for the moment.",
            ));
        }
    };

    // 2. A route of the manifest.
    let path = format!("/{rest}");
    let method = parts.method.as_str().to_owned();
    let route = match find_route(&loaded.manifest.routes, &method, &path) {
        Ok(route) => route.clone(),
        Err(false) => return Err(Refusal::not_found(json, lang)),
        Err(true) => {
            return Err(Refusal::new(
                StatusCode::METHOD_NOT_ALLOWED,
                json,
                lang,
                "method_not_allowed",
                "Cette méthode n'est pas acceptée ici.",
                "This method is not allowed here.",
            ));
        }
    };

    // 3. Who calls, and whether they may.
    let caller = caller(
        &state,
        &mut parts,
        &route,
        &plugin_id,
        &establishment.id,
        json,
        lang,
    )
    .await?;
    let lang = caller.visitor.tr.lang;

    // 4 and 5. The body, and its CSRF token.
    let base = format!("/e/{uai}/apps/{publisher}/{name}");
    // The plugin never sees a feed token.
    let query: Vec<(String, String)> = parts
        .uri
        .query()
        .map(|q| serde_urlencoded::from_str::<Vec<(String, String)>>(q).unwrap_or_default())
        .unwrap_or_default()
        .into_iter()
        .filter(|(k, _)| k != tokens::PARAM)
        .collect();
    let scope = Scope::new(
        PluginId::parse(&plugin_id).map_err(|_| Refusal::not_found(json, lang))?,
        establishment.id.clone(),
    );
    let submitted = if parts.method == Method::GET || parts.method == Method::HEAD {
        body::Submitted::default()
    } else {
        let limits = body::BodyLimits::of(&loaded);
        let header_token = parts
            .headers
            .get(CSRF_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        // No file is stored for a form whose token is not proven yet (by the header, or by the
        // `_csrf` field the portal's forms send first).
        let files_need_token = caller.csrf.as_deref().filter(|expected| {
            !header_token
                .as_deref()
                .is_some_and(|sent| body::token_matches(expected, sent))
        });
        let uploader = body::Uploader {
            storage: state.plugins.storage(),
            scope: &scope,
            loaded: &loaded,
            user: caller.user_id.as_deref(),
            files_need_token,
        };
        let read = body::read(&parts.headers, Body::new(body), &limits, &uploader).await;
        let submitted = match read {
            Ok(s) => s,
            Err(e) => {
                tracing::info!(plugin = plugin_id, error = %e, "plugin route: body refused");
                let (fr, en) = e.messages();
                return Err(Refusal::new(e.status(), json, lang, e.code(), &fr, &en));
            }
        };
        if let Some(expected) = &caller.csrf {
            let sent = header_token
                .clone()
                .or_else(|| submitted.csrf.clone())
                .unwrap_or_default();
            if !body::token_matches(expected, &sent) {
                submitted
                    .discard(state.plugins.storage(), &scope, &loaded)
                    .await;
                return Err(Refusal::new(
                    StatusCode::FORBIDDEN,
                    json,
                    lang,
                    "csrf",
                    body::CSRF_MESSAGE.0,
                    body::CSRF_MESSAGE.1,
                ));
            }
        }
        submitted
    };

    // 6. The plugin's answer.
    let request_id = uuid::Uuid::new_v4().simple().to_string();
    let ctx = CallContext::new(
        plugin_id.clone(),
        uai.to_string(),
        caller.user_id.clone(),
        request_id.clone(),
    )
    .with_language(match lang {
        Lang::Fr => Language::Fr,
        Lang::En => Language::En,
    });
    let uploads = submitted.uploads();
    let answer = state
        .plugins
        .handle(
            &loaded,
            ctx,
            preau_host::RouteRequest {
                method,
                path,
                query,
                form: submitted.fields.clone(),
                uploads,
            },
        )
        .await;
    let answer = match answer {
        Ok(a) => a,
        Err(e) => {
            submitted
                .discard(state.plugins.storage(), &scope, &loaded)
                .await;
            return Err(call_refusal(&plugin_id, e, json, lang));
        }
    };
    match answer {
        PluginAnswer::View(view) => {
            if json {
                return Ok((
                    StatusCode::OK,
                    [
                        (header::CONTENT_TYPE, "application/json"),
                        (header::CACHE_CONTROL, "no-store"),
                    ],
                    view,
                )
                    .into_response());
            }
            page(&state, &caller, &loaded, &base, &view).await
        }
        PluginAnswer::Redirect(to) => Ok((
            StatusCode::SEE_OTHER,
            [(header::LOCATION, render::href(&base, &to))],
        )
            .into_response()),
        PluginAnswer::Raw(raw) => {
            let content_type = match raw.kind {
                RawKind::Calendar => "text/calendar; charset=utf-8",
                RawKind::Atom => "application/atom+xml; charset=utf-8",
                RawKind::Csv => "text/csv; charset=utf-8",
            };
            let mut response = (
                StatusCode::OK,
                [
                    (header::CONTENT_TYPE, content_type),
                    (header::CACHE_CONTROL, "no-store"),
                ],
                raw.body,
            )
                .into_response();
            sandbox(response.headers_mut(), raw.filename.as_deref());
            Ok(response)
        }
        PluginAnswer::Download(file) => download(&state, &scope, &loaded, &file, json, lang).await,
    }
}

/// Served files and raw answers can never run anything on the portal's origin: a sandboxing
/// CSP, and an attachment disposition when a name is given.
fn sandbox(headers: &mut HeaderMap, filename: Option<&str>) {
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; sandbox"),
    );
    if let Some(name) = filename
        && let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\""))
    {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
}

/// Streams a file of the plugin's store, always as an attachment.
async fn download(
    state: &AppState,
    scope: &Scope,
    loaded: &LoadedPlugin,
    file: &str,
    json: bool,
    lang: Lang,
) -> Result<Response, Refusal> {
    let files = state.plugins.storage().files(scope, loaded.store_limits);
    let (meta, handle) = files.open(file).await.map_err(|e| match e {
        crate::store::StoreError::NotFound(_) | crate::store::StoreError::Invalid { .. } => {
            Refusal::not_found(json, lang)
        }
        other => {
            tracing::error!(error = %other, "plugin download failed");
            Refusal::internal(json, lang)
        }
    })?;
    let name: String = meta
        .path
        .rsplit('/')
        .next()
        .unwrap_or("fichier")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let stream = tokio_util::io::ReaderStream::new(handle);
    let mut response = Response::new(Body::from_stream(stream));
    let headers = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&meta.content_type) {
        headers.insert(header::CONTENT_TYPE, v);
    }
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(meta.size));
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    sandbox(headers, Some(&name));
    Ok(response)
}

/// A failed call, as the person reads it: the plugin's own failure with its status and message,
/// or a 502/504 naming the request id (the log has the cause).
fn call_refusal(plugin: &str, e: CallError, json: bool, lang: Lang) -> Refusal {
    let id = e.request_id().to_owned();
    match e {
        CallError::Failure {
            status, message, ..
        } => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let fr = format!("{message} (requête {id})");
            let en = format!("{message} (request {id})");
            Refusal::new(status, json, lang, "service_refused", &fr, &en)
        }
        CallError::Deadline { .. } => {
            tracing::warn!(plugin, request_id = id, "plugin ran out of time");
            Refusal::new(
                StatusCode::GATEWAY_TIMEOUT,
                json,
                lang,
                "service_timeout",
                &format!("Le service n'a pas répondu à temps (requête {id})."),
                &format!("The service did not answer in time (request {id})."),
            )
        }
        other => {
            tracing::warn!(plugin, error = %other, "plugin call failed");
            Refusal::new(
                StatusCode::BAD_GATEWAY,
                json,
                lang,
                "service_failed",
                &format!("Le service a rencontré une erreur (requête {id})."),
                &format!("The service ran into an error (request {id})."),
            )
        }
    }
}

/// Finds who calls the route and checks they may.
async fn caller(
    state: &AppState,
    parts: &mut Parts,
    route: &Route,
    plugin_id: &str,
    establishment_id: &str,
    json: bool,
    lang: Lang,
) -> Result<Caller, Refusal> {
    let visitor = Visitor::from_request_parts(parts, state)
        .await
        .map_err(|_| Refusal::internal(json, lang))?;
    let permission = route.permission.as_deref().unwrap_or_default();
    match route.auth {
        RouteAuth::Public => Ok(Caller {
            user_id: None,
            csrf: Some(visitor.pre_csrf.clone().unwrap_or_default()),
            signed_in: None,
            access: None,
            visitor,
        }),
        // A personal feed token (`tokens.rs`): its owner, if they still hold the permission.
        RouteAuth::Token => {
            let user_id = tokens::user_of(state, parts, plugin_id, establishment_id)
                .await
                .map_err(from_db(json, lang))?
                .ok_or_else(|| Refusal::not_found(json, lang))?;
            let access = permitted(
                state,
                &user_id,
                plugin_id,
                establishment_id,
                permission,
                json,
                lang,
            )
            .await?;
            Ok(Caller {
                user_id: Some(user_id),
                csrf: None,
                signed_in: None,
                access: Some(access),
                visitor,
            })
        }
        RouteAuth::User => {
            let bearer = parts.headers.get(header::AUTHORIZATION).is_some();
            if bearer {
                // Bearer sessions: the API's own checks (no CSRF: no browser sends one alone).
                let user = CurrentUser::from_request_parts(parts, state)
                    .await
                    .map_err(|e| Refusal::new(e.status, true, lang, e.code, &e.fr, &e.en))?;
                let access = permitted(
                    state,
                    &user.user_id,
                    plugin_id,
                    establishment_id,
                    permission,
                    json,
                    lang,
                )
                .await?;
                return Ok(Caller {
                    user_id: Some(user.user_id),
                    csrf: None,
                    signed_in: None,
                    access: Some(access),
                    visitor,
                });
            }
            let signed_in = match SignedIn::from_request_parts(parts, state).await {
                Ok(s) => s,
                // To the login page, the password change or the charter, as every page does.
                Err(redirect) if !json => return Err(Refusal::page(redirect, lang)),
                Err(_) => {
                    return Err(Refusal::new(
                        StatusCode::UNAUTHORIZED,
                        true,
                        lang,
                        "unauthenticated",
                        "Authentification requise.",
                        "Authentication required.",
                    ));
                }
            };
            let access = permitted(
                state,
                &signed_in.session.user_id,
                plugin_id,
                establishment_id,
                permission,
                json,
                lang,
            )
            .await?;
            Ok(Caller {
                user_id: Some(signed_in.session.user_id.clone()),
                csrf: Some(signed_in.session.csrf_token.clone()),
                signed_in: Some(signed_in),
                access: Some(access),
                visitor,
            })
        }
    }
}

/// 403 unless the person holds `permission` of the plugin in the establishment; what they hold
/// (the page frame reuses it).
async fn permitted(
    state: &AppState,
    user_id: &str,
    plugin_id: &str,
    establishment_id: &str,
    permission: &str,
    json: bool,
    lang: Lang,
) -> Result<Access, Refusal> {
    let access = Access::load(&state.db, user_id)
        .await
        .map_err(from_db(json, lang))?;
    let ok = authorize_named(&state.db, &access, establishment_id, plugin_id, permission)
        .await
        .map_err(from_db(json, lang))?;
    if ok {
        Ok(access)
    } else {
        Err(Refusal::forbidden(json, lang))
    }
}

/// A view in the portal frame.
async fn page(
    state: &AppState,
    caller: &Caller,
    loaded: &Arc<LoadedPlugin>,
    base: &str,
    view: &str,
) -> Result<Response, Refusal> {
    let lang = caller.visitor.tr.lang;
    let service = match lang {
        Lang::Fr => &loaded.manifest.name.fr,
        Lang::En => &loaded.manifest.name.en,
    };
    let has_feeds = loaded
        .manifest
        .routes
        .iter()
        .any(|r| r.auth == RouteAuth::Token);
    let feeds_href = (has_feeds && caller.signed_in.is_some()).then(|| format!("{base}/_flux"));
    view_page(
        state,
        &caller.visitor,
        caller
            .signed_in
            .as_ref()
            .map(|s| (s, caller.access.as_ref())),
        service,
        base,
        view,
        feeds_href,
    )
    .await
    .map_err(|_| Refusal::internal(false, lang))
}

/// A checked view as a portal page: the frame (signed in — reusing what the person holds when
/// the rights check loaded it —, or anonymous with its pre-session token), the view's title, the service's breadcrumb and the rendered body. Public so that the
/// benchmarks serve the same page natively (`benches/apps.rs`).
pub async fn view_page(
    state: &AppState,
    visitor: &Visitor,
    signed_in: Option<(&SignedIn, Option<&Access>)>,
    service: &str,
    base: &str,
    view: &str,
    feeds_href: Option<String>,
) -> Result<Response, PageError> {
    let tr = visitor.tr;
    let lang = tr.lang;
    let value: serde_json::Value =
        serde_json::from_str(view).map_err(|_| PageError::internal(lang))?;
    let title = render::title(&value).to_owned();
    let (frame, cookies) = match signed_in {
        Some((s, Some(access))) => (
            Frame::signed_in_with(state, &s.visitor, &s.session, access, &title, "apps").await?,
            Vec::new(),
        ),
        Some((s, None)) => (
            Frame::signed_in(state, &s.visitor, &s.session, &title, "apps").await?,
            Vec::new(),
        ),
        None => Frame::anonymous(visitor, &title),
    };
    let content = render::body(
        &value,
        &render::RenderContext {
            base,
            csrf: &frame.csrf,
            lang,
            id_prefix: "",
            title_level: 1,
        },
    );
    let page = AppPage {
        frame,
        service: service.to_owned(),
        base: base.to_owned(),
        content,
        feeds_href,
    };
    Ok(render(&page, StatusCode::OK, cookies, Tr { lang })?.into_response())
}

/// `/apps/{publisher}/{name}/…`: the same page in the session's establishment.
async fn to_session_establishment(
    State(state): State<AppState>,
    user: SignedIn,
    request: Request,
) -> Result<Response, PageError> {
    let lang = user.visitor.tr.lang;
    let access = Access::load(&state.db, &user.session.user_id)
        .await
        .map_err(|e| PageError::from_db(e, lang))?;
    let current = user.session.establishment_id.as_deref();
    let uai = access
        .attachments
        .iter()
        .find(|a| Some(a.establishment_id.as_str()) == current)
        .or_else(|| access.attachments.first())
        .map(|a| a.uai.to_string())
        .ok_or_else(|| PageError::not_found(lang))?;
    let rest = request
        .uri()
        .path_and_query()
        .map_or("", |p| p.as_str())
        .strip_prefix("/apps")
        .unwrap_or_default()
        .to_owned();
    Ok((
        StatusCode::SEE_OTHER,
        [(header::LOCATION, format!("/e/{uai}/apps{rest}"))],
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(path: &str, methods: &[&str]) -> Route {
        Route {
            path: path.into(),
            methods: methods.iter().map(|m| (*m).to_owned()).collect(),
            permission: Some("p".into()),
            auth: RouteAuth::User,
        }
    }

    #[test]
    fn routes_match_by_template_and_method() {
        let routes = vec![
            route("/", &["GET"]),
            route("/devoirs/{id}", &["GET", "POST"]),
            route("/flux.ics", &["GET"]),
        ];
        assert_eq!(
            find_route(&routes, "GET", "/").map(|r| &r.path),
            Ok(&"/".to_owned())
        );
        assert!(find_route(&routes, "POST", "/devoirs/42").is_ok());
        assert_eq!(
            find_route(&routes, "DELETE", "/devoirs/42").err(),
            Some(true)
        );
        assert_eq!(find_route(&routes, "GET", "/devoirs").err(), Some(false));
        assert_eq!(
            find_route(&routes, "GET", "/devoirs/42/x").err(),
            Some(false)
        );
        assert_eq!(
            find_route(&routes, "GET", "/devoirs//42").err(),
            Some(false)
        );
        assert!(find_route(&routes, "GET", "/flux.ics").is_ok());
        // The most specific template wins, whatever the declaration order.
        let mut overlapping = vec![
            route("/{classe}/{eleve}", &["GET"]),
            route("/secret/{eleve}", &["GET"]),
        ];
        overlapping[1].permission = Some("admin".into());
        let chosen = find_route(&overlapping, "GET", "/secret/42").expect("a route");
        assert_eq!(chosen.path, "/secret/{eleve}");
        assert_eq!(
            find_route(&overlapping, "POST", "/secret/42").err(),
            Some(true)
        );
        assert_eq!(
            find_route(&overlapping, "GET", "/4b/42").map(|r| r.path.as_str()),
            Ok("/{classe}/{eleve}")
        );
    }
}
