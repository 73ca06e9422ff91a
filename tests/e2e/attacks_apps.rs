//! Attacks on plugins in the portal (`preau_core::apps`), the services console, the
//! notification centre, feed tokens and the "Mes données" export, through the real router on the
//! demo data with the `echo` test plugin (`tests/plugins/echo`: it answers whatever view,
//! redirect, raw answer, file or notification the test asks for, and otherwise shows what reached
//! it). A passing test documents a defence; a test marked `#[ignore = "vulnerability: …"]`
//! demonstrates a flaw still open (run them with `--ignored`).

use std::path::Path;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use preau_core::api::AppState;
use preau_core::clock::{Clock, ClockOverride};
use preau_core::config::Config;
use preau_core::identity::{Profile, Role, Uai};
use preau_core::plugins::Lifecycle;
use preau_core::server;
use preau_core::testing::TestDb;
use tower::ServiceExt;

use crate::plugins;

const PASSWORD: &str = "Marelle-42!";

/// The `echo` plugin: every kind of answer, routes of every auth, two overlapping templates.
const ECHO: &str = r#"id = "essai:echo"
version = "1.0.0"
licence = "MIT"
component = "echo.wasm"
host_api = "^1.0"
[name]
fr = "Écho <script>alert('nom')</script>"
en = "Echo <script>alert('name')</script>"
[description]
fr = "Un service d'essai <b>hostile</b>."
en = "A <b>hostile</b> test service."
[capabilities]
files_quota_mib = 1
public_routes = true
token_routes = true
[limits]
upload_mib = 1
[[permissions]]
id = "echo.voir"
family = "consultation"
label = { fr = "Voir <i>l'écho</i>", en = "See the echo" }
defaults = ["eleve", "enseignant", "direction", "parent"]
[[permissions]]
id = "echo.admin"
family = "publication"
label = { fr = "Administrer", en = "Administer" }
defaults = ["direction"]
[[routes]]
path = "/vue"
permission = "echo.voir"
auth = "user"
[[routes]]
path = "/redirection"
permission = "echo.voir"
auth = "user"
[[routes]]
path = "/brut"
permission = "echo.voir"
auth = "user"
[[routes]]
path = "/fichier"
methods = ["GET", "POST"]
permission = "echo.voir"
auth = "user"
[[routes]]
path = "/telecharger"
permission = "echo.voir"
auth = "user"
[[routes]]
path = "/notifier"
permission = "echo.voir"
auth = "user"
[[routes]]
path = "/echec"
permission = "echo.voir"
auth = "user"
[[routes]]
path = "/ecrire"
methods = ["GET", "POST", "PUT", "PATCH", "DELETE"]
permission = "echo.voir"
auth = "user"
[[routes]]
path = "/{classe}/{eleve}"
permission = "echo.voir"
auth = "user"
[[routes]]
path = "/secret/{eleve}"
permission = "echo.admin"
auth = "user"
[[routes]]
path = "/public"
methods = ["GET", "POST"]
auth = "public"
[[routes]]
path = "/flux.ics"
permission = "echo.voir"
auth = "token"
[[widgets]]
id = "mur"
title = { fr = "Mur <script>alert('w')</script>", en = "Wall" }
permission = "echo.voir"
"#;

struct World {
    t: TestDb,
    data: tempfile::TempDir,
    clock: Clock,
    app: Router,
    uai: Uai,
    other_uai: Uai,
    establishment_id: String,
    student: String,
    student_id: String,
    /// Another student of the same school.
    classmate_id: String,
    teacher: String,
    head: String,
    /// The head of the other school, and its local admin.
    other_head: String,
    other_admin: String,
}

struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

