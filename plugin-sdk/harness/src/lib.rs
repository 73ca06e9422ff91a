//! A test harness for Préau plugins: runs a plugin inside the real host, in-process, so that
//! its author tests it with `cargo test`.
//!
//! [`Harness::build`] builds the plugin's crate for `wasm32-wasip2` (release), loads the
//! component into a `preau_host::Runtime`, creates a scratch database (SQLite in a temporary
//! directory, or PostgreSQL when `PREAU_TEST_DATABASE_URL` is set) holding one collège and a
//! few [`People`] (a teacher, two pupils of class 4e B, the first one's parent), applies the
//! manifest's default grants, and serves the plugin the core's own services
//! (`preau_core::plugins::CoreServices`: clock, calendar, directory, rights, documents, files,
//! notifications with the communication rules); the notifications the core accepted are also
//! recorded for the test ([`Harness::notifications`]).
//!
//! Then a test calls the plugin as one of them, like the portal would: the route must be
//! declared in the manifest for the method, and a `user` route needs its permission (through
//! the grants); the answer is the checked view as JSON, or the redirect, raw answer or
//! download.
//!
//! ```ignore
//! use preau_plugin_harness::Harness;
//!
//! #[test]
//! fn a_teacher_writes_homework() {
//!     let h = Harness::build(env!("CARGO_MANIFEST_DIR"), include_str!("../plugin.toml")).unwrap();
//!     let answer = h.teacher().post("/devoirs", &[("titre", "Ex. 4")]).unwrap();
//!     assert_eq!(answer.redirect(), Some("/devoirs"));
//!     let page = h.student().get("/devoirs").unwrap();
//!     assert!(page.texts().iter().any(|t| t.contains("Ex. 4")));
//!     assert_eq!(h.parent().post("/devoirs", &[]).unwrap_err().status(), Some(403));
//! }
//! ```
//!
//! The clock is shifted to [`Options::today`] (Monday 30 November 2026 by default) in
//! `Europe/Paris`; the establishment follows the zone C holidays, classes Monday to Friday.

#![warn(missing_docs)]

mod build;
mod services;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::NaiveDate;
use preau_core::clock::{Clock, ClockOverride};
use preau_core::db::Db;
use preau_core::db::identity::{GroupKind, NewClassGroup, NewUser, Relationship};
use preau_core::identity::Profile;
use preau_core::plugins::CoreServices;
use preau_core::store::spec::StoreSpec;
use preau_core::store::{PluginId, PluginStorage};
use preau_core::testing::TestDb;
use preau_host::{
    CallContext, CallError, CallLimits, EventKind, Grants, HostConfig, Language, NewFile,
    RouteRequest, Runtime, Services,
};
use preau_package::Manifest;
use preau_package::manifest::{Limits, RouteAuth};
use preau_plugin_sdk::routing::Template;
use serde_json::Value;

pub use build::build_component;
pub use preau_host::RawKind;
pub use services::SentNotification;

use services::Recording;

/// Why the harness could not do what was asked, or what the plugin (or the core before it)
/// answered instead of a success.
#[derive(Debug, thiserror::Error)]
pub enum HarnessError {
    /// The plugin's crate did not build for `wasm32-wasip2` (cargo's message).
    #[error("construction du greffon / plugin build: {0}")]
    Build(String),
    /// The manifest is not valid (`docs/plugin-manifest.md`).
    #[error("manifeste / manifest: {0}")]
    Manifest(String),
    /// The runtime could not load the component.
    #[error("chargement / load: {0}")]
    Load(String),
    /// The scratch database or the core's services could not be set up.
    #[error("préparation / setup: {0}")]
    Setup(String),
    /// No route of the manifest answers this method and path: the portal answers 404.
    #[error("aucune route du manifeste pour / no manifest route for {method} {path}")]
    NoRoute {
        /// The method asked.
        method: String,
        /// The path asked.
        path: String,
    },
    /// The route needs a signed-in user holding its permission: the portal answers 403
    /// (or sends to the login page).
    #[error("refusé par le cœur / refused by the core: {0}")]
    Denied(String),
    /// The call itself failed: the plugin's own failure (with its status), a trap, a
    /// deadline, an invalid view…
    #[error(transparent)]
    Call(#[from] CallError),
}

impl HarnessError {
    /// The HTTP status the portal would answer: the plugin's failure status, 404 for an
    /// undeclared route, 403 for a refusal of the core, 500 for a failed call; `None` when the
    /// harness itself failed (build, setup).
    pub fn status(&self) -> Option<u16> {
        match self {
            HarnessError::NoRoute { .. } => Some(404),
            HarnessError::Denied(_) => Some(403),
            HarnessError::Call(CallError::Failure { status, .. }) => Some(*status),
            HarnessError::Call(_) => Some(500),
            _ => None,
        }
    }
}

fn setup_error(e: impl std::fmt::Display) -> HarnessError {
    HarnessError::Setup(e.to_string())
}

/// One of the people of the scratch establishment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    /// The account id (what the plugin sees as `request.user`).
    pub id: String,
    /// The login.
    pub login: String,
    /// `Prénom Nom`.
    pub name: String,
}

