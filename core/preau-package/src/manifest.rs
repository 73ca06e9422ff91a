//! `plugin.toml`: what a plugin is, needs and offers. `docs/plugin-manifest.md` documents every
//! field; [`Manifest::parse`] reads and checks one, and every refusal names the field
//! (`routes[2].permission`) and the problem, in French then English.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::names::{is_field_name, is_kebab, is_name, is_plugin_id};
use crate::{PackageError, PackageResult};

/// The profiles a permission may be granted to by default (the core's vocabulary).
pub const PROFILES: &[&str] = &[
    "eleve",
    "parent",
    "enseignant",
    "personnel",
    "direction",
    "invite",
];
/// The families every permission belongs to (DESIGN §3 Rights).
pub const FAMILIES: &[&str] = &["consultation", "communication", "publication"];
/// File extensions an asset may have: raster images and PDF only (no SVG, no script).
pub const ASSET_EXTENSIONS: &[&str] = &["png", "jpg", "jpeg", "webp", "gif", "pdf"];

/// A text in French and English.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Text {
    pub fr: String,
    pub en: String,
}

/// The manifest, as read from `plugin.toml`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// `publisher:name`, kebab-case; the publisher is the forge namespace.
    pub id: String,
    pub version: semver::Version,
    /// An SPDX licence expression.
    pub licence: String,
    pub name: Text,
    pub description: Text,
    /// The built component, relative to the plugin's directory (`pack` never builds).
    pub component: String,
    /// The `preau:plugin` versions the component works with, e.g. `^1.0`.
    pub host_api: semver::VersionReq,
    /// Fluent files per language (`fr` is required when any is given).
    #[serde(default)]
    pub translations: BTreeMap<String, String>,
    #[serde(default)]
    pub capabilities: Capabilities,
    #[serde(default)]
    pub limits: LimitOverrides,
    #[serde(default)]
    pub permissions: Vec<PermissionDecl>,
    #[serde(default)]
    pub routes: Vec<Route>,
    #[serde(default)]
    pub collections: Vec<Collection>,
    #[serde(default)]
    pub widgets: Vec<Widget>,
    #[serde(default)]
    pub assets: Vec<String>,
}

/// What the plugin may reach beyond its own data; an establishment approves exactly this.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Capabilities {
    /// Host names the plugin may call over HTTPS (exact names, no wildcard).
    #[serde(default)]
    pub outbound_hosts: BTreeSet<String>,
    /// Files it may keep per establishment, in MiB (0: no files).
    #[serde(default)]
    pub files_quota_mib: u64,
    /// May register CAS services and attributes (connecteurs éditeurs).
    #[serde(default)]
    pub sso: bool,
    /// May declare routes reachable without a session.
    #[serde(default)]
    pub public_routes: bool,
    /// May declare routes reachable with a personal token (feeds, calendars).
    #[serde(default)]
    pub token_routes: bool,
}

/// The limits a manifest asks for; each may only lower the operator's value.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitOverrides {
    pub call_ms: Option<u64>,
    pub widget_ms: Option<u64>,
    pub memory_mib: Option<u64>,
    pub view_kib: Option<u64>,
    pub upload_mib: Option<u64>,
    pub document_kib: Option<u64>,
    pub outbound_timeout_ms: Option<u64>,
}

impl LimitOverrides {
    /// Each limit by its name in `plugin.toml` and `preau.toml`.
    pub fn entries(&self) -> [(&'static str, Option<u64>); 7] {
        [
            ("call_ms", self.call_ms),
            ("widget_ms", self.widget_ms),
            ("memory_mib", self.memory_mib),
            ("view_kib", self.view_kib),
            ("upload_mib", self.upload_mib),
            ("document_kib", self.document_kib),
            ("outbound_timeout_ms", self.outbound_timeout_ms),
        ]
    }
}

/// The effective limits of a plugin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Limits {
    /// Wall time of one call (request, event, export…).
    pub call_ms: u64,
    /// Wall time of one dashboard widget.
    pub widget_ms: u64,
    /// Linear memory of one instance.
    pub memory_mib: u64,
    /// Size of one view (JSON).
    pub view_kib: u64,
    /// Size of one uploaded file.
    pub upload_mib: u64,
    /// Size of one document.
    pub document_kib: u64,
    /// Wall time of one outbound HTTP request.
    pub outbound_timeout_ms: u64,
}