impl Answer {
    fn header(&self, name: header::HeaderName) -> String {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    }
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
        let account = |profile: &str| {
            showcase
                .iter()
                .find(|(p, _)| *p == profile)
                .map(|(_, a)| (*a).clone())
                .expect("showcase account")
        };
        let student = account("eleve");
        let uai = student.attachments[0].uai.clone();
        let active = |a: &&preau_core::demo::DemoAccount| a.activation_code.is_none();
        let only = |a: &preau_core::demo::DemoAccount, uai: &Uai, p: Profile| {
            a.attachments.len() == 1
                && a.attachments[0].uai == *uai
                && a.attachments[0].profile == p
                && a.roles.is_empty()
        };
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
        let find = |f: &dyn Fn(&preau_core::demo::DemoAccount) -> bool| {
            demo.accounts
                .iter()
                .filter(active)
                .find(|a| f(a))
                .map(|a| a.login.clone())
                .expect("a demo account")
        };
        let classmate = find(&|a| only(a, &uai, Profile::Eleve) && a.login != student.login);
        let teacher = find(&|a| only(a, &uai, Profile::Enseignant));
        let head = find(&|a| only(a, &uai, Profile::Direction));
        let other_head = find(&|a| only(a, &other_uai, Profile::Direction));
        let other_admin = find(&|a| {
            a.roles
                .iter()
                .any(|r| r.role == Role::AdminLocal && r.uai.as_ref() == Some(&other_uai))
        });
        let id_of = async |login: &str| {
            t.db.user_by_login(login)
                .await
                .expect("user")
                .expect("exists")
                .id
        };
        let student_id = id_of(&student.login).await;
        let classmate_id = id_of(&classmate).await;
        let lifecycle = Lifecycle::new(t.db.clone(), clock, data.path(), Vec::new(), "test");
        let package = package(data.path(), "echo", ECHO);
        lifecycle.install(&package, true).await.expect("install");
        lifecycle
            .enable("essai:echo", &uai, None)
            .await
            .expect("enable");
        let mut config = Config::load(None, Vec::new()).expect("defaults");
        config.data_dir = data.path().to_path_buf();
        let app = server::router(AppState::new(t.db.clone(), clock, Arc::new(config)));
        World {
            t,
            data,
            clock,
            app,
            uai,
            other_uai,
            establishment_id,
            student: student.login,
            student_id,
            classmate_id,
            teacher,
            head,
            other_head,
            other_admin,
        }
    }

    async fn send(&self, request: Request<Body>) -> Answer {
        let response = self.app.clone().oneshot(request).await.expect("response");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 24)
            .await
            .expect("body");
        Answer {
            status,
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    async fn send_bytes(&self, request: Request<Body>) -> (StatusCode, Vec<u8>) {
        let response = self.app.clone().oneshot(request).await.expect("response");
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 26)
            .await
            .expect("body");
        (status, bytes.to_vec())
    }

    /// A cookie session for `login` (the login form), charter accepted: the `Cookie` header.
    async fn cookie(&self, login: &str) -> String {
        let page = self.send(get("/connexion", "")).await;
        let pre = csrf_of(&page.body);
        let jar = format!("preau_csrf={pre}");
        let signed = self
            .send(post_form(
                "/connexion",
                &jar,
                &format!(
                    "_csrf={pre}&login={login}&password={}",
                    PASSWORD.replace('!', "%21")
                ),
            ))
            .await;
        assert_eq!(signed.status, StatusCode::SEE_OTHER, "{}", signed.body);
        let session = signed
            .headers
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
        let home = self.send(get("/", &jar)).await;
        if home.header(header::LOCATION) == "/charte" {
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

    /// The session's CSRF token (from a page with a form).
    async fn csrf(&self, jar: &str) -> String {
        csrf_of(&self.send(get("/notifications", jar)).await.body)
    }

    fn base(&self) -> String {
        format!("/e/{}/apps/essai/echo", self.uai)
    }

    fn app_path(&self, path: &str) -> String {
        format!("{}{path}", self.base())
    }

    /// `/vue?vue=…`: the echo plugin answers `view` as it is.
    fn view_path(&self, view: &serde_json::Value) -> String {
        self.app_path(&format!("/vue?vue={}", enc(&view.to_string())))
    }

    /// Files the echo plugin holds here.
    async fn files_held(&self) -> i64 {
        let scope = preau_core::store::Scope::new(
            preau_core::store::PluginId::parse("essai:echo").expect("id"),
            self.establishment_id.clone(),
        );
        self.t.db.plugin_file_usage(&scope).await.expect("usage").1
    }

    async fn grants(&self) -> Vec<(String, Profile)> {
        self.t
            .db
            .grant_matrix(&self.establishment_id, "essai:echo")
            .await
            .expect("grants")
    }
}

fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
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

fn request(method: Method, path: &str, cookie: &str) -> axum::http::request::Builder {
    Request::builder()
        .method(method)
        .uri(path)
        .header(header::COOKIE, cookie)
        .header(header::ACCEPT_LANGUAGE, "fr")
}

fn get(path: &str, cookie: &str) -> Request<Body> {
    request(Method::GET, path, cookie)
        .body(Body::empty())
        .expect("request")
}

fn post_form(path: &str, cookie: &str, form: &str) -> Request<Body> {
    request(Method::POST, path, cookie)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(form.to_owned()))
        .expect("request")
}

/// The hidden `_csrf` value of a page.
fn csrf_of(html: &str) -> String {
    let marker = "name=\"_csrf\" value=\"";
    let start = html.find(marker).expect("a form with _csrf") + marker.len();
    let end = html[start..].find('"').expect("end") + start;
    html[start..end].to_owned()
}

/// Where a browser on the portal goes for `reference` (dot segments resolved, `%2e` included).
fn resolved(reference: &str) -> String {
    url::Url::parse("https://preau.example/e/x/y")
        .expect("base")
        .join(reference)
        .expect("a URL")
        .path()
        .to_owned()
}

/// No tag of `html` runs anything: no script, frame, SVG or style element, no event handler
/// attribute, no `javascript:` URL (escaped text has no `<`, so every `<` opens a real tag).
fn assert_no_active_markup(html: &str) {
    for tag in html.split('<').skip(1) {
        let tag = tag.split('>').next().unwrap_or_default();
        // Attribute values are quoted: drop them, keep names.
        let names: String = tag
            .split('"')
            .enumerate()
            .filter(|(i, _)| i % 2 == 0)
            .map(|(_, s)| s)
            .collect::<Vec<_>>()
            .join("\"\"");
        let lower = names.to_ascii_lowercase();
        let element = lower.split_whitespace().next().unwrap_or_default();
        assert!(
            !["script", "iframe", "svg", "style", "object", "embed"].contains(&element),
            "<{tag}> in {html}"
        );
        assert!(
            !lower
                .split_whitespace()
                .skip(1)
                .any(|a| a.starts_with("on") && a.contains('=')),
            "event handler in <{tag}>"
        );
        assert!(!tag.to_ascii_lowercase().contains("javascript:"), "<{tag}>");
    }
}