/// Who is in the scratch establishment (a Parisian collège).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct People {
    /// The establishment's UAI.
    pub uai: String,
    /// The establishment's id in the core.
    pub establishment_id: String,
    /// Class 4e B (code `4B`) of the current school year: its id, as `directory` gives it.
    pub class_id: String,
    /// Claire Durand, teacher of mathematics (subject `MATHS`) in 4e B.
    pub teacher: Person,
    /// Léa Martin, pupil in 4e B.
    pub student: Person,
    /// Hugo Petit, pupil in 4e B.
    pub other_student: Person,
    /// Sophie Martin, Léa's mother (legal guardian).
    pub parent: Person,
}

/// How the harness is set up.
#[derive(Debug, Clone)]
pub struct Options {
    /// The day the core's clock says it is (the instance's `PREAU_TODAY`).
    pub today: NaiveDate,
    /// Where the plugin is built (`--target-dir`): by default `target/harness` in the
    /// plugin's directory. The precompiled component cache goes there too.
    pub target_dir: Option<PathBuf>,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            today: NaiveDate::from_ymd_opt(2026, 11, 30).unwrap_or_default(),
            target_dir: None,
        }
    }
}

/// What the plugin answered to a request.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    /// A view, as the host checked it (`view/1.x` JSON).
    View(Value),
    /// A redirect to a path inside the plugin.
    Redirect(String),
    /// A raw answer (iCal, Atom, CSV).
    Raw {
        /// Its kind.
        kind: RawKind,
        /// Its text.
        body: String,
        /// The download name, when offered as a download.
        filename: Option<String>,
    },
    /// A file of the plugin's store, by path, streamed as a download.
    Download(String),
}

impl Answer {
    /// The view, if the answer is one.
    pub fn view(&self) -> Option<&Value> {
        match self {
            Answer::View(v) => Some(v),
            _ => None,
        }
    }

    /// The redirect's path, if the answer is one.
    pub fn redirect(&self) -> Option<&str> {
        match self {
            Answer::Redirect(p) => Some(p),
            _ => None,
        }
    }

    /// The page's title, if the answer is a view.
    pub fn title(&self) -> Option<&str> {
        self.view().and_then(|v| v["title"].as_str())
    }

    /// The texts of the view (see [`texts`]); empty for another answer.
    pub fn texts(&self) -> Vec<String> {
        self.view().map(texts).unwrap_or_default()
    }
}

/// Every string a person reads in `view`: titles, texts, labels, captions, table cells,
/// field values, help and errors (not paths, kinds or field names), node after node. Handy for
/// `assert!(texts(&v).iter().any(|t| t.contains("Ex. 4")))`.
pub fn texts(view: &Value) -> Vec<String> {
    /// The keys read, in the order they are read within one node.
    const READ: &[&str] = &[
        "title", "text", "html", "label", "caption", "columns", "rows", "value", "help", "error",
        "body", "items", "link", "fields", "options", "events", "submit",
    ];
    fn walk(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::String(s) => out.push(s.clone()),
            Value::Array(items) => items.iter().for_each(|i| walk(i, out)),
            Value::Object(o) => {
                for key in READ {
                    if let Some(value) = o.get(*key) {
                        walk(value, out);
                    }
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(view, &mut out);
    out
}

/// A file a test sends with a form, as the browser would (the harness stores it first, as the
/// core does, under `uploads/…`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileUpload {
    /// The form field.
    pub field: String,
    /// The file's name.
    pub filename: String,
    /// Its content type.
    pub content_type: String,
    /// Its bytes.
    pub content: Vec<u8>,
}

/// A plugin running in a real host on a scratch database.
pub struct Harness {
    plugin: preau_host::Plugin,
    runtime: Runtime,
    services: Arc<Recording>,
    manifest: Manifest,
    grants: Arc<Grants>,
    limits: CallLimits,
    people: People,
    calls: AtomicU64,
    db: Option<TestDb>,
    _data: tempfile::TempDir,
    rt: tokio::runtime::Runtime,
}

impl std::fmt::Debug for Harness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Harness")
            .field("plugin", &self.manifest.id)
            .field("uai", &self.people.uai)
            .finish()
    }
}

