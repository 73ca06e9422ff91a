//! What people read: the home page, the listing of a class's notes (ten per page, newest
//! first) and the dashboard widget (the latest three).

use preau_plugin_sdk::api::rights;
use preau_plugin_sdk::calendar::parse_date;
use preau_plugin_sdk::prelude::*;

use crate::classes::{choisie, mes_classes};
use crate::mots::{self, Mot};

/// Notes per page of the listing.
pub const PAR_PAGE: u32 = 10;

/// `GET /`: what the service is, and where to go.
pub fn accueil(req: &Request) -> Result<Response, Failure> {
    let lang = req.lang();
    let mut page = Page::new(t(lang, "Mots de la classe", "Class notes"))
        .push(text(t(
            lang,
            "Un petit mur pour chaque classe : on y laisse un mot pour tous, élèves et enseignants.",
            "A small wall for each class: leave a note there for everyone, pupils and teachers.",
        )))
        .push(link(t(lang, "Lire les mots", "Read the notes"), "/mots"));
    // The route's permission is checked by the core; what a page offers is the plugin's call.
    if rights::holds("mots.ecrire") {
        page = page.push(link(t(lang, "Écrire un mot", "Write a note"), "/ecrire"));
    }
    page.respond()
}

/// `GET /mots?classe=ID&avant=N`: the notes of one of the person's classes.
pub fn liste(req: &Request) -> Result<Response, Failure> {
    let lang = req.lang();
    let classes = mes_classes()?;
    let Some(classe) = choisie(&classes, req.query_param("classe"))? else {
        return Page::new(t(lang, "Mots de la classe", "Class notes"))
            .push(notice(
                Level::Info,
                t(
                    lang,
                    "Vous n'êtes dans aucune classe.",
                    "You are in no class.",
                ),
            ))
            .respond();
    };
    let avant = match req.query_param("avant") {
        Some(n) => Some(n.parse::<i64>().map_err(|_| {
            Failure::bad_request("« avant » n'est pas un nombre", "'avant' is not a number")
        })?),
        None => None,
    };
    let found = mots::derniers(&classe.id, avant, PAR_PAGE)?;

    let mut page = Page::new(format!(
        "{} — {}",
        t(lang, "Mots de la classe", "Class notes"),
        classe.nom
    ));
    if classes.len() > 1 {
        let options = classes.iter().map(|c| (c.id.clone(), c.nom.clone()));
        page =
            page.push(Form::get("/mots", t(lang, "Afficher", "Show")).field(
                Field::select("classe", t(lang, "Classe", "Class"), options).value(&classe.id),
            ));
    }
    if found.docs.is_empty() {
        page = page.push(text(t(lang, "Aucun mot pour l'instant.", "No notes yet.")));
    }
    for doc in &found.docs {
        page = page.push(
            card(doc.value.auteur_nom.clone())
                .push(text(doc.value.texte.clone()))
                .push(text(quand(lang, &doc.value))),
        );
    }
    if let (Some(_), Some(last)) = (&found.next_cursor, found.docs.last()) {
        page = page.push(link(
            t(lang, "Mots plus anciens", "Older notes"),
            format!("/mots?classe={}&avant={}", classe.id, last.value.numero),
        ));
    }
    if rights::holds("mots.ecrire") {
        page = page.push(link(t(lang, "Écrire un mot", "Write a note"), "/ecrire"));
    }
    page.respond()
}

/// The widget `derniers-mots`: the latest three notes of the person's first class.
pub fn widget(req: &WidgetRequest) -> Result<String, Failure> {
    let lang = req.lang();
    let page = Page::new(t(lang, "Derniers mots", "Latest notes"));
    let classes = mes_classes()?;
    let Some(classe) = classes.first() else {
        return page
            .push(text(t(
                lang,
                "Vous n'êtes dans aucune classe.",
                "You are in no class.",
            )))
            .render();
    };
    let found = mots::derniers(&classe.id, None, 3)?;
    if found.docs.is_empty() {
        return page
            .push(text(t(lang, "Aucun mot pour l'instant.", "No notes yet.")))
            .render();
    }
    let items = found.docs.iter().map(|d| {
        text(format!(
            "{} : {}",
            d.value.auteur_nom,
            extrait(&d.value.texte, 80)
        ))
    });
    page.push(list().items(items))
        .push(link(t(lang, "Tous les mots", "All notes"), "/mots"))
        .render()
}

/// When a note was written: `lundi 30 novembre 2026, 08:15` / `Monday 30 November 2026, 08:15`.
fn quand(lang: Lang, mot: &Mot) -> String {
    let day = mot.ecrit_le.get(..10).and_then(parse_date);
    let time = mot.ecrit_le.get(11..16).unwrap_or_default();
    match day {
        Some(day) => format!("{}, {time}", lang.long_date(day)),
        None => mot.ecrit_le.clone(),
    }
}

/// The first `max` characters of `texte`, with `…` when cut.
pub fn extrait(texte: &str, max: usize) -> String {
    match texte.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", texte[..cut].trim_end()),
        None => texte.to_owned(),
    }
}
