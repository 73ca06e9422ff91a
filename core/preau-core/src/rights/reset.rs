//! Who may give whom a new password or activation code (for the many people without e-mail):
//! the collectivité admin for anyone of the establishment; its direction and local admin for
//! everyone there who holds no role and no adult profile elsewhere; vie scolaire (`personnel`
//! with the `EDU` function, the CPE) for people who are only students or parents; a teacher for
//! people who are only students, in the classes they teach this school year — each only while
//! holding `core:comptes.reinitialiser` there. A reset never reaches someone more powerful than
//! the actor (a head who is also a parent is not "a parent" for the CPE).

use crate::access::{Access, EstablishmentAccess};
use crate::db::{Db, DbResult};
use crate::identity::Profile;

use super::{ACCOUNTS_RESET, authorize};

/// The function code of vie scolaire (CPE, assistants d'éducation) in directory feeds.
pub const VIE_SCOLAIRE_FUNCTION: &str = "EDU";

/// Whose accounts a person may reset in one establishment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResetScope {
    /// Anyone attached to the establishment (the collectivité admin).
    Anyone,
    /// Everyone attached to the establishment who holds no role and no adult profile in another
    /// establishment (the direction, the local admin).
    Everyone,
    /// People whose every attachment is a student's or a parent's, and who hold no role.
    StudentsAndParents,
    /// People who are only students, in a class or group this teacher teaches this school year.
    StudentsOf {
        teacher: String,
        school_year: String,
    },
}

/// The widest scope `access` gives in the establishment (`None`: no reset at all).
pub async fn reset_scope(
    db: &Db,
    access: &Access,
    actor_id: &str,
    establishment_id: &str,
    school_year: &str,
) -> DbResult<Option<ResetScope>> {
    let mine: Vec<_> = access
        .attachments
        .iter()
        .filter(|a| a.establishment_id == establishment_id)
        .collect();
    let admin = matches!(
        access.in_establishment(establishment_id),
        EstablishmentAccess::Admin | EstablishmentAccess::Member { admin: true, .. }
    );
    // The scope the person's position gives, before asking the grants (students, parents and
    // guests have none, whatever the matrix says, so they cost no query).
    let scope = if access.is_collectivite_admin() {
        ResetScope::Anyone
    } else if admin || mine.iter().any(|a| a.profile == Profile::Direction) {
        ResetScope::Everyone
    } else if mine.iter().any(|a| {
        a.profile == Profile::Personnel
            && a.functions.iter().any(|f| f.code == VIE_SCOLAIRE_FUNCTION)
    }) {
        ResetScope::StudentsAndParents
    } else if mine.iter().any(|a| a.profile == Profile::Enseignant) {
        ResetScope::StudentsOf {
            teacher: actor_id.to_string(),
            school_year: school_year.to_string(),
        }
    } else {
        return Ok(None);
    };
    Ok(authorize(db, access, establishment_id, &ACCOUNTS_RESET)
        .await?
        .then_some(scope))
}