impl Drop for Harness {
    /// Closes the database inside the harness's runtime.
    fn drop(&mut self) {
        let _inside = self.rt.enter();
        drop(self.db.take());
    }
}

impl Harness {
    /// Builds the plugin crate in `plugin_dir` for `wasm32-wasip2` and runs it with
    /// `manifest_toml` (its `plugin.toml`), with the default [`Options`].
    pub fn build(
        plugin_dir: impl AsRef<Path>,
        manifest_toml: &str,
    ) -> Result<Harness, HarnessError> {
        Harness::build_with(plugin_dir, manifest_toml, Options::default())
    }

    /// The same, with `options`.
    pub fn build_with(
        plugin_dir: impl AsRef<Path>,
        manifest_toml: &str,
        options: Options,
    ) -> Result<Harness, HarnessError> {
        let dir = plugin_dir.as_ref();
        let target = options
            .target_dir
            .clone()
            .unwrap_or_else(|| dir.join("target/harness"));
        let component = build_component(dir, &target)?;
        Harness::with_component(
            &component,
            manifest_toml,
            Some(target.join("component-cache")),
            options,
        )
    }

    /// Runs an already built component with `manifest_toml`; precompiled components are
    /// cached in `cache_dir` when given.
    pub fn with_component(
        component: &[u8],
        manifest_toml: &str,
        cache_dir: Option<PathBuf>,
        options: Options,
    ) -> Result<Harness, HarnessError> {
        let manifest =
            Manifest::parse(manifest_toml).map_err(|e| HarnessError::Manifest(e.to_string()))?;
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(setup_error)?;
        let data = tempfile::tempdir().map_err(setup_error)?;
        let runtime = Runtime::new(&HostConfig {
            cache_dir,
            max_instances: 8,
            ..HostConfig::default()
        })
        .map_err(|e| HarnessError::Load(e.to_string()))?;
        let plugin = rt
            .block_on(runtime.load(component))
            .map_err(|e| HarnessError::Load(e.to_string()))?;
        let (db, people, core) = rt.block_on(setup(&manifest, options.today, data.path()))?;
        let limits = Limits::effective(Limits::default(), &manifest.limits);
        let grants = Grants {
            outbound_hosts: manifest
                .capabilities
                .outbound_hosts
                .iter()
                .cloned()
                .collect(),
            sso: manifest.capabilities.sso,
        };
        Ok(Harness {
            plugin,
            runtime,
            services: Arc::new(Recording::new(core)),
            limits: preau_core::plugins::limits::call_limits(&limits),
            manifest,
            grants: Arc::new(grants),
            people,
            calls: AtomicU64::new(0),
            db: Some(db),
            _data: data,
            rt,
        })
    }

    /// Who is in the establishment.
    pub fn people(&self) -> &People {
        &self.people
    }

    /// The plugin's manifest.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// The scratch database, to add what a test needs (more people, classes…) through the
    /// core's API; run its futures with [`Harness::block_on`].
    pub fn db(&self) -> Option<&Db> {
        self.db.as_ref().map(|t| &t.db)
    }

    /// Runs `future` on the harness's runtime.
    pub fn block_on<F: std::future::Future>(&self, future: F) -> F::Output {
        self.rt.block_on(future)
    }