impl Default for Limits {
    /// The defaults of the limits table (`docs/plugin-manifest.md`).
    fn default() -> Self {
        Limits {
            call_ms: 2_000,
            widget_ms: 300,
            memory_mib: 64,
            view_kib: 1_024,
            upload_mib: 10,
            document_kib: 256,
            outbound_timeout_ms: 5_000,
        }
    }
}

impl Limits {
    /// These limits with the operator's settings `set` in place of the values they name (an
    /// operator may raise a limit as well as lower it).
    pub fn with(self, set: &LimitOverrides) -> Limits {
        Limits {
            call_ms: set.call_ms.unwrap_or(self.call_ms),
            widget_ms: set.widget_ms.unwrap_or(self.widget_ms),
            memory_mib: set.memory_mib.unwrap_or(self.memory_mib),
            view_kib: set.view_kib.unwrap_or(self.view_kib),
            upload_mib: set.upload_mib.unwrap_or(self.upload_mib),
            document_kib: set.document_kib.unwrap_or(self.document_kib),
            outbound_timeout_ms: set.outbound_timeout_ms.unwrap_or(self.outbound_timeout_ms),
        }
    }

    /// The operator's values lowered by the manifest's: each effective limit is the smaller.
    pub fn effective(operator: Limits, asked: &LimitOverrides) -> Limits {
        let min = |op: u64, m: Option<u64>| m.map_or(op, |m| m.min(op));
        Limits {
            call_ms: min(operator.call_ms, asked.call_ms),
            widget_ms: min(operator.widget_ms, asked.widget_ms),
            memory_mib: min(operator.memory_mib, asked.memory_mib),
            view_kib: min(operator.view_kib, asked.view_kib),
            upload_mib: min(operator.upload_mib, asked.upload_mib),
            document_kib: min(operator.document_kib, asked.document_kib),
            outbound_timeout_ms: min(operator.outbound_timeout_ms, asked.outbound_timeout_ms),
        }
    }
}

/// A permission the plugin declares; routes and widgets require them by `id`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PermissionDecl {
    /// Lowercase, dots and hyphens: `devoirs.saisir`.
    pub id: String,
    /// `consultation`, `communication` or `publication`.
    pub family: String,
    pub label: Text,
    /// Profiles granted it in an establishment that enables the plugin.
    #[serde(default)]
    pub defaults: Vec<String>,
}

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RouteAuth {
    /// A signed-in user holding the route's permission.
    User,
    /// A personal token (feeds); needs the `token_routes` capability.
    Token,
    /// Anyone; needs the `public_routes` capability.
    Public,
}

/// A page or endpoint under `/e/{uai}/apps/{publisher}/{name}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Route {
    /// `/`, `/devoirs`, `/devoirs/{id}`: literal segments and `{param}` segments.
    pub path: String,
    #[serde(default = "default_methods")]
    pub methods: Vec<String>,
    /// The permission a user needs (required unless `auth = "public"`).
    pub permission: Option<String>,
    pub auth: RouteAuth,
}

fn default_methods() -> Vec<String> {
    vec!["GET".to_owned()]
}

/// A document collection and its indexes (the storage's declaration).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Collection {
    pub name: String,
    #[serde(default)]
    pub indexes: Vec<Index>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Index {
    pub name: String,
    pub fields: Vec<IndexField>,
    #[serde(default)]
    pub unique: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IndexField {
    pub field: String,
    /// `string`, `integer`, `datetime` or `boolean`.
    #[serde(rename = "type")]
    pub kind: String,
    /// `fr` for French alphabetical order (strings only).
    pub collation: Option<String>,
}

/// A dashboard widget.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Widget {
    pub id: String,
    pub title: Text,
    pub permission: String,
}

