//! `docs/writing-a-plugin.md` kept true. Its fenced blocks carry attributes after the language:
//!
//! - `file=PATH`: the block is the whole file `PATH` of the repository, or with `lines=A-B`
//!   exactly its lines A to B; every source file of the example is shown somewhere;
//! - `step`: a shell step of the guide, run here in order, for real, with `sh -eu` in the
//!   example's directory (`examples/hello-plugin`), the real `preau` binary first on `PATH`;
//! - `config`: the instance's `preau.toml` the steps use, with `ed25519:…` standing for the
//!   publisher's public key.
//!
//! The steps build the example for `wasm32-wasip2`, make a publisher key, pack and sign, install
//! and enable the plugin on a demo instance (`preau demo --no-serve`, on a scratch database), as
//! the guide tells a collectivité's engineer to. Then the plugin answers through the portal's real
//! router: a pupil reads the home page, has a form refused then accepted and finds the note in the
//! listing; a teacher of the class writes one, and the pupil finds its notification in
//! `/notifications`. Last, `preau demo --install-only` installs the example without enabling it.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use preau_core::api::AppState;
use preau_core::clock::{Clock, ClockOverride};
use preau_core::config::Config;
use preau_core::db::identity::GroupKind;
use preau_core::server;
use preau_core::testing::TestDb;
use tower::ServiceExt;

use crate::support::{preau, preau_binary, succeeded};

const GUIDE: &str = "docs/writing-a-plugin.md";
const EXAMPLE: &str = "examples/hello-plugin";
const PASSWORD: &str = "correct horse";
/// Collège Condorcet, in the demo: the establishment the guide's `$UAI` names.
const UAI: &str = "0750652B";

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the repository")
        .to_path_buf()
}

/// A fenced block of the guide: its info string's words and its text.
#[derive(Debug)]
struct Block {
    /// The line of the opening fence, 1-based.
    line: usize,
    /// The words after the fence (`rust`, `file=…`, `step`…).
    info: Vec<String>,
    /// Its lines, each followed by `\n`.
    text: String,
}

impl Block {
    fn attr(&self, name: &str) -> Option<&str> {
        self.info
            .iter()
            .find_map(|w| w.strip_prefix(name)?.strip_prefix('='))
    }

    fn has(&self, word: &str) -> bool {
        self.info.iter().any(|w| w == word)
    }
}

/// The fenced blocks of `markdown` (fences of three or more backticks, closed by the same).
fn blocks(markdown: &str) -> Vec<Block> {
    let mut out = Vec::new();
    let mut open: Option<(String, Block)> = None;
    for (i, line) in markdown.lines().enumerate() {
        match &mut open {
            None => {
                let ticks = line.len() - line.trim_start_matches('`').len();
                if ticks >= 3 {
                    let info = line[ticks..]
                        .split_whitespace()
                        .map(str::to_owned)
                        .collect();
                    open = Some((
                        line[..ticks].to_owned(),
                        Block {
                            line: i + 1,
                            info,
                            text: String::new(),
                        },
                    ));
                }
            }
            Some((fence, block)) => {
                if line.trim_end() == fence.as_str() {
                    if let Some((_, block)) = open.take() {
                        out.push(block);
                    }
                } else {
                    block.text.push_str(line);
                    block.text.push('\n');
                }
            }
        }
    }
    assert!(open.is_none(), "{GUIDE}: a fenced block is not closed");
    out
}

fn guide() -> Vec<Block> {
    let text = std::fs::read_to_string(root().join(GUIDE)).expect("the guide");
    blocks(&text)
}