    /// Calls as the account `id`.
    pub fn as_user(&self, id: &str) -> Caller<'_> {
        Caller {
            harness: self,
            user: Some(id.to_owned()),
            language: Language::Fr,
        }
    }

    /// Calls without a signed-in user (public routes).
    pub fn anonymous(&self) -> Caller<'_> {
        Caller {
            harness: self,
            user: None,
            language: Language::Fr,
        }
    }

    /// Calls as the teacher.
    pub fn teacher(&self) -> Caller<'_> {
        self.as_user(&self.people.teacher.id)
    }

    /// Calls as the first pupil (Léa).
    pub fn student(&self) -> Caller<'_> {
        self.as_user(&self.people.student.id)
    }

    /// Calls as the second pupil (Hugo).
    pub fn other_student(&self) -> Caller<'_> {
        self.as_user(&self.people.other_student.id)
    }

    /// Calls as the first pupil's parent.
    pub fn parent(&self) -> Caller<'_> {
        self.as_user(&self.people.parent.id)
    }

    /// The notifications the plugin sent and the core accepted so far, in order (one refused
    /// by the communication rules is not here, and the plugin got `denied`).
    pub fn notifications(&self) -> Vec<SentNotification> {
        self.services.notifications()
    }

    /// Delivers an event of kind `kind` (`account.created`…, `docs/plugin-api.md`), about
    /// `subject`, with `payload` (a JSON object).
    pub fn event(
        &self,
        kind: &str,
        subject: Option<&str>,
        payload: Value,
    ) -> Result<(), HarnessError> {
        let kind = EventKind::ALL
            .iter()
            .copied()
            .find(|k| k.as_str() == kind)
            .ok_or_else(|| {
                setup_error(format!(
                    "type d'événement inconnu / unknown event kind {kind}"
                ))
            })?;
        let event = preau_host::Event {
            kind,
            subject: subject.map(str::to_owned),
            payload,
        };
        let ctx = self.context(None, Language::Fr);
        Ok(self.rt.block_on(self.plugin.event(
            &self.runtime,
            ctx,
            self.services(),
            self.grants.clone(),
            self.limits,
            &event,
        ))?)
    }

    /// What the plugin exports about `subject` (RGPD), outside its documents and files.
    pub fn export_user_data(&self, subject: &str) -> Result<Value, HarnessError> {
        let ctx = self.context(None, Language::Fr);
        Ok(self.rt.block_on(self.plugin.export_user_data(
            &self.runtime,
            ctx,
            self.services(),
            self.grants.clone(),
            self.limits,
            subject,
        ))?)
    }

    /// Asks the plugin to forget `subject` (RGPD).
    pub fn delete_user_data(&self, subject: &str) -> Result<(), HarnessError> {
        let ctx = self.context(None, Language::Fr);
        Ok(self.rt.block_on(self.plugin.delete_user_data(
            &self.runtime,
            ctx,
            self.services(),
            self.grants.clone(),
            self.limits,
            subject,
        ))?)
    }

    fn services(&self) -> Arc<dyn Services> {
        self.services.clone()
    }

    fn context(&self, user: Option<&str>, language: Language) -> CallContext {
        let n = self.calls.fetch_add(1, Ordering::Relaxed);
        CallContext::new(
            self.manifest.id.clone(),
            self.people.uai.clone(),
            user.map(str::to_owned),
            format!("harness-{n}"),
        )
        .with_language(language)
    }

    /// What the portal checks before calling: a route of the manifest for the method and path,
    /// and for a `user` or `token` route a signed-in user holding its permission.
    fn admit(&self, ctx: &CallContext, method: &str, path: &str) -> Result<(), HarnessError> {
        let route = self
            .manifest
            .routes
            .iter()
            .find(|r| {
                r.methods.iter().any(|m| m.eq_ignore_ascii_case(method))
                    && Template::parse(&r.path).is_ok_and(|t| t.matches(path).is_some())
            })
            .ok_or_else(|| HarnessError::NoRoute {
                method: method.to_owned(),
                path: path.to_owned(),
            })?;
        if route.auth == RouteAuth::Public {
            return Ok(());
        }
        if ctx.user().is_none() {
            return Err(HarnessError::Denied(
                "connexion requise / sign-in required".into(),
            ));
        }
        let permission = route.permission.clone().unwrap_or_default();
        let holds = self
            .rt
            .block_on(self.services.holds(ctx, permission.clone()))
            .map_err(setup_error)?;
        if holds {
            Ok(())
        } else {
            Err(HarnessError::Denied(format!(
                "permission « {permission} » non détenue / permission '{permission}' not held"
            )))
        }
    }
}

/// Calls to the plugin as one person (or nobody), in one language.
#[derive(Debug)]
pub struct Caller<'h> {
    harness: &'h Harness,
    user: Option<String>,
    language: Language,
}

