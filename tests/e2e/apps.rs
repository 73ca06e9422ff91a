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
    lifecycle: Lifecycle,
    /// Collège Condorcet, where the plugins are enabled, and the other school.
    uai: Uai,
    other_uai: Uai,
    establishment_id: String,
    student: String,
    teacher: String,
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
        let (student, teacher) = (login("eleve"), login("enseignant"));
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
            ("essai:notes", "notes", "files_quota_mib = 1", NOTES),
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
        let app = server::router(AppState::new(t.db.clone(), clock, Arc::new(config)));
        World {
            t,
            data,
            clock,
            app,
            lifecycle,
            uai,
            other_uai,
            establishment_id,
            student,
            teacher,
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
    let multipart = |file: &[u8]| {
        let boundary = "XyZpreau";
        let mut body = Vec::new();
        for (name, value) in [
            ("_csrf", csrf.as_str()),
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
        Request::post(w.app_path("notes", "/fichiers/ecrire"))
            .header(header::COOKIE, &jar)
            .header(
                header::CONTENT_TYPE,
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(Body::from(body))
            .expect("request")
    };
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
    let after = w.send(get(&w.app_path("notes", "/fichiers"), &jar)).await;
    assert_eq!(
        after.body.matches("Devoir_ndeg1.pdf").count(),
        1,
        "{}",
        after.body
    );
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
    let page = w.send(get(&public, "")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("/public"), "{}", page.body);
}
