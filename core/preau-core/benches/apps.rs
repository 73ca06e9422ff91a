//! Plugins in the portal, through the real router on the demo data (SQLite by default;
//! PostgreSQL when `PREAU_TEST_DATABASE_URL` is set), side by side in one run:
//! - `page/plugin`: a signed-in student's GET of a page of the `trivial` test plugin (session,
//!   rights, enablement, the call, the view checked and rendered in the frame);
//! - `page/native`: the same page served by a native core route doing the same session and
//!   rights checks and rendering the same view through the same renderer — the ratio of the two
//!   is the plugin's overhead;
//! - `page_16_in_flight/{plugin,native}`: the same two pages, 16 requests at once (criterion
//!   reports the time per iteration and the requests per second);
//! - `page/interleaved` (printed): the two pages one after the other, 3,000 times, and the
//!   ratio of their medians, which drifts of the machine between two criterion groups do not
//!   shift;
//! - `dispatch_render`: what a plugin page adds, alone: resolving the running version, the call
//!   and the rendering of its view;
//! - `dashboard/10_widgets`: the home page with ten enabled plugins' widgets.
//!
//! Run: `cargo bench -p preau-core --bench apps`.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{Request, StatusCode, header};
use axum::response::Response;
use axum::routing::get;
use criterion::{Criterion, criterion_group, criterion_main};
use preau_core::api::AppState;
use preau_core::apps::render;
use preau_core::clock::{Clock, ClockOverride};
use preau_core::config::Config;
use preau_core::plugins::Lifecycle;
use preau_core::portal::error::PageError;
use preau_core::portal::session::SignedIn;
use preau_core::testing::TestDb;
use tower::ServiceExt;

const VIEW: &str =
    r#"{"schema":"view/1.0","title":"Bonjour","body":[{"kind":"text","text":"Bonjour !"}]}"#;
const PASSWORD: &str = "Banc-d-essai-2026";
/// Requests at once in the `page_…_in_flight` group.
const IN_FLIGHT: usize = 16;

fn manifest(id: &str) -> String {
    format!(
        r#"id = "{id}"
version = "1.0.0"
licence = "MIT"
component = "trivial.wasm"
host_api = "^1.0"
[name]
fr = "Bonjour"
en = "Hello"
[description]
fr = "Un service d'essai."
en = "A test service."
[[permissions]]
id = "voir"
family = "consultation"
label = {{ fr = "Voir", en = "See" }}
defaults = ["eleve", "enseignant", "parent"]
[[routes]]
path = "/"
permission = "voir"
auth = "user"
[[widgets]]
id = "accueil"
title = {{ fr = "Accueil", en = "Home" }}
permission = "voir"
"#
    )
}

/// The same page as the plugin's, served by the core itself: the same checks, the same view.
async fn native(State(state): State<AppState>, user: SignedIn) -> Result<Response, PageError> {
    let lang = user.visitor.tr.lang;
    let uai: preau_core::identity::Uai =
        "0750652B".parse().map_err(|_| PageError::not_found(lang))?;
    let establishment = state
        .establishments
        .by_uai(&state.db, &uai)
        .await
        .map_err(|e| PageError::from_db(e, lang))?
        .ok_or_else(|| PageError::not_found(lang))?;
    let access = preau_core::access::Access::load(&state.db, &user.session.user_id)
        .await
        .map_err(|e| PageError::from_db(e, lang))?;
    let allowed = preau_core::rights::authorize_named(
        &state.db,
        &access,
        &establishment.id,
        "bench:page",
        "voir",
    )
    .await
    .map_err(|e| PageError::from_db(e, lang))?;
    if !allowed {
        return Err(PageError::forbidden(lang));
    }
    preau_host::view::check(&serde_json::from_str(VIEW).map_err(|_| PageError::internal(lang))?)
        .map_err(|_| PageError::internal(lang))?;
    preau_core::apps::view_page(
        &state,
        &user.visitor,
        Some((&user, Some(&access))),
        "Bonjour",
        "/e/0750652B/apps/bench/page",
        VIEW,
        None,
    )
    .await
}

