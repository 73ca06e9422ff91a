//! Routing a request to its handler by method and path, with the manifest's route syntax:
//! `/`, or segments that are literal (`devoirs`, `flux.ics`) or parameters (`{id}`, lowercase
//! letters and `_`), without a trailing `/`. A parameter matches one whole, non-empty segment;
//! its value is the segment as the request carries it.
//!
//! ```ignore
//! Router::new()
//!     .get("/", home)
//!     .get("/devoirs/{id}", show)
//!     .post("/devoirs/{id}", save)
//!     .handle(&req)
//! ```
//!
//! An unknown path is a 404 failure, a known path with another method a 400 failure (the host
//! turns a status other than 400, 403, 404 and 409 into 500, so there is no 405), both French
//! then English. When two templates match (`/devoirs/nouveau` and `/devoirs/{id}`), the one
//! with a literal segment first wins, whatever the order of declaration.

use std::fmt;
use std::str::FromStr;

use crate::{Failure, Request, Response};

/// A route template, parsed: `/devoirs/{id}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    source: String,
    segments: Vec<Segment>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(String),
    Param(String),
}

/// A template outside the manifest's route syntax (the template and the reason).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("modèle de route invalide « {template} » : {reason}")]
pub struct TemplateError {
    /// The template as given.
    pub template: String,
    /// What is wrong, French then English.
    pub reason: String,
}

impl Template {
    /// Parses `template` (at most 200 bytes, the manifest's rule).
    pub fn parse(template: &str) -> Result<Template, TemplateError> {
        let fail = |reason: &str| TemplateError {
            template: template.chars().take(200).collect(),
            reason: reason.to_owned(),
        };
        if template.len() > 200 {
            return Err(fail("plus de 200 octets / more than 200 bytes"));
        }
        let Some(rest) = template.strip_prefix('/') else {
            return Err(fail("commence par « / » / starts with '/'"));
        };
        let mut segments = Vec::new();
        if !rest.is_empty() {
            for part in rest.split('/') {
                if let Some(name) = part.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
                    if name.is_empty() || !name.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
                    {
                        return Err(fail(
                            "un paramètre est en minuscules et « _ » / a parameter is lowercase letters and '_'",
                        ));
                    }
                    if segments.contains(&Segment::Param(name.to_owned())) {
                        return Err(fail("paramètre en double / duplicate parameter"));
                    }
                    segments.push(Segment::Param(name.to_owned()));
                } else if !part.is_empty() && part.split('.').all(is_kebab) {
                    segments.push(Segment::Literal(part.to_owned()));
                } else {
                    return Err(fail(
                        "un segment est en kebab-case (« devoirs », « flux.ics ») ou un paramètre (« {id} ») / a segment is kebab-case ('devoirs', 'flux.ics') or a parameter ('{id}')",
                    ));
                }
            }
        }
        Ok(Template {
            source: template.to_owned(),
            segments,
        })
    }

    /// The template as written.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// The parameters, when `path` (`/devoirs/42`, without query) matches.
    pub fn matches(&self, path: &str) -> Option<Params> {
        let rest = path.strip_prefix('/')?;
        let parts: Vec<&str> = if rest.is_empty() {
            Vec::new()
        } else {
            rest.split('/').collect()
        };
        if parts.len() != self.segments.len() {
            return None;
        }
        let mut params = Params::default();
        for (segment, part) in self.segments.iter().zip(parts) {
            match segment {
                Segment::Literal(l) if l == part => {}
                Segment::Param(name) if !part.is_empty() => {
                    params.pairs.push((name.clone(), part.to_owned()));
                }
                _ => return None,
            }
        }
        Some(params)
    }

    /// Literal segments before parameters: the larger, the more specific.
    fn specificity(&self) -> Vec<bool> {
        self.segments
            .iter()
            .map(|s| matches!(s, Segment::Literal(_)))
            .collect()
    }
}

impl fmt::Display for Template {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

fn is_kebab(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
        && !s.contains("--")
}

/// `path` against `template` (`"/devoirs/{id}"`): its parameters when it matches (`None` also
/// when the template is malformed).
pub fn match_path(template: &str, path: &str) -> Option<Params> {
    Template::parse(template).ok()?.matches(path)
}

/// The parameters of a matched route, by name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params {
    pairs: Vec<(String, String)>,
}

impl Params {
    /// The value of parameter `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The value of parameter `name`, parsed: `params.parse::<u64>("id")?`. A value that does
    /// not parse (or a name the template lacks) is a 404 failure: no such page.
    pub fn parse<T: FromStr>(&self, name: &str) -> Result<T, Failure> {
        self.get(name).and_then(|v| v.parse().ok()).ok_or_else(|| {
            Failure::not_found(
                &format!("page inconnue (paramètre « {name} »)"),
                &format!("unknown page (parameter '{name}')"),
            )
        })
    }

