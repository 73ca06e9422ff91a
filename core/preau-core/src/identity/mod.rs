//! The identity model's pure types: establishment codes (UAI), profiles and roles, logins and
//! activation codes. Nothing here touches the database; `crate::db` stores these types.

mod activation;
mod login;
mod profile;
mod uai;

pub use activation::{ACTIVATION_ALPHABET, ActivationCode, ActivationCodeError, CodeKey};
pub use login::{LOGIN_MAX_LEN, LoginBase, LoginError, fold_name};
pub use profile::{EstablishmentKind, EstablishmentState, Profile, Role, UnknownValue};
pub use uai::{Uai, UaiError};
