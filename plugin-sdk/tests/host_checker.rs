//! Views built with the SDK pass the host's checker (`preau_host::view::check`), up to its
//! limits; and the SDK's limits are the host's.

use preau_plugin_sdk::calendar::{YearMonth, parse_date};
use preau_plugin_sdk::view::{
    self, Cell, Field, Form, Level, MonthEvent, Node, Page, Section, WeekEvent, card, download,
    link, list, month, notice, section, table, text, user_text, week,
};

fn accepted(page: &Page) {
    let json = page.to_value().expect("the SDK lets it out");
    if let Err(e) = preau_host::view::check(&json) {
        panic!("the host refuses a view the SDK built: {e}\n{json}");
    }
}

#[test]
fn the_limits_are_the_hosts() {
    assert_eq!(view::MAX_DEPTH, preau_host::view::MAX_DEPTH);
    assert_eq!(view::MAX_NODES, preau_host::view::MAX_NODES);
}

#[test]
fn every_kind_and_field_passes_the_host() {
    let day = |s| parse_date(s).expect("date");
    let page = Page::new("Tout")
        .push(notice(Level::Success, "Enregistré"))
        .push(notice(Level::Warning, "Attention"))
        .push(notice(Level::Error, "Erreur"))
        .push(Section::untitled().push(text("sans titre")))
        .push(
            section("Lundi").push(
                card("Maths")
                    .push(user_text("<p>Ex. 4</p>"))
                    .link(link("Voir", "/devoirs/4")),
            ),
        )
        .push(card("Vide"))
        .push(
            list()
                .ordered()
                .item(text("un"))
                .item(link("deux", "/deux")),
        )
        .push(
            table("Notes", ["Élève", "Note", "Lien"])
                .row([
                    Cell::from("Léa"),
                    Cell::from(notice(Level::Info, "15")),
                    Cell::from(link("voir", "/notes/lea")),
                ])
                .row(["Hugo", "12", ""]),
        )
        .push(table("Vide", Vec::<String>::new()))
        .push(download("Exporter", "/export.csv?classe=4B"))
        .push(
            Form::post("/devoirs", "Enregistrer")
                .field(
                    Field::text("titre", "Titre")
                        .required()
                        .value("x")
                        .error("Trop court"),
                )
                .field(Field::textarea("consigne", "Consigne").help("Texte libre"))
                .field(Field::number("pages", "Pages"))
                .field(Field::date("le", "Le"))
                .field(Field::time("a", "À"))
                .field(Field::datetime("quand", "Quand"))
                .field(Field::select(
                    "classe",
                    "Classe",
                    [("4B", "4e B"), ("4C", "4e C")],
                ))
                .field(Field::radio("niveau", "Niveau", [("a", "A")]).value("a"))
                .field(Field::checkbox("note", "Noté").checked(true))
                .field(Field::hidden("revision", "3"))
                .field(Field::file("piece", "Pièce jointe")),
        )
        .push(Form::get("/recherche", "Chercher"))
        .push(
            week(day("2026-11-30"))
                .event(WeekEvent::new(
                    "Salle 101",
                    day("2026-11-30").and_hms_opt(8, 0, 0).expect("time"),
                    day("2026-11-30").and_hms_opt(10, 0, 0).expect("time"),
                ))
                .event(
                    WeekEvent::new(
                        "Salle 102",
                        day("2026-12-01").and_hms_opt(14, 0, 0).expect("time"),
                        day("2026-12-01").and_hms_opt(15, 30, 0).expect("time"),
                    )
                    .href("/reservations/2"),
                ),
        )
        .push(
            month(YearMonth::new(2026, 12).expect("month"))
                .event(MonthEvent::new("Conseil", day("2026-12-08")).href("/conseils/1")),
        )
        .push(month(YearMonth::new(2027, 1).expect("month")));
    accepted(&page);
}

#[test]
fn views_at_the_limits_pass_the_host() {
    let mut deep = Node::Text("au fond".into());
    for _ in 0..view::MAX_DEPTH - 1 {
        deep = Section::untitled().push(deep).into();
    }
    accepted(&Page::new("profond").push(deep));
    accepted(&Page::new("nombreux").extend((0..view::MAX_NODES).map(|i| text(i.to_string()))));
    accepted(&Page::new("long").push(text("é".repeat(view::MAX_STRING_BYTES / 2))));
    let fields = (0..view::MAX_NODES - 1).fold(Form::post("/a", "ok"), |f, i| {
        f.field(Field::text(format!("f{i}"), "x"))
    });
    accepted(&Page::new("formulaire").push(fields));
}
