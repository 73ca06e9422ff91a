//! Writing a note: `GET /ecrire` shows the form; `POST /ecrire` validates it (the errors go back
//! under the fields, in the reader's language), stores the note, notifies whom the author may
//! write to, and sends the author to the listing.

use preau_plugin_sdk::api::log::{self, Level as LogLevel};
use preau_plugin_sdk::api::{clock, directory, rights};
use preau_plugin_sdk::prelude::*;

use crate::classes::{Classe, annuaire, mes_classes};
use crate::mots::{self, Mot};
use crate::pages::extrait;

/// The longest note, in characters.
pub const MAX_CHARS: usize = 500;

/// The form, for the person's classes.
fn formulaire(lang: Lang, classes: &[Classe]) -> Form {
    let options = classes.iter().map(|c| (c.id.clone(), c.nom.clone()));
    Form::post("/ecrire", t(lang, "Publier", "Publish"))
        .field(Field::select("classe", t(lang, "Classe", "Class"), options).required())
        .field(
            Field::textarea("texte", t(lang, "Votre mot", "Your note"))
                .required()
                .help(t(
                    lang,
                    "500 caractères au plus. Toute la classe le lira.",
                    "At most 500 characters. The whole class will read it.",
                )),
        )
}

fn titre(lang: Lang) -> &'static str {
    t(lang, "Écrire un mot", "Write a note")
}

/// `GET /ecrire`.
pub fn afficher(req: &Request) -> Result<Response, Failure> {
    let lang = req.lang();
    let classes = mes_classes()?;
    let page = Page::new(titre(lang));
    if classes.is_empty() {
        return page
            .push(notice(
                Level::Info,
                t(
                    lang,
                    "Vous n'êtes dans aucune classe.",
                    "You are in no class.",
                ),
            ))
            .respond();
    }
    page.push(formulaire(lang, &classes)).respond()
}

/// `POST /ecrire`.
pub fn enregistrer(req: &Request) -> Result<Response, Failure> {
    let lang = req.lang();
    let classes = mes_classes()?;
    let ids: Vec<&str> = classes.iter().map(|c| c.id.as_str()).collect();
    let decoded = FormData::new(req).decode(|f| {
        let classe = f.select("classe", &ids).required().value().to_owned();
        let texte = f.textarea("texte").required().max_chars(MAX_CHARS).value();
        (classe, texte)
    });
    let (classe, texte) = match decoded {
        Ok(values) => values,
        // Refused: the same form, with what was typed and a message under each wrong field.
        Err(refused) => {
            return Page::new(titre(lang))
                .extend(refused.errors_notice())
                .push(formulaire(lang, &classes).with_submission(&refused))
                .respond();
        }
    };
    let classe = classes
        .iter()
        .find(|c| c.id == classe)
        .ok_or_else(|| Failure::bad_request("classe inconnue", "unknown class"))?;
    let auteur = directory::current_user().map_err(annuaire)?;
    let mot = Mot {
        classe: classe.id.clone(),
        numero: 0, // given by `mots::ajouter`
        classe_nom: classe.nom.clone(),
        auteur: auteur.id,
        auteur_nom: auteur.display_name,
        texte,
        ecrit_le: clock::now(),
    };
    mots::ajouter(&mot)?;
    prevenir(&mot);
    Ok(Response::redirect_to(format!(
        "/mots?classe={}",
        mot.classe
    )))
}

/// Notifies the members of the note's class whom the author may write to. The core's
/// communication rules decide (`rights::may_write_to`): a teacher's note reaches the pupils; a
/// pupil may not write to classmates, so a pupil's note notifies nobody. A notification is best
/// effort: the note is stored whatever becomes of it, and a failure is only logged.
fn prevenir(mot: &Mot) {
    if let Err(failure) = envoyer(mot) {
        log::log(
            LogLevel::Warn,
            &format!("notification non envoyée / not sent: {}", failure.message),
        );
    }
}

fn envoyer(mot: &Mot) -> Result<(), Failure> {
    let recipients: Vec<String> = directory::members(&mot.classe)
        .map_err(annuaire)?
        .into_iter()
        .map(|person| person.id)
        .filter(|id| rights::may_write_to(id))
        .collect();
    if recipients.is_empty() {
        return Ok(());
    }
    Notification::new(format!(
        "Nouveau mot en {0} / New note in {0}",
        mot.classe_nom
    ))
    .body(format!("{} : {}", mot.auteur_nom, extrait(&mot.texte, 200)))
    .link(format!("/mots?classe={}", mot.classe))
    .to(recipients)
    .send()?;
    Ok(())
}