#[test]
fn the_guides_code_is_the_examples_code() {
    let blocks = guide();
    let mut shown: Vec<String> = Vec::new();
    for block in &blocks {
        let Some(path) = block.attr("file") else {
            continue;
        };
        let file = std::fs::read_to_string(root().join(path))
            .unwrap_or_else(|e| panic!("{GUIDE}:{}: {path}: {e}", block.line));
        let expected = match block.attr("lines") {
            None => file,
            Some(range) => {
                let (a, b) = range
                    .split_once('-')
                    .and_then(|(a, b)| Some((a.parse::<usize>().ok()?, b.parse::<usize>().ok()?)))
                    .unwrap_or_else(|| panic!("{GUIDE}:{}: lines=A-B", block.line));
                assert!(a >= 1 && a <= b, "{GUIDE}:{}: lines={range}", block.line);
                let lines: Vec<&str> = file.lines().collect();
                assert!(
                    b <= lines.len(),
                    "{GUIDE}:{}: {path} is shorter",
                    block.line
                );
                lines[a - 1..b].iter().map(|l| format!("{l}\n")).collect()
            }
        };
        assert!(
            block.text == expected,
            "{GUIDE}:{}: the block differs from {path}{}; copy the file (or the lines) again:\n{}",
            block.line,
            block
                .attr("lines")
                .map(|r| format!(" lines {r}"))
                .unwrap_or_default(),
            first_difference(&block.text, &expected)
        );
        shown.push(path.to_owned());
    }
    // Every source file of the example is in the guide.
    let mut sources = vec![
        format!("{EXAMPLE}/Cargo.toml"),
        format!("{EXAMPLE}/plugin.toml"),
    ];
    for dir in ["src", "tests"] {
        for entry in std::fs::read_dir(root().join(EXAMPLE).join(dir)).expect("example dir") {
            let name = entry.expect("entry").file_name();
            sources.push(format!("{EXAMPLE}/{dir}/{}", name.to_string_lossy()));
        }
    }
    for source in sources {
        assert!(shown.contains(&source), "{GUIDE} does not show {source}");
    }
}

/// Where `shown` and `file` part, for the failure message.
fn first_difference(shown: &str, file: &str) -> String {
    let (a, b): (Vec<&str>, Vec<&str>) = (shown.lines().collect(), file.lines().collect());
    for i in 0..a.len().max(b.len()) {
        let (x, y) = (a.get(i), b.get(i));
        if x != y {
            return format!(
                "line {} of the block: {:?}\n              file: {:?}",
                i + 1,
                x.copied().unwrap_or("(end)"),
                y.copied().unwrap_or("(end)")
            );
        }
    }
    "(a final newline)".into()
}

/// Builds the example as the guide does, once at a time (`cargo build` in its own `target/`).
fn build_example() {
    let _guard = build_lock().lock().unwrap_or_else(|e| e.into_inner());
    let mut cmd = shell("cargo build --release --target wasm32-wasip2");
    succeeded(&mut cmd);
}

