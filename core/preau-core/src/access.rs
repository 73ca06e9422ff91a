//! Who may reach what, decided from a person's attachments and roles. This is the identity-level
//! part of authorization (profiles and roles per establishment); the grant matrix of plugin
//! permissions comes with the rights issue and builds on it.

use crate::db::identity::{AttachmentView, RoleView};
use crate::db::{Db, DbResult};
use crate::identity::{Profile, Role};

/// A person's attachments and roles, loaded once per request.
#[derive(Debug, Clone)]
pub struct Access {
    pub attachments: Vec<AttachmentView>,
    pub roles: Vec<RoleView>,
    /// The establishment ids where the person is local admin.
    admin_of: Vec<String>,
}

/// What a person is in one establishment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EstablishmentAccess {
    /// Not attached, not an admin there.
    None,
    /// Attached with these profiles (never empty), and local admin or not.
    Member { profiles: Vec<Profile>, admin: bool },
    /// Local admin without an attachment, or collectivité admin.
    Admin,
}

impl Access {
    /// Loads what `user_id` holds.
    pub async fn load(db: &Db, user_id: &str) -> DbResult<Access> {
        let (attachments, roles) = db.positions_of(user_id).await?;
        let admin_of = roles
            .iter()
            .filter(|r| r.role == Role::AdminLocal)
            .filter_map(|r| r.establishment_id.clone())
            .collect();
        Ok(Access {
            attachments,
            roles,
            admin_of,
        })
    }

    /// Whether the person administers the whole collectivité.
    pub fn is_collectivite_admin(&self) -> bool {
        self.roles.iter().any(|r| r.role == Role::AdminCollectivite)
    }

    /// What the person is in the establishment `establishment_id`.
    pub fn in_establishment(&self, establishment_id: &str) -> EstablishmentAccess {
        let profiles: Vec<Profile> = self
            .attachments
            .iter()
            .filter(|a| a.establishment_id == establishment_id)
            .map(|a| a.profile)
            .collect();
        let admin = self.admin_of.iter().any(|id| id == establishment_id);
        if !profiles.is_empty() {
            EstablishmentAccess::Member {
                profiles,
                admin: admin || self.is_collectivite_admin(),
            }
        } else if admin || self.is_collectivite_admin() {
            EstablishmentAccess::Admin
        } else {
            EstablishmentAccess::None
        }
    }
}
