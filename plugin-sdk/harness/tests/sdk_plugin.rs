//! A plugin written with `preau-plugin-sdk` (`tests/devoirs`: router, view builders, form
//! decoding, typed documents, notifications, a widget, through `export!`) runs in a real host,
//! in both languages.

use preau_plugin_harness::{Answer, Harness, Options};

fn harness() -> Harness {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/devoirs");
    let options = Options {
        target_dir: Some(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/plugins"),
        ),
        ..Options::default()
    };
    let manifest = std::fs::read_to_string(dir.join("plugin.toml")).expect("plugin.toml");
    Harness::build_with(&dir, &manifest, options).expect("harness")
}

fn field<'v>(answer: &'v Answer, name: &str) -> &'v serde_json::Value {
    let view = answer.view().expect("a view");
    view["body"]
        .as_array()
        .and_then(|body| body.iter().find(|n| n["kind"] == "form"))
        .and_then(|form| form["fields"].as_array())
        .and_then(|fields| fields.iter().find(|f| f["name"] == name))
        .unwrap_or_else(|| panic!("no field {name} in {view}"))
}

#[test]
fn an_sdk_plugin_validates_stores_lists_and_notifies() {
    let h = harness();
    let people = h.people().clone();

    // A refused form comes back with the values and the errors, in the reader's language.
    let refused = h
        .teacher()
        .post(
            "/devoirs",
            &[
                ("titre", "Ex. 4"),
                ("echeance", "demain"),
                ("classe", &people.class_id),
            ],
        )
        .expect("the form again");
    assert_eq!(field(&refused, "titre")["value"], "Ex. 4");
    assert_eq!(
        field(&refused, "echeance")["error"],
        "Une date au format AAAA-MM-JJ est attendue."
    );
    assert!(
        refused
            .texts()
            .contains(&"Un champ est à corriger.".to_owned()),
        "{refused:?}"
    );
    let english = h
        .teacher()
        .in_english()
        .post(
            "/devoirs",
            &[("echeance", "2026-12-01"), ("classe", "autre")],
        )
        .expect("the form again");
    assert_eq!(field(&english, "titre")["error"], "This field is required.");
    assert_eq!(
        field(&english, "classe")["error"],
        "Choose one of the options offered."
    );

    // A good one is stored, and the class's pupils are notified.
    let created = h
        .teacher()
        .post(
            "/devoirs",
            &[
                ("titre", "Exercices 4 et 5"),
                ("echeance", "2026-12-01"),
                ("classe", &people.class_id),
            ],
        )
        .expect("created");
    assert_eq!(created.redirect(), Some("/"));
    let sent = h.notifications();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].title, "Nouveau devoir : Exercices 4 et 5");
    assert_eq!(sent[0].sender.as_deref(), Some(people.teacher.id.as_str()));
    let mut recipients = sent[0].recipients.clone();
    recipients.sort();
    let mut pupils = vec![people.student.id.clone(), people.other_student.id.clone()];
    pupils.sort();
    assert_eq!(recipients, pupils);

    // Pupils and parents read it, with the date written out; only teachers get the form.
    let list = h.student().get("/").expect("list");
    assert!(
        list.texts()
            .contains(&"Exercices 4 et 5 — mardi 1er décembre 2026".to_owned()),
        "{list:?}"
    );
    assert!(!list.texts().contains(&"Enregistrer".to_owned()));
    let link = sent[0].link.clone().expect("a link");
    let page = h.parent().in_english().get(&link).expect("the homework");
    assert_eq!(page.title(), Some("Exercices 4 et 5"));
    assert!(
        page.texts().contains(&"Tuesday 1 December 2026".to_owned()),
        "{page:?}"
    );

    // Failures: the plugin's 404, the core's 403 and 404.
    assert_eq!(
        h.student()
            .get("/devoirs/absent")
            .expect_err("404")
            .status(),
        Some(404)
    );
    assert_eq!(
        h.student()
            .post("/devoirs", &[])
            .expect_err("not a teacher")
            .status(),
        Some(403)
    );
    assert_eq!(
        h.student()
            .get("/ailleurs")
            .expect_err("undeclared")
            .status(),
        Some(404)
    );

    // The widget.
    let widget = h.student().widget("a-faire").expect("widget");
    assert_eq!(widget["title"], "À faire");
    assert_eq!(widget["body"][0]["text"], "1");
}