/// `sh -eu -c script` in the example's directory, with `preau` and `cargo` on the `PATH` and the
/// outer build's cargo variables removed (they are for the test binary, not for the plugin).
fn shell(script: &str) -> Command {
    let mut path = vec![
        preau_binary()
            .parent()
            .expect("the binary's directory")
            .to_path_buf(),
    ];
    if let Some(dir) = std::env::var_os("CARGO")
        .map(PathBuf::from)
        .and_then(|c| c.parent().map(Path::to_path_buf))
    {
        path.push(dir);
    }
    path.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    let mut cmd = Command::new("sh");
    cmd.args(["-eu", "-c", script])
        .current_dir(root().join(EXAMPLE))
        .env("PATH", std::env::join_paths(path).expect("PATH"));
    for (name, _) in std::env::vars() {
        if name.starts_with("PREAU_") {
            cmd.env_remove(name);
        }
    }
    for name in ["RUSTFLAGS", "CARGO_TARGET_DIR", "CARGO_BUILD_TARGET"] {
        cmd.env_remove(name);
    }
    cmd.env("PREAU_TODAY", "2026-11-30")
        .env("RUST_BACKTRACE", "0");
    cmd
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_guides_steps_install_and_enable_the_example_and_it_works() {
    let blocks = guide();
    let steps: Vec<&Block> = blocks.iter().filter(|b| b.has("step")).collect();
    let commands: Vec<&str> = steps.iter().map(|b| b.text.as_str()).collect();
    for expected in [
        "cargo build --release --target wasm32-wasip2",
        "preau plugin keygen",
        "preau plugin pack",
        "preau plugin install",
        "preau plugin enable exemple:bonjour",
    ] {
        assert!(
            commands.iter().any(|c| c.contains(expected)),
            "{GUIDE} has no step running `{expected}`"
        );
    }
    let config: Vec<&Block> = blocks.iter().filter(|b| b.has("config")).collect();
    assert_eq!(config.len(), 1, "{GUIDE}: one `config` block");

    // The instance: the demo on a scratch database, with its accounts.
    let t = TestDb::new().await;
    let data = tempfile::tempdir().expect("temp dir");
    let accounts_file = data.path().join("accounts.json");
    succeeded(
        preau()
            .args(["demo", "--no-serve", "--password", PASSWORD])
            .arg("--data")
            .arg(data.path())
            .arg("--accounts-json")
            .arg(&accounts_file)
            .env("PREAU_DATABASE_URL", t.url.expose()),
    );
    let keys = tempfile::tempdir().expect("temp dir");
    let config_path = keys.path().join("preau.toml");

    // The guide's steps, in order; the `config` block is written once the key exists.
    for step in &steps {
        let public = keys.path().join("exemple.key.pub");
        if public.exists() && !config_path.exists() {
            let key = std::fs::read_to_string(&public).expect("public key");
            let text = config[0].text.replace("ed25519:…", key.trim());
            assert_ne!(
                text, config[0].text,
                "{GUIDE}: the config block names ed25519:…"
            );
            std::fs::write(&config_path, text).expect("preau.toml");
        }
        let mut cmd = shell(&step.text);
        cmd.env("KEYS", keys.path())
            .env("UAI", UAI)
            .env("PREAU_DATA_DIR", data.path())
            .env("PREAU_DATABASE_URL", t.url.expose());
        if config_path.exists() {
            cmd.env("PREAU_CONFIG", &config_path);
        }
        let _guard = step
            .text
            .contains("cargo build")
            .then(|| build_lock().lock().unwrap_or_else(|e| e.into_inner()));
        let out = cmd.output().expect("sh");
        assert!(
            out.status.success(),
            "{GUIDE}:{}: the step failed:\n{}\n{}{}",
            step.line,
            step.text,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert!(config_path.exists(), "the steps made no publisher key");
    let enabled = t.db.plugin_enablements().await.expect("enablements");
    assert!(
        enabled.iter().any(|e| e.plugin == "exemple:bonjour"),
        "{enabled:?}"
    );

    // Who uses it: a pupil of Collège Condorcet, and a teacher of the pupil's class.
    let accounts: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&accounts_file).expect("accounts"))
            .expect("json");
    let accounts = accounts.as_array().expect("a list");
    let active = |profile: &'static str| {
        accounts.iter().filter(move |a| {
            a["activation_code"].is_null()
                && a["roles"].as_array().is_some_and(Vec::is_empty)
                && a["attachments"].as_array().is_some_and(|at| {
                    at.len() == 1 && at[0]["uai"] == UAI && at[0]["profile"] == profile
                })
        })
    };
    let student = active("eleve")
        .next()
        .and_then(|a| a["login"].as_str())
        .expect("a pupil")
        .to_owned();
    let student_id =
        t.db.user_by_login(&student)
            .await
            .expect("user")
            .expect("exists")
            .id;
    let clock = Clock::new(
        chrono_tz::Europe::Paris,
        Some(ClockOverride::parse("2026-11-30").expect("day")),
    );
    let year = preau_core::calendar::school_year_id(clock.today());
    let class =
        t.db.class_groups_of(&student_id, &year)
            .await
            .expect("classes")
            .into_iter()
            .find(|c| c.kind == GroupKind::Class)
            .expect("the pupil's class");
    let teachers: Vec<String> =
        t.db.teaching_assignments_for(&class.id)
            .await
            .expect("teachings")
            .into_iter()
            .map(|a| a.teacher.login)
            .collect();
    let teacher = active("enseignant")
        .filter_map(|a| a["login"].as_str())
        .find(|login| teachers.iter().any(|t| t == login))
        .expect("an active teacher of the class")
        .to_owned();

    // The portal, on the same database and data directory.
    let mut config = Config::load(None, Vec::new()).expect("defaults");
    config.data_dir = data.path().to_path_buf();
    let portal = Portal {
        app: server::router(AppState::new(t.db.clone(), clock, Arc::new(config))),
    };
    let base = format!("/e/{UAI}/apps/exemple/bonjour");

    let pupil = portal.sign_in(&student).await;
    let home = portal.send(get(&base, &pupil)).await;
    assert_eq!(home.status, StatusCode::OK, "{}", home.body);
    assert!(home.body.contains("Mots de la classe"), "{}", home.body);

    // The form: refused without a text, the error under the field; then accepted.
    let form = portal.send(get(&format!("{base}/ecrire"), &pupil)).await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    let csrf = csrf_of(&form.body);
    let refused = portal
        .send(post_form(
            &format!("{base}/ecrire"),
            &pupil,
            &format!("_csrf={csrf}&classe={}&texte=", class.id),
        ))
        .await;
    assert_eq!(refused.status, StatusCode::OK, "{}", refused.body);
    assert!(
        refused.body.contains("Ce champ est obligatoire."),
        "{}",
        refused.body
    );
    let accepted = portal
        .send(post_form(
            &format!("{base}/ecrire"),
            &pupil,
            &format!("_csrf={csrf}&classe={}&texte=Qui+a+mon+compas", class.id),
        ))
        .await;
    assert_eq!(accepted.status, StatusCode::SEE_OTHER, "{}", accepted.body);
    let listing = format!("{base}/mots?classe={}", class.id);
    assert_eq!(accepted.location.as_deref(), Some(listing.as_str()));
    let list = portal.send(get(&listing, &pupil)).await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.body);
    assert!(list.body.contains("Qui a mon compas"), "{}", list.body);

    // A teacher of the class writes: the pupil is notified.
    let teaching = portal.sign_in(&teacher).await;
    let form = portal.send(get(&format!("{base}/ecrire"), &teaching)).await;
    let csrf = csrf_of(&form.body);
    let written = portal
        .send(post_form(
            &format!("{base}/ecrire"),
            &teaching,
            &format!("_csrf={csrf}&classe={}&texte=Contr%C3%B4le+lundi", class.id),
        ))
        .await;
    assert_eq!(written.status, StatusCode::SEE_OTHER, "{}", written.body);
    let list = portal.send(get(&listing, &pupil)).await;
    let (newest, older) = (
        list.body
            .find("Contrôle lundi")
            .expect("the teacher's note"),
        list.body
            .find("Qui a mon compas")
            .expect("the pupil's note"),
    );
    assert!(newest < older, "newest first");
    let bell = portal.send(get("/notifications", &pupil)).await;
    assert_eq!(bell.status, StatusCode::OK, "{}", bell.body);
    for title in [
        format!("Nouveau mot en {}", class.name),
        format!("New note in {}", class.name),
    ] {
        assert!(bell.body.contains(&escape(&title)), "{}", bell.body);
    }
    assert!(bell.body.contains("Contrôle lundi"), "{}", bell.body);
}

