//! The portal through the real router, on both engines: sign in with a cookie (a new session id
//! each time), CSRF on every state-changing form, the establishment switcher, the charter, the
//! password change, and bad input answered with a page — never a 500.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use preau_core::api::AppState;
use preau_core::auth::password;
use preau_core::clock::{Clock, ClockOverride};
use preau_core::config::Config;
use preau_core::db::identity::{NewEstablishment, NewUser, Relationship};
use preau_core::identity::{EstablishmentKind, EstablishmentState, Profile, Uai};
use preau_core::server;
use preau_core::testing::TestDb;
use tower::ServiceExt;

const PASSWORD: &str = "Marelle-42!";

struct World {
    t: TestDb,
    app: Router,
    parent_id: String,
}

async fn world() -> World {
    let t = TestDb::new().await;
    let hash = password::hash(PASSWORD).expect("hash");
    let mut w = t.db.begin(0).await.expect("begin");
    let mut schools = Vec::new();
    for (n, name) in [
        (750_652, "Collège Condorcet"),
        (750_700, "Lycée Jules-Ferry"),
    ] {
        schools.push(
            w.create_establishment(&preau_core::testing::college(n, name))
                .await
                .expect("establishment"),
        );
    }
    let parent = w
        .create_user(&NewUser {
            first_name: "Nadia".into(),
            last_name: "Haddad".into(),
            password_hash: Some(hash),
            charter_version: Some(1),
            ..NewUser::default()
        })
        .await
        .expect("parent");
    for (i, school) in schools.iter().enumerate() {
        let child = w
            .create_user(&NewUser {
                first_name: ["Inès", "Yanis"][i].into(),
                last_name: "Haddad".into(),
                ..NewUser::default()
            })
            .await
            .expect("child");
        w.attach(&child.id, &school.id, Profile::Eleve, None, &[])
            .await
            .expect("attach");
        w.attach(&parent.id, &school.id, Profile::Parent, None, &[])
            .await
            .expect("attach");
        w.link_family(&parent.id, &child.id, true, Relationship::Mother)
            .await
            .expect("link");
    }
    w.commit().await.expect("commit");
    let clock = Clock::new(
        chrono_tz::Europe::Paris,
        Some(ClockOverride::parse("2026-11-30").expect("day")),
    );
    let app = server::router(AppState::new(
        t.db.clone(),
        clock,
        Arc::new(Config::load(None, Vec::new()).expect("defaults")),
    ));
    World {
        t,
        app,
        parent_id: parent.id,
    }
}

struct Answer {
    status: StatusCode,
    location: Option<String>,
    cookies: Vec<String>,
    body: String,
}

async fn send(app: &Router, request: Request<Body>) -> Answer {
    let response = app.clone().oneshot(request).await.expect("response");
    let status = response.status();
    let location = response
        .headers()
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let cookies = response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .map(str::to_string)
        .collect();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 22)
        .await
        .expect("body");
    Answer {
        status,
        location,
        cookies,
        body: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

fn cookie_value(cookies: &[String], name: &str) -> Option<String> {
    cookies.iter().find_map(|c| {
        let first = c.split(';').next()?;
        let (k, v) = first.split_once('=')?;
        (k == name).then(|| v.to_string())
    })
}

fn get(path: &str, cookie: &str) -> Request<Body> {
    Request::get(path)
        .header(header::COOKIE, cookie)
        .header(header::ACCEPT_LANGUAGE, "fr")
        .body(Body::empty())
        .expect("request")
}

fn post(path: &str, cookie: &str, form: &str) -> Request<Body> {
    Request::post(path)
        .header(header::COOKIE, cookie)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(form.to_string()))
        .expect("request")
}

/// The hidden `_csrf` value of a page.
fn csrf_of(html: &str) -> String {
    let marker = "name=\"_csrf\" value=\"";
    let start = html.find(marker).expect("a form with _csrf") + marker.len();
    html[start..start + 64].to_string()
}

