//! The plugin in a real host, with `preau-plugin-harness`: `cargo test` builds it for
//! wasm32-wasip2 and calls it as the people of a scratch collège would (a teacher, two pupils of
//! 4e B, a parent).

use preau_plugin_harness::{Answer, Harness};
use serde_json::Value;

fn harness() -> Harness {
    Harness::build(env!("CARGO_MANIFEST_DIR"), include_str!("../plugin.toml")).expect("harness")
}

/// The field `name` of the form in `answer`.
fn field<'a>(answer: &'a Answer, name: &str) -> &'a Value {
    let view = answer.view().expect("a view");
    view["body"]
        .as_array()
        .and_then(|body| body.iter().find(|node| node["kind"] == "form"))
        .and_then(|form| form["fields"].as_array())
        .and_then(|fields| fields.iter().find(|f| f["name"] == name))
        .unwrap_or_else(|| panic!("no field {name} in {view}"))
}

/// The notes of a listing, in order: (author, text).
fn notes(answer: &Answer) -> Vec<(String, String)> {
    let view = answer.view().expect("a view");
    view["body"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|node| node["kind"] == "card")
        .map(|card| {
            let author = card["title"].as_str().unwrap_or_default().to_owned();
            let text = card["body"][0]["text"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            (author, text)
        })
        .collect()
}

/// The link labelled `label` in `answer`.
fn link_to(answer: &Answer, label: &str) -> Option<String> {
    let view = answer.view()?;
    view["body"]
        .as_array()?
        .iter()
        .find(|node| node["kind"] == "link" && node["label"] == label)
        .and_then(|node| node["href"].as_str())
        .map(str::to_owned)
}

#[test]
fn the_home_page_introduces_the_service() {
    let h = harness();
    let home = h.student().get("/").expect("home");
    assert_eq!(home.title(), Some("Mots de la classe"));
    assert_eq!(link_to(&home, "Lire les mots").as_deref(), Some("/mots"));
    assert_eq!(link_to(&home, "Écrire un mot").as_deref(), Some("/ecrire"));
    let english = h.teacher().in_english().get("/").expect("home");
    assert_eq!(english.title(), Some("Class notes"));
    // Parents do not hold `mots.lire` by default: the core refuses before the plugin runs.
    assert_eq!(h.parent().get("/").expect_err("403").status(), Some(403));
}

#[test]
fn a_refused_form_comes_back_with_its_errors_then_an_accepted_one_is_listed() {
    let h = harness();
    let class = h.people().class_id.clone();

    let form = h.student().get("/ecrire").expect("the form");
    assert_eq!(field(&form, "classe")["options"][0]["label"], "4e B");

    // Nothing written: refused, in French, with the typed class kept.
    let refused = h
        .student()
        .post("/ecrire", &[("classe", &class), ("texte", "   ")])
        .expect("the form again");
    assert_eq!(
        field(&refused, "texte")["error"],
        "Ce champ est obligatoire."
    );
    assert_eq!(field(&refused, "classe")["value"], class.as_str());
    assert!(
        refused
            .texts()
            .contains(&"Un champ est à corriger.".to_owned())
    );

    // Too long, and someone else's class: two errors, in English for an English reader.
    let long = "a".repeat(501);
    let refused = h
        .student()
        .in_english()
        .post("/ecrire", &[("classe", "autre"), ("texte", &long)])
        .expect("the form again");
    assert_eq!(
        field(&refused, "texte")["error"],
        "At most 500 characters (501 typed)."
    );
    assert_eq!(
        field(&refused, "classe")["error"],
        "Choose one of the options offered."
    );
    assert!(
        refused
            .texts()
            .contains(&"2 fields need correcting.".to_owned())
    );

    // Accepted: stored, and the author goes to the class's listing.
    let accepted = h
        .student()
        .post(
            "/ecrire",
            &[("classe", &class), ("texte", "Sortie au musée jeudi !")],
        )
        .expect("accepted");
    let listing = format!("/mots?classe={class}");
    assert_eq!(accepted.redirect(), Some(listing.as_str()));
    let page = h.other_student().get(&listing).expect("listing");
    assert_eq!(page.title(), Some("Mots de la classe — 4e B"));
    assert_eq!(
        notes(&page),
        [(
            "Léa Martin".to_owned(),
            "Sortie au musée jeudi !".to_owned()
        )]
    );
    assert!(
        page.texts()
            .iter()
            .any(|t| t.starts_with("lundi 30 novembre 2026, ")),
        "{page:?}"
    );
    // Another class than one's own is not shown.
    assert_eq!(
        h.student()
            .get("/mots?classe=autre")
            .expect_err("404")
            .status(),
        Some(404)
    );
}

#[test]
fn the_listing_shows_the_newest_first_ten_per_page() {
    let h = harness();
    let class = h.people().class_id.clone();
    for n in 1..=12 {
        let who = if n % 2 == 0 { h.student() } else { h.teacher() };
        who.post(
            "/ecrire",
            &[("classe", &class), ("texte", &format!("Mot {n}"))],
        )
        .expect("written");
    }
    let first = h.student().get("/mots").expect("listing");
    let texts: Vec<String> = notes(&first).into_iter().map(|(_, text)| text).collect();
    let expected: Vec<String> = (3..=12).rev().map(|n| format!("Mot {n}")).collect();
    assert_eq!(texts, expected);
    assert_eq!(notes(&first)[0].0, "Léa Martin");
    assert_eq!(notes(&first)[1].0, "Claire Durand");

    let older = link_to(&first, "Mots plus anciens").expect("a link to older notes");
    assert_eq!(older, format!("/mots?classe={class}&avant=3"));
    let second = h.student().get(&older).expect("older notes");
    let texts: Vec<String> = notes(&second).into_iter().map(|(_, text)| text).collect();
    assert_eq!(texts, ["Mot 2", "Mot 1"]);
    assert_eq!(link_to(&second, "Mots plus anciens"), None);
}

#[test]
fn the_widget_shows_the_latest_three() {
    let h = harness();
    let class = h.people().class_id.clone();
    let empty = h.student().widget("derniers-mots").expect("widget");
    assert_eq!(empty["title"], "Derniers mots");
    assert_eq!(empty["body"][0]["text"], "Aucun mot pour l'instant.");

    for text in ["Un", "Deux", "Trois", "Quatre"] {
        h.student()
            .post("/ecrire", &[("classe", &class), ("texte", text)])
            .expect("written");
    }
    let widget = h
        .other_student()
        .in_english()
        .widget("derniers-mots")
        .expect("widget");
    assert_eq!(widget["title"], "Latest notes");
    let items: Vec<&str> = widget["body"][0]["items"]
        .as_array()
        .expect("a list")
        .iter()
        .filter_map(|item| item["text"].as_str())
        .collect();
    assert_eq!(
        items,
        [
            "Léa Martin : Quatre",
            "Léa Martin : Trois",
            "Léa Martin : Deux"
        ]
    );
}

#[test]
fn a_teachers_note_notifies_the_pupils_and_a_pupils_notifies_nobody() {
    let h = harness();
    let people = h.people().clone();
    let class = people.class_id.clone();

    // Pupils may not write to each other (the core's communication rules): no notification.
    h.student()
        .post(
            "/ecrire",
            &[("classe", &class), ("texte", "Qui a mon compas ?")],
        )
        .expect("written");
    assert!(h.notifications().is_empty(), "{:?}", h.notifications());

    // A teacher's note reaches every pupil of the class.
    h.teacher()
        .post(
            "/ecrire",
            &[("classe", &class), ("texte", "Contrôle de maths lundi.")],
        )
        .expect("written");
    let sent = h.notifications();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].title, "Nouveau mot en 4e B / New note in 4e B");
    assert_eq!(sent[0].body, "Claire Durand : Contrôle de maths lundi.");
    assert_eq!(
        sent[0].link.as_deref(),
        Some(format!("/mots?classe={class}").as_str())
    );
    assert_eq!(sent[0].sender.as_deref(), Some(people.teacher.id.as_str()));
    let mut recipients = sent[0].recipients.clone();
    recipients.sort();
    let mut pupils = vec![people.student.id.clone(), people.other_student.id.clone()];
    pupils.sort();
    assert_eq!(recipients, pupils);
}
