//! Plugins in the portal (`preau_core::apps`), through the real router on the demo data with
//! real components installed and enabled by the lifecycle: 404 where a plugin is not enabled,
//! 403 without the route's permission, a grant change obeyed at once, CSRF on plugin forms,
//! bearer access to JSON views, uploads stored in the plugin's files, views rendered escaped,
//! public routes only once approved, and dashboard widgets isolated from a trapping plugin.

use std::path::Path;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use preau_core::api::AppState;
use preau_core::clock::{Clock, ClockOverride};
use preau_core::config::Config;
use preau_core::identity::{Profile, Uai};
use preau_core::plugins::Lifecycle;
use preau_core::server;
use preau_core::testing::TestDb;
use tower::ServiceExt;

use crate::plugins;

const PASSWORD: &str = "Marelle-42!";

/// A manifest for a test component: `extra` holds capabilities and the rest.
fn manifest(id: &str, version: &str, wasm: &str, capabilities: &str, extra: &str) -> String {
    format!(
        r#"id = "{id}"
version = "{version}"
licence = "MIT"
component = "{wasm}"
host_api = "^1.0"
[name]
fr = "Service {id}"
en = "Service {id}"
[description]
fr = "Un service d'essai."
en = "A test service."
[capabilities]
{capabilities}
{extra}"#
    )
}

const NOTES: &str = r#"
[limits]
upload_mib = 1
[[permissions]]
id = "notes.lire"
family = "consultation"
label = { fr = "Lire les notes", en = "Read notes" }
defaults = ["eleve", "enseignant"]
[[permissions]]
id = "notes.ecrire"
family = "publication"
label = { fr = "Écrire des notes", en = "Write notes" }
defaults = ["enseignant"]
[[routes]]
path = "/notes"
permission = "notes.lire"
auth = "user"
[[routes]]
path = "/notes/ecrire"
methods = ["GET", "POST"]
permission = "notes.ecrire"
auth = "user"
[[routes]]
path = "/fichiers"
permission = "notes.lire"
auth = "user"
[[routes]]
path = "/fichiers/ecrire"
methods = ["POST"]
permission = "notes.ecrire"
auth = "user"
[[routes]]
path = "/notifier"
permission = "notes.ecrire"
auth = "user"
[[routes]]
path = "/flux.ics"
permission = "notes.lire"
auth = "token"
[[routes]]
path = "/export.csv"
permission = "notes.lire"
auth = "user"
[[routes]]
path = "/telecharger"
permission = "notes.lire"
auth = "user"
[[collections]]
name = "notes"
[[collections.indexes]]
name = "par-titre"
fields = [{ field = "titre", type = "string", collation = "fr" }]
"#;

const HELLO: &str = r#"
[[permissions]]
id = "bonjour.voir"
family = "consultation"
label = { fr = "Voir", en = "See" }
defaults = ["eleve", "enseignant", "parent"]
[[routes]]
path = "/"
permission = "bonjour.voir"
auth = "user"
[[widgets]]
id = "aujourd-hui"
title = { fr = "Aujourd'hui", en = "Today" }
permission = "bonjour.voir"
"#;

const HOSTILE: &str = r#"
[limits]
widget_ms = 200
[[permissions]]
id = "piege.voir"
family = "consultation"
label = { fr = "Voir", en = "See" }
defaults = ["eleve"]
[[routes]]
path = "/"
permission = "piege.voir"
auth = "user"
[[widgets]]
id = "boucle"
title = { fr = "Boucle", en = "Loop" }
permission = "piege.voir"
"#;

struct World {
    t: TestDb,
    data: tempfile::TempDir,
    clock: Clock,
    app: Router,
    state: AppState,
    lifecycle: Lifecycle,
    /// Collège Condorcet, where the plugins are enabled, and the other school.
    uai: Uai,
    other_uai: Uai,
    establishment_id: String,
    student: String,
    teacher: String,
    head: String,
    student_id: String,
}

struct Answer {
    status: StatusCode,
    location: Option<String>,
    content_type: String,
    body: String,
}