impl Caller<'_> {
    /// Reading in English (French by default).
    pub fn in_english(mut self) -> Self {
        self.language = Language::En;
        self
    }

    /// `GET path` (a query string after `?` is split into the query).
    pub fn get(&self, path: &str) -> Result<Answer, HarnessError> {
        self.request("GET", path, &[], &[])
    }

    /// `POST path` with the form fields `form`.
    pub fn post(&self, path: &str, form: &[(&str, &str)]) -> Result<Answer, HarnessError> {
        self.request("POST", path, form, &[])
    }

    /// `method path` with the form fields `form` and the files `files` (stored first in the
    /// plugin's file store under `uploads/…`, as the core does).
    pub fn request(
        &self,
        method: &str,
        path: &str,
        form: &[(&str, &str)],
        files: &[FileUpload],
    ) -> Result<Answer, HarnessError> {
        let h = self.harness;
        let (path, query) = match path.split_once('?') {
            Some((p, q)) => (
                p,
                preau_host::url::form_urlencoded::parse(q.as_bytes())
                    .into_owned()
                    .collect(),
            ),
            None => (path, Vec::new()),
        };
        let ctx = h.context(self.user.as_deref(), self.language);
        h.admit(&ctx, method, path)?;
        let mut uploads = Vec::new();
        for (n, file) in files.iter().enumerate() {
            let stored = format!("uploads/{}-{n}/{}", ctx.request_id(), file.filename);
            let meta =
                h.rt.block_on(h.services.file_put(
                    &ctx,
                    NewFile {
                        path: stored.clone(),
                        content_type: file.content_type.clone(),
                        subjects: self.user.iter().cloned().collect(),
                        content: file.content.clone(),
                    },
                ))
                .map_err(setup_error)?;
            uploads.push(preau_host::Upload {
                field: file.field.clone(),
                path: stored,
                filename: file.filename.clone(),
                content_type: file.content_type.clone(),
                size: meta.size,
            });
        }
        let request = RouteRequest {
            method: method.to_ascii_uppercase(),
            path: path.to_owned(),
            query,
            form: form
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            uploads,
        };
        let response = h.rt.block_on(h.plugin.handle(
            &h.runtime,
            ctx,
            h.services(),
            h.grants.clone(),
            h.limits,
            request,
        ))?;
        Ok(match response {
            preau_host::Response::View(json) => Answer::View(
                serde_json::from_str(&json)
                    .map_err(|e| HarnessError::Setup(format!("vue / view: {e}")))?,
            ),
            preau_host::Response::Redirect(p) => Answer::Redirect(p),
            preau_host::Response::Raw(raw) => Answer::Raw {
                kind: raw.kind,
                body: raw.body,
                filename: raw.filename,
            },
            preau_host::Response::Download(p) => Answer::Download(p),
        })
    }

    /// Renders the widget `id` of the manifest: its checked view.
    pub fn widget(&self, id: &str) -> Result<Value, HarnessError> {
        let h = self.harness;
        let ctx = h.context(self.user.as_deref(), self.language);
        let json = h.rt.block_on(h.plugin.widget(
            &h.runtime,
            ctx,
            h.services(),
            h.grants.clone(),
            h.limits,
            id,
        ))?;
        serde_json::from_str(&json).map_err(|e| HarnessError::Setup(format!("vue / view: {e}")))
    }
}

