//! Authentication through the real router, on both engines: login, bearer tokens, throttling,
//! logout, expiry, CSRF on cookie sessions, connection traces.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use preau_core::api::AppState;
use preau_core::auth::password;
use preau_core::auth::token::Token;
use preau_core::clock::{Clock, ClockOverride};
use preau_core::config::Config;
use preau_core::db::auth::{NewSession, SessionKind};
use preau_core::db::identity::NewUser;
use preau_core::identity::Profile;
use preau_core::server;
use preau_core::testing::TestDb;
use serde_json::{Value, json};
use tower::ServiceExt;

const PASSWORD: &str = "Marelle-42!";

struct World {
    t: TestDb,
    config: Arc<Config>,
    user_id: String,
}

fn clock_at(instant: &str) -> Clock {
    Clock::new(
        chrono_tz::Europe::Paris,
        Some(ClockOverride::parse(instant).expect("instant")),
    )
}

impl World {
    async fn new() -> World {
        let t = TestDb::new().await;
        let hash = password::hash(PASSWORD).expect("hash");
        let mut w = t.db.begin(0).await.expect("begin");
        let e = w
            .create_establishment(&preau_core::testing::college(750_652, "Collège Condorcet"))
            .await
            .expect("establishment");
        let u = w
            .create_user(&NewUser {
                first_name: "Claire".into(),
                last_name: "Petit".into(),
                password_hash: Some(hash),
                ..NewUser::default()
            })
            .await
            .expect("user");
        w.attach(&u.id, &e.id, Profile::Enseignant, None, &[])
            .await
            .expect("attach");
        w.commit().await.expect("commit");
        World {
            t,
            config: Arc::new(Config::load(None, Vec::new()).expect("defaults")),
            user_id: u.id,
        }
    }

    /// The router as it runs at `instant`.
    fn app(&self, instant: &str) -> Router {
        server::router(AppState::new(
            self.t.db.clone(),
            clock_at(instant),
            self.config.clone(),
        ))
    }
}

const T0: &str = "2026-11-30T08:00:00+01:00";

async fn call(app: &Router, request: Request<Body>) -> (StatusCode, Value) {
    let response = app.clone().oneshot(request).await.expect("response");
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .expect("body");
    let json = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes)
            .unwrap_or(Value::String(String::from_utf8_lossy(&bytes).into()))
    };
    (status, json)
}

fn login_request(login: &str, password: &str) -> Request<Body> {
    Request::post("/api/v1/auth/login")
        .header("content-type", "application/json")
        .header("user-agent", "preau-tests/1.0")
        .body(Body::from(
            json!({"login": login, "password": password}).to_string(),
        ))
        .expect("request")
}

fn get_with_bearer(path: &str, token: &str) -> Request<Body> {
    Request::get(path)
        .header("authorization", format!("Bearer {token}"))
        .body(Body::empty())
        .expect("request")
}