    /// Every (name, value), in the template's order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.pairs.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
}

/// Why no route answers.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RouteError {
    /// No template matches the path.
    #[error("page inconnue « {0} » / unknown page '{0}'")]
    NotFound(String),
    /// Templates match the path, for other methods (listed).
    #[error("méthode {method} non permise (permises : {allowed}) / method {method} not allowed (allowed: {allowed})", allowed = .allowed.join(", "))]
    MethodNotAllowed {
        /// The request's method.
        method: String,
        /// The methods the path answers.
        allowed: Vec<String>,
    },
    /// A template given to the router is malformed (a bug of the plugin).
    #[error("{0} / invalid route template")]
    Template(TemplateError),
}

impl From<RouteError> for Failure {
    /// 404 for an unknown page, 400 for another method (the host has no 405), 500 for a
    /// malformed template.
    fn from(e: RouteError) -> Failure {
        let status = match e {
            RouteError::NotFound(_) => 404,
            RouteError::MethodNotAllowed { .. } => 400,
            RouteError::Template(_) => 500,
        };
        Failure {
            status,
            message: e.to_string(),
        }
    }
}

/// What answers a route: the request and the route's parameters.
pub type Handler<'a> = Box<dyn Fn(&Request, &Params) -> Result<Response, Failure> + 'a>;

struct Route<'a> {
    method: String,
    template: Result<Template, TemplateError>,
    handler: Handler<'a>,
}

/// Routes, each a method, a template and a handler.
#[derive(Default)]
pub struct Router<'a> {
    routes: Vec<Route<'a>>,
}

impl std::fmt::Debug for Router<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.routes.iter().map(|r| {
                let template = match &r.template {
                    Ok(t) => t.as_str().to_owned(),
                    Err(e) => e.template.clone(),
                };
                format!("{} {template}", r.method)
            }))
            .finish()
    }
}