impl World {
    async fn new() -> World {
        let t = TestDb::new().await;
        let data = tempfile::tempdir().expect("temp dir");
        let clock = Clock::new(
            chrono_tz::Europe::Paris,
            Some(ClockOverride::parse("2026-11-30").expect("day")),
        );
        let hash = preau_core::auth::password::hash(PASSWORD).expect("hash");
        let demo = preau_core::demo::generate(&t.db, clock.now_ms(), clock.today(), &hash)
            .await
            .expect("demo");
        let showcase = demo.showcase();
        let login = |profile: &str| {
            showcase
                .iter()
                .find(|(p, _)| *p == profile)
                .map(|(_, a)| a.login.clone())
                .expect("showcase account")
        };
        let (student, teacher, head) = (login("eleve"), login("enseignant"), login("direction"));
        let student_id =
            t.db.user_by_login(&student)
                .await
                .expect("user")
                .expect("exists")
                .id;
        let student_account = showcase
            .iter()
            .find(|(p, _)| *p == "eleve")
            .map(|(_, a)| (*a).clone())
            .expect("student");
        let uai = student_account.attachments[0].uai.clone();
        let establishments = t.db.establishments().await.expect("establishments");
        let establishment_id = establishments
            .iter()
            .find(|e| e.uai == uai)
            .expect("here")
            .id
            .clone();
        let other_uai = establishments
            .iter()
            .find(|e| e.uai != uai)
            .expect("other")
            .uai
            .clone();
        let lifecycle = Lifecycle::new(t.db.clone(), clock, data.path(), Vec::new(), "test");
        for (id, component, capabilities, extra) in [
            (
                "essai:notes",
                "notes",
                "files_quota_mib = 1\ntoken_routes = true",
                NOTES,
            ),
            ("essai:bonjour", "hello", "", HELLO),
            (
                "essai:piege",
                "hostile",
                "files_quota_mib = 1\noutbound_hosts = [\"api.example.org\"]\nsso = true",
                HOSTILE,
            ),
        ] {
            let package = package(
                data.path(),
                component,
                &manifest(
                    id,
                    "1.0.0",
                    &format!("{component}.wasm"),
                    capabilities,
                    extra,
                ),
            );
            lifecycle.install(&package, true).await.expect("install");
            lifecycle.enable(id, &uai, None).await.expect("enable");
        }
        let mut config = Config::load(None, Vec::new()).expect("defaults");
        config.data_dir = data.path().to_path_buf();
        let state = AppState::new(t.db.clone(), clock, Arc::new(config));
        let app = server::router(state.clone());
        World {
            t,
            data,
            clock,
            app,
            state,
            lifecycle,
            uai,
            other_uai,
            establishment_id,
            student,
            teacher,
            head,
            student_id,
        }
    }

