//! `preau demo`: builds the demo establishments, writes the accounts file and serves them.

use std::collections::BTreeSet;

use preau_core::testing::TestDb;
use serde_json::Value;

use crate::support::{Server, free_port, output, preau};

#[tokio::test]
async fn demo_lists_every_profile_and_role_and_serves() {
    let t = TestDb::new().await;
    let data = tempfile::tempdir().expect("temp dir");
    let accounts = data.path().join("accounts.json");
    let port = free_port();
    let mut cmd = preau();
    cmd.arg("demo")
        .args([
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--password",
            "correct horse",
        ])
        .arg("--data")
        .arg(data.path())
        .arg("--accounts-json")
        .arg(&accounts)
        .env("PREAU_DATABASE_URL", t.url.expose());
    let server = Server::start(cmd, port).await;
    let client = reqwest::Client::new();

    let health: Value = client
        .get(format!("{}/healthz", server.base))
        .send()
        .await
        .expect("healthz")
        .json()
        .await
        .expect("json");
    assert_eq!(health["status"], "ok");

    // No authentication exists before the accounts issue: the API says so in both languages.
    let me = client
        .get(format!("{}/api/v1/me", server.base))
        .send()
        .await
        .expect("me");
    assert_eq!(me.status(), 401);
    let body: Value = me.json().await.expect("json");
    assert_eq!(body["error"]["code"], "unauthenticated");
    assert!(
        body["error"]["message"]["fr"]
            .as_str()
            .is_some_and(|m| !m.is_empty())
    );
    assert!(
        body["error"]["message"]["en"]
            .as_str()
            .is_some_and(|m| !m.is_empty())
    );

    let missing = client
        .get(format!("{}/api/v1/nowhere", server.base))
        .send()
        .await
        .expect("404");
    assert_eq!(missing.status(), 404);
    let body: Value = missing.json().await.expect("json");
    assert_eq!(body["error"]["code"], "not_found");
    // Outside the API, an unknown page is an HTML page in the visitor's language.
    let page = client
        .get(format!("{}/nowhere", server.base))
        .header("accept-language", "en")
        .send()
        .await
        .expect("404");
    assert_eq!(page.status(), 404);
    let html = page.text().await.expect("html");
    assert!(
        html.contains("<html lang=\"en\">") && html.contains("Page not found"),
        "{html}"
    );

    // A wrong method and malformed query parameters get the JSON error shape too.
    let post = client
        .post(format!("{}/healthz", server.base))
        .send()
        .await
        .expect("405");
    assert_eq!(post.status(), 405);
    let body: Value = post.json().await.expect("json");
    assert_eq!(body["error"]["code"], "method_not_allowed");

    let list: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(&accounts).expect("accounts file"))
            .expect("json");
    assert!(
        list.len() > 1500,
        "about 1,900 accounts, got {}",
        list.len()
    );
    let profiles: BTreeSet<&str> = list
        .iter()
        .flat_map(|a| a["attachments"].as_array().into_iter().flatten())
        .filter_map(|x| x["profile"].as_str())
        .collect();
    assert_eq!(
        profiles,
        BTreeSet::from([
            "direction",
            "eleve",
            "enseignant",
            "invite",
            "parent",
            "personnel"
        ])
    );
    let roles: BTreeSet<&str> = list
        .iter()
        .flat_map(|a| a["roles"].as_array().into_iter().flatten())
        .filter_map(|x| x["role"].as_str())
        .collect();
    assert_eq!(roles, BTreeSet::from(["admin_collectivite", "admin_local"]));
    let pending = list
        .iter()
        .filter(|a| a["activation_code"].is_string())
        .count();
    assert!(pending > 0, "some accounts are left to activate");
    let in_both = list
        .iter()
        .filter(|a| {
            let uais: BTreeSet<&str> = a["attachments"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|x| x["uai"].as_str())
                .collect();
            uais.len() == 2
        })
        .count();
    assert!(in_both > 0, "the lycée shares families with the collège");

    // A parent with children in both establishments signs in through the API and sees them.
    let parent = list
        .iter()
        .find(|a| {
            a["activation_code"].is_null()
                && a["attachments"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter(|x| x["profile"] == "parent")
                    .count()
                    == 2
        })
        .expect("a parent in both establishments");
    let login: Value = client
        .post(format!("{}/api/v1/auth/login", server.base))
        .json(&serde_json::json!({"login": parent["login"], "password": "correct horse"}))
        .send()
        .await
        .expect("login")
        .json()
        .await
        .expect("json");
    let token = login["token"].as_str().expect("token");
    let me: Value = client
        .get(format!("{}/api/v1/me", server.base))
        .bearer_auth(token)
        .send()
        .await
        .expect("me")
        .json()
        .await
        .expect("json");
    let schools: BTreeSet<&str> = me["children"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|c| c["attachments"].as_array().into_iter().flatten())
        .filter_map(|a| a["uai"].as_str())
        .collect();
    assert_eq!(schools.len(), 2, "{me}");
    drop(server);

    // A second demo into the same database is refused, and says why.
    let again = output(
        preau()
            .args(["demo", "--no-serve", "--password", "x"])
            .arg("--data")
            .arg(data.path())
            .env("PREAU_DATABASE_URL", t.url.expose()),
    );
    assert!(!again.status.success());
    let err = String::from_utf8_lossy(&again.stderr);
    assert!(
        err.contains("n'est pas vide") && err.contains("not empty"),
        "{err}"
    );
}
