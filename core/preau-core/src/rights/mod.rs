//! Rights, as DESIGN §3 states them: every permission belongs to one family — consultation,
//! communication or publication — and a grant gives it to a profile in one establishment. The
//! local admin holds every permission of their establishment, the collectivité admin of every
//! establishment. [`authorize`] is the one function routes ask.

pub mod communication;
pub mod reset;

use serde::Serialize;

use crate::access::{Access, EstablishmentAccess};
use crate::db::{Db, DbResult};
use crate::identity::Profile;

/// The three families of rights.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Family {
    Consultation,
    Communication,
    Publication,
}

/// A permission a service declares, with its family and its default grants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Permission {
    /// `core`, or a plugin id `publisher:name`.
    pub service: &'static str,
    pub id: &'static str,
    pub family: Family,
    /// The profiles it is granted to in a new establishment.
    pub defaults: &'static [Profile],
    pub label_fr: &'static str,
    pub label_en: &'static str,
}

/// The service name of the core's own permissions.
pub const CORE: &str = "core";

/// Consult the directory of adults (teachers, staff, direction, admins).
pub const DIRECTORY_ADULTS: Permission = Permission {
    service: CORE,
    id: "annuaire.adultes",
    family: Family::Consultation,
    defaults: &[Profile::Enseignant, Profile::Personnel, Profile::Direction],
    label_fr: "Consulter l'annuaire des adultes de l'établissement",
    label_en: "Consult the school's directory of adults",
};

/// Consult the list of classes and groups.
pub const DIRECTORY_CLASSES: Permission = Permission {
    service: CORE,
    id: "annuaire.classes",
    family: Family::Consultation,
    defaults: &[
        Profile::Eleve,
        Profile::Parent,
        Profile::Enseignant,
        Profile::Personnel,
        Profile::Direction,
    ],
    label_fr: "Consulter la liste des classes et des groupes",
    label_en: "Consult the list of classes and groups",
};

/// Give someone a new password or activation code (within the scope their role allows: the
/// class's teachers for their students, vie scolaire for students and parents, the direction for
/// everyone of the establishment).
pub const ACCOUNTS_RESET: Permission = Permission {
    service: CORE,
    id: "comptes.reinitialiser",
    family: Family::Publication,
    defaults: &[Profile::Enseignant, Profile::Personnel, Profile::Direction],
    label_fr: "Réinitialiser le mot de passe ou le code d'activation d'un compte",
    label_en: "Reset an account's password or activation code",
};

/// Every permission of the core.
pub const CORE_PERMISSIONS: &[Permission] = &[DIRECTORY_ADULTS, DIRECTORY_CLASSES, ACCOUNTS_RESET];

/// Whether the person `access` describes holds `permission` in the establishment
/// `establishment_id`: as its local admin or the collectivité admin, or through a grant to one of
/// the profiles they hold there.
pub async fn authorize(
    db: &Db,
    access: &Access,
    establishment_id: &str,
    permission: &Permission,
) -> DbResult<bool> {
    authorize_named(
        db,
        access,
        establishment_id,
        permission.service,
        permission.id,
    )
    .await
}

/// [`authorize`] for a permission named at run time: `service` is `core` or a plugin id, `id`
/// one of its permissions (a plugin's, from its manifest).
pub async fn authorize_named(
    db: &Db,
    access: &Access,
    establishment_id: &str,
    service: &str,
    id: &str,
) -> DbResult<bool> {
    let profiles = match access.in_establishment(establishment_id) {
        EstablishmentAccess::None => return Ok(false),
        EstablishmentAccess::Admin | EstablishmentAccess::Member { admin: true, .. } => {
            return Ok(true);
        }
        EstablishmentAccess::Member {
            profiles,
            admin: false,
        } => profiles,
    };
    let granted = db.granted_profiles(establishment_id, service, id).await?;
    Ok(profiles.iter().any(|p| granted.contains(p)))
}

/// Every permission a person holds in one establishment, read at once: for a page that asks
/// many (the dashboard, one per widget). Answers as [`authorize_named`] would, as of its reading.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Permissions {
    /// The establishment's local admin or the collectivité admin.
    Everything,
    /// Someone with no position there.
    Nothing,
    /// The (service, permission) pairs granted to a profile the person holds there.
    Granted(Vec<(String, String)>),
}

impl Permissions {
    /// Whether `id` of `service` is held.
    pub fn allows(&self, service: &str, id: &str) -> bool {
        match self {
            Permissions::Everything => true,
            Permissions::Nothing => false,
            Permissions::Granted(pairs) => pairs.iter().any(|(s, p)| s == service && p == id),
        }
    }
}

/// What the person `access` describes holds in the establishment `establishment_id` (one query,
/// none for admins and strangers).
pub async fn permissions_in(
    db: &Db,
    access: &Access,
    establishment_id: &str,
) -> DbResult<Permissions> {
    let profiles = match access.in_establishment(establishment_id) {
        EstablishmentAccess::None => return Ok(Permissions::Nothing),
        EstablishmentAccess::Admin | EstablishmentAccess::Member { admin: true, .. } => {
            return Ok(Permissions::Everything);
        }
        EstablishmentAccess::Member {
            profiles,
            admin: false,
        } => profiles,
    };
    Ok(Permissions::Granted(
        db.grants_in(establishment_id)
            .await?
            .into_iter()
            .filter(|(_, _, profile)| profiles.contains(profile))
            .map(|(service, permission, _)| (service, permission))
            .collect(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn core_permissions_are_unique_and_labelled() {
        for (i, p) in CORE_PERMISSIONS.iter().enumerate() {
            assert_eq!(p.service, CORE);
            assert!(!p.label_fr.is_empty() && !p.label_en.is_empty());
            assert!(
                CORE_PERMISSIONS[i + 1..].iter().all(|q| q.id != p.id),
                "{} twice",
                p.id
            );
        }
    }
}