/// The most of each list a manifest may declare.
pub const MAX_ITEMS: usize = 64;
/// The most indexes per collection (the storage's limit).
pub const MAX_INDEXES: usize = 16;

impl Manifest {
    /// Reads and checks `plugin.toml`.
    pub fn parse(text: &str) -> PackageResult<Manifest> {
        let manifest: Manifest = toml::from_str(text).map_err(|e| {
            let at = e.span().map(|s| {
                let line = text[..s.start.min(text.len())].lines().count().max(1);
                format!(" (ligne / line {line})")
            });
            PackageError::manifest(
                "plugin.toml",
                format!(
                    "illisible / unreadable{}: {}",
                    at.unwrap_or_default(),
                    e.message()
                ),
            )
        })?;
        manifest.check()?;
        Ok(manifest)
    }

    /// The lowest `preau:plugin` 1.x version `host_api` accepts (minors up to 99 are tried).
    pub fn min_host_api(&self) -> Option<semver::Version> {
        (0..100)
            .map(|minor| semver::Version::new(1, minor, 0))
            .find(|v| self.host_api.matches(v))
    }

    /// The publisher part of the id.
    pub fn publisher(&self) -> &str {
        self.id.split_once(':').map_or("", |(p, _)| p)
    }

    /// Every check of `docs/plugin-manifest.md` that needs no other file.
    pub fn check(&self) -> PackageResult<()> {
        let ok = is_plugin_id(&self.id);
        if !ok {
            return Err(err(
                "id",
                format!(
                    "« {} » : attendu « éditeur:nom » en minuscules, chiffres et tirets / \
                     expected 'publisher:name' in lowercase letters, digits and hyphens",
                    self.id
                ),
            ));
        }
        if let Err(e) = spdx::Expression::parse(&self.licence) {
            return Err(err(
                "licence",
                format!(
                    "« {} » n'est pas une expression SPDX / is not an SPDX expression: {e}",
                    self.licence
                ),
            ));
        }
        check_text("name", &self.name, 60)?;
        check_text("description", &self.description, 500)?;
        check_relative("component", &self.component)?;
        if !self.component.ends_with(".wasm") {
            return Err(err(
                "component",
                "un composant se termine par .wasm / a component ends in .wasm",
            ));
        }
        if self.min_host_api().is_none() || self.host_api.matches(&semver::Version::new(2, 0, 0)) {
            return Err(err(
                "host_api",
                format!(
                    "« {} » doit accepter une version 1.x et aucune 2.x (ex. « ^1.0 ») / \
                     must accept a 1.x version and no 2.x (e.g. '^1.0')",
                    self.host_api
                ),
            ));
        }
        for (lang, path) in &self.translations {
            if lang != "fr" && lang != "en" {
                return Err(err(
                    format!("translations.{lang}"),
                    "langues : fr, en / languages: fr, en",
                ));
            }
            check_relative(&format!("translations.{lang}"), path)?;
            if !path.ends_with(".ftl") {
                return Err(err(
                    format!("translations.{lang}"),
                    "un fichier Fluent .ftl / a Fluent .ftl file",
                ));
            }
        }
        if !self.translations.is_empty() && !self.translations.contains_key("fr") {
            return Err(err(
                "translations.fr",
                "le français est requis / French is required",
            ));
        }
        if self.capabilities.outbound_hosts.len() > MAX_ITEMS {
            return Err(err(
                "capabilities.outbound_hosts",
                format!("au plus {MAX_ITEMS} / at most {MAX_ITEMS}"),
            ));
        }
        for host in &self.capabilities.outbound_hosts {
            let top_level_is_numeric = host
                .rsplit('.')
                .next()
                .is_some_and(|l| l.bytes().all(|b| b.is_ascii_digit()));
            let valid = !host.is_empty()
                && !top_level_is_numeric
                && host.len() <= 253
                && host.split('.').count() >= 2
                && host.split('.').all(|l| {
                    !l.is_empty()
                        && l.len() <= 63
                        && l.bytes()
                            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                        && !l.starts_with('-')
                        && !l.ends_with('-')
                });
            if !valid {
                return Err(err(
                    "capabilities.outbound_hosts",
                    format!(
                        "« {host} » : un nom d'hôte complet en minuscules, sans joker ni port / \
                         a full lowercase host name, no wildcard or port"
                    ),
                ));
            }
        }
        for (name, value) in self.limits.entries() {
            if value == Some(0) {
                return Err(err(
                    format!("limits.{name}"),
                    "une limite est positive / a limit is positive",
                ));
            }
        }
        for (what, len) in [
            ("permissions", self.permissions.len()),
            ("routes", self.routes.len()),
            ("collections", self.collections.len()),
            ("widgets", self.widgets.len()),
            ("assets", self.assets.len()),
        ] {
            if len > MAX_ITEMS {
                return Err(err(
                    what,
                    format!("au plus {MAX_ITEMS} / at most {MAX_ITEMS}"),
                ));
            }
        }
        let mut permissions = BTreeSet::new();
        for (n, p) in self.permissions.iter().enumerate() {
            let at = format!("permissions[{n}]");
            let valid = !p.id.is_empty() && p.id.len() <= 64 && p.id.split('.').all(is_kebab);
            if !valid {
                return Err(err(
                    format!("{at}.id"),
                    format!(
                        "« {} » : minuscules, chiffres, tirets et points / lowercase, digits, hyphens and dots",
                        p.id
                    ),
                ));
            }
            if !permissions.insert(p.id.as_str()) {
                return Err(err(
                    format!("{at}.id"),
                    format!("« {} » déclarée deux fois / declared twice", p.id),
                ));
            }
            if !FAMILIES.contains(&p.family.as_str()) {
                return Err(err(
                    format!("{at}.family"),
                    format!(
                        "« {} » : consultation, communication ou publication / consultation, communication or publication",
                        p.family
                    ),
                ));
            }
            check_text(&format!("{at}.label"), &p.label, 120)?;
            if let Some(bad) = p.defaults.iter().find(|d| !PROFILES.contains(&d.as_str())) {
                return Err(err(
                    format!("{at}.defaults"),
                    format!(
                        "profil inconnu / unknown profile « {bad} » ({})",
                        PROFILES.join(", ")
                    ),
                ));
            }
        }
        let needs_permission = |at: String, permission: &str| -> PackageResult<()> {
            if permissions.contains(permission) {
                Ok(())
            } else {
                Err(err(
                    at,
                    format!("permission « {permission} » non déclarée / undeclared permission"),
                ))
            }
        };
        let mut routes = BTreeSet::new();
        for (n, r) in self.routes.iter().enumerate() {
            let at = format!("routes[{n}]");
            check_route_path(&format!("{at}.path"), &r.path)?;
            if r.methods.is_empty() {
                return Err(err(
                    format!("{at}.methods"),
                    "au moins une méthode / at least one method",
                ));
            }
            // Parameters are positions: `/devoirs/{id}` and `/devoirs/{x}` are the same route.
            let shape: String = r
                .path
                .split('/')
                .map(|s| if s.starts_with('{') { "{}" } else { s })
                .collect::<Vec<_>>()
                .join("/");
            for m in &r.methods {
                if !["GET", "POST", "PUT", "PATCH", "DELETE"].contains(&m.as_str()) {
                    return Err(err(
                        format!("{at}.methods"),
                        format!(
                            "« {m} » : GET, POST, PUT, PATCH ou DELETE / GET, POST, PUT, PATCH or DELETE"
                        ),
                    ));
                }
                if !routes.insert((shape.clone(), m.clone())) {
                    return Err(err(
                        at.clone(),
                        format!("{m} {} déclarée deux fois / declared twice", r.path),
                    ));
                }
            }
            match (r.auth, &r.permission) {
                (RouteAuth::Public, None) => {}
                (RouteAuth::Public, Some(_)) => {
                    return Err(err(
                        format!("{at}.permission"),
                        "une route publique n'a pas de permission / a public route has no permission",
                    ));
                }
                (_, None) => {
                    return Err(err(format!("{at}.permission"), "requise / required"));
                }
                (_, Some(p)) => needs_permission(format!("{at}.permission"), p)?,
            }
            if r.auth == RouteAuth::Public && !self.capabilities.public_routes {
                return Err(err(
                    format!("{at}.auth"),
                    "une route publique demande la capacité public_routes / a public route needs the public_routes capability",
                ));
            }
            if r.auth == RouteAuth::Token && !self.capabilities.token_routes {
                return Err(err(
                    format!("{at}.auth"),
                    "une route à jeton demande la capacité token_routes / a token route needs the token_routes capability",
                ));
            }
        }
        let mut collections = BTreeSet::new();
        for (n, c) in self.collections.iter().enumerate() {
            let at = format!("collections[{n}]");
            if !is_name(&c.name) {
                return Err(err(format!("{at}.name"), name_rule(&c.name)));
            }
            if !collections.insert(c.name.as_str()) {
                return Err(err(
                    format!("{at}.name"),
                    format!("« {} » déclarée deux fois / declared twice", c.name),
                ));
            }
            let mut indexes = BTreeSet::new();
            for (i, index) in c.indexes.iter().enumerate() {
                let at = format!("{at}.indexes[{i}]");
                if !is_name(&index.name) {
                    return Err(err(format!("{at}.name"), name_rule(&index.name)));
                }
                if !indexes.insert(index.name.as_str()) {
                    return Err(err(
                        format!("{at}.name"),
                        format!("« {} » déclaré deux fois / declared twice", index.name),
                    ));
                }
                if c.indexes.len() > MAX_INDEXES {
                    return Err(err(
                        format!("collections[{n}].indexes"),
                        format!("au plus {MAX_INDEXES} index / at most {MAX_INDEXES} indexes"),
                    ));
                }
                let mut seen = BTreeSet::new();
                if let Some(dup) = index.fields.iter().find(|f| !seen.insert(f.field.as_str())) {
                    return Err(err(
                        format!("{at}.fields"),
                        format!(
                            "« {} » deux fois dans l'index / twice in the index",
                            dup.field
                        ),
                    ));
                }
                if index.fields.is_empty() || index.fields.len() > 4 {
                    return Err(err(
                        format!("{at}.fields"),
                        "de 1 à 4 champs / 1 to 4 fields",
                    ));
                }
                for (f, field) in index.fields.iter().enumerate() {
                    let at = format!("{at}.fields[{f}]");
                    let valid = is_field_name(&field.field);
                    if !valid {
                        return Err(err(
                            format!("{at}.field"),
                            "lettres, chiffres et _ / letters, digits and _",
                        ));
                    }
                    if !["string", "integer", "datetime", "boolean"].contains(&field.kind.as_str())
                    {
                        return Err(err(
                            format!("{at}.type"),
                            "string, integer, datetime ou boolean / string, integer, datetime or boolean",
                        ));
                    }
                    match field.collation.as_deref() {
                        None => {}
                        Some("fr") if field.kind == "string" => {}
                        Some(_) => {
                            return Err(err(
                                format!("{at}.collation"),
                                "« fr », sur un champ string seulement / 'fr', on a string field only",
                            ));
                        }
                    }
                }
            }
        }
        let mut widgets = BTreeSet::new();
        for (n, w) in self.widgets.iter().enumerate() {
            let at = format!("widgets[{n}]");
            if !is_name(&w.id) {
                return Err(err(format!("{at}.id"), name_rule(&w.id)));
            }
            if !widgets.insert(w.id.as_str()) {
                return Err(err(
                    format!("{at}.id"),
                    format!("« {} » déclaré deux fois / declared twice", w.id),
                ));
            }
            check_text(&format!("{at}.title"), &w.title, 60)?;
            needs_permission(format!("{at}.permission"), &w.permission)?;
        }
        for (n, a) in self.assets.iter().enumerate() {
            let at = format!("assets[{n}]");
            check_relative(&at, a)?;
            let ext = a
                .rsplit_once('.')
                .map(|(_, e)| e.to_ascii_lowercase())
                .unwrap_or_default();
            if !ASSET_EXTENSIONS.contains(&ext.as_str()) {
                return Err(err(
                    at,
                    format!(
                        "images matricielles et PDF seulement / raster images and PDF only ({})",
                        ASSET_EXTENSIONS.join(", ")
                    ),
                ));
            }
        }
        Ok(())
    }