impl<'a> Router<'a> {
    /// No routes yet.
    pub fn new() -> Router<'a> {
        Router { routes: Vec::new() }
    }

    /// Adds a route for `method` (`GET`, `POST`, `PUT`, `PATCH` or `DELETE`). A malformed
    /// template makes every call answer a 500 failure naming it.
    pub fn route(
        mut self,
        method: &str,
        template: &str,
        handler: impl Fn(&Request, &Params) -> Result<Response, Failure> + 'a,
    ) -> Router<'a> {
        self.routes.push(Route {
            method: method.to_ascii_uppercase(),
            template: Template::parse(template),
            handler: Box::new(handler),
        });
        self
    }

    /// Adds a `GET` route.
    pub fn get(
        self,
        template: &str,
        handler: impl Fn(&Request, &Params) -> Result<Response, Failure> + 'a,
    ) -> Router<'a> {
        self.route("GET", template, handler)
    }

    /// Adds a `POST` route.
    pub fn post(
        self,
        template: &str,
        handler: impl Fn(&Request, &Params) -> Result<Response, Failure> + 'a,
    ) -> Router<'a> {
        self.route("POST", template, handler)
    }

    /// Adds a `PUT` route.
    pub fn put(
        self,
        template: &str,
        handler: impl Fn(&Request, &Params) -> Result<Response, Failure> + 'a,
    ) -> Router<'a> {
        self.route("PUT", template, handler)
    }

    /// Adds a `PATCH` route.
    pub fn patch(
        self,
        template: &str,
        handler: impl Fn(&Request, &Params) -> Result<Response, Failure> + 'a,
    ) -> Router<'a> {
        self.route("PATCH", template, handler)
    }

    /// Adds a `DELETE` route.
    pub fn delete(
        self,
        template: &str,
        handler: impl Fn(&Request, &Params) -> Result<Response, Failure> + 'a,
    ) -> Router<'a> {
        self.route("DELETE", template, handler)
    }

    /// The handler for `method` and `path`, and the parameters.
    pub fn resolve(&self, method: &str, path: &str) -> Result<(&Handler<'a>, Params), RouteError> {
        let mut best: Option<(&Route<'a>, Params, Vec<bool>)> = None;
        let mut allowed: Vec<String> = Vec::new();
        for route in &self.routes {
            let template = route
                .template
                .as_ref()
                .map_err(|e| RouteError::Template(e.clone()))?;
            let Some(params) = template.matches(path) else {
                continue;
            };
            if !route.method.eq_ignore_ascii_case(method) {
                if !allowed.contains(&route.method) {
                    allowed.push(route.method.clone());
                }
                continue;
            }
            let specificity = template.specificity();
            if best.as_ref().is_none_or(|(_, _, s)| specificity > *s) {
                best = Some((route, params, specificity));
            }
        }
        match best {
            Some((route, params, _)) => Ok((&route.handler, params)),
            None if allowed.is_empty() => {
                Err(RouteError::NotFound(path.chars().take(200).collect()))
            }
            None => Err(RouteError::MethodNotAllowed {
                method: method.chars().take(16).collect(),
                allowed,
            }),
        }
    }

    /// Answers `req` with the handler of its route, or the routing failure.
    pub fn handle(&self, req: &Request) -> Result<Response, Failure> {
        let (handler, params) = self.resolve(&req.method, &req.path)?;
        handler(req, &params)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(method: &str, path: &str) -> Request {
        Request {
            request_id: "r".into(),
            method: method.into(),
            path: path.into(),
            query: vec![],
            form: vec![],
            user: None,
            establishment: "0751234A".into(),
            language: "fr".into(),
            uploads: vec![],
        }
    }

    #[test]
    fn templates_follow_the_manifest_syntax() {
        for good in [
            "/",
            "/devoirs",
            "/devoirs/{id}",
            "/flux.ics",
            "/a/{classe_id}/b-2",
        ] {
            assert!(Template::parse(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "devoirs",
            "/devoirs/",
            "//",
            "/Devoirs",
            "/{Id}",
            "/{}",
            "/a b",
            "/{id}/{id}",
            "/a--b",
            "/-a",
            "/{id",
        ] {
            assert!(Template::parse(bad).is_err(), "{bad}");
        }
        let long = format!("/{}", "a".repeat(200));
        assert!(Template::parse(&long).is_err());
    }

    #[test]
    fn matching_gives_the_parameters() {
        let params = match_path(
            "/devoirs/{id}/pieces/{piece}",
            "/devoirs/42/pieces/sujet.pdf",
        )
        .expect("matches");
        assert_eq!(params.get("id"), Some("42"));
        assert_eq!(params.get("piece"), Some("sujet.pdf"));
        assert_eq!(params.parse::<u64>("id"), Ok(42));
        assert_eq!(params.parse::<u64>("piece").map_err(|f| f.status), Err(404));
        assert_eq!(params.iter().count(), 2);
        assert!(match_path("/", "/").is_some());
        assert!(match_path("/", "/x").is_none());
        assert!(match_path("/devoirs/{id}", "/devoirs").is_none());
        assert!(match_path("/devoirs/{id}", "/devoirs/").is_none());
        assert!(match_path("/devoirs/{id}", "/devoirs/4/5").is_none());
        assert!(match_path("/devoirs", "devoirs").is_none());
    }

    fn answer(name: &'static str) -> impl Fn(&Request, &Params) -> Result<Response, Failure> {
        move |_, params| {
            let id = params.get("id").unwrap_or("-");
            Ok(Response::Redirect(format!("/{name}/{id}")))
        }
    }

    #[test]
    fn the_router_dispatches_and_fails_in_both_languages() {
        let router = Router::new()
            .get("/devoirs/{id}", answer("voir"))
            .post("/devoirs/{id}", answer("enregistrer"))
            .get("/devoirs/nouveau", answer("nouveau"))
            .get("/", answer("accueil"));
        let go = |method: &str, path: &str| router.handle(&request(method, path));
        assert_eq!(
            go("GET", "/devoirs/4"),
            Ok(Response::Redirect("/voir/4".into()))
        );
        assert_eq!(
            go("post", "/devoirs/4"),
            Ok(Response::Redirect("/enregistrer/4".into()))
        );
        assert_eq!(
            go("GET", "/devoirs/nouveau"),
            Ok(Response::Redirect("/nouveau/-".into()))
        );
        assert_eq!(go("GET", "/"), Ok(Response::Redirect("/accueil/-".into())));
        let unknown = go("GET", "/inconnu").expect_err("404");
        assert_eq!(unknown.status, 404);
        assert_eq!(
            unknown.message,
            "page inconnue « /inconnu » / unknown page '/inconnu'"
        );
        let method = go("DELETE", "/devoirs/4").expect_err("wrong method");
        assert_eq!(method.status, 400);
        assert_eq!(
            method.message,
            "méthode DELETE non permise (permises : GET, POST) / method DELETE not allowed (allowed: GET, POST)"
        );
    }

    #[test]
    fn a_malformed_template_answers_500() {
        let router = Router::new()
            .get("/", answer("a"))
            .get("/Mauvais", answer("b"));
        let failure = router.handle(&request("GET", "/")).expect_err("500");
        assert_eq!(failure.status, 500);
        assert!(failure.message.contains("/Mauvais"), "{}", failure.message);
        assert_eq!(format!("{router:?}"), r#"["GET /", "GET /Mauvais"]"#);
    }
}
