//! Closed vocabularies of the identity model: profiles, roles, establishment kinds and states.
//! Each is stored and exchanged as its lower-case id; national codes (`National_ELV`…) exist only at
//! the SSO and import boundaries, through the `national_profiles` table (see `crate::db::identity`).

use std::fmt;
use std::str::FromStr;

/// A value outside a closed vocabulary; the message names the vocabulary and the allowed ids.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "« {value} » n'est pas un {what} connu (valeurs possibles : {allowed}) / `{value}` is not a known {what} (allowed: {allowed})"
)]
pub struct UnknownValue {
    pub what: &'static str,
    pub value: String,
    pub allowed: String,
}

/// Declares a closed vocabulary stored as text: `as_str`, `ALL`, `FromStr`, `Display` and serde.
macro_rules! vocabulary {
    ($(#[$meta:meta])* $name:ident, $what:literal { $($(#[$vmeta:meta])* $variant:ident = $id:literal,)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $($(#[$vmeta])* $variant,)+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];

            /// The id stored in the database and used in URLs and JSON.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $id,)+
                }
            }
        }

        impl FromStr for $name {
            type Err = UnknownValue;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($id => Ok($name::$variant),)+
                    _ => Err(UnknownValue {
                        what: $what,
                        value: s.to_string(),
                        allowed: [$($id,)+].join(", "),
                    }),
                }
            }
        }

        impl TryFrom<String> for $name {
            type Error = UnknownValue;
            fn try_from(s: String) -> Result<Self, Self::Error> {
                s.parse()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

vocabulary! {
    /// What a person is in one establishment. Rights are granted per profile; a person may hold
    /// several profiles in one establishment (a teacher who is also a parent there).
    Profile, "profil" {
        /// A pupil (`National_ELV`).
        Eleve = "eleve",
        /// A parent or other legal representative (`National_TUT`).
        Parent = "parent",
        /// A teacher, documentalists included (`National_ENS`, `National_DOC`).
        Enseignant = "enseignant",
        /// Non-teaching staff: vie scolaire, administration, collectivité agents (`National_EVS`, `National_ETA`, `National_COL`).
        Personnel = "personnel",
        /// The head and deputy head (`National_DIR`).
        Direction = "direction",
        /// A partner given access by the establishment.
        Invite = "invite",
    }
}

impl Profile {
    /// "Staff" in rights and communication rules: non-teaching staff and direction.
    pub const fn is_staff(self) -> bool {
        matches!(self, Profile::Personnel | Profile::Direction)
    }

    /// Whether this profile may look up the establishment's directory of adults
    /// (teachers, direction, personnel and admins).
    pub const fn sees_staff_directory(self) -> bool {
        matches!(
            self,
            Profile::Enseignant | Profile::Personnel | Profile::Direction
        )
    }

    /// French label, for people.
    pub const fn label_fr(self) -> &'static str {
        match self {
            Profile::Eleve => "Élève",
            Profile::Parent => "Parent",
            Profile::Enseignant => "Enseignant",
            Profile::Personnel => "Personnel",
            Profile::Direction => "Direction",
            Profile::Invite => "Invité",
        }
    }
}

vocabulary! {
    /// Administrative roles: held in addition to profiles, never instead of them.
    Role, "rôle" {
        /// Administrateur ENT of one establishment.
        AdminLocal = "admin_local",
        /// Administrator of the whole collectivité.
        AdminCollectivite = "admin_collectivite",
    }
}

vocabulary! {
    /// The kind of an establishment.
    EstablishmentKind, "type d'établissement" {
        Ecole = "ecole",
        College = "college",
        Lycee = "lycee",
        LyceeProfessionnel = "lycee_professionnel",
    }
}

vocabulary! {
    /// Where an establishment stands in the collectivité's roll-out.
    EstablishmentState, "état de déploiement" {
        /// Known, not open to users yet.
        Planned = "planned",
        /// Open to a pilot group.
        Pilot = "pilot",
        /// Open to everyone.
        Live = "live",
        /// Closed; its data is kept until purged.
        Closed = "closed",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_value_round_trips_through_its_id() {
        for p in Profile::ALL {
            assert_eq!(p.as_str().parse::<Profile>(), Ok(*p));
        }
        for r in Role::ALL {
            assert_eq!(r.as_str().parse::<Role>(), Ok(*r));
        }
        for k in EstablishmentKind::ALL {
            assert_eq!(k.as_str().parse::<EstablishmentKind>(), Ok(*k));
        }
        for s in EstablishmentState::ALL {
            assert_eq!(s.as_str().parse::<EstablishmentState>(), Ok(*s));
        }
    }

    #[test]
    fn unknown_id_names_the_allowed_values() {
        let err = "student".parse::<Profile>().expect_err("not a profile");
        let msg = err.to_string();
        assert!(msg.contains("« student »"), "{msg}");
        assert!(
            msg.contains("eleve, parent, enseignant, personnel, direction, invite"),
            "{msg}"
        );
    }

    #[test]
    fn staff_means_personnel_and_direction() {
        let staff: Vec<_> = Profile::ALL.iter().filter(|p| p.is_staff()).collect();
        assert_eq!(staff, [&Profile::Personnel, &Profile::Direction]);
    }
}
