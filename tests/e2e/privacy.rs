//! The RGPD hooks (`preau_core::privacy`) through the real router with real components: "Mes
//! données" answers a ZIP of what the core and every plugin hold about the person — a disabled
//! plugin's documents and files included, and each plugin's own `user-data.export` — and the
//! purge of a departed account reaches every plugin (its `user-data.delete`, then its documents
//! and files) before the core forgets the account, keeping it for the next run when a plugin
//! cannot be reached, for a week at most.

use std::io::Read;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use preau_core::api::AppState;
use preau_core::clock::{Clock, ClockOverride};
use preau_core::maintenance::run_purges;
use preau_core::server;
use preau_core::store::{Limits, PluginId, Scope};
use tower::ServiceExt;

use crate::events::{PASSWORD, World};

/// The hidden `_csrf` value of a page.
fn csrf_of(html: &str) -> String {
    let marker = "name=\"_csrf\" value=\"";
    let start = html.find(marker).expect("a form with _csrf") + marker.len();
    let end = html[start..].find('"').expect("end") + start;
    html[start..end].to_owned()
}

async fn send(app: &axum::Router, request: Request<Body>) -> axum::response::Response {
    app.clone().oneshot(request).await.expect("response")
}

async fn text(response: axum::response::Response) -> String {
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 24)
        .await
        .expect("body");
    String::from_utf8_lossy(&bytes).into_owned()
}

/// Signs `login` in through the login form (accepting the charter if owed): the `Cookie` header.
async fn cookie(app: &axum::Router, login: &str) -> String {
    let page = send(
        app,
        Request::get("/connexion").body(Body::empty()).expect("req"),
    )
    .await;
    let pre = csrf_of(&text(page).await);
    let jar = format!("preau_csrf={pre}");
    let form = format!(
        "_csrf={pre}&login={login}&password={}",
        PASSWORD.replace('!', "%21")
    );
    let response = send(app, post_form("/connexion", &jar, &form)).await;
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
    let home = send(app, get("/", &jar)).await;
    if home
        .headers()
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
        == Some("/charte")
    {
        let charter = text(send(app, get("/charte", &jar)).await).await;
        let csrf = csrf_of(&charter);
        let accepted = send(
            app,
            post_form("/charte", &jar, &format!("_csrf={csrf}&accepte=on")),
        )
        .await;
        assert_eq!(accepted.status(), StatusCode::SEE_OTHER);
    }
    jar
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

/// A bearer token for `login`.
async fn bearer(app: &axum::Router, login: &str) -> String {
    let response = send(
        app,
        Request::post("/api/v1/auth/login")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(
                serde_json::json!({"login": login, "password": PASSWORD}).to_string(),
            ))
            .expect("request"),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    let v: serde_json::Value = serde_json::from_str(&text(response).await).expect("json");
    v["token"].as_str().expect("token").to_owned()
}

/// The entries of a ZIP: name → content.
fn unzip(bytes: Vec<u8>) -> std::collections::BTreeMap<String, Vec<u8>> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("a ZIP");
    (0..archive.len())
        .map(|i| {
            let mut entry = archive.by_index(i).expect("entry");
            let mut content = Vec::new();
            entry.read_to_end(&mut content).expect("read");
            (entry.name().expect("UTF-8 name").to_string(), content)
        })
        .collect()
}

fn json(bytes: &[u8]) -> serde_json::Value {
    serde_json::from_slice(bytes).expect("JSON")
}