    async fn send(&self, request: Request<Body>) -> Answer {
        let response = self.app.clone().oneshot(request).await.expect("response");
        let status = response.status();
        let header_of = |name| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let location = header_of(header::LOCATION);
        let content_type = header_of(header::CONTENT_TYPE).unwrap_or_default();
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 22)
            .await
            .expect("body");
        Answer {
            status,
            location,
            content_type,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    /// A bearer token for `login`.
    async fn bearer(&self, login: &str) -> String {
        let answer = self
            .send(
                Request::post("/api/v1/auth/login")
                    .header(header::CONTENT_TYPE, "application/json")
                    .body(Body::from(
                        serde_json::json!({"login": login, "password": PASSWORD}).to_string(),
                    ))
                    .expect("request"),
            )
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        let v: serde_json::Value = serde_json::from_str(&answer.body).expect("json");
        v["token"].as_str().expect("token").to_owned()
    }

    /// A cookie session for `login` (the login form): the `Cookie` header to send.
    async fn cookie(&self, login: &str) -> String {
        let page = self.send(get("/connexion", "")).await;
        let pre = csrf_of(&page.body);
        let jar = format!("preau_csrf={pre}");
        let response = self
            .app
            .clone()
            .oneshot(post_form(
                "/connexion",
                &jar,
                &format!(
                    "_csrf={pre}&login={login}&password={}",
                    PASSWORD.replace('!', "%21")
                ),
            ))
            .await
            .expect("response");
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        let session = response
            .headers()
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(|c| {
                c.split(';')
                    .next()?
                    .strip_prefix("preau_session=")
                    .map(str::to_owned)
            })
            .expect("session cookie");
        let jar = format!("{jar}; preau_session={session}");
        // Accept the charter if the account owes it.
        let home = self.send(get("/", &jar)).await;
        if home.location.as_deref() == Some("/charte") {
            let charter = self.send(get("/charte", &jar)).await;
            let csrf = csrf_of(&charter.body);
            let accepted = self
                .send(post_form(
                    "/charte",
                    &jar,
                    &format!("_csrf={csrf}&accepte=on"),
                ))
                .await;
            assert_eq!(accepted.status, StatusCode::SEE_OTHER, "{}", accepted.body);
        }
        jar
    }

    fn app_path(&self, plugin: &str, path: &str) -> String {
        format!("/e/{}/apps/essai/{plugin}{path}", self.uai)
    }
}

/// Packs `component` with `manifest` into `{root}/{id}.preau`.
fn package(root: &Path, component: &str, manifest: &str) -> std::path::PathBuf {
    let dir = root.join(format!("src-{component}-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).expect("dir");
    std::fs::write(
        dir.join(format!("{component}.wasm")),
        plugins::component(component),
    )
    .expect("component");
    std::fs::write(dir.join("plugin.toml"), manifest).expect("manifest");
    let bytes = preau_package::pack(&dir).expect("pack");
    let out = dir.with_extension("preau");
    std::fs::write(&out, bytes).expect("package");
    out
}

fn get(path: &str, cookie: &str) -> Request<Body> {
    Request::get(path)
        .header(header::COOKIE, cookie)
        .header(header::ACCEPT_LANGUAGE, "fr")
        .body(Body::empty())
        .expect("request")
}

fn post_form(path: &str, cookie: &str, form: &str) -> Request<Body> {
    Request::post(path)
        .header(header::COOKIE, cookie)
        .header(header::ACCEPT_LANGUAGE, "fr")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(form.to_owned()))
        .expect("request")
}

fn bearer_get(path: &str, token: &str) -> Request<Body> {
    Request::get(path)
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::ACCEPT, "application/json")
        .body(Body::empty())
        .expect("request")
}

/// The hidden `_csrf` value of a page.
fn csrf_of(html: &str) -> String {
    let marker = "name=\"_csrf\" value=\"";
    let start = html.find(marker).expect("a form with _csrf") + marker.len();
    let end = html[start..].find('"').expect("end") + start;
    html[start..end].to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn routes_answer_only_where_enabled_and_permitted_and_grants_apply_at_once() {
    let w = World::new().await;
    let teacher = w.bearer(&w.teacher).await;
    let student = w.bearer(&w.student).await;

    // Enabled here, the teacher may write and read.
    let page = w
        .send(bearer_get(&w.app_path("notes", "/notes"), &teacher))
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.content_type.starts_with("application/json"));
    let view: serde_json::Value = serde_json::from_str(&page.body).expect("a JSON view");
    assert_eq!(view["schema"], "view/1.0");
    assert_eq!(view["title"], "Notes");

    // Not enabled in the other school: 404, even for someone who could use it here.
    let elsewhere = format!("/e/{}/apps/essai/notes/notes", w.other_uai);
    assert_eq!(
        w.send(bearer_get(&elsewhere, &teacher)).await.status,
        StatusCode::NOT_FOUND
    );
    // Unknown plugin, unknown route, wrong method.
    let unknown = format!("/e/{}/apps/essai/inconnu/notes", w.uai);
    assert_eq!(
        w.send(bearer_get(&unknown, &teacher)).await.status,
        StatusCode::NOT_FOUND
    );
    let no_route = w.app_path("notes", "/secrets");
    assert_eq!(
        w.send(bearer_get(&no_route, &teacher)).await.status,
        StatusCode::NOT_FOUND
    );

    // The student reads but may not write: 403.
    let write = w.app_path("notes", "/notes/ecrire?cle=a&titre=x");
    assert_eq!(
        w.send(bearer_get(&write, &student)).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        w.send(bearer_get(&w.app_path("notes", "/notes"), &student))
            .await
            .status,
        StatusCode::OK
    );

    // Granting students the permission takes effect at the next request; revoking too.
    w.t.db
        .set_grant(
            &w.establishment_id,
            "essai:notes",
            "notes.ecrire",
            Profile::Eleve,
            true,
            None,
            w.clock.now_ms(),
        )
        .await
        .expect("grant");
    let written = w.send(bearer_get(&write, &student)).await;
    assert_eq!(written.status, StatusCode::OK, "{}", written.body);
    assert!(written.body.contains("écrit : Ok"), "{}", written.body);
    w.t.db
        .set_grant(
            &w.establishment_id,
            "essai:notes",
            "notes.ecrire",
            Profile::Eleve,
            false,
            None,
            w.clock.now_ms(),
        )
        .await
        .expect("revoke");
    assert_eq!(
        w.send(bearer_get(&write, &student)).await.status,
        StatusCode::FORBIDDEN
    );

    // Disabled: the routes are gone (404), the data stays.
    assert!(
        w.lifecycle
            .disable("essai:notes", &w.uai)
            .await
            .expect("disable")
    );
    // A change by another process is seen within RESOLUTION_TTL; this one is told at once, as
    // the console does for its own changes.
    w.state.plugins.invalidate();
    assert_eq!(
        w.send(bearer_get(&w.app_path("notes", "/notes"), &teacher))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    w.lifecycle
        .enable("essai:notes", &w.uai, None)
        .await
        .expect("enable again");
    w.state.plugins.invalidate();
    let again = w
        .send(bearer_get(&w.app_path("notes", "/notes"), &teacher))
        .await;
    assert!(again.body.contains("note a"), "{}", again.body);

    // Without a session: the page sends to the login page; JSON clients get 401.
    let anonymous = w.send(get(&w.app_path("notes", "/notes"), "")).await;
    assert_eq!(anonymous.status, StatusCode::SEE_OTHER);
    assert!(
        anonymous
            .location
            .unwrap_or_default()
            .starts_with("/connexion")
    );
    let api = w
        .send(
            Request::get(w.app_path("notes", "/notes"))
                .header(header::ACCEPT, "application/json")
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    assert_eq!(api.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plugin_forms_need_the_csrf_token_and_pages_render_escaped() {
    let w = World::new().await;
    let jar = w.cookie(&w.teacher).await;
    let target = w.app_path("notes", "/notes/ecrire");

    // Without the token, or with another one: refused, nothing written.
    let forged = w
        .send(post_form(&target, &jar, "cle=k1&titre=forged"))
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN, "{}", forged.body);
    let wrong = w
        .send(post_form(&target, &jar, "_csrf=0000&cle=k1&titre=forged"))
        .await;
    assert_eq!(wrong.status, StatusCode::FORBIDDEN);
    let list = w.send(get(&w.app_path("notes", "/notes"), &jar)).await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.body);
    assert!(!list.body.contains("forged"));

    // With the page's token: written, and shown escaped in the portal frame.
    let csrf = csrf_of(&list.body);
    let title = "<script>alert(1)</script> Évaluation";
    let form = format!(
        "_csrf={csrf}&cle=k2&titre={}",
        url::form_urlencoded::byte_serialize(title.as_bytes()).collect::<String>()
    );
    let done = w.send(post_form(&target, &jar, &form)).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    let list = w.send(get(&w.app_path("notes", "/notes"), &jar)).await;
    assert!(list.content_type.starts_with("text/html"));
    assert!(
        list.body
            .contains("&lt;script&gt;alert(1)&lt;/script&gt; Évaluation"),
        "{}",
        list.body
    );
    assert!(!list.body.contains("<script>alert"));
    assert!(list.body.contains("<h1>Notes</h1>"));
    assert!(list.body.contains("Service essai:notes"), "breadcrumb");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_are_stored_in_the_plugins_files_within_its_limit() {
    let w = World::new().await;
    let jar = w.cookie(&w.teacher).await;
    let list = w.send(get(&w.app_path("notes", "/fichiers"), &jar)).await;
    let csrf = csrf_of(&list.body);
    let boundary = "XyZpreau";
    let post = |body: Vec<u8>| {
        Request::post(w.app_path("notes", "/fichiers/ecrire"))
            .header(header::COOKIE, &jar)
            .header(
                header::CONTENT_TYPE,
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(Body::from(body))
            .expect("request")
    };
    let multipart_with = |token: &str, file: &[u8]| {
        let mut body = Vec::new();
        for (name, value) in [
            ("_csrf", token),
            ("chemin", "mien.txt"),
            ("contenu", "bonjour"),
        ] {
            body.extend_from_slice(
                format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
                    .as_bytes(),
            );
        }
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"piece\"; filename=\"../Devoir n°1.pdf\"\r\nContent-Type: application/pdf\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(file);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        post(body)
    };
    let multipart = |file: &[u8]| multipart_with(&csrf, file);
    let sent = w.send(multipart(b"%PDF-1.4 contenu")).await;
    assert_eq!(sent.status, StatusCode::OK, "{}", sent.body);
    let list = w.send(get(&w.app_path("notes", "/fichiers"), &jar)).await;
    assert!(list.body.contains("/Devoir_ndeg1.pdf 16"), "{}", list.body);
    assert!(list.body.contains("mien.txt 7"), "{}", list.body);

    // Over the plugin's upload_mib (1 MiB): refused with 413, nothing stored.
    let big = vec![b'a'; (1 << 20) + 10];
    let refused = w.send(multipart(&big)).await;
    assert_eq!(
        refused.status,
        StatusCode::PAYLOAD_TOO_LARGE,
        "{}",
        refused.body
    );
    // A forged form is refused before any byte of its file is stored: the same oversized
    // file now gets 403, not the 413 the store would have given while writing it.
    let forged = w.send(multipart_with("jeton-faux", &big)).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN, "{}", forged.body);
    assert!(
        forged.body.contains("Ce formulaire a expiré"),
        "{}",
        forged.body
    );
    // So is a file sent before the token, even a right one: forms send `_csrf` first.
    let late_token = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"piece\"; filename=\"tard.pdf\"\r\nContent-Type: application/pdf\r\n\r\n%PDF\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"_csrf\"\r\n\r\n{csrf}\r\n--{boundary}--\r\n"
    );
    let late = w.send(post(late_token.into_bytes())).await;
    assert_eq!(late.status, StatusCode::FORBIDDEN, "{}", late.body);
    let after = w.send(get(&w.app_path("notes", "/fichiers"), &jar)).await;
    assert_eq!(
        after.body.matches("Devoir_ndeg1.pdf").count(),
        1,
        "{}",
        after.body
    );
    assert!(!after.body.contains("tard.pdf"), "{}", after.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trapping_widget_loses_its_card_and_never_the_dashboard() {
    let w = World::new().await;
    let jar = w.cookie(&w.student).await;
    let home = w.send(get("/", &jar)).await;
    assert_eq!(home.status, StatusCode::OK, "{}", home.body);
    // The healthy plugin's widget is there, with its content.
    assert!(
        home.body.contains("Aujourd&#39;hui") || home.body.contains("Aujourd'hui"),
        "{}",
        home.body
    );
    assert!(home.body.contains("2026-11-30 pour"), "{}", home.body);
    // The looping one is replaced by a discreet notice.
    assert!(home.body.contains("Boucle"));
    assert!(
        home.body
            .contains("Ce service n’a pas pu s’afficher pour le moment.")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn public_routes_exist_only_once_approved() {
    let w = World::new().await;
    let extra = format!("{HELLO}[[routes]]\npath = \"/public\"\nauth = \"public\"\n");
    let package = package(
        w.data.path(),
        "hello",
        &manifest(
            "essai:bonjour",
            "1.1.0",
            "hello.wasm",
            "public_routes = true",
            &extra,
        ),
    );
    w.lifecycle
        .install(&package, true)
        .await
        .expect("install 1.1.0");
    let public = w.app_path("bonjour", "/public");
    // 1.1.0 asks for more: 1.0.0 keeps running, which has no public route.
    assert_eq!(w.send(get(&public, "")).await.status, StatusCode::NOT_FOUND);
    // Once the head approves, anyone may read it, and the plugin gets no user.
    w.lifecycle
        .enable("essai:bonjour", &w.uai, None)
        .await
        .expect("approve");
    w.state.plugins.invalidate();
    let page = w.send(get(&public, "")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("/public"), "{}", page.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_head_enables_services_and_sets_rights_in_the_console() {
    let w = World::new().await;
    let head = w.cookie(&w.head).await;
    let student_jar = w.cookie(&w.student).await;
    let teacher = w.bearer(&w.teacher).await;
    let student = w.bearer(&w.student).await;
    let console = format!("/e/{}/services", w.uai);

    // Students have no console; the head does, with a link in the navigation.
    assert_eq!(
        w.send(get(&console, &student_jar)).await.status,
        StatusCode::FORBIDDEN
    );
    let list = w.send(get(&console, &head)).await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.body);
    assert!(
        list.body.contains(&format!("href=\"{console}\"")),
        "nav link"
    );
    assert!(list.body.contains("Service essai:notes"));
    assert!(list.body.contains("Activé — version 1.0.0"));

    // Disable: the service's routes are gone; the page now offers the approval step.
    let service = format!("{console}/essai/notes");
    let page = w.send(get(&service, &head)).await;
    let csrf = csrf_of(&page.body);
    let off = w
        .send(post_form(
            &format!("{service}/desactiver"),
            &head,
            &format!("_csrf={csrf}"),
        ))
        .await;
    assert_eq!(off.status, StatusCode::SEE_OTHER, "{}", off.body);
    let notes = w.app_path("notes", "/notes");
    assert_eq!(
        w.send(bearer_get(&notes, &teacher)).await.status,
        StatusCode::NOT_FOUND
    );
    let page = w.send(get(&service, &head)).await;
    assert!(
        page.body.contains("Approuver et activer la version 1.0.0"),
        "{}",
        page.body
    );
    assert!(page.body.contains("un espace de fichiers de 1 Mio"));
    assert!(page.body.contains("Lire les notes"));
    assert!(page.body.contains("pas signée"), "unsigned warning");

    // Approving another version than the one shown is refused; the one shown is enabled.
    let stale = w
        .send(post_form(
            &format!("{service}/approuver"),
            &head,
            &format!("_csrf={csrf}&version=9.9.9"),
        ))
        .await;
    assert_eq!(stale.status, StatusCode::BAD_REQUEST);
    let on = w
        .send(post_form(
            &format!("{service}/approuver"),
            &head,
            &format!("_csrf={csrf}&version=1.0.0"),
        ))
        .await;
    assert_eq!(on.status, StatusCode::SEE_OTHER, "{}", on.body);
    assert_eq!(
        w.send(bearer_get(&notes, &teacher)).await.status,
        StatusCode::OK
    );

    // The grant matrix: give students the right to write; effective at the next request.
    let write = w.app_path("notes", "/notes/ecrire?cle=z&titre=z");
    assert_eq!(
        w.send(bearer_get(&write, &student)).await.status,
        StatusCode::FORBIDDEN
    );
    let cells = [
        "notes.lire|eleve",
        "notes.lire|enseignant",
        "notes.ecrire|enseignant",
        "notes.ecrire|eleve",
    ]
    .iter()
    .map(|c| format!("cell={}", c.replace('|', "%7C")))
    .collect::<Vec<_>>()
    .join("&");
    let forged = w
        .send(post_form(&format!("{service}/droits"), &head, &cells))
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN, "no token, no change");
    let saved = w
        .send(post_form(
            &format!("{service}/droits"),
            &head,
            &format!("_csrf={csrf}&{cells}"),
        ))
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    assert_eq!(
        w.send(bearer_get(&write, &student)).await.status,
        StatusCode::OK
    );

    // Every change is in the journal, with who made it.
    let page = w.send(get(&service, &head)).await;
    assert!(
        page.body
            .contains("droit « notes.ecrire » accordé au profil Élève"),
        "{}",
        page.body
    );
    assert!(page.body.contains(&format!("{} : enable", w.head)));
    assert!(page.body.contains(&format!("{} : disable", w.head)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notifications_reach_the_bell_and_lead_to_the_plugin() {
    let w = World::new().await;
    let teacher = w.bearer(&w.teacher).await;
    let jar = w.cookie(&w.student).await;

    let sent = w
        .send(bearer_get(
            &w.app_path(
                "notes",
                &format!(
                    "/notifier?pour={}&titre=Devoir%20corrig%C3%A9",
                    w.student_id
                ),
            ),
            &teacher,
        ))
        .await;
    assert!(sent.body.contains("notifié : Ok"), "{}", sent.body);
    // Someone the teacher may not write to (not in the school): nobody is notified.
    let denied = w
        .send(bearer_get(
            &w.app_path("notes", "/notifier?pour=inconnu&titre=x"),
            &teacher,
        ))
        .await;
    assert!(
        denied.body.contains("notifié : Err(Error::Denied"),
        "{}",
        denied.body
    );

    let home = w.send(get("/", &jar)).await;
    assert!(
        home.body.contains("<span class=\"badge\">1<"),
        "{}",
        home.body
    );
    let list = w.send(get("/notifications", &jar)).await;
    assert!(list.body.contains("Devoir corrigé"), "{}", list.body);
    assert!(list.body.contains("Un mot du service de notes."));
    let end = list.body.find("/ouvrir\"").expect("an open form");
    let start = list.body[..end].rfind('/').expect("id start") + 1;
    let id = &list.body[start..end];
    let csrf = csrf_of(&list.body);
    let open = w
        .send(post_form(
            &format!("/notifications/{id}/ouvrir"),
            &jar,
            &format!("_csrf={csrf}"),
        ))
        .await;
    assert_eq!(open.status, StatusCode::SEE_OTHER);
    assert_eq!(
        open.location.as_deref(),
        Some(w.app_path("notes", "/notes").as_str())
    );
    let home = w.send(get("/", &jar)).await;
    assert!(!home.body.contains("class=\"badge\""), "read: no count");

    // Someone else cannot open it.
    let other = w.cookie(&w.teacher).await;
    let other_page = w.send(get("/notifications", &other)).await;
    let other_csrf = csrf_of(&other_page.body);
    let stolen = w
        .send(post_form(
            &format!("/notifications/{id}/ouvrir"),
            &other,
            &format!("_csrf={other_csrf}"),
        ))
        .await;
    assert_eq!(stolen.status, StatusCode::NOT_FOUND);

    // The e-mail preference.
    let saved = w
        .send(post_form(
            "/notifications/preference",
            &jar,
            &format!("_csrf={csrf}&email=never"),
        ))
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER);
    let list = w.send(get("/notifications", &jar)).await;
    assert!(
        list.body.contains("value=\"never\" checked"),
        "{}",
        list.body
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn feeds_need_a_personal_token_and_files_are_served_as_attachments() {
    let w = World::new().await;
    let jar = w.cookie(&w.student).await;
    let feed = w.app_path("notes", "/flux.ics");
    // No token, a made-up token: 404, the route exists for nobody.
    assert_eq!(w.send(get(&feed, "")).await.status, StatusCode::NOT_FOUND);
    let made_up = format!("{feed}?jeton={}", "ab".repeat(32));
    assert_eq!(
        w.send(get(&made_up, "")).await.status,
        StatusCode::NOT_FOUND
    );

    // The student creates an address (shown once) and a calendar client reads it without a session.
    let page = w.send(get(&w.app_path("notes", "/_flux"), &jar)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let csrf = csrf_of(&page.body);
    let created = w
        .send(post_form(
            &w.app_path("notes", "/_flux"),
            &jar,
            &format!("_csrf={csrf}&action=creer"),
        ))
        .await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    let start = created.body.find("?jeton=").expect("the address") + "?jeton=".len();
    let token = &created.body[start..start + 64];
    let ics = w.send(get(&format!("{feed}?jeton={token}"), "")).await;
    assert_eq!(ics.status, StatusCode::OK, "{}", ics.body);
    assert!(ics.content_type.starts_with("text/calendar"));
    assert!(ics.body.contains("BEGIN:VCALENDAR"));
    // The plugin got the owner, never the token.
    assert!(ics.body.contains(&format!("notes de {}", w.student_id)));
    assert!(!ics.body.contains(token));

    // Withdrawing the permission closes the feed; so does revoking the address.
    let revoke_grant = |granted| {
        w.t.db.set_grant(
            &w.establishment_id,
            "essai:notes",
            "notes.lire",
            Profile::Eleve,
            granted,
            None,
            w.clock.now_ms(),
        )
    };
    revoke_grant(false).await.expect("revoke");
    assert_eq!(
        w.send(get(&format!("{feed}?jeton={token}"), ""))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    revoke_grant(true).await.expect("grant");
    let revoked = w
        .send(post_form(
            &w.app_path("notes", "/_flux"),
            &jar,
            &format!("_csrf={csrf}&action=revoquer"),
        ))
        .await;
    assert_eq!(revoked.status, StatusCode::SEE_OTHER);
    assert_eq!(
        w.send(get(&format!("{feed}?jeton={token}"), ""))
            .await
            .status,
        StatusCode::NOT_FOUND
    );

    // A CSV export is an attachment that cannot run anything on the portal's origin.
    let teacher = w.bearer(&w.teacher).await;
    let response = w
        .app
        .clone()
        .oneshot(bearer_get(&w.app_path("notes", "/export.csv"), &teacher))
        .await
        .expect("response");
    assert_eq!(response.status(), StatusCode::OK);
    let headers = response.headers();
    assert_eq!(headers[header::CONTENT_TYPE], "text/csv; charset=utf-8");
    assert_eq!(
        headers[header::CONTENT_DISPOSITION],
        "attachment; filename=\"notes.csv\""
    );
    assert!(
        headers[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .expect("csp")
            .contains("sandbox")
    );

    // A stored file is streamed with its type, as an attachment; a missing one is 404.
    let written = w
        .send(
            Request::post(w.app_path("notes", "/fichiers/ecrire"))
                .header(header::AUTHORIZATION, format!("Bearer {teacher}"))
                .header(header::ACCEPT, "application/json")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from("chemin=page.html&contenu=%3Cscript%3E"))
                .expect("request"),
        )
        .await;
    assert!(written.body.contains("écrit : Ok"), "{}", written.body);
    let response = w
        .app
        .clone()
        .oneshot(bearer_get(
            &w.app_path("notes", "/telecharger?chemin=page.html"),
            &teacher,
        ))
        .await
        .expect("response");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()[header::CONTENT_DISPOSITION],
        "attachment; filename=\"page.html\""
    );
    assert!(
        response.headers()[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .expect("csp")
            .contains("sandbox")
    );
    let bytes = axum::body::to_bytes(response.into_body(), 1024)
        .await
        .expect("body");
    assert_eq!(&bytes[..], b"<script>");
    let missing = w
        .send(bearer_get(
            &w.app_path("notes", "/telecharger?chemin=absent.txt"),
            &teacher,
        ))
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}