/// Every plugin-controlled place a browser follows (a form's action, a link, a redirect, a
/// notification's link) stays under the plugin's base. `render::href` and the host's
/// `is_local_path` accept `/../../…`, which a browser resolves to any route of the portal: a
/// plugin makes a form that posts, with the person's own CSRF token, to the services console.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plugin_paths_cannot_leave_the_plugin_through_dot_segments() {
    let w = World::new().await;
    let head = w.cookie(&w.head).await;
    let base = w.base();
    let escape = format!("/../../../../../e/{}/services/essai/echo/droits", w.uai);

    // 1. A form whose action climbs out of the plugin: rendered with the head's token.
    let view = serde_json::json!({"schema": "view/1.0", "title": "Sondage", "body": [
        {"kind": "form", "action": escape, "method": "post", "submit": "Répondre au sondage",
         "fields": [
            {"name": "cell", "label": "x", "type": "hidden", "value": "echo.voir|eleve"},
            {"name": "cell", "label": "x", "type": "hidden", "value": "echo.admin|eleve"},
            {"name": "cell", "label": "x", "type": "hidden", "value": "echo.admin|direction"},
            {"name": "cell", "label": "x", "type": "hidden", "value": "echo.voir|direction"}
         ]}
    ]});
    // The host refuses the view (a path leaving the plugin): an error page, no form.
    let page = w.send(get(&w.view_path(&view), &head)).await;
    assert_eq!(page.status, StatusCode::BAD_GATEWAY, "{}", page.body);
    assert!(!page.body.contains("view-form"));
    assert!(
        !w.grants()
            .await
            .contains(&("echo.admin".to_owned(), Profile::Eleve))
    );

    // 2. A link.
    let link = serde_json::json!({"schema": "view/1.0", "title": "L", "body": [
        {"kind": "link", "label": "Mon compte", "href": "/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/mon-compte"}
    ]});
    let page = w.send(get(&w.view_path(&link), &head)).await;
    assert_eq!(page.status, StatusCode::BAD_GATEWAY, "{}", page.body);

    // 3. A redirect.
    let redirect = w
        .send(get(
            &w.app_path(&format!(
                "/redirection?vers={}",
                enc("/../../../../../deconnexion")
            )),
            &head,
        ))
        .await;
    let location = redirect.header(header::LOCATION);
    assert!(
        redirect.status != StatusCode::SEE_OTHER || resolved(&location).starts_with(&base),
        "the redirect {location} leaves the plugin for {}",
        resolved(&location)
    );

    // 4. A notification's link, followed by the recipient's "open".
    let student = w.cookie(&w.student).await;
    let sent = w
        .send(get(
            &w.app_path(&format!(
                "/notifier?pour={}&titre=Devoir&lien={}",
                w.student_id,
                enc("/../../../../../comptes")
            )),
            &head,
        ))
        .await;
    // The host refuses the link before the core is asked: nobody is notified.
    assert!(sent.body.contains("notifié : Err("), "{}", sent.body);
    let list = w.send(get("/notifications", &student)).await;
    assert!(!list.body.contains("/ouvrir"), "{}", list.body);
}

/// `find_route` takes the first manifest route whose template fits, while the SDK's router
/// (`plugin-sdk/src/routing.rs`) runs the most specific one (literal segments first): with
/// `/{classe}/{eleve}` (echo.voir) declared before `/secret/{eleve}` (echo.admin), the core
/// checks echo.voir and an SDK plugin runs its `/secret/{eleve}` handler for a student.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_permission_checked_is_that_of_the_most_specific_route() {
    let w = World::new().await;
    let student = w.cookie(&w.student).await;
    let head = w.cookie(&w.head).await;
    // The head holds echo.admin: the secret route answers.
    let secret = w.send(get(&w.app_path("/secret/42"), &head)).await;
    assert_eq!(secret.status, StatusCode::OK, "{}", secret.body);
    // A student holds only echo.voir: `/secret/{eleve}` asks for echo.admin.
    let secret = w.send(get(&w.app_path("/secret/42"), &student)).await;
    assert_eq!(
        secret.status,
        StatusCode::FORBIDDEN,
        "a student reached /secret/42 with echo.voir only: {}",
        secret.body
    );
}