    /// The canonical JSON of what an establishment approves — capabilities and permissions,
    /// sorted — and its SHA-256: an enablement records it, a signature covers it.
    pub fn capabilities_digest(&self) -> String {
        let mut permissions: Vec<serde_json::Value> = self
            .permissions
            .iter()
            .map(|p| {
                let mut defaults = p.defaults.clone();
                defaults.sort();
                defaults.dedup();
                serde_json::json!({"defaults": defaults, "family": p.family, "id": p.id})
            })
            .collect();
        permissions.sort_by(|a, b| a["id"].as_str().cmp(&b["id"].as_str()));
        let c = &self.capabilities;
        // serde_json's map is a BTreeMap: keys come out sorted.
        let canonical = serde_json::json!({
            "capabilities": {
                "files_quota_mib": c.files_quota_mib,
                "outbound_hosts": c.outbound_hosts,
                "public_routes": c.public_routes,
                "sso": c.sso,
                "token_routes": c.token_routes,
            },
            "permissions": permissions,
        });
        crate::sha256_hex(canonical.to_string().as_bytes())
    }
}

/// A refusal of the manifest at `field`.
fn err(field: impl Into<String>, message: impl Into<String>) -> PackageError {
    PackageError::manifest(field, message)
}

fn check_text(field: &str, text: &Text, max_chars: usize) -> PackageResult<()> {
    for (lang, value) in [("fr", &text.fr), ("en", &text.en)] {
        let n = value.trim().chars().count();
        if n == 0 || n > max_chars || value.chars().any(char::is_control) {
            return Err(PackageError::manifest(
                format!("{field}.{lang}"),
                format!(
                    "de 1 à {max_chars} caractères, sans saut de ligne / 1 to {max_chars} characters, no line break"
                ),
            ));
        }
    }
    Ok(())
}