/// Signs in through the login form; returns the session cookie header value.
async fn sign_in(app: &Router, previous: &str) -> String {
    let page = send(app, get("/connexion", previous)).await;
    let pre = cookie_value(&page.cookies, "preau_csrf")
        .or_else(|| {
            previous
                .split("; ")
                .find_map(|c| c.strip_prefix("preau_csrf=").map(str::to_string))
        })
        .expect("pre-session csrf");
    let jar = format!("preau_csrf={pre}; {previous}");
    let answer = send(
        app,
        post(
            "/connexion",
            &jar,
            &format!("_csrf={pre}&login=nadia.haddad&password=Marelle-42%21&suivant=/mon-compte"),
        ),
    )
    .await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.body);
    assert_eq!(answer.location.as_deref(), Some("/mon-compte"));
    let session = cookie_value(&answer.cookies, "preau_session").expect("session cookie");
    let set = answer
        .cookies
        .iter()
        .find(|c| c.starts_with("preau_session="))
        .expect("set-cookie");
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Lax"),
        "{set}"
    );
    format!("preau_csrf={pre}; preau_session={session}")
}

/// Behind https the session and CSRF cookies are `__Host-` cookies (`Secure`, `Path=/`, no
/// `Domain`): a browser accepts them only from this host over https, and the server ignores a
/// cookie of the plain name, which a sibling sub-domain of the collectivité could have planted.
#[tokio::test]
async fn behind_https_the_session_and_csrf_cookies_are_host_only() {
    let w = world().await;
    let config = Config::load(
        None,
        vec![("PREAU_PUBLIC_URL".into(), "https://ent.example.fr".into())],
    )
    .expect("config");
    let app = server::router(AppState::new(
        w.t.db.clone(),
        Clock::new(
            chrono_tz::Europe::Paris,
            Some(ClockOverride::parse("2026-11-30").expect("day")),
        ),
        Arc::new(config),
    ));
    let page = send(&app, get("/connexion", "")).await;
    let set_csrf = page
        .cookies
        .iter()
        .find(|c| c.starts_with("__Host-preau_csrf="))
        .expect("a __Host- CSRF cookie");
    let pre = cookie_value(&page.cookies, "__Host-preau_csrf").expect("csrf");
    let jar = format!("__Host-preau_csrf={pre}");
    let answer = send(
        &app,
        post(
            "/connexion",
            &jar,
            &format!("_csrf={pre}&login=nadia.haddad&password=Marelle-42%21&suivant=/"),
        ),
    )
    .await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.body);
    let set_session = answer
        .cookies
        .iter()
        .find(|c| c.starts_with("__Host-preau_session="))
        .expect("a __Host- session cookie");
    for set in [set_csrf, set_session] {
        assert!(
            set.contains("; Secure") && set.contains("; Path=/") && !set.contains("Domain"),
            "{set}"
        );
    }
    let session = cookie_value(&answer.cookies, "__Host-preau_session").expect("session");
    let home = send(&app, get("/", &format!("__Host-preau_session={session}"))).await;
    assert_eq!(home.status, StatusCode::OK, "{}", home.body);
    // The same token under the plain name is not read, nor a plain CSRF cookie.
    let planted = send(&app, get("/", &format!("preau_session={session}"))).await;
    assert_eq!(planted.status, StatusCode::SEE_OTHER);
    assert!(
        planted
            .location
            .as_deref()
            .is_some_and(|l| l.starts_with("/connexion")),
        "{:?}",
        planted.location
    );
    let refused = send(
        &app,
        post(
            "/connexion",
            &format!("preau_csrf={pre}"),
            &format!("_csrf={pre}&login=nadia.haddad&password=Marelle-42%21&suivant=/"),
        ),
    )
    .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
}

#[tokio::test]
async fn signing_in_opens_a_new_session_each_time() {
    let w = world().await;
    let first = sign_in(&w.app, "").await;
    let home = send(&w.app, get("/", &first)).await;
    assert_eq!(home.status, StatusCode::OK, "{}", home.body);
    assert!(home.body.contains("Bonjour Nadia"));
    assert!(home.body.contains("Inès Haddad") && home.body.contains("Yanis Haddad"));
    // Signed in, the login page sends home.
    assert_eq!(
        send(&w.app, get("/connexion", &first))
            .await
            .location
            .as_deref(),
        Some("/")
    );
    // A session id planted in the browser (session fixation) is never adopted: signing in issues
    // a new one, and signing in again issues yet another.
    let planted = "preau_session=1111111111111111111111111111111111111111111111111111111111111111";
    let second = sign_in(&w.app, planted).await;
    assert!(!second.contains("preau_session=1111"), "{second}");
    assert_ne!(first, second);
    assert_eq!(send(&w.app, get("/", &first)).await.status, StatusCode::OK);
    assert_eq!(send(&w.app, get("/", &second)).await.status, StatusCode::OK);
    // Without a session, pages send to the login page and come back afterwards.
    let anonymous = send(&w.app, get("/mon-compte", "")).await;
    assert_eq!(
        anonymous.location.as_deref(),
        Some("/connexion?suivant=/mon-compte")
    );
}