/// Every plugin-controlled string of a page is escaped: view title and nodes, field names and
/// values, `user-text` through ammonia, failure messages, the service's and widget's names from
/// the manifest, notification titles and bodies; raw answers and files never run on the
/// portal's origin; file names cannot bend `Content-Disposition`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plugin_strings_are_escaped_and_answers_sandboxed() {
    let w = World::new().await;
    let jar = w.cookie(&w.student).await;
    let evil = "\"><script>alert(1)</script><img src=x onerror=alert(2)>";
    let view = serde_json::json!({"schema": "view/1.0", "title": evil, "body": [
        {"kind": "section", "title": evil, "body": [{"kind": "text", "text": evil}]},
        {"kind": "user-text", "html": format!("<p>ok</p>{evil}<a href=\"javascript:alert(3)\">j</a><svg onload=alert(4)></svg><iframe src=\"https://evil.example\"></iframe><form action=\"https://evil.example\"><input name=\"_csrf\"></form><style>*{{}}</style>")},
        {"kind": "notice", "level": "error", "text": evil},
        {"kind": "table", "caption": evil, "columns": [evil, evil], "rows": [[evil, {"kind": "link", "label": evil, "href": "/x\"onmouseover=\"alert(5)"}]]},
        {"kind": "card", "title": evil, "body": [], "link": {"kind": "link", "label": evil, "href": "/a'b\"c<d>"}},
        {"kind": "form", "action": "/ecrire\"><script>alert(6)</script>", "method": "post", "submit": evil, "fields": [
            {"name": evil, "label": evil, "type": "text", "value": evil, "help": evil, "error": evil},
            {"name": "s", "label": evil, "type": "select", "value": evil, "options": [{"value": evil, "label": evil}]},
            {"name": "r", "label": evil, "type": "radio", "options": [{"value": evil, "label": evil}]},
            {"name": "h", "label": evil, "type": "hidden", "value": evil},
            {"name": "t", "label": evil, "type": "textarea", "value": format!("</textarea>{evil}")}
        ]},
        {"kind": "week", "start": "2026-11-30", "events": [{"title": evil, "start": format!("2026-11-30T{evil}"), "end": evil, "href": "/e\"x"}]},
        {"kind": "month", "month": "2026-11", "events": [{"title": evil, "date": "2026-11-30"}]}
    ]});
    let page = w.send(get(&w.view_path(&view), &jar)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert_no_active_markup(&page.body);
    let view_html = &page.body[page.body.find("class=\"app-view\"").expect("view")..];
    assert!(!view_html.contains("evil.example"), "{view_html}");
    // Only the core's own `_csrf` field: ammonia dropped the user-text form.
    assert_eq!(view_html.matches("name=\"_csrf\"").count(), 1);
    assert!(
        page.body
            .contains("Écho &#60;script&#62;alert(&#39;nom&#39;)"),
        "service name escaped"
    );

    // A plugin's failure message is shown escaped, with its status.
    let failed = w
        .send(get(
            &w.app_path(&format!("/echec?statut=409&message={}", enc(evil))),
            &jar,
        ))
        .await;
    assert_eq!(failed.status, StatusCode::CONFLICT);
    assert_no_active_markup(&failed.body);
    // A plugin cannot make the core answer with a status outside the plugin's failures.
    let odd = w
        .send(get(&w.app_path("/echec?statut=200&message=ok"), &jar))
        .await;
    assert!(
        odd.status.is_client_error() || odd.status.is_server_error(),
        "{}",
        odd.status
    );

    // The widget: user-text cleaned, the manifest's title escaped.
    let home = w.send(get("/", &jar)).await;
    assert_eq!(home.status, StatusCode::OK, "{}", home.body);
    assert!(home.body.contains("propre"), "{}", home.body);
    assert_no_active_markup(&home.body);
    assert!(!home.body.contains("alert('w')</script>"));

    // Notification title and body: plain text on the page.
    let head = w.cookie(&w.head).await;
    let sent = w
        .send(get(
            &w.app_path(&format!(
                "/notifier?pour={}&titre={}&corps={}",
                w.student_id,
                enc(evil),
                enc(evil)
            )),
            &head,
        ))
        .await;
    assert!(sent.body.contains("notifié : Ok"), "{}", sent.body);
    let list = w.send(get("/notifications", &jar)).await;
    assert!(
        list.body.contains("&#60;script&#62;alert(1)"),
        "{}",
        list.body
    );
    assert_no_active_markup(&list.body);

    // Raw answers: sandboxed, never HTML; a bent file name is refused by the host.
    let raw = w
        .send(get(
            &w.app_path(&format!(
                "/brut?type=atom&corps={}",
                enc(
                    "<html xmlns=\"http://www.w3.org/1999/xhtml\"><script>alert(7)</script></html>"
                )
            )),
            &jar,
        ))
        .await;
    assert_eq!(raw.status, StatusCode::OK);
    assert!(
        raw.header(header::CONTENT_TYPE)
            .starts_with("application/atom+xml")
    );
    assert!(
        raw.header(header::CONTENT_SECURITY_POLICY)
            .contains("sandbox")
    );
    assert_eq!(raw.header(header::X_CONTENT_TYPE_OPTIONS), "nosniff");
    for name in [
        "a\"; filename*=UTF-8''evil.html",
        "x.csv\r\nSet-Cookie: preau_session=evil",
        "évil.csv",
        ".htaccess",
    ] {
        let bent = w
            .send(get(
                &w.app_path(&format!("/brut?type=csv&corps=a&nom={}", enc(name))),
                &jar,
            ))
            .await;
        assert_eq!(
            bent.status,
            StatusCode::BAD_GATEWAY,
            "{name}: {}",
            bent.status
        );
        assert!(bent.header(header::SET_COOKIE).is_empty());
        assert!(bent.header(header::CONTENT_DISPOSITION).is_empty());
    }

    // A stored file of type text/html under a bent name: an attachment with a clean name.
    let stored = w
        .send(get(
            &w.app_path(&format!(
                "/fichier?chemin={}&type={}&contenu={}",
                enc("docs/Évil (1).html"),
                enc("text/html"),
                enc("<script>alert(8)</script>")
            )),
            &jar,
        ))
        .await;
    assert!(stored.body.contains("écrit : Ok"), "{}", stored.body);
    let file = w
        .send(get(
            &w.app_path(&format!(
                "/telecharger?chemin={}",
                enc("docs/Évil (1).html")
            )),
            &jar,
        ))
        .await;
    assert_eq!(file.status, StatusCode::OK);
    assert_eq!(
        file.header(header::CONTENT_DISPOSITION),
        "attachment; filename=\"_vil__1_.html\""
    );
    assert!(
        file.header(header::CONTENT_SECURITY_POLICY)
            .contains("sandbox")
    );
    // A path the store refuses (traversal) is a 404, never a file of the disk.
    let escape = w
        .send(get(
            &w.app_path(&format!(
                "/telecharger?chemin={}",
                enc("../../../../etc/passwd")
            )),
            &jar,
        ))
        .await;
    assert_eq!(escape.status, StatusCode::NOT_FOUND);
}

