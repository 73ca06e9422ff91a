//! Recovery by e-mail, against a real SMTP server on loopback (aiosmtpd, from the Python virtual
//! environment `cargo xtask test` prepares; `PREAU_TEST_PYTHON` names its interpreter), on both
//! engines: a reset link that works once, a forgotten login, no enumeration, and a clear page
//! when no SMTP server is configured.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use preau_core::api::AppState;
use preau_core::auth::password;
use preau_core::clock::{Clock, ClockOverride};
use preau_core::config::Config;
use preau_core::db::identity::NewUser;
use preau_core::server;
use preau_core::testing::TestDb;
use tower::ServiceExt;

/// An aiosmtpd server delivering into a maildir, stopped when dropped.
struct SmtpSink {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

fn python() -> PathBuf {
    let path = std::env::var_os("PREAU_TEST_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/test-venv/bin/python")
        });
    assert!(
        path.exists(),
        "{} is missing: `cargo xtask test` creates the Python environment with aiosmtpd",
        path.display()
    );
    path
}

impl SmtpSink {
    #[allow(
        clippy::zombie_processes,
        reason = "the child is owned by the returned SmtpSink, whose Drop kills and waits for it"
    )]
    async fn start() -> SmtpSink {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("free port");
        let dir = tempfile::tempdir().expect("maildir");
        for sub in ["tmp", "new", "cur"] {
            std::fs::create_dir(dir.path().join(sub)).expect("maildir folder");
        }
        let child = Command::new(python())
            .args([
                "-m",
                "aiosmtpd",
                "-n",
                "-l",
                &format!("127.0.0.1:{port}"),
                "-c",
                "aiosmtpd.handlers.Mailbox",
            ])
            .arg(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start aiosmtpd");
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                return SmtpSink { child, port, dir };
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("aiosmtpd did not start");
    }

    /// Waits (up to 10 s) until `n` messages have arrived — mail leaves in the background — and
    /// returns them all.
    async fn wait_for(&self, n: usize) -> Vec<String> {
        for _ in 0..200 {
            let messages = self.messages();
            if messages.len() >= n {
                return messages;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self.messages()
    }

    /// Every delivered message, as text (quoted-printable decoded), oldest first.
    fn messages(&self) -> Vec<String> {
        let mut files: Vec<_> = std::fs::read_dir(self.dir.path().join("new"))
            .map(|d| d.filter_map(Result::ok).map(|e| e.path()).collect())
            .unwrap_or_default();
        files.sort_by_key(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok());
        files
            .iter()
            .filter_map(|p| std::fs::read_to_string(p).ok())
            .map(|m| decode_qp(&m))
            .collect()
    }
}

/// Undoes quoted-printable (`=C3=A9`, soft line breaks), the encoding lettre picks for French text.
fn decode_qp(text: &str) -> String {
    let joined = text.replace("=\r\n", "").replace("=\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'='
            && i + 2 < bytes.len()
            && let Ok(b) = u8::from_str_radix(&joined[i + 1..i + 3], 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn app(t: &TestDb, smtp_port: Option<u16>) -> Router {
    let mut env = vec![(
        "PREAU_PUBLIC_URL".to_string(),
        "https://ent.example.fr".to_string(),
    )];
    if let Some(port) = smtp_port {
        for (k, v) in [
            ("PREAU_SMTP_HOST", "127.0.0.1".to_string()),
            ("PREAU_SMTP_PORT", port.to_string()),
            ("PREAU_SMTP_SECURITY", "none".to_string()),
            (
                "PREAU_SMTP_FROM",
                "Préau <ne-pas-repondre@ent.example.fr>".to_string(),
            ),
        ] {
            env.push((k.to_string(), v));
        }
    }
    server::router(AppState::new(
        t.db.clone(),
        Clock::new(
            chrono_tz::Europe::Paris,
            Some(ClockOverride::parse("2026-11-30").expect("day")),
        ),
        Arc::new(Config::load(None, env).expect("config")),
    ))
}

async fn send(app: &Router, request: Request<Body>) -> (StatusCode, String, Vec<String>) {
    let response = app.clone().oneshot(request).await.expect("response");
    let status = response.status();
    let cookies = response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok().map(str::to_string))
        .collect();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .expect("body");
    (
        status,
        String::from_utf8_lossy(&bytes).into_owned(),
        cookies,
    )
}

/// Posts a form the way a browser would: first the page (for the CSRF cookie), then the form.
async fn submit(app: &Router, page: &str, action: &str, fields: &str) -> (StatusCode, String) {
    let (_, _, cookies) = send(
        app,
        Request::get(page).body(Body::empty()).expect("request"),
    )
    .await;
    // Behind https (this world's public URL) the cookie is `__Host-preau_csrf`.
    let (name, csrf) = cookies
        .iter()
        .find_map(|c| {
            let (name, value) = c.split(';').next()?.split_once('=')?;
            name.ends_with("preau_csrf")
                .then(|| (name.to_owned(), value.to_owned()))
        })
        .expect("csrf cookie");
    let request = Request::post(action)
        .header(header::COOKIE, format!("{name}={csrf}"))
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(format!("_csrf={csrf}&{fields}")))
        .expect("request");
    let (status, body, _) = send(app, request).await;
    (status, body)
}

#[tokio::test]
async fn a_reset_link_by_e_mail_works_once() {
    let t = TestDb::new().await;
    let sink = SmtpSink::start().await;
    let app = app(&t, Some(sink.port)).await;
    let mut w = t.db.begin(0).await.expect("begin");
    let parent = w
        .create_user(&NewUser {
            first_name: "Nadia".into(),
            last_name: "Haddad".into(),
            email: Some("nadia.haddad@example.org".into()),
            password_hash: Some(password::hash("Ancien-Mot-2026").expect("hash")),
            charter_version: Some(1),
            ..NewUser::default()
        })
        .await
        .expect("parent");
    w.commit().await.expect("commit");

    // An unknown login gets the same answer, and no message.
    let (status, unknown) = submit(
        &app,
        "/mot-de-passe-oublie",
        "/mot-de-passe-oublie",
        "value=personne.inconnue",
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, known) = submit(
        &app,
        "/mot-de-passe-oublie",
        "/mot-de-passe-oublie",
        "value=nadia.haddad",
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let main = |page: &str| page[page.find("<main").unwrap_or(0)..].to_string();
    assert_eq!(main(&unknown), main(&known), "no account enumeration");
    let messages = sink.wait_for(1).await;
    // The unknown login was asked first: had it sent anything, it would be here too by now.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let messages = if sink.messages().len() > messages.len() {
        sink.messages()
    } else {
        messages
    };
    assert_eq!(messages.len(), 1, "one message, for the known account");
    let mail = &messages[0];
    assert!(
        mail.contains("nadia.haddad@example.org") && mail.contains("Bonjour Nadia Haddad"),
        "{mail}"
    );
    let link = mail
        .split_whitespace()
        .find(|w| w.starts_with("https://ent.example.fr/mot-de-passe-oublie/nouveau?jeton="))
        .expect("a reset link");
    let path = link.trim_start_matches("https://ent.example.fr");
    let token = path.rsplit('=').next().expect("token");

    let (status, weak) = submit(
        &app,
        path,
        "/mot-de-passe-oublie/nouveau",
        &format!("jeton={token}&password=court&confirm=court"),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{weak}");
    let (status, done) = submit(
        &app,
        path,
        "/mot-de-passe-oublie/nouveau",
        &format!("jeton={token}&password=Nouveau-Mot-2026&confirm=Nouveau-Mot-2026"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert!(done.contains("Votre mot de passe a été changé"));
    let stored =
        t.db.password_hash(&parent.id)
            .await
            .expect("read")
            .expect("hash");
    assert!(password::verify(&stored, "Nouveau-Mot-2026"));
    // The link worked once.
    let (status, _) = submit(
        &app,
        "/connexion",
        "/mot-de-passe-oublie/nouveau",
        &format!("jeton={token}&password=Autre-Mot-2026&confirm=Autre-Mot-2026"),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _, _) = send(
        &app,
        Request::get(path).body(Body::empty()).expect("request"),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        t.db.traces_of(&parent.id, 1).await.expect("traces")[0].event,
        "password_reset"
    );

    // A forgotten login is sent to the address, for every account that has it.
    let (status, _) = submit(
        &app,
        "/identifiant-oublie",
        "/identifiant-oublie",
        "value=Nadia.Haddad%40example.org",
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let messages = sink.wait_for(2).await;
    assert_eq!(messages.len(), 2);
    assert!(
        messages[1].contains("nadia.haddad (Nadia Haddad)"),
        "{}",
        messages[1]
    );
}

#[tokio::test]
async fn without_smtp_the_page_says_so() {
    let t = TestDb::new().await;
    let app = app(&t, None).await;
    let (status, page, _) = send(
        &app,
        Request::get("/mot-de-passe-oublie")
            .body(Body::empty())
            .expect("request"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("L&#39;envoi de courriels n&#39;est pas configuré")
            || page.contains("n'est pas configuré"),
        "{page}"
    );
    let (status, _) = submit(
        &app,
        "/mot-de-passe-oublie",
        "/mot-de-passe-oublie",
        "value=nadia.haddad",
    )
    .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
}

/// The notification centre's e-mail (`preau_core::notifications::run_once`): immediately for
/// those who asked, a digest from 17:00 for the others (the default), never for those who
/// refused; a notification read in the portal first is not mailed, and none is mailed twice.
#[tokio::test]
async fn notifications_are_mailed_as_each_person_chose() {
    use preau_core::db::notifications::{EmailPreference, NewNotification};
    use preau_core::mail::Mailer;
    use preau_core::notifications::run_once;

    let t = TestDb::new().await;
    let sink = SmtpSink::start().await;
    let config = Config::load(
        None,
        vec![
            ("PREAU_SMTP_HOST".into(), "127.0.0.1".into()),
            ("PREAU_SMTP_PORT".into(), sink.port.to_string()),
            ("PREAU_SMTP_SECURITY".into(), "none".into()),
            (
                "PREAU_SMTP_FROM".into(),
                "Préau <ne-pas-repondre@ent.example.fr>".into(),
            ),
        ],
    )
    .expect("config");
    let mailer = Mailer::new(config.smtp.as_ref().expect("smtp")).expect("mailer");
    let at = |instant: &str| {
        Clock::new(
            chrono_tz::Europe::Paris,
            Some(ClockOverride::parse(instant).expect("instant")),
        )
    };
    let morning = at("2026-11-30T09:00:00+01:00");
    let mut w = t.db.begin(morning.now_ms()).await.expect("begin");
    let school = w
        .create_establishment(&preau_core::testing::college(750_652, "Collège Condorcet"))
        .await
        .expect("school");
    let mut people = Vec::new();
    for (first, email) in [
        ("Inès", "ines@example.org"),
        ("Yanis", "yanis@example.org"),
        ("Léa", "lea@example.org"),
        ("Sans", ""),
    ] {
        let u = w
            .create_user(&NewUser {
                first_name: first.into(),
                last_name: "Essai".into(),
                email: (!email.is_empty()).then(|| email.into()),
                ..NewUser::default()
            })
            .await
            .expect("user");
        people.push(u.id);
    }
    for (i, title) in [
        "Devoir corrigé",
        "Sortie au musée",
        "Conseil de classe",
        "Réunion",
    ]
    .iter()
    .enumerate()
    {
        for who in &people {
            w.insert_notification(
                who,
                &NewNotification {
                    establishment_id: &school.id,
                    plugin: "essai:notes",
                    title,
                    body: "Détails dans le service.",
                    link: Some(&format!("/e/0750652B/apps/essai/notes/{i}")),
                },
            )
            .await
            .expect("notify");
        }
    }
    w.commit().await.expect("commit");
    let (ines, yanis, lea) = (&people[0], &people[1], &people[2]);
    t.db.set_email_preference(ines, EmailPreference::Immediate)
        .await
        .expect("pref");
    t.db.set_email_preference(lea, EmailPreference::Never)
        .await
        .expect("pref");
    // Yanis keeps the default (daily) and reads everything but one in the portal first.
    t.db.read_all_notifications(yanis, morning.now_ms())
        .await
        .expect("read");
    t.db.read_notification(yanis, "absent", morning.now_ms())
        .await
        .expect_err("not his");

    // 09:00: only Inès, who wants them at once, gets one message with her four notifications.
    let base = "https://ent.example.fr";
    let report = run_once(&t.db, &morning, Some(&mailer), base)
        .await
        .expect("pass");
    assert_eq!((report.messages, report.notifications), (1, 4));
    let messages = sink.wait_for(1).await;
    assert_eq!(messages.len(), 1);
    assert!(
        messages[0].contains("To: ines@example.org"),
        "{}",
        messages[0]
    );
    assert!(messages[0].contains("Conseil de classe"));
    assert!(messages[0].contains("https://ent.example.fr/e/0750652B/apps/essai/notes/2"));
    // Nothing is mailed twice.
    let again = run_once(&t.db, &morning, Some(&mailer), base)
        .await
        .expect("pass");
    assert_eq!(again.messages, 0);

    // A new notification for Yanis in the afternoon, then the 17:00 digest: he gets it; Léa
    // (never) and the person without an address get nothing.
    let afternoon = at("2026-11-30T15:00:00+01:00");
    let mut w = t.db.begin(afternoon.now_ms()).await.expect("begin");
    w.insert_notification(
        yanis,
        &NewNotification {
            establishment_id: &school.id,
            plugin: "essai:notes",
            title: "Nouvelle note",
            body: "",
            link: None,
        },
    )
    .await
    .expect("notify");
    w.commit().await.expect("commit");
    let before = run_once(&t.db, &afternoon, Some(&mailer), base)
        .await
        .expect("pass");
    assert_eq!(before.messages, 0, "the digest waits for 17:00");
    let evening = at("2026-11-30T18:00:00+01:00");
    let digest = run_once(&t.db, &evening, Some(&mailer), base)
        .await
        .expect("pass");
    assert_eq!((digest.messages, digest.notifications), (1, 1));
    let messages = sink.wait_for(2).await;
    assert_eq!(messages.len(), 2);
    let last = messages
        .iter()
        .find(|m| m.contains("To: yanis@example.org"))
        .expect("Yanis's digest");
    assert!(last.contains("Nouvelle note") && !last.contains("Sortie au musée"));
}