#[tokio::test]
async fn every_state_changing_form_refuses_a_missing_or_wrong_csrf_token() {
    let w = world().await;
    let jar = sign_in(&w.app, "").await;
    let forms = [
        ("/connexion", "login=nadia.haddad&password=Marelle-42%21"),
        (
            "/premiere-connexion",
            "login=x&code=ABCDEFGH&password=a&confirm=a&accept=oui",
        ),
        ("/deconnexion", ""),
        ("/charte", "accept=oui"),
        (
            "/mon-compte/mot-de-passe",
            "current=Marelle-42%21&password=Nouveau-42%21&confirm=Nouveau-42%21",
        ),
        ("/mon-compte/sessions", ""),
        ("/langue", "langue=en&retour=/"),
        ("/etablissement", "uai=0750700D&retour=/"),
        ("/comptes/reinitialiser", "user=x&kind=activation_code"),
        (
            "/installation",
            "jeton=x&collectivite=a&first_name=a&last_name=b&password=x&confirm=x",
        ),
    ];
    for (path, fields) in forms {
        for csrf in [
            "",
            "_csrf=0000000000000000000000000000000000000000000000000000000000000000&",
        ] {
            let answer = send(&w.app, post(path, &jar, &format!("{csrf}{fields}"))).await;
            assert_eq!(answer.status, StatusCode::FORBIDDEN, "{path} with {csrf:?}");
            assert!(
                answer.body.contains("Le formulaire a expiré"),
                "{path}: {}",
                answer.body
            );
        }
    }
    // Nothing changed: the session is alive and the password is the old one.
    assert_eq!(send(&w.app, get("/", &jar)).await.status, StatusCode::OK);
    let stored =
        w.t.db
            .password_hash(&w.parent_id)
            .await
            .expect("read")
            .expect("hash");
    assert!(password::verify(&stored, PASSWORD));
}

#[tokio::test]
async fn a_person_with_two_establishments_switches_between_them() {
    let w = world().await;
    let jar = sign_in(&w.app, "").await;
    let home = send(&w.app, get("/", &jar)).await;
    assert!(
        home.body
            .contains("<option value=\"0750700D\">Lycée Jules-Ferry</option>"),
        "{}",
        home.body
    );
    let csrf = csrf_of(&home.body);
    let answer = send(
        &w.app,
        post(
            "/etablissement",
            &jar,
            &format!("_csrf={csrf}&uai=0750700D&retour=/"),
        ),
    )
    .await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER);
    let home = send(&w.app, get("/", &jar)).await;
    assert!(
        home.body.contains("<option value=\"0750700D\" selected>"),
        "{}",
        home.body
    );
    // An establishment the person is not attached to is refused.
    let mut other = w.t.db.begin(0).await.expect("begin");
    other
        .create_establishment(&NewEstablishment {
            uai: Uai::from_number(750_800).expect("uai"),
            name: "Ailleurs".into(),
            kind: EstablishmentKind::Lycee,
            city: "Paris".into(),
            state: EstablishmentState::Live,
            wave_id: None,
            holiday_calendar_id: "zone-c".into(),
            school_weekdays: "12345".into(),
        })
        .await
        .expect("other");
    other.commit().await.expect("commit");
    let uai = Uai::from_number(750_800).expect("uai");
    let refused = send(
        &w.app,
        post(
            "/etablissement",
            &jar,
            &format!("_csrf={csrf}&uai={uai}&retour=/"),
        ),
    )
    .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_new_charter_must_be_accepted_again() {
    let w = world().await;
    let jar = sign_in(&w.app, "").await;
    w.t.db
        .publish_charter("Charte v2", "Terms v2", 0)
        .await
        .expect("publish");
    let home = send(&w.app, get("/", &jar)).await;
    assert_eq!(home.location.as_deref(), Some("/charte"));
    let charter = send(&w.app, get("/charte", &jar)).await;
    assert!(charter.body.contains("Charte v2") && charter.body.contains("Version 2"));
    let csrf = csrf_of(&charter.body);
    let refused = send(&w.app, post("/charte", &jar, &format!("_csrf={csrf}"))).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    let accepted = send(
        &w.app,
        post("/charte", &jar, &format!("_csrf={csrf}&accept=oui")),
    )
    .await;
    assert_eq!(accepted.location.as_deref(), Some("/"));
    assert_eq!(send(&w.app, get("/", &jar)).await.status, StatusCode::OK);
}

