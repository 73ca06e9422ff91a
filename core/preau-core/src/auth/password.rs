//! Passwords: argon2id with the crate's default (OWASP-recommended) parameters and a fresh random
//! salt, stored as a PHC string; verification; and the password policy.

use std::sync::OnceLock;

use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Argon2, PasswordHash};

/// Shortest password accepted.
pub const MIN_LEN: usize = 8;
/// Longest password accepted (argon2 would take anything; a bound keeps requests cheap).
pub const MAX_LEN: usize = 128;

/// Hashes `password` with a fresh random salt.
pub fn hash(password: &str) -> Result<String, argon2::password_hash::Error> {
    Ok(Argon2::default()
        .hash_password(password.as_bytes())?
        .to_string())
}

/// Hashes `password` on a blocking thread, off the async executor (argon2 takes tens of
/// milliseconds by design). `None` if hashing failed.
pub async fn hash_off_thread(password: &str) -> Option<String> {
    let password = password.to_string();
    tokio::task::spawn_blocking(move || hash(&password).ok())
        .await
        .ok()
        .flatten()
}

/// Whether `password` matches `stored`, checked on a blocking thread.
pub async fn verify_off_thread(stored: String, password: &str) -> bool {
    let password = password.to_string();
    tokio::task::spawn_blocking(move || verify(&stored, &password))
        .await
        .unwrap_or(false)
}

/// Whether `password` matches the PHC string `stored`. A malformed stored hash never matches.
pub fn verify(stored: &str, password: &str) -> bool {
    PasswordHash::new(stored).is_ok_and(|h| {
        Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

/// Spends the time of one verification without an account, so that a login for an unknown
/// account takes as long as one for a known account (no enumeration by timing).
pub fn verify_nothing(password: &str) {
    static DUMMY: OnceLock<Option<String>> = OnceLock::new();
    if let Some(stored) = DUMMY.get_or_init(|| hash("préau: no such account").ok()) {
        let _ = verify(stored, password);
    }
}

/// A temporary password, for an account reset by a staff member or for the demo: 14 characters
/// without look-alikes, always mixing lower case, upper case and digits. It is changed at the
/// next login when it comes from a reset.
pub fn generate_temporary() -> String {
    use rand::RngExt;
    const LOWER: &[u8] = b"abcdefghjkmnpqrstuvwxyz";
    const UPPER: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ";
    const DIGITS: &[u8] = b"23456789";
    let mut rng = rand::rng();
    let mut pick = |set: &[u8]| char::from(set[rng.random_range(0..set.len())]);
    let mut chars: Vec<char> = (0..11)
        .map(|i| match i % 3 {
            0 => pick(LOWER),
            1 => pick(UPPER),
            _ => pick(DIGITS),
        })
        .collect();
    chars.extend([pick(LOWER), pick(UPPER), pick(DIGITS)]);
    chars.into_iter().collect()
}

/// Why a new password is refused. Messages are for people: French, then English.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error(
        "le mot de passe doit compter au moins {MIN_LEN} caractères / the password must have at least {MIN_LEN} characters"
    )]
    TooShort,
    #[error(
        "le mot de passe ne peut dépasser {MAX_LEN} caractères / the password cannot exceed {MAX_LEN} characters"
    )]
    TooLong,
    #[error(
        "le mot de passe doit mêler au moins trois types de caractères parmi minuscules, majuscules, chiffres et symboles / the password must mix at least three of lower case, upper case, digits and symbols"
    )]
    TooSimple,
    #[error(
        "le mot de passe ne doit pas contenir l'identifiant / the password must not contain the login"
    )]
    ContainsLogin,
}

/// The policy for new passwords (CNIL deliberation 2022-100, the case of an account protected by
/// throttling): at least 8 characters mixing three of the four kinds, and not the login.
pub fn check_policy(password: &str, login: &str) -> Result<(), PolicyError> {
    let len = password.chars().count();
    if len < MIN_LEN {
        return Err(PolicyError::TooShort);
    }
    if len > MAX_LEN {
        return Err(PolicyError::TooLong);
    }
    let kinds = [
        password.chars().any(char::is_lowercase),
        password.chars().any(char::is_uppercase),
        password.chars().any(|c| c.is_ascii_digit()),
        password.chars().any(|c| !c.is_alphanumeric()),
    ];
    if kinds.iter().filter(|k| **k).count() < 3 {
        return Err(PolicyError::TooSimple);
    }
    let lower = password.to_lowercase();
    if !login.is_empty()
        && (lower.contains(login)
            || login
                .split('.')
                .any(|part| part.len() >= 4 && lower.contains(part)))
    {
        return Err(PolicyError::ContainsLogin);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_and_differ() {
        let a = hash("Cahier-de-textes-1").expect("hash");
        let b = hash("Cahier-de-textes-1").expect("hash");
        assert_ne!(a, b, "salted");
        assert!(a.starts_with("$argon2id$"));
        assert!(verify(&a, "Cahier-de-textes-1"));
        assert!(!verify(&a, "cahier-de-textes-1"));
        assert!(!verify("not a hash", "anything"));
    }

    #[test]
    fn temporary_passwords_meet_the_policy() {
        for _ in 0..50 {
            let p = generate_temporary();
            assert_eq!(p.len(), 14);
            assert_eq!(check_policy(&p, "jean.dupont"), Ok(()), "{p}");
        }
    }

    #[test]
    fn policy_wants_length_and_variety() {
        let check = |p: &str| check_policy(p, "jean.dupont");
        assert_eq!(check("Ab1!"), Err(PolicyError::TooShort));
        assert_eq!(check("abcdefghij"), Err(PolicyError::TooSimple));
        assert_eq!(check("abcdefgh12"), Err(PolicyError::TooSimple));
        assert_eq!(check("Dupont2026!"), Err(PolicyError::ContainsLogin));
        assert_eq!(check(&"Aa1!".repeat(40)), Err(PolicyError::TooLong));
        assert_eq!(check("Marelle-42"), Ok(()));
        assert_eq!(check("éléphant Rose 7"), Ok(()));
    }
}