/// A path inside the plugin's directory: relative, `/`-separated, no `.` or `..`, no hidden or
/// empty segment, portable characters.
pub fn check_relative(field: &str, path: &str) -> PackageResult<()> {
    let valid = !path.is_empty()
        && path.len() <= 200
        && path.split('/').all(|s| {
            !s.is_empty()
                && !s.starts_with('.')
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
        });
    if valid {
        Ok(())
    } else {
        Err(PackageError::manifest(
            field,
            format!(
                "« {path} » : un chemin relatif (lettres, chiffres, . _ -), sans « .. » ni segment caché / \
                 a relative path (letters, digits, . _ -), without '..' or hidden segment"
            ),
        ))
    }
}

fn check_route_path(field: &str, path: &str) -> PackageResult<()> {
    let valid = path.starts_with('/')
        && path.len() <= 200
        && (path == "/"
            || path[1..].split('/').all(|s| {
                let param = s.strip_prefix('{').and_then(|s| s.strip_suffix('}'));
                match param {
                    Some(p) => {
                        !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
                    }
                    None => is_kebab(s) || s.split('.').all(is_kebab),
                }
            }));
    if valid {
        Ok(())
    } else {
        Err(PackageError::manifest(
            field,
            format!(
                "« {path} » : « / » puis des segments en minuscules ou {{paramètre}} / \
                 '/' then lowercase segments or {{parameter}}"
            ),
        ))
    }
}

fn name_rule(s: &str) -> String {
    format!(
        "« {s} » : minuscules, chiffres, - et _, commençant par une lettre / \
         lowercase letters, digits, - and _, starting with a letter"
    )
}