#[tokio::test]
async fn changing_the_password_checks_it_and_ends_the_other_sessions() {
    let w = world().await;
    let elsewhere = sign_in(&w.app, "").await;
    let here = sign_in(&w.app, "").await;
    let page = send(&w.app, get("/mon-compte", &here)).await;
    let csrf = csrf_of(&page.body);
    let weak = send(
        &w.app,
        post(
            "/mon-compte/mot-de-passe",
            &here,
            &format!("_csrf={csrf}&current=Marelle-42%21&password=abc&confirm=abc"),
        ),
    )
    .await;
    assert_eq!(weak.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(weak.body.contains("au moins 8 caractères"), "{}", weak.body);
    let wrong = send(
        &w.app,
        post(
            "/mon-compte/mot-de-passe",
            &here,
            &format!("_csrf={csrf}&current=nope&password=Nouveau-42%21&confirm=Nouveau-42%21"),
        ),
    )
    .await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    // Guessing the current password from an open session is throttled like the login (the
    // wrong try above counted once).
    let guess = format!("_csrf={csrf}&current=nope&password=Nouveau-42%21&confirm=Nouveau-42%21");
    for _ in 0..4 {
        let wrong = send(&w.app, post("/mon-compte/mot-de-passe", &here, &guess)).await;
        assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    }
    let locked = send(&w.app, post("/mon-compte/mot-de-passe", &here, &guess)).await;
    assert_eq!(
        locked.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        locked.body
    );
    w.t.db
        .clear_failures("account:nadia.haddad")
        .await
        .expect("the lock ends");
    let ok = send(
        &w.app,
        post(
            "/mon-compte/mot-de-passe",
            &here,
            &format!(
                "_csrf={csrf}&current=Marelle-42%21&password=Nouveau-42%21&confirm=Nouveau-42%21"
            ),
        ),
    )
    .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    assert!(ok.body.contains("Votre mot de passe a été changé"));
    assert_eq!(
        send(&w.app, get("/", &elsewhere)).await.status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(send(&w.app, get("/", &here)).await.status, StatusCode::OK);
}

#[tokio::test]
async fn bad_input_gets_a_page_never_a_500() {
    let w = world().await;
    let jar = sign_in(&w.app, "").await;
    let csrf = csrf_of(&send(&w.app, get("/", &jar)).await.body);
    let cases: Vec<(Request<Body>, StatusCode)> = vec![
        (get("/nulle-part", &jar), StatusCode::NOT_FOUND),
        (
            post(
                "/etablissement",
                &jar,
                &format!("_csrf={csrf}&uai=%27%3B%20DROP%20TABLE%20users%3B--"),
            ),
            StatusCode::NOT_FOUND,
        ),
        (
            post("/langue", &jar, &format!("_csrf={csrf}&langue=klingon")),
            StatusCode::BAD_REQUEST,
        ),
        (
            Request::post("/mon-compte/mot-de-passe")
                .header(header::COOKIE, &jar)
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(vec![b'_', b'c', 0xff, 0xfe, b'=']))
                .expect("request"),
            StatusCode::FORBIDDEN,
        ),
        (
            post(
                "/mon-compte/sessions",
                &jar,
                &format!("_csrf={csrf}&x={}", "a".repeat(100_000)),
            ),
            StatusCode::BAD_REQUEST,
        ),
        (
            get("/connexion?suivant=%2F%2Fevil.example", ""),
            StatusCode::OK,
        ),
    ];
    for (request, expected) in cases {
        let path = request.uri().to_string();
        let answer = send(&w.app, request).await;
        assert_eq!(answer.status, expected, "{path}: {}", answer.body);
        assert!(
            answer.body.contains("<html lang=\"fr\">"),
            "{path} answers a page"
        );
        assert!(
            !answer.body.contains("name=\"suivant\" value=\"//evil")
                && !answer.body.contains("name=\"suivant\" value=\"https:"),
            "{path}: no open redirect"
        );
    }
    // The login form keeps what was typed, safely escaped.
    let page = send(&w.app, get("/connexion", "")).await;
    let pre = cookie_value(&page.cookies, "preau_csrf").expect("csrf cookie");
    let answer = send(
        &w.app,
        post(
            "/connexion",
            &format!("preau_csrf={pre}"),
            &format!("_csrf={pre}&login=%22%3E%3Cscript%3Ealert(1)%3C%2Fscript%3E&password=x"),
        ),
    )
    .await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert!(!answer.body.contains("<script>alert(1)</script>"));
    assert!(
        answer.body.contains("&#34;&#62;&#60;script&#62;")
            || answer.body.contains("&quot;&gt;&lt;script&gt;"),
        "{}",
        answer.body
    );
}

#[tokio::test]
async fn first_connection_with_the_activation_code() {
    let w = world().await;
    let code = preau_core::identity::ActivationCode::generate();
    let mut tx = w.t.db.begin(0).await.expect("begin");
    let pending = tx
        .create_user(&NewUser {
            first_name: "Léon".into(),
            last_name: "Petit".into(),
            activation_code: Some(code.clone()),
            ..NewUser::default()
        })
        .await
        .expect("pending account");
    tx.commit().await.expect("commit");
    // Before activation, the password login does not work.
    let page = send(&w.app, get("/premiere-connexion", "")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Charte d&#39;utilisation") && page.body.contains("Version 1"));
    let pre = cookie_value(&page.cookies, "preau_csrf").expect("csrf cookie");
    let jar = format!("preau_csrf={pre}");
    let activate = |code: &str, password: &str, accept: bool| {
        format!(
            "_csrf={pre}&login=leon.petit&code={code}&password={password}&confirm={password}{}",
            if accept { "&accept=oui" } else { "" }
        )
    };
    let wrong = send(
        &w.app,
        post(
            "/premiere-connexion",
            &jar,
            &activate("ABCDEFGH", "Cartable-42", true),
        ),
    )
    .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert!(
        wrong.body.contains("code d&#39;activation incorrect"),
        "{}",
        wrong.body
    );
    let weak = send(
        &w.app,
        post(
            "/premiere-connexion",
            &jar,
            &activate(code.as_str(), "court", true),
        ),
    )
    .await;
    assert_eq!(weak.status, StatusCode::UNPROCESSABLE_ENTITY);
    let no_charter = send(
        &w.app,
        post(
            "/premiere-connexion",
            &jar,
            &activate(code.as_str(), "Cartable-42", false),
        ),
    )
    .await;
    assert_eq!(no_charter.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(no_charter.body.contains("accepter la charte"));
    // Typed in lower case with a hyphen, the code still works; the person is signed in.
    let typed = format!(
        "{}-{}",
        &code.as_str()[..4].to_lowercase(),
        &code.as_str()[4..]
    );
    let done = send(
        &w.app,
        post(
            "/premiere-connexion",
            &jar,
            &activate(&typed, "Cartable-42", true),
        ),
    )
    .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let session = cookie_value(&done.cookies, "preau_session").expect("signed in");
    let home = send(&w.app, get("/", &format!("preau_session={session}"))).await;
    assert_eq!(
        home.status,
        StatusCode::OK,
        "charter accepted at activation: no detour"
    );
    // The code worked once.
    let again = send(
        &w.app,
        post(
            "/premiere-connexion",
            &jar,
            &activate(code.as_str(), "Cartable-43", true),
        ),
    )
    .await;
    assert_eq!(again.status, StatusCode::UNAUTHORIZED);
    let traces = w.t.db.traces_of(&pending.id, 5).await.expect("traces");
    assert!(traces.iter().any(|t| t.event == "activation"));
}
