//! The classes of the signed-in person, from the directory: a pupil's own class, and the
//! classes a teacher teaches (their teaching assignments). A person only ever sees the notes of
//! these classes.

use preau_plugin_sdk::Failure;
use preau_plugin_sdk::api::directory::{self, GroupKind};
use preau_plugin_sdk::collate;

/// A class: its id in the directory and its name (`4e B`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Classe {
    pub id: String,
    pub nom: String,
}

/// The person's classes, in French alphabetical order of their names.
pub fn mes_classes() -> Result<Vec<Classe>, Failure> {
    let mut classes: Vec<Classe> = directory::classes()
        .map_err(annuaire)?
        .into_iter()
        .map(|c| Classe {
            id: c.id,
            nom: c.name,
        })
        .collect();
    for teaching in directory::teachings().map_err(annuaire)? {
        let c = teaching.class_group;
        if c.kind == GroupKind::Class && !classes.iter().any(|k| k.id == c.id) {
            classes.push(Classe {
                id: c.id,
                nom: c.name,
            });
        }
    }
    classes.sort_by(|a, b| collate::compare(&a.nom, &b.nom));
    Ok(classes)
}

/// The class the request asks for (`?classe=ID`), which must be one of `classes`, or else
/// the first of them; `None` for someone without a class.
pub fn choisie<'c>(classes: &'c [Classe], id: Option<&str>) -> Result<Option<&'c Classe>, Failure> {
    match id {
        None => Ok(classes.first()),
        Some(id) => match classes.iter().find(|c| c.id == id) {
            Some(classe) => Ok(Some(classe)),
            None => Err(Failure::not_found(
                "cette classe n'est pas la vôtre",
                "this class is not yours",
            )),
        },
    }
}

/// A directory error as the failure the portal shows (its message is already French then
/// English).
pub fn annuaire(e: directory::Error) -> Failure {
    let (status, message) = match e {
        directory::Error::Denied(m) => (403, m),
        directory::Error::NotFound(m) => (404, m),
        directory::Error::Unavailable(m) => (500, m),
    };
    Failure {
        status,
        message: format!("annuaire / directory: {message}"),
    }
}
