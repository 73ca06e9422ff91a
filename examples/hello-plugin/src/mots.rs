//! The documents. A note (`Mot`) lives in the collection `mots`; its index `par-classe`
//! (`plugin.toml`) orders a class's notes by number, so the listing reads them newest first.
//! The numbers come from one counter per class (collection `compteurs`), written in the same
//! commit as the note: two notes written at the same moment never get the same number.

use preau_plugin_sdk::prelude::*;
use preau_plugin_sdk::store::{DocPage, Precondition, commit, retry_on_conflict};
use serde::{Deserialize, Serialize};

/// A note left for a class.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mot {
    /// The class's id: the first field of the index `par-classe`.
    pub classe: String,
    /// Its number in the class, from 1: the second field of the index.
    pub numero: i64,
    /// The class's name when the note was written (`4e B`).
    pub classe_nom: String,
    /// The author's account id.
    pub auteur: String,
    /// The author's name when the note was written.
    pub auteur_nom: String,
    /// The note itself, plain text.
    pub texte: String,
    /// When it was written: RFC 3339, from the core's clock.
    pub ecrit_le: String,
}

/// The last number given in a class.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
struct Compteur {
    dernier: i64,
}

fn mots() -> Collection<Mot> {
    Collection::new("mots")
}

fn compteurs() -> Collection<Compteur> {
    Collection::new("compteurs")
}

/// Stores `mot` as the next note of its class; its number. The counter is rewritten at the
/// revision read and the note created where there was none, in one commit: if someone else
/// wrote in the class meanwhile, the commit fails with a conflict, nothing is written, and the
/// next attempt reads the counter again.
pub fn ajouter(mot: &Mot) -> Result<i64, StoreError> {
    retry_on_conflict(5, || {
        let (numero, precondition) = match compteurs().get(&mot.classe)? {
            Some(c) => (c.value.dernier + 1, Precondition::AtRevision(c.revision)),
            None => (1, Precondition::Absent),
        };
        let mot = Mot {
            numero,
            ..mot.clone()
        };
        let compteur = Compteur { dernier: numero };
        commit(&[
            compteurs().put_op(&mot.classe, &compteur, &[], Some(precondition))?,
            // The author is the note's subject: their data export and erasure reach it.
            mots().put_op(
                &format!("{}-{numero}", mot.classe),
                &mot,
                &[&mot.auteur],
                Some(Precondition::Absent),
            )?,
        ])?;
        Ok(numero)
    })
}

/// A page of `classe`'s notes, newest first: at most `limit`, numbered below `avant` when
/// given (the next page starts below the last number shown).
pub fn derniers(classe: &str, avant: Option<i64>, limit: u32) -> Result<DocPage<Mot>, StoreError> {
    let mut query = mots()
        .by_index("par-classe")
        .equals(classe)
        .descending()
        .limit(limit);
    if let Some(numero) = avant {
        query = query.before(numero);
    }
    query.fetch()
}