/// The scratch database, its establishment and people, the grants, and the core's services.
async fn setup(
    manifest: &Manifest,
    today: NaiveDate,
    data: &Path,
) -> Result<(TestDb, People, Arc<dyn Services>), HarnessError> {
    let t = TestDb::new().await;
    let clock = Clock::new(chrono_tz::Europe::Paris, Some(ClockOverride::Day(today)));
    let mut tx = t.db.begin(clock.now_ms()).await.map_err(setup_error)?;
    let college = preau_core::testing::college(751_234, "Collège Victor-Hugo");
    let establishment = tx
        .create_establishment(&college)
        .await
        .map_err(setup_error)?;
    let est = establishment.id.clone();
    let mut person = async |first: &str, last: &str, profile: Profile| {
        let user = tx
            .create_user(&NewUser {
                first_name: first.into(),
                last_name: last.into(),
                ..NewUser::default()
            })
            .await
            .map_err(setup_error)?;
        tx.attach(&user.id, &est, profile, None, &[])
            .await
            .map_err(setup_error)?;
        Ok::<_, HarnessError>(Person {
            name: user.display_name(),
            id: user.id,
            login: user.login,
        })
    };
    let teacher = person("Claire", "Durand", Profile::Enseignant).await?;
    let student = person("Léa", "Martin", Profile::Eleve).await?;
    let other_student = person("Hugo", "Petit", Profile::Eleve).await?;
    let parent = person("Sophie", "Martin", Profile::Parent).await?;
    let class_id = tx
        .create_class_group(&NewClassGroup {
            establishment_id: est.clone(),
            school_year_id: preau_core::calendar::school_year_id(today),
            kind: GroupKind::Class,
            code: "4B".into(),
            name: "4e B".into(),
            level: Some("4e".into()),
        })
        .await
        .map_err(setup_error)?;
    for pupil in [&student, &other_student] {
        tx.add_member(&class_id, &pupil.id)
            .await
            .map_err(setup_error)?;
    }
    let maths = tx
        .upsert_subject(&est, "MATHS", "Mathématiques")
        .await
        .map_err(setup_error)?;
    tx.assign_teaching(&teacher.id, &class_id, &maths)
        .await
        .map_err(setup_error)?;
    tx.link_family(&parent.id, &student.id, true, Relationship::Mother)
        .await
        .map_err(setup_error)?;
    let mut defaults: Vec<(&str, Vec<Profile>)> = Vec::new();
    for permission in &manifest.permissions {
        let profiles = permission
            .defaults
            .iter()
            .map(|p| p.parse::<Profile>().map_err(setup_error))
            .collect::<Result<Vec<_>, _>>()?;
        defaults.push((&permission.id, profiles));
    }
    let defaults: Vec<(&str, &[Profile])> =
        defaults.iter().map(|(p, d)| (*p, d.as_slice())).collect();
    tx.apply_plugin_default_grants(&est, &manifest.id, &defaults)
        .await
        .map_err(setup_error)?;
    tx.commit().await.map_err(setup_error)?;

    let storage = PluginStorage::new(t.db.clone(), clock, data);
    let plugin_id = PluginId::parse(&manifest.id).map_err(setup_error)?;
    let spec = StoreSpec::from_manifest(manifest).map_err(setup_error)?;
    storage
        .sync_indexes(&plugin_id, &spec)
        .await
        .map_err(setup_error)?;
    let limits = Limits::effective(Limits::default(), &manifest.limits);
    let store_limits = preau_core::plugins::limits::store_limits(&limits, manifest);
    let core: Arc<dyn Services> =
        Arc::new(CoreServices::new(storage, manifest, store_limits).map_err(setup_error)?);
    let people = People {
        uai: establishment.uai.to_string(),
        establishment_id: est,
        class_id,
        teacher,
        student,
        other_student,
        parent,
    };
    Ok((t, people, core))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn texts_are_what_people_read() {
        let view = json!({"schema": "view/1.0", "title": "Devoirs", "body": [
            {"kind": "notice", "level": "info", "text": "2 devoirs"},
            {"kind": "table", "caption": "Notes", "columns": ["Élève", "Note"],
             "rows": [["Léa", {"kind": "link", "label": "15", "href": "/n/1"}]]},
            {"kind": "form", "action": "/a", "method": "post", "submit": "OK", "fields": [
                {"name": "titre", "label": "Titre", "type": "text", "error": "Requis"}]}
        ]});
        assert_eq!(
            texts(&view),
            [
                "Devoirs",
                "2 devoirs",
                "Notes",
                "Élève",
                "Note",
                "Léa",
                "15",
                "Titre",
                "Requis",
                "OK"
            ]
        );
    }

    #[test]
    fn statuses_as_the_portal_would_answer() {
        let no_route = HarnessError::NoRoute {
            method: "GET".into(),
            path: "/x".into(),
        };
        assert_eq!(no_route.status(), Some(404));
        assert_eq!(HarnessError::Denied("x".into()).status(), Some(403));
        let failure = HarnessError::Call(CallError::Failure {
            request_id: "r".into(),
            status: 409,
            message: "m".into(),
        });
        assert_eq!(failure.status(), Some(409));
        assert_eq!(HarnessError::Build("x".into()).status(), None);
    }
}