/// A teacher writes a note about the student through the `notes` plugin, which also keeps a
/// file about them (`bulletins/t1.txt`); the plugin's id and its scope in the establishment.
async fn note_and_file_about_the_student(w: &World, app: &axum::Router) -> (PluginId, Scope) {
    let teacher = bearer(app, &w.teacher_login).await;
    let write = format!(
        "/e/{}/apps/essai/notes/notes/ecrire?cle=K&titre=Bulletin&pour={}",
        w.uai, w.student
    );
    let written = send(
        app,
        Request::get(&write)
            .header(header::AUTHORIZATION, format!("Bearer {teacher}"))
            .header(header::ACCEPT, "application/json")
            .body(Body::empty())
            .expect("request"),
    )
    .await;
    assert_eq!(written.status(), StatusCode::OK);
    assert!(text(written).await.contains("Ok"), "the note is written");
    let notes = PluginId::parse("essai:notes").expect("id");
    let scope = Scope::new(notes.clone(), w.establishment_id.clone());
    w.host()
        .storage()
        .files(&scope, Limits::default())
        .put(
            "bulletins/t1.txt",
            "text/plain",
            std::slice::from_ref(&w.student),
            &b"Bon trimestre."[..],
        )
        .await
        .expect("file");
    (notes, scope)
}