/// What the plugin receives: never the core's `_…` fields or the feed token; CSRF is read from
/// the body or the header only (never the query string), on every state-changing method and on
/// JSON and multipart bodies from a cookie session.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn csrf_and_core_fields_are_checked_and_never_reach_the_plugin() {
    let w = World::new().await;
    let jar = w.cookie(&w.student).await;
    let csrf = w.csrf(&jar).await;
    let target = w.app_path("/ecrire");

    // Every state-changing method needs the token, whatever the body's type.
    for method in [Method::POST, Method::PUT, Method::PATCH, Method::DELETE] {
        let forged = w
            .send(
                request(method.clone(), &target, &jar)
                    .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                    .body(Body::from("a=1"))
                    .expect("request"),
            )
            .await;
        assert_eq!(forged.status, StatusCode::FORBIDDEN, "{method}");
        let no_body = w
            .send(
                request(method.clone(), &target, &jar)
                    .body(Body::empty())
                    .expect("request"),
            )
            .await;
        assert_eq!(
            no_body.status,
            StatusCode::FORBIDDEN,
            "{method} without a body"
        );
    }
    let json = w
        .send(
            request(Method::POST, &target, &jar)
                .header(header::CONTENT_TYPE, "application/json")
                .header(header::ACCEPT, "application/json")
                .body(Body::from(r#"{"a":"1"}"#))
                .expect("request"),
        )
        .await;
    assert_eq!(json.status, StatusCode::FORBIDDEN, "JSON with a cookie");
    // `text/plain` (what a cross-site form may send without preflight) is not a body type.
    let plain = w
        .send(
            request(Method::POST, &target, &jar)
                .header(header::CONTENT_TYPE, "text/plain")
                .body(Body::from(format!("_csrf={csrf}&a=1")))
                .expect("request"),
        )
        .await;
    assert_eq!(plain.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    // The token in the query string is not the token.
    let smuggled = w
        .send(post_form(&format!("{target}?_csrf={csrf}"), &jar, "a=1"))
        .await;
    assert_eq!(smuggled.status, StatusCode::FORBIDDEN);
    // Method override is not a thing.
    let overridden = w
        .send(
            request(Method::GET, &format!("{target}?_method=DELETE"), &jar)
                .header("X-HTTP-Method-Override", "DELETE")
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    assert!(
        overridden.body.contains("method=GET"),
        "{}",
        overridden.body
    );

    // With the token (field or header), the plugin gets the fields without any `_` name.
    // (as JSON: the plugin's view alone, without the portal frame and its own forms)
    let done = w
        .send(
            request(
                Method::POST,
                &format!("{target}?_csrf=vu&jeton=cache&q=1"),
                &jar,
            )
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::ACCEPT, "application/json")
            .body(Body::from(format!("_csrf={csrf}&_secret=x&a=1")))
            .expect("request"),
        )
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert!(done.body.contains("form a=1"), "{}", done.body);
    assert!(
        !done.body.contains(&csrf),
        "the session token reached the plugin"
    );
    assert!(!done.body.contains("_secret"));
    assert!(
        !done.body.contains("cache"),
        "a jeton parameter reached the plugin"
    );
    let header_token = w
        .send(
            request(Method::DELETE, &target, &jar)
                .header("X-CSRF-Token", &csrf)
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    assert_eq!(header_token.status, StatusCode::OK, "{}", header_token.body);
    assert!(header_token.body.contains("method=DELETE"));

    // A multipart form without the token: refused, and its file is not kept.
    let boundary = "Bnd7";
    let multipart = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"f\"; filename=\"x.txt\"\r\nContent-Type: text/plain\r\n\r\nbonjour\r\n--{boundary}--\r\n"
    );
    let forged = w
        .send(
            request(Method::POST, &w.app_path("/fichier"), &jar)
                .header(
                    header::CONTENT_TYPE,
                    format!("multipart/form-data; boundary={boundary}"),
                )
                .body(Body::from(multipart))
                .expect("request"),
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert_eq!(w.files_held().await, 0, "the refused upload is gone");

    // HEAD and OPTIONS are not plugin methods.
    for method in [Method::HEAD, Method::OPTIONS] {
        let answer = w
            .send(
                request(method.clone(), &w.app_path("/vue"), &jar)
                    .body(Body::empty())
                    .expect("request"),
            )
            .await;
        assert_eq!(answer.status, StatusCode::METHOD_NOT_ALLOWED, "{method}");
    }

    // The feed page's form and the notification centre's forms need the token too.
    for (path, form) in [
        (w.app_path("/_flux"), "action=creer"),
        ("/notifications/tout-lu".to_owned(), ""),
        ("/notifications/preference".to_owned(), "email=never"),
        (format!("/e/{}/services/essai/echo/desactiver", w.uai), ""),
    ] {
        let forged = w.send(post_form(&path, &jar, form)).await;
        assert_eq!(forged.status, StatusCode::FORBIDDEN, "{path}");
        let forged = w
            .send(post_form(&format!("{path}?_csrf={csrf}"), &jar, form))
            .await;
        assert_eq!(forged.status, StatusCode::FORBIDDEN, "{path} with ?_csrf");
    }
}

/// A public route has no user, so a forged cross-site POST gains nothing; but it is accepted
/// without any token when the browser has no `preau_csrf` cookie (the expected token is then
/// empty). Documented here: the plugin gets no user either way.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn public_routes_never_see_a_user_even_from_a_signed_in_browser() {
    let w = World::new().await;
    let jar = w.cookie(&w.student).await;
    let csrf = w.csrf(&jar).await;
    let page = w.send(get(&w.app_path("/public"), &jar)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("user="), "{}", page.body);
    assert!(!page.body.contains(&w.student_id));
    // The session's token is not the public route's: a signed-in person's POST needs the
    // pre-session token, which this jar has.
    let pre = jar
        .split("; ")
        .find_map(|c| c.strip_prefix("preau_csrf="))
        .expect("pre-session cookie");
    let posted = w
        .send(post_form(
            &w.app_path("/public"),
            &jar,
            &format!("_csrf={pre}&a=1"),
        ))
        .await;
    assert_eq!(posted.status, StatusCode::OK, "{}", posted.body);
    assert!(!posted.body.contains(&w.student_id));
    let with_session_token = w
        .send(post_form(
            &w.app_path("/public"),
            &jar,
            &format!("_csrf={csrf}&a=1"),
        ))
        .await;
    assert_eq!(with_session_token.status, StatusCode::FORBIDDEN);
    // No cookie at all: no pre-session token to compare with, refused.
    let bare = w.send(post_form(&w.app_path("/public"), "", "a=1")).await;
    assert_eq!(bare.status, StatusCode::FORBIDDEN, "{}", bare.body);
}

/// Paths: the establishment in the URL decides (a plugin of one school is not reached through
/// another's UAI), names are case-sensitive, and the path the manifest check saw is the one
/// the plugin gets (percent-decoding happens once, before both).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paths_reach_the_plugin_as_the_manifest_check_saw_them() {
    let w = World::new().await;
    let jar = w.cookie(&w.student).await;
    let other = w.cookie(&w.other_head).await;
    // Not enabled in the other school: 404 for its own head, and for a person of this school.
    for j in [&jar, &other] {
        let elsewhere = format!("/e/{}/apps/essai/echo/vue", w.other_uai);
        assert_eq!(
            w.send(get(&elsewhere, j)).await.status,
            StatusCode::NOT_FOUND
        );
    }
    // The head of the other school cannot use this school's plugin (no attachment here).
    assert_eq!(
        w.send(get(&w.app_path("/a/b"), &other)).await.status,
        StatusCode::FORBIDDEN
    );
    // Case and spelling of the ids.
    for path in [
        format!("/e/{}/apps/ESSAI/echo/a/b", w.uai),
        format!("/e/{}/apps/essai/Echo/a/b", w.uai),
        format!("/e/{}/apps/essai%3Aecho/x/a/b", w.uai),
        format!("/e/{}/apps/essai/echo%2Fx/a/b", w.uai),
    ] {
        assert_eq!(
            w.send(get(&path, &jar)).await.status,
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    // An encoded slash is a slash for both the check and the plugin.
    let encoded = w.send(get(&w.app_path("/a%2Fb"), &jar)).await;
    assert_eq!(encoded.status, StatusCode::OK, "{}", encoded.body);
    assert!(encoded.body.contains("path=/a/b"), "{}", encoded.body);
    // Encoded dots reach the plugin as a dot segment, seen the same by the check.
    let dots = w.send(get(&w.app_path("/%2e%2e/x"), &jar)).await;
    assert_eq!(dots.status, StatusCode::OK, "{}", dots.body);
    assert!(dots.body.contains("path=/../x"), "{}", dots.body);
    // Empty segments never match a template.
    assert_eq!(
        w.send(get(&w.app_path("//a/b"), &jar)).await.status,
        StatusCode::NOT_FOUND
    );
    // `/apps/…` sends to the session's school, never elsewhere.
    let shortcut = w.send(get("/apps/essai/echo//evil.example/x", &jar)).await;
    let location = shortcut.header(header::LOCATION);
    assert!(
        location.starts_with(&format!("/e/{}/apps/", w.uai)),
        "{location}"
    );
}

/// Feed tokens: valid only for their plugin and school, never passed to the plugin, refused
/// once the owner no longer holds the permission.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn feed_tokens_are_bound_to_their_plugin_school_and_owner() {
    let w = World::new().await;
    let jar = w.cookie(&w.student).await;
    let flux = w.app_path("/_flux");
    let page = w.send(get(&flux, &jar)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    // The service name from the manifest is escaped on this page too.
    assert!(!page.body.contains("<script>alert"), "{}", page.body);
    let csrf = csrf_of(&page.body);
    let created = w
        .send(post_form(
            &flux,
            &jar,
            &format!("_csrf={csrf}&action=creer"),
        ))
        .await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    let start = created.body.find("?jeton=").expect("the address") + "?jeton=".len();
    let token = created.body[start..start + 64].to_owned();

    let as_json = |path: String| {
        Request::get(path)
            .header(header::ACCEPT, "application/json")
            .body(Body::empty())
            .expect("request")
    };
    let feed = w
        .send(as_json(w.app_path(&format!("/flux.ics?jeton={token}&x=1"))))
        .await;
    assert_eq!(feed.status, StatusCode::OK, "{}", feed.body);
    assert!(feed.body.contains(&w.student_id), "{}", feed.body);
    assert!(!feed.body.contains(&token), "the token reached the plugin");
    // Twice, or encoded: still never passed on.
    let twice = w
        .send(as_json(w.app_path(&format!(
            "/flux.ics?jeton={token}&%6Aeton={token}"
        ))))
        .await;
    assert!(!twice.body.contains(&token));
    // Not a user route: the token opens nothing else of the plugin.
    assert_ne!(
        w.send(get(&w.app_path(&format!("/vue?jeton={token}")), ""))
            .await
            .status,
        StatusCode::OK
    );
    // Not valid in another school, nor for another plugin.
    let elsewhere = format!("/e/{}/apps/essai/echo/flux.ics?jeton={token}", w.other_uai);
    assert_eq!(
        w.send(get(&elsewhere, "")).await.status,
        StatusCode::NOT_FOUND
    );
    let digest = preau_core::auth::token::Token::parse(&token)
        .expect("token")
        .digest();
    assert_eq!(
        w.t.db
            .feed_token_owner(
                &digest,
                &w.establishment_id,
                "essai:notes",
                w.clock.now_ms()
            )
            .await
            .expect("owner"),
        None
    );
    // A session cookie does not replace the token.
    assert_eq!(
        w.send(get(&w.app_path("/flux.ics"), &jar)).await.status,
        StatusCode::NOT_FOUND
    );
    // The permission withdrawn: closed at once.
    w.t.db
        .set_grant(
            &w.establishment_id,
            "essai:echo",
            "echo.voir",
            Profile::Eleve,
            false,
            None,
            w.clock.now_ms(),
        )
        .await
        .expect("revoke");
    assert_eq!(
        w.send(get(&w.app_path(&format!("/flux.ics?jeton={token}")), ""))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
}

/// The console: only this school's head and admins; the other school's head or local admin
/// and a teacher here are refused, even with their own valid token; the grant matrix writes
/// only the running version's permissions.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_is_for_this_schools_head_and_admins_only() {
    let w = World::new().await;
    let console = format!("/e/{}/services", w.uai);
    let service = format!("{console}/essai/echo");
    for login in [&w.other_head, &w.other_admin, &w.teacher, &w.student] {
        let jar = w.cookie(login).await;
        let csrf = w.csrf(&jar).await;
        assert_eq!(
            w.send(get(&console, &jar)).await.status,
            StatusCode::FORBIDDEN,
            "{login}"
        );
        assert_eq!(
            w.send(get(&service, &jar)).await.status,
            StatusCode::FORBIDDEN,
            "{login}"
        );
        for (action, form) in [
            ("desactiver", String::new()),
            ("approuver", "&version=1.0.0".to_owned()),
            ("droits", "&cell=echo.admin%7Celeve".to_owned()),
        ] {
            let answer = w
                .send(post_form(
                    &format!("{service}/{action}"),
                    &jar,
                    &format!("_csrf={csrf}{form}"),
                ))
                .await;
            assert_eq!(answer.status, StatusCode::FORBIDDEN, "{login} {action}");
        }
    }
    assert!(
        !w.grants()
            .await
            .contains(&("echo.admin".to_owned(), Profile::Eleve))
    );
    let enabled = w
        .send(get(&w.app_path("/vue?vue=x"), &w.cookie(&w.student).await))
        .await;
    assert_ne!(enabled.status, StatusCode::NOT_FOUND, "still enabled");

    // The other school's head manages their own school only: enabling there is theirs.
    let other = w.cookie(&w.other_head).await;
    let own = format!("/e/{}/services/essai/echo", w.other_uai);
    assert_eq!(w.send(get(&own, &other)).await.status, StatusCode::OK);

    // The head here: cells of undeclared permissions or of another service are ignored.
    let head = w.cookie(&w.head).await;
    let page = w.send(get(&service, &head)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(!page.body.contains("<script>alert"), "{}", page.body);
    assert!(!page.body.contains("<b>hostile</b>"), "{}", page.body);
    assert!(!page.body.contains("<i>l"), "{}", page.body);
    let csrf = csrf_of(&page.body);
    let before = w.grants().await;
    let saved = w
        .send(post_form(
            &format!("{service}/droits"),
            &head,
            &format!(
                "_csrf={csrf}&cell=echo.voir%7Celeve&cell=echo.voir%7Censeignant&cell=echo.voir%7Cdirection&cell=echo.voir%7Cparent&cell=echo.admin%7Cdirection&cell=echo.fantome%7Celeve&cell=annuaire.adultes%7Celeve&cell=echo.voir%7Cinconnu"
            ),
        ))
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let after = w.grants().await;
    assert_eq!(before.len(), after.len(), "{before:?} → {after:?}");
    assert!(
        !after
            .iter()
            .any(|(p, _)| p == "echo.fantome" || p == "annuaire.adultes")
    );
    let core =
        w.t.db
            .grant_matrix(&w.establishment_id, "core")
            .await
            .expect("core grants");
    assert!(!core.contains(&("annuaire.adultes".to_owned(), Profile::Eleve)));
    // A service that is not installed: 404, not a page.
    assert_eq!(
        w.send(get(&format!("{console}/essai/inconnu"), &head))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

/// Notifications are private, and the export holds only the person's own data, named safely.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notifications_and_the_export_hold_only_the_persons_own_data() {
    let w = World::new().await;
    let student = w.cookie(&w.student).await;
    let teacher = w.cookie(&w.teacher).await;
    // The teacher stores one file about the student and one about the classmate.
    for (path, whom) in [
        ("eleves/mien.txt", &w.student_id),
        ("eleves/autre.txt", &w.classmate_id),
    ] {
        let written = w
            .send(get(
                &w.app_path(&format!(
                    "/fichier?chemin={}&type=text/plain&contenu=secret-{whom}&pour={whom}",
                    enc(path)
                )),
                &teacher,
            ))
            .await;
        assert!(written.body.contains("écrit : Ok"), "{}", written.body);
    }
    // The student uploads a file under a traversal name.
    let csrf = w.csrf(&student).await;
    let boundary = "Bnd9";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"_csrf\"\r\n\r\n{csrf}\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"f\"; filename=\"../../../../evil.sh\"\r\nContent-Type: text/plain\r\n\r\nbonjour\r\n--{boundary}--\r\n"
    );
    let uploaded = w
        .send(
            request(Method::POST, &w.app_path("/ecrire"), &student)
                .header(
                    header::CONTENT_TYPE,
                    format!("multipart/form-data; boundary={boundary}"),
                )
                .body(Body::from(body))
                .expect("request"),
        )
        .await;
    assert_eq!(uploaded.status, StatusCode::OK, "{}", uploaded.body);
    assert!(uploaded.body.contains("/evil.sh"), "{}", uploaded.body);
    assert!(!uploaded.body.contains(".."), "{}", uploaded.body);

    // A notification for the classmate is not the student's.
    let sent = w
        .send(get(
            &w.app_path(&format!(
                "/notifier?pour={}&titre=Priv%C3%A9",
                w.classmate_id
            )),
            &teacher,
        ))
        .await;
    assert!(sent.body.contains("notifié : Ok"), "{}", sent.body);
    let list = w.send(get("/notifications", &student)).await;
    assert!(!list.body.contains("Privé"), "{}", list.body);
    // A parent of another family, or someone of the other school, cannot be notified.
    let other_head_id =
        w.t.db
            .user_by_login(&w.other_head)
            .await
            .expect("user")
            .expect("exists")
            .id;
    let denied = w
        .send(get(
            &w.app_path(&format!("/notifier?pour={other_head_id}&titre=x")),
            &teacher,
        ))
        .await;
    assert!(denied.body.contains("Denied"), "{}", denied.body);

    // The export: the student's own file and upload, never the classmate's.
    let (status, bytes) = w.send_bytes(get("/mon-compte/mes-donnees", &student)).await;
    assert_eq!(status, StatusCode::OK);
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("a ZIP");
    let names: Vec<String> = zip
        .file_names()
        .map(|n| n.expect("entry name").into_owned())
        .collect();
    for name in &names {
        assert!(
            !name.starts_with('/') && !name.split('/').any(|s| s == ".." || s.is_empty()),
            "unsafe entry {name}"
        );
    }
    let dir = format!("extensions/essai/echo/{}", w.uai);
    assert!(
        names.contains(&format!("{dir}/fichiers/eleves/mien.txt")),
        "{names:?}"
    );
    assert!(names.iter().any(|n| n.ends_with("/evil.sh")), "{names:?}");
    assert!(!names.iter().any(|n| n.contains("autre")), "{names:?}");
    let mut all = String::new();
    for i in 0..zip.len() {
        let mut f = zip.by_index(i).expect("entry");
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut f, &mut s);
        all.push_str(&s);
    }
    assert!(!all.contains(&format!("secret-{}", w.classmate_id)));
    assert!(!all.contains("Privé"));
    assert!(!all.contains("csrf_token") && !all.contains("token_digest"));
    let _ = &w.data;
}

/// Body limits: core routes stay within 1 MiB; plugin forms within 256 KiB of fields and
/// 10 files; a refused multipart leaves no file behind.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_are_capped_on_core_and_plugin_routes() {
    let w = World::new().await;
    let jar = w.cookie(&w.student).await;
    let csrf = w.csrf(&jar).await;
    let big = format!("_csrf={csrf}&a={}", "x".repeat(2 << 20));
    let core = w
        .send(post_form("/notifications/preference", &jar, &big))
        .await;
    assert!(
        core.status == StatusCode::PAYLOAD_TOO_LARGE || core.status == StatusCode::BAD_REQUEST,
        "{}",
        core.status
    );
    let login = w
        .send(
            request(Method::POST, "/connexion", "")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header(header::CONTENT_LENGTH, big.len())
                .body(Body::from(big.clone()))
                .expect("request"),
        )
        .await;
    assert_eq!(login.status, StatusCode::PAYLOAD_TOO_LARGE);
    let flux = w.send(post_form(&w.app_path("/_flux"), &jar, &big)).await;
    assert!(
        flux.status == StatusCode::PAYLOAD_TOO_LARGE || flux.status == StatusCode::BAD_REQUEST,
        "{}",
        flux.status
    );
    let plugin = w.send(post_form(&w.app_path("/ecrire"), &jar, &big)).await;
    assert_eq!(plugin.status, StatusCode::PAYLOAD_TOO_LARGE);
    let json = w
        .send(
            request(Method::POST, &w.app_path("/ecrire"), &jar)
                .header(header::CONTENT_TYPE, "application/json")
                .header("X-CSRF-Token", &csrf)
                .body(Body::from(format!(
                    "{{\"a\":\"{}\"}}",
                    "x".repeat(300 << 10)
                )))
                .expect("request"),
        )
        .await;
    assert_eq!(json.status, StatusCode::PAYLOAD_TOO_LARGE);
    // Many fields: refused.
    let many: String = (0..600).map(|i| format!("&f{i}=1")).collect();
    let fields = w
        .send(post_form(
            &w.app_path("/ecrire"),
            &jar,
            &format!("_csrf={csrf}{many}"),
        ))
        .await;
    assert_eq!(fields.status, StatusCode::BAD_REQUEST);
    // Eleven small files: refused, none kept.
    let boundary = "Bnd11";
    let mut body =
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"_csrf\"\r\n\r\n{csrf}\r\n");
    for i in 0..11 {
        body.push_str(&format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"f{i}\"; filename=\"f{i}.txt\"\r\nContent-Type: text/plain\r\n\r\nx\r\n"
        ));
    }
    body.push_str(&format!("--{boundary}--\r\n"));
    let files = w
        .send(
            request(Method::POST, &w.app_path("/fichier"), &jar)
                .header(
                    header::CONTENT_TYPE,
                    format!("multipart/form-data; boundary={boundary}"),
                )
                .body(Body::from(body))
                .expect("request"),
        )
        .await;
    assert_eq!(files.status, StatusCode::BAD_REQUEST, "{}", files.body);
    assert_eq!(w.files_held().await, 0, "no file kept");
}

/// A token route answering a view is a portal page whose frame copies the request's path and
/// query into its "come back here" fields (`Frame::path`, from `Visitor::path`): the feed token
/// lands in the page's HTML (and in `/connexion?suivant=` redirects and debug request logs).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_feed_token_is_not_copied_into_pages() {
    let w = World::new().await;
    let jar = w.cookie(&w.student).await;
    let flux = w.app_path("/_flux");
    let csrf = csrf_of(&w.send(get(&flux, &jar)).await.body);
    let created = w
        .send(post_form(
            &flux,
            &jar,
            &format!("_csrf={csrf}&action=creer"),
        ))
        .await;
    let start = created.body.find("?jeton=").expect("the address") + "?jeton=".len();
    let token = created.body[start..start + 64].to_owned();
    let page = w
        .send(get(&w.app_path(&format!("/flux.ics?jeton={token}")), ""))
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(
        !page.body.contains(&token),
        "the token is in the page: {}",
        page.body
    );
}
