//! First run: `preau serve` on an empty instance prints a single-use setup link; opening it names
//! the collectivité and creates the first administrator; the link then stops working, and
//! `preau admin setup-link` prints a new one.

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::Duration;

use crate::support::{free_port, preau, succeeded};

struct Killed(std::process::Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn cookie(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|c| {
            c.split(';')
                .next()?
                .split_once('=')
                .map(|(k, v)| (k.to_string(), v.to_string()))
        })
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}

fn hidden(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html
        .find(&marker)
        .map(|i| i + marker.len())
        .expect("hidden field");
    html[start..]
        .split('"')
        .next()
        .unwrap_or_default()
        .to_string()
}

#[tokio::test]
async fn the_first_run_link_creates_the_collectivite_administrator_once() {
    let data = tempfile::tempdir().expect("temp dir");
    let port = free_port();
    let mut child = preau()
        .arg("serve")
        .arg("--data")
        .arg(data.path())
        .env("PREAU_LISTEN", format!("127.0.0.1:{port}"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start preau serve");
    let stdout = child.stdout.take().expect("stdout");
    let _server = Killed(child);
    let read = tokio::task::spawn_blocking(move || {
        BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
            .find_map(|l| {
                l.split_whitespace()
                    .find(|w| w.contains("/installation?jeton="))
                    .map(str::to_string)
            })
    });
    let link = tokio::time::timeout(Duration::from_secs(60), read)
        .await
        .expect("preau serve prints within a minute")
        .expect("read stdout")
        .expect("preau serve prints a setup link on an empty instance");
    assert!(
        link.starts_with(&format!("http://127.0.0.1:{port}/installation?jeton=")),
        "{link}"
    );

    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let mut page = None;
    for _ in 0..100 {
        if let Ok(r) = client.get(&link).send().await {
            page = Some(r);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let page = page.expect("the setup page answers");
    assert_eq!(page.status(), 200);
    let csrf_cookie = cookie(&page, "preau_csrf").expect("csrf cookie");
    let html = page.text().await.expect("html");
    let form = [
        ("_csrf", hidden(&html, "_csrf")),
        ("jeton", hidden(&html, "jeton")),
        ("collectivite", "Département de la Gironde".to_string()),
        ("first_name", "Solène".to_string()),
        ("last_name", "Marchetti".to_string()),
        ("email", String::new()),
        ("password", "Gironde-2026!".to_string()),
        ("confirm", "Gironde-2026!".to_string()),
    ];
    let base = format!("http://127.0.0.1:{port}");
    let done = client
        .post(format!("{base}/installation"))
        .header("cookie", format!("preau_csrf={csrf_cookie}"))
        .form(&form)
        .send()
        .await
        .expect("submit");
    assert_eq!(done.status(), 303);
    assert_eq!(
        done.headers().get("location").and_then(|v| v.to_str().ok()),
        Some("/mon-compte")
    );
    let session = cookie(&done, "preau_session").expect("signed in");
    let account = client
        .get(format!("{base}/mon-compte"))
        .header("cookie", format!("preau_session={session}"))
        .send()
        .await
        .expect("account")
        .text()
        .await
        .expect("html");
    assert!(
        account.contains("solene.marchetti"),
        "the new administrator sees their login"
    );
    assert!(
        account.contains("Administrateur") || account.contains("administrat"),
        "{account}"
    );

    // The link worked once.
    let again = client
        .post(format!("{base}/installation"))
        .header("cookie", format!("preau_csrf={csrf_cookie}"))
        .form(&form)
        .send()
        .await
        .expect("replay");
    assert_eq!(again.status(), 403);

    // A new link can be printed at any time (for a lost administrator password), with a warning.
    let out = succeeded(
        preau()
            .args(["admin", "setup-link"])
            .arg("--data")
            .arg(data.path())
            .env("PREAU_PUBLIC_URL", "https://ent.example.fr"),
    );
    let printed = String::from_utf8_lossy(&out.stdout);
    assert!(
        printed
            .trim()
            .starts_with("https://ent.example.fr/installation?jeton="),
        "{printed}"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("already has an administrator"));
}
