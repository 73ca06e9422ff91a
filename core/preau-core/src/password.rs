//! Password hashing: argon2id with the crate's default (OWASP-recommended) parameters and a fresh
//! random salt, stored as a PHC string. Verification and the password policy come with the
//! accounts issue.

use argon2::Argon2;
use argon2::password_hash::PasswordHasher;

/// Hashes `password` with a fresh random salt.
pub fn hash(password: &str) -> Result<String, argon2::password_hash::Error> {
    Ok(Argon2::default()
        .hash_password(password.as_bytes())?
        .to_string())
}