#[tokio::test]
async fn the_demo_installs_the_example_without_enabling_it() {
    build_example();
    let t = TestDb::new().await;
    let data = tempfile::tempdir().expect("temp dir");
    let out = succeeded(
        preau()
            .args(["demo", "--no-serve", "--password", PASSWORD])
            .arg("--data")
            .arg(data.path())
            .arg("--install-only")
            .arg(root().join(EXAMPLE))
            .env("PREAU_DATABASE_URL", t.url.expose()),
    );
    let out = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.contains("exemple:bonjour 0.1.0") && out.contains("to enable"),
        "{out}"
    );
    let installs = t.db.plugin_installs().await.expect("installs");
    assert_eq!(installs.len(), 1);
    assert!(installs[0].signed_by.is_some(), "signed by the demo key");
    assert!(
        t.db.plugin_enablements()
            .await
            .expect("enablements")
            .is_empty(),
        "enabled nowhere"
    );
}

/// One build of the example at a time in this test binary.
fn build_lock() -> &'static Mutex<()> {
    static LOCK: Mutex<()> = Mutex::new(());
    &LOCK
}

/// The portal's router.
struct Portal {
    app: Router,
}

struct Answer {
    status: StatusCode,
    location: Option<String>,
    body: String,
}

impl Portal {
    async fn send(&self, request: Request<Body>) -> Answer {
        let response = self.app.clone().oneshot(request).await.expect("response");
        let status = response.status();
        let location = response
            .headers()
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 22)
            .await
            .expect("body");
        Answer {
            status,
            location,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    /// Signs `login` in with the login form (accepting the charter if owed): the `Cookie`
    /// header to send.
    async fn sign_in(&self, login: &str) -> String {
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
                    PASSWORD.replace(' ', "+")
                ),
            ))
            .await
            .expect("response");
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "sign-in {login}");
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

/// The hidden `_csrf` value of a page.
fn csrf_of(html: &str) -> String {
    let marker = "name=\"_csrf\" value=\"";
    let start = html.find(marker).expect("a form with _csrf") + marker.len();
    let end = html[start..].find('"').expect("end") + start;
    html[start..end].to_owned()
}

/// `text` as the portal's templates escape it.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#x27;")
}