/// The student's account is gone, and so are the `notes` plugin's documents and file about
/// them (`note_and_file_about_the_student`).
async fn erased_everywhere(w: &World, notes: &PluginId, scope: &Scope) {
    assert!(w.t.db.user(&w.student).await.expect("read").is_none());
    let host = w.host();
    let held = host
        .storage()
        .subject_data(notes, &w.student)
        .await
        .expect("data");
    assert!(held.documents.is_empty() && held.files.is_empty());
    assert!(
        host.storage()
            .files(scope, Limits::default())
            .open("bulletins/t1.txt")
            .await
            .is_err(),
        "the file is gone"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_and_deletion_reaching_a_disabled_plugin() {
    let w = World::new().await;
    let app = server::router(AppState::new(w.t.db.clone(), w.clock, w.config.clone()));

    let (notes, scope) = note_and_file_about_the_student(&w, &app).await;
    let host = w.host();

    // The plugin is disabled: its data stays, and still belongs in the export.
    w.lifecycle
        .disable("essai:notes", &w.uai)
        .await
        .expect("disable");

    let jar = cookie(&app, &w.student_login).await;
    let account = text(send(&app, get("/mon-compte", &jar)).await).await;
    assert!(account.contains("href=\"/mon-compte/mes-donnees\""));
    let response = send(&app, get("/mon-compte/mes-donnees", &jar)).await;
    assert_eq!(response.status(), StatusCode::OK);
    let header_of = |name| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    assert_eq!(header_of(header::CONTENT_TYPE), "application/zip");
    assert!(
        header_of(header::CONTENT_DISPOSITION)
            .starts_with("attachment; filename=\"preau-mes-donnees-")
    );
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 24)
        .await
        .expect("body")
        .to_vec();
    let entries = unzip(bytes);
    let core = json(&entries["preau.json"]);
    assert_eq!(core["account"]["id"], w.student.as_str());
    assert!(
        core["attachments"]
            .as_array()
            .is_some_and(|a| !a.is_empty())
    );
    assert!(core["sessions"].as_array().is_some_and(|s| !s.is_empty()));
    assert!(core["sessions"][0].get("csrf_token").is_none(), "no secret");
    assert!(
        core["connection_traces"]
            .as_array()
            .is_some_and(|t| !t.is_empty())
    );
    let notes_dir = format!("extensions/essai/notes/{}", w.uai);
    let documents = json(&entries[&format!("{notes_dir}/documents.json")]);
    assert_eq!(documents[0]["key"], "K");
    assert_eq!(documents[0]["body"]["titre"], "Bulletin");
    assert_eq!(
        entries[&format!("{notes_dir}/fichiers/bulletins/t1.txt")],
        b"Bon trimestre."
    );
    assert_eq!(
        json(&entries[&format!("{notes_dir}/fichiers.json")])[0]["path"],
        "bulletins/t1.txt"
    );
    assert!(
        !entries.contains_key(&format!("{notes_dir}/export.json")),
        "notes keeps nothing else ({{}}): {:?}",
        entries
            .get(&format!("{notes_dir}/export.json"))
            .map(|b| String::from_utf8_lossy(b).into_owned())
    );
    // The enabled greeting plugin keeps preferences of its own; the hostile one's answer is
    // not JSON, which the archive says rather than failing.
    let hello = json(&entries[&format!("extensions/essai/bonjour/{}/export.json", w.uai)]);
    assert_eq!(hello["subject"], w.student.as_str());
    let hostile = json(&entries[&format!("extensions/essai/piege/{}/export.json", w.uai)]);
    assert!(hostile.get("erreur / error").is_some(), "{hostile}");

    // Building an archive asks every plugin: three per quarter of an hour, then a clear refusal.
    for _ in 0..2 {
        let again = send(&app, get("/mon-compte/mes-donnees", &jar)).await;
        assert_eq!(again.status(), StatusCode::OK);
    }
    let refused = send(&app, get("/mon-compte/mes-donnees", &jar)).await;
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(
        text(refused)
            .await
            .contains("Vous avez déjà téléchargé vos données plusieurs fois"),
        "the refusal says when to come back"
    );

    // The student departs; 91 days later the purge erases them everywhere. A plugin that
    // cannot be reached (its package is missing) defers the whole erasure to the next run.
    w.t.db
        .set_user_state(&w.student, "departed", w.clock.now_ms())
        .await
        .expect("depart");
    let later = Clock::new(
        chrono_tz::Europe::Paris,
        Some(ClockOverride::parse("2027-03-05").expect("day")),
    );
    let packages = w.data.path().join("plugins/essai/bonjour");
    let aside = w.data.path().join("bonjour-aside");
    std::fs::rename(&packages, &aside).expect("move the package away");
    let report = run_purges(&w.t.db, &later, &w.config).await.expect("purge");
    assert_eq!((report.departed_users, report.erasures_deferred), (0, 1));
    assert!(w.t.db.user(&w.student).await.expect("read").is_some());
    let held = host
        .storage()
        .subject_data(&notes, &w.student)
        .await
        .expect("data");
    assert_eq!(
        (held.documents.len(), held.files.len()),
        (1, 1),
        "nothing erased yet"
    );

    std::fs::rename(&aside, &packages).expect("put the package back");
    let report = run_purges(&w.t.db, &later, &w.config).await.expect("purge");
    assert_eq!((report.departed_users, report.erasures_deferred), (1, 0));
    erased_everywhere(&w, &notes, &scope).await;
}

/// A due erasure that a plugin keeps failing waits for it `ERASURE_GRACE` at most, counted from
/// the first failure (not from the due date: the plugin always gets its week): then the core
/// erases what it holds — the plugins' documents and files about the person, the account —
/// without that plugin's own deletion, and says so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_erasure_a_plugin_keeps_failing_is_done_by_the_core_after_the_grace() {
    let w = World::new().await;
    let app = server::router(AppState::new(w.t.db.clone(), w.clock, w.config.clone()));
    let (notes, scope) = note_and_file_about_the_student(&w, &app).await;
    w.t.db
        .set_user_state(&w.student, "departed", w.clock.now_ms())
        .await
        .expect("depart");
    // The `bonjour` plugin cannot be reached (its package is missing): its deletion fails.
    std::fs::remove_dir_all(w.data.path().join("plugins/essai/bonjour")).expect("remove");
    let on = |day: &str| {
        Clock::new(
            chrono_tz::Europe::Paris,
            Some(ClockOverride::parse(day).expect("day")),
        )
    };
    let outcome = |r: preau_core::maintenance::PurgeReport| {
        (r.departed_users, r.erasures_deferred, r.erasures_forced)
    };

    // Departed on 30 November, due 90 days later (28 February); the purges first run three
    // weeks after that: the erasure is put off, then again within the week that follows.
    for day in ["2027-03-20", "2027-03-26"] {
        let report = run_purges(&w.t.db, &on(day), &w.config)
            .await
            .expect("purge");
        assert_eq!(outcome(report), (0, 1, 0), "{day}");
        assert!(w.t.db.user(&w.student).await.expect("read").is_some());
    }

    // A week after the first failure, the core erases what it holds without the plugin.
    let report = run_purges(&w.t.db, &on("2027-03-28"), &w.config)
        .await
        .expect("purge");
    assert_eq!(outcome(report), (1, 0, 1));
    erased_everywhere(&w, &notes, &scope).await;
}
