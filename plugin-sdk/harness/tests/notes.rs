//! The harness runs `tests/plugins/notes` (a plugin written with wit-bindgen directly) in a real
//! host on a scratch database: documents in French order, files, the directory's members of a
//! class, the manifest's routes and default grants as the portal applies them, notifications
//! through the core's communication rules.

use preau_plugin_harness::{Harness, Options};

const MANIFEST: &str = r#"id = "essai:notes"
version = "1.0.0"
licence = "MIT"
component = "notes.wasm"
host_api = "^1.0"
[name]
fr = "Notes"
en = "Notes"
[description]
fr = "Un service d'essai."
en = "A test service."
[capabilities]
files_quota_mib = 1
[[permissions]]
id = "notes.lire"
family = "consultation"
label = { fr = "Lire", en = "Read" }
defaults = ["enseignant", "eleve"]
[[routes]]
path = "/notes"
permission = "notes.lire"
auth = "user"
[[routes]]
path = "/notes/ecrire"
permission = "notes.lire"
auth = "user"
[[routes]]
path = "/fichiers"
permission = "notes.lire"
auth = "user"
[[routes]]
path = "/fichiers/ecrire"
permission = "notes.lire"
auth = "user"
[[routes]]
path = "/notifier"
permission = "notes.lire"
auth = "user"
[[routes]]
path = "/api/members"
permission = "notes.lire"
auth = "user"
[[collections]]
name = "notes"
[[collections.indexes]]
name = "par-titre"
fields = [{ field = "titre", type = "string", collation = "fr" }]
"#;

fn harness() -> Harness {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    // Built where the core's tests build the test plugins, so that both share the artefacts.
    let options = Options {
        target_dir: Some(root.join("target/plugins")),
        ..Options::default()
    };
    Harness::build_with(root.join("tests/plugins/notes"), MANIFEST, options).expect("harness")
}

#[test]
fn the_notes_plugin_runs_in_a_real_host() {
    let h = harness();
    let people = h.people().clone();

    // Documents: written by the teacher, read back in French alphabetical order.
    for (key, title) in [("z", "Zèbre"), ("a", "Âne"), ("e", "éléphant")] {
        let written = h
            .teacher()
            .get(&format!(
                "/notes/ecrire?cle={key}&titre={title}&pour={}",
                people.student.id
            ))
            .expect("written");
        assert!(
            written.texts().iter().any(|t| t.starts_with("écrit : Ok")),
            "{written:?}"
        );
    }
    let again = h
        .teacher()
        .get("/notes/ecrire?cle=a&titre=Autre")
        .expect("answer");
    assert!(
        again.texts().iter().any(|t| t.contains("Exists")),
        "a second creation conflicts: {again:?}"
    );
    let notes = h.student().get("/notes").expect("notes");
    assert_eq!(notes.title(), Some("Notes"));
    let titles: Vec<String> = notes
        .texts()
        .into_iter()
        .filter(|t| t.starts_with("note "))
        .collect();
    assert_eq!(titles.len(), 3, "{notes:?}");
    assert!(
        titles[0].contains("Âne") && titles[1].contains("éléphant") && titles[2].contains("Zèbre")
    );

    // Files.
    h.teacher()
        .get("/fichiers/ecrire?chemin=cours/intro.txt&contenu=bonjour")
        .expect("file written");
    let files = h.teacher().get("/fichiers").expect("files");
    assert!(
        files
            .texts()
            .iter()
            .any(|t| t.contains("cours/intro.txt 7") && t.contains("bonjour")),
        "{files:?}"
    );

    // The directory: the class's members, as its teacher sees them.
    let members = h
        .teacher()
        .get(&format!("/api/members?id={}", people.class_id))
        .expect("members");
    let shown = members.texts().join(" ");
    assert!(
        shown.contains("Léa Martin") && shown.contains("Hugo Petit"),
        "{shown}"
    );

    // What the portal refuses before the plugin runs.
    let parent = h.parent().get("/notes").expect_err("no grant for parents");
    assert_eq!(parent.status(), Some(403));
    assert_eq!(
        h.anonymous()
            .get("/notes")
            .expect_err("signed out")
            .status(),
        Some(403)
    );
    assert_eq!(
        h.teacher()
            .get("/inconnu")
            .expect_err("undeclared")
            .status(),
        Some(404)
    );
    assert_eq!(
        h.teacher()
            .post("/notes", &[])
            .expect_err("GET only")
            .status(),
        Some(404)
    );

    // Events and user data go through.
    h.event(
        "account.created",
        Some(&people.student.id),
        serde_json::json!({"profiles": ["eleve"]}),
    )
    .expect("event");
    assert_eq!(
        h.export_user_data(&people.student.id).expect("export"),
        serde_json::json!({})
    );
    assert!(h.notifications().is_empty());
}

/// Notifications go through the core: a teacher may write to a pupil, a pupil may not write to
/// a classmate; only what the core accepted is recorded.
#[test]
fn notifications_obey_the_communication_rules() {
    let h = harness();
    let people = h.people().clone();
    let notify = |caller: preau_plugin_harness::Caller<'_>, to: &str| {
        caller
            .get(&format!("/notifier?pour={to}&titre=Un%20mot"))
            .expect("answered")
            .texts()
            .join(" ")
    };
    let accepted = notify(h.teacher(), &people.student.id);
    assert!(accepted.contains("notifié : Ok(())"), "{accepted}");
    let refused = notify(h.student(), &people.other_student.id);
    assert!(
        refused.contains("notifié : Err(Error::Denied("),
        "{refused}"
    );
    let sent = h.notifications();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].sender.as_deref(), Some(people.teacher.id.as_str()));
    assert_eq!(sent[0].recipients, vec![people.student.id.clone()]);
    assert_eq!(sent[0].title, "Un mot");
}
