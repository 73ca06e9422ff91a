//! Who may give whom a new password or activation code (for the many people without e-mail):
//! the direction and the admins for everyone of the establishment, vie scolaire (`personnel` with
//! the `EDU` function, the CPE) for students and parents, a teacher for the students of the
//! classes they teach — each only while holding `core:comptes.reinitialiser` there.

use crate::access::{Access, EstablishmentAccess};
use crate::db::{Db, DbResult};
use crate::identity::Profile;

use super::{ACCOUNTS_RESET, authorize};

/// The function code of vie scolaire (CPE, assistants d'éducation) in directory feeds.
pub const VIE_SCOLAIRE_FUNCTION: &str = "EDU";

/// Whose accounts a person may reset in one establishment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResetScope {
    /// Everyone attached to the establishment.
    Everyone,
    /// Students and parents.
    StudentsAndParents,
    /// The students of the classes and groups this teacher teaches.
    StudentsOf(String),
}

/// The widest scope `access` gives in the establishment (`None`: no reset at all).
pub async fn reset_scope(
    db: &Db,
    access: &Access,
    actor_id: &str,
    establishment_id: &str,
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
    let scope = if admin || mine.iter().any(|a| a.profile == Profile::Direction) {
        ResetScope::Everyone
    } else if mine.iter().any(|a| {
        a.profile == Profile::Personnel
            && a.functions.iter().any(|f| f.code == VIE_SCOLAIRE_FUNCTION)
    }) {
        ResetScope::StudentsAndParents
    } else if mine.iter().any(|a| a.profile == Profile::Enseignant) {
        ResetScope::StudentsOf(actor_id.to_string())
    } else {
        return Ok(None);
    };
    Ok(authorize(db, access, establishment_id, &ACCOUNTS_RESET)
        .await?
        .then_some(scope))
}