struct Bench {
    _t: TestDb,
    _data: tempfile::TempDir,
    state: AppState,
    app: Router,
    cookie: String,
    establishment_id: String,
}

async fn send(app: &Router, path: &str, cookie: &str) -> (StatusCode, String) {
    let response = app
        .clone()
        .oneshot(
            Request::get(path)
                .header(header::COOKIE, cookie)
                .body(Body::empty())
                .expect("request"),
        )
        .await
        .expect("response");
    let status = response.status();
    let body = axum::body::to_bytes(response.into_body(), 1 << 22)
        .await
        .expect("body");
    (status, String::from_utf8_lossy(&body).into_owned())
}

async fn setup(widget_plugins: usize) -> Bench {
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
    let student = demo
        .showcase()
        .iter()
        .find(|(p, _)| *p == "eleve")
        .map(|(_, a)| a.login.clone())
        .expect("student");
    let uai: preau_core::identity::Uai = "0750652B".parse().expect("uai");
    let establishment_id =
        t.db.establishment(&uai)
            .await
            .expect("read")
            .expect("college")
            .id;
    let lifecycle = Lifecycle::new(t.db.clone(), clock, data.path(), Vec::new(), "bench");
    let component = preau_host::testing::test_plugin("trivial");
    let ids: Vec<String> = std::iter::once("bench:page".to_owned())
        .chain((0..widget_plugins).map(|i| format!("bench:widget-{i}")))
        .collect();
    for id in &ids {
        let dir = data.path().join(id.replace(':', "-"));
        std::fs::create_dir_all(&dir).expect("dir");
        std::fs::write(dir.join("trivial.wasm"), &component).expect("component");
        std::fs::write(dir.join("plugin.toml"), manifest(id)).expect("manifest");
        let package = dir.with_extension("preau");
        std::fs::write(&package, preau_package::pack(&dir).expect("pack")).expect("package");
        lifecycle.install(&package, true).await.expect("install");
        lifecycle.enable(id, &uai, None).await.expect("enable");
    }
    let mut config = Config::load(None, Vec::new()).expect("config");
    config.data_dir = data.path().to_path_buf();
    let state = AppState::new(t.db.clone(), clock, Arc::new(config));
    let app = preau_core::server::router(state.clone()).merge(
        Router::new()
            .route("/natif", get(native))
            .with_state(state.clone()),
    );
    // Sign in through the login form, accepting the charter if the account owes it.
    let (_, login_page) = send(&app, "/connexion", "").await;
    let marker = "name=\"_csrf\" value=\"";
    let start = login_page.find(marker).expect("csrf") + marker.len();
    let pre = login_page[start..start + 64].to_owned();
    let response = app
        .clone()
        .oneshot(
            Request::post("/connexion")
                .header(header::COOKIE, format!("preau_csrf={pre}"))
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(format!(
                    "_csrf={pre}&login={student}&password={PASSWORD}"
                )))
                .expect("request"),
        )
        .await
        .expect("login");
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
        .expect("session");
    let cookie = format!("preau_csrf={pre}; preau_session={session}");
    Bench {
        _t: t,
        _data: data,
        state,
        app,
        cookie,
        establishment_id,
    }
}