async fn sign_in(app: &Router) -> String {
    let (status, body) = call(app, login_request("claire.petit", PASSWORD)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["token"].as_str().expect("token").to_string()
}

#[tokio::test]
async fn login_gives_a_bearer_token_for_the_api() {
    let w = World::new().await;
    let app = w.app(T0);
    let token = sign_in(&app).await;
    let (status, me) = call(&app, get_with_bearer("/api/v1/me", &token)).await;
    assert_eq!(status, StatusCode::OK, "{me}");
    assert_eq!(me["login"], "claire.petit");
    assert_eq!(me["attachments"][0]["profile"], "enseignant");
    // Logins are case-insensitive.
    let (status, _) = call(&app, login_request("  Claire.Petit ", PASSWORD)).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn failures_look_the_same_whether_the_account_exists_or_not() {
    let w = World::new().await;
    let app = w.app(T0);
    let (s1, wrong_password) = call(&app, login_request("claire.petit", "Nope-1234")).await;
    let (s2, no_account) = call(&app, login_request("personne.inconnue", "Nope-1234")).await;
    assert_eq!(s1, StatusCode::UNAUTHORIZED);
    assert_eq!((s1, &wrong_password), (s2, &no_account));
    assert_eq!(wrong_password["error"]["code"], "login_failed");
    let (s, body) = call(
        &app,
        Request::post("/api/v1/auth/login")
            .header("content-type", "application/json")
            .body(Body::from("{\"login\": \"x\"'; DROP TABLE users; --"))
            .expect("request"),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["code"], "bad_request");
}

#[tokio::test]
async fn repeated_failures_lock_the_account_for_a_while() {
    let w = World::new().await;
    let app = w.app(T0);
    for _ in 0..5 {
        let (s, _) = call(&app, login_request("claire.petit", "Wrong-1234")).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
    }
    // Even the right password is refused while locked…
    let (s, body) = call(&app, login_request("claire.petit", PASSWORD)).await;
    assert_eq!(s, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_eq!(body["error"]["code"], "throttled");
    // …and accepted once the lock (15 minutes) has passed.
    let later = w.app("2026-11-30T08:16:00+01:00");
    let (s, _) = call(&later, login_request("claire.petit", PASSWORD)).await;
    assert_eq!(s, StatusCode::OK);
}

#[tokio::test]
async fn logout_revokes_the_token() {
    let w = World::new().await;
    let app = w.app(T0);
    let token = sign_in(&app).await;
    let logout = Request::post("/api/v1/auth/logout")
        .header("authorization", format!("Bearer {token}"))
        .body(Body::empty())
        .expect("request");
    let (s, _) = call(&app, logout).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, body) = call(&app, get_with_bearer("/api/v1/me", &token)).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"]["code"], "unauthenticated");
}

#[tokio::test]
async fn sessions_end_when_idle_or_too_old() {
    let w = World::new().await;
    let app = w.app(T0);
    let token = sign_in(&app).await;
    // Used after 1 h 59: still alive (idle timeout 2 h).
    let (s, _) = call(
        &w.app("2026-11-30T09:59:00+01:00"),
        get_with_bearer("/api/v1/me", &token),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    // Then unused for 2 h 01: gone.
    let (s, body) = call(
        &w.app("2026-11-30T12:01:00+01:00"),
        get_with_bearer("/api/v1/me", &token),
    )
    .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"]["code"], "session_expired");

    // Used every hour, a session still ends 12 h after login.
    let token = sign_in(&app).await;
    for hour in [
        "09", "10", "11", "12", "13", "14", "15", "16", "17", "18", "19",
    ] {
        let (s, _) = call(
            &w.app(&format!("2026-11-30T{hour}:00:00+01:00")),
            get_with_bearer("/api/v1/me", &token),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "at {hour}:00");
    }
    let (s, _) = call(
        &w.app("2026-11-30T20:00:01+01:00"),
        get_with_bearer("/api/v1/me", &token),
    )
    .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn cookie_sessions_need_the_csrf_token_to_change_state() {
    let w = World::new().await;
    let app = w.app(T0);
    let cookie = Token::generate();
    w.t.db
        .create_session(&NewSession {
            id_hash: &cookie.digest(),
            user_id: &w.user_id,
            kind: SessionKind::Cookie,
            csrf_token: "the-csrf-token",
            establishment_id: None,
            now_ms: clock_at(T0).now_ms(),
            expires_at: clock_at(T0).now_ms() + 3_600_000,
            ip: "127.0.0.1",
            user_agent: "test",
        })
        .await
        .expect("session");
    let with_cookie = |method: &str, csrf: Option<&str>| {
        let mut r = Request::builder()
            .method(method)
            .uri("/api/v1/me/sessions/others")
            .header(
                "cookie",
                format!("theme=dark; preau_session={}", cookie.expose()),
            );
        if let Some(csrf) = csrf {
            r = r.header("x-csrf-token", csrf);
        }
        r.body(Body::empty()).expect("request")
    };
    let (s, body) = call(&app, with_cookie("DELETE", None)).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert_eq!(body["error"]["code"], "csrf");
    let (s, _) = call(&app, with_cookie("DELETE", Some("the-csrf-token-x"))).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, body) = call(&app, with_cookie("DELETE", Some("the-csrf-token"))).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    // Reading needs no token.
    let (s, list) = call(
        &app,
        Request::get("/api/v1/me/sessions")
            .header("cookie", format!("preau_session={}", cookie.expose()))
            .body(Body::empty())
            .expect("request"),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(list[0]["current"], true);
    // A cookie token is not a bearer token, and the other way round.
    let (s, _) = call(&app, get_with_bearer("/api/v1/me", cookie.expose())).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn bearer_requests_skip_csrf_and_can_end_other_sessions() {
    let w = World::new().await;
    let app = w.app(T0);
    let first = sign_in(&app).await;
    let second = sign_in(&app).await;
    let (s, body) = call(
        &app,
        Request::delete("/api/v1/me/sessions/others")
            .header("authorization", format!("Bearer {second}"))
            .body(Body::empty())
            .expect("request"),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert_eq!(body["ended"], 1);
    let (s, _) = call(&app, get_with_bearer("/api/v1/me", &first)).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, _) = call(&app, get_with_bearer("/api/v1/me", &second)).await;
    assert_eq!(s, StatusCode::OK);
}

#[tokio::test]
async fn connections_are_traced() {
    let w = World::new().await;
    let app = w.app(T0);
    call(&app, login_request("claire.petit", "Wrong-1234")).await;
    let token = sign_in(&app).await;
    let traces = w.t.db.traces_of(&w.user_id, 10).await.expect("traces");
    assert_eq!(traces.len(), 1, "failures are traced without an account id");
    assert!(traces[0].success);
    assert_eq!(traces[0].event, "login");
    assert_eq!(traces[0].user_agent, "preau-tests/1.0");
    assert_eq!(traces[0].profiles, "enseignant");
    assert!(traces[0].establishment_id.is_some());
    // Purging by retention removes what is older than the limit.
    let purged =
        w.t.db
            .purge_traces(clock_at(T0).now_ms() + 60_000)
            .await
            .expect("purge");
    assert_eq!(purged, 2);
    drop(token);
}

#[tokio::test]
async fn a_departed_account_loses_its_sessions() {
    let w = World::new().await;
    let app = w.app(T0);
    let token = sign_in(&app).await;
    w.t.db
        .set_user_state(&w.user_id, "departed", clock_at(T0).now_ms())
        .await
        .expect("depart");
    let (s, _) = call(&app, get_with_bearer("/api/v1/me", &token)).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, _) = call(&app, login_request("claire.petit", PASSWORD)).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn purges_follow_the_configured_retention() {
    use preau_core::maintenance::run_purges;
    let w = World::new().await;
    let app = w.app(T0);
    let token = sign_in(&app).await;
    call(&app, login_request("claire.petit", "Wrong-1234")).await;
    // Nothing is due yet.
    let report = run_purges(&w.t.db, &clock_at(T0), &w.config)
        .await
        .expect("purge");
    assert_eq!(report.sessions + report.traces + report.departed_users, 0);
    // Three hours later the session has been idle too long; the traces stay a year.
    let report = run_purges(&w.t.db, &clock_at("2026-11-30T11:00:00+01:00"), &w.config)
        .await
        .expect("purge");
    assert_eq!((report.sessions, report.traces), (1, 0));
    let (s, _) = call(&app, get_with_bearer("/api/v1/me", &token)).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    // A departed account is purged after the delay (90 days by default), not before.
    w.t.db
        .set_user_state(&w.user_id, "departed", clock_at(T0).now_ms())
        .await
        .expect("depart");
    let report = run_purges(&w.t.db, &clock_at("2027-02-20T08:00:00+01:00"), &w.config)
        .await
        .expect("purge");
    assert_eq!(report.departed_users, 0);
    let report = run_purges(&w.t.db, &clock_at("2027-03-01T08:00:00+01:00"), &w.config)
        .await
        .expect("purge");
    assert_eq!(report.departed_users, 1);
    assert!(w.t.db.user(&w.user_id).await.expect("read").is_none());
    // The traces outlive the account, for their own retention (365 days).
    let report = run_purges(&w.t.db, &clock_at("2027-12-01T08:00:00+01:00"), &w.config)
        .await
        .expect("purge");
    assert_eq!(report.traces, 2, "the successful and the failed login");
}

/// A login request from `ip`, as the server's listener records the peer.
fn login_from(ip: [u8; 4], login: &str, password: &str) -> Request<Body> {
    let mut request = login_request(login, password);
    request
        .extensions_mut()
        .insert(axum::extract::ConnectInfo(std::net::SocketAddr::from((
            ip, 40_000,
        ))));
    request
}

/// Failed logins lock an ordinary address after 50 within 15 minutes, but an establishment's
/// NAT address (`login.school_networks`) only after its own bound: a morning of mistyped
/// passwords in a collège does not lock the whole school out. Each attempt names another
/// account, so that only the address counts.
#[tokio::test]
async fn a_school_network_has_its_own_bound_of_failed_logins() {
    let mut w = World::new().await;
    w.config = Arc::new(
        Config::load(
            None,
            vec![
                (
                    "PREAU_LOGIN_SCHOOL_NETWORKS".into(),
                    "203.0.113.0/24".into(),
                ),
                (
                    "PREAU_LOGIN_SCHOOL_NETWORK_MAX_FAILURES".into(),
                    "60".into(),
                ),
            ],
        )
        .expect("config"),
    );
    let app = w.app(T0);
    let fail_from = |ip: [u8; 4], from: usize, count: usize| {
        let app = app.clone();
        async move {
            for i in from..from + count {
                let (s, _) = call(&app, login_from(ip, &format!("inconnu.{i}"), "Nope-1234")).await;
                assert_eq!(s, StatusCode::UNAUTHORIZED, "attempt {i}");
            }
        }
    };
    let (home, school) = ([198, 51, 100, 7], [203, 0, 113, 9]);

    fail_from(home, 0, 50).await;
    let (s, body) = call(&app, login_from(home, "claire.petit", PASSWORD)).await;
    assert_eq!(s, StatusCode::TOO_MANY_REQUESTS, "{body}");

    fail_from(school, 0, 55).await;
    let (s, body) = call(&app, login_from(school, "claire.petit", PASSWORD)).await;
    assert_eq!(
        s,
        StatusCode::OK,
        "past 50 failures, the school still signs in: {body}"
    );
    fail_from(school, 55, 5).await;
    let (s, body) = call(&app, login_from(school, "claire.petit", PASSWORD)).await;
    assert_eq!(s, StatusCode::TOO_MANY_REQUESTS, "{body}");
}

#[tokio::test]
async fn parallel_guesses_do_not_outrun_the_throttle() {
    let w = World::new().await;
    let app = w.app(T0);
    let attempts: Vec<_> = (0..20)
        .map(|i| {
            let app = app.clone();
            tokio::spawn(async move {
                call(
                    &app,
                    login_request("claire.petit", &format!("Guess-{i:04}")),
                )
                .await
                .0
            })
        })
        .collect();
    let mut failed = 0;
    let mut throttled = 0;
    for a in attempts {
        match a.await.expect("attempt") {
            StatusCode::UNAUTHORIZED => failed += 1,
            StatusCode::TOO_MANY_REQUESTS => throttled += 1,
            other => panic!("unexpected {other}"),
        }
    }
    assert!(failed <= 5, "at most 5 guesses were checked, not {failed}");
    assert_eq!(failed + throttled, 20);
}

#[tokio::test]
async fn pages_cannot_be_framed_nor_leak_their_address() {
    let w = World::new().await;
    let app = w.app(T0);
    for path in ["/connexion", "/api/v1/me", "/healthz"] {
        let response = app
            .clone()
            .oneshot(Request::get(path).body(Body::empty()).expect("request"))
            .await
            .expect("response");
        let h = response.headers();
        assert_eq!(
            h.get("x-frame-options").and_then(|v| v.to_str().ok()),
            Some("DENY"),
            "{path}"
        );
        assert!(
            h.get("content-security-policy")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.contains("frame-ancestors 'none'")),
            "{path}"
        );
        assert_eq!(
            h.get("referrer-policy").and_then(|v| v.to_str().ok()),
            Some("no-referrer"),
            "{path}"
        );
    }
}