fn pages(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let b = rt.block_on(setup(10));
    let plugin_path = "/e/0750652B/apps/bench/page";
    // The two pages answer, and say the same thing.
    let (status, plugin_html) = rt.block_on(send(&b.app, plugin_path, &b.cookie));
    assert_eq!(status, StatusCode::OK, "{plugin_html}");
    let (status, native_html) = rt.block_on(send(&b.app, "/natif", &b.cookie));
    assert_eq!(status, StatusCode::OK, "{native_html}");
    assert!(plugin_html.contains("<p>Bonjour !</p>") && native_html.contains("<p>Bonjour !</p>"));
    let (status, home) = rt.block_on(send(&b.app, "/", &b.cookie));
    assert_eq!(status, StatusCode::OK);
    assert_eq!(home.matches("class=\"card widget\"").count(), 11, "{home}");

    interleaved(&rt, &b, plugin_path);

    let mut group = c.benchmark_group("page");
    group.bench_function("plugin", |bench| {
        bench
            .to_async(&rt)
            .iter(|| send(&b.app, plugin_path, &b.cookie))
    });
    group.bench_function("native", |bench| {
        bench
            .to_async(&rt)
            .iter(|| send(&b.app, "/natif", &b.cookie))
    });
    group.finish();

    // The same two pages with IN_FLIGHT requests at once, as a busy server has them: while one
    // request waits for the database, the others run, so the time per request is what the
    // page costs the server rather than how long one client waits.
    let mut group = c.benchmark_group(format!("page_{IN_FLIGHT}_in_flight"));
    group.throughput(criterion::Throughput::Elements(IN_FLIGHT as u64));
    for (name, path) in [("plugin", plugin_path), ("native", "/natif")] {
        group.bench_function(name, |bench| {
            bench.to_async(&rt).iter(|| {
                futures_util::future::join_all(
                    (0..IN_FLIGHT).map(|_| send(&b.app, path, &b.cookie)),
                )
            })
        });
    }
    group.finish();

    c.bench_function("dispatch_render", |bench| {
        bench.to_async(&rt).iter(|| async {
            let loaded = b
                .state
                .plugins
                .running(&b.establishment_id, "bench:page")
                .await
                .expect("running")
                .expect("enabled");
            let ctx =
                preau_host::CallContext::new("bench:page", "0750652B", Some("u".into()), "bench");
            let answer = b
                .state
                .plugins
                .handle(
                    &loaded,
                    ctx,
                    preau_host::RouteRequest {
                        method: "GET".into(),
                        path: "/".into(),
                        ..Default::default()
                    },
                )
                .await
                .expect("answer");
            let preau_host::Response::View(view) = answer else {
                panic!("a view")
            };
            let value: serde_json::Value = serde_json::from_str(&view).expect("json");
            render::body(
                &value,
                &render::RenderContext {
                    base: "/e/0750652B/apps/bench/page",
                    csrf: "",
                    lang: preau_core::portal::i18n::Lang::Fr,
                    id_prefix: "",
                    title_level: 1,
                },
            )
        })
    });

    let mut group = c.benchmark_group("dashboard");
    group.bench_function("10_widgets", |bench| {
        bench.to_async(&rt).iter(|| send(&b.app, "/", &b.cookie))
    });
    group.finish();
}

/// Requests of each page in the interleaved measurement.
const INTERLEAVED: usize = 3000;

/// The plugin page and the native page one after the other, alternating which goes first,
/// `INTERLEAVED` times: the medians and their ratio, printed. Criterion measures one page for
/// seconds, then the other; whatever else the machine does in between shifts one figure and not
/// the other, which this pairing cancels.
fn interleaved(rt: &tokio::runtime::Runtime, b: &Bench, plugin_path: &str) {
    let time = |path: &str| {
        let started = std::time::Instant::now();
        let (status, _) = rt.block_on(send(&b.app, path, &b.cookie));
        assert_eq!(status, StatusCode::OK);
        started.elapsed()
    };
    let (mut plugin, mut native) = (Vec::new(), Vec::new());
    for round in 0..INTERLEAVED + 200 {
        let (p, n) = if round % 2 == 0 {
            let p = time(plugin_path);
            (p, time("/natif"))
        } else {
            let n = time("/natif");
            (time(plugin_path), n)
        };
        // The first 200 rounds warm up.
        if round >= 200 {
            plugin.push(p);
            native.push(n);
        }
    }
    let median = |v: &mut Vec<std::time::Duration>| {
        v.sort();
        v[v.len() / 2]
    };
    let (p, n) = (median(&mut plugin), median(&mut native));
    eprintln!(
        "page/interleaved: plugin {:.0} µs, native {:.0} µs, ratio {:.2} (medians of {INTERLEAVED} each)",
        p.as_secs_f64() * 1e6,
        n.as_secs_f64() * 1e6,
        p.as_secs_f64() / n.as_secs_f64()
    );
}

criterion_group!(benches, pages);
criterion_main!(benches);
