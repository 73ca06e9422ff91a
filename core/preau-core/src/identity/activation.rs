//! Activation codes: the 8-character secret printed on an account's activation letter and typed at
//! first connection. The alphabet leaves out characters that read alike (0/O, 1/I/L). Only a salted
//! SHA-256 digest is stored: a code is single-use and short-lived, and its guessing is throttled by
//! the login path, so a slow hash would only slow down imports of thousands of accounts.

use std::fmt;

use rand::RngExt;
use sha2::{Digest, Sha256};

/// The 31 characters a code is made of: no 0, 1, I, L or O.
pub const ACTIVATION_ALPHABET: &[u8; 31] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";
const CODE_LEN: usize = 8;

/// A well-formed activation code (upper-case, 8 characters of [`ACTIVATION_ALPHABET`]).
#[derive(Clone, PartialEq, Eq)]
pub struct ActivationCode(String);

/// Why typed text is not an activation code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ActivationCodeError {
    #[error(
        "un code d'activation compte 8 caractères (lettres et chiffres) / an activation code has 8 characters (letters and digits)"
    )]
    Length,
    #[error(
        "le caractère « {0} » ne peut pas figurer dans un code d'activation / character `{0}` cannot appear in an activation code"
    )]
    Character(char),
}

impl ActivationCode {
    /// A fresh code from the operating system's random source.
    pub fn generate() -> ActivationCode {
        let mut rng = rand::rng();
        let code = (0..CODE_LEN)
            .map(|_| {
                char::from(ACTIVATION_ALPHABET[rng.random_range(0..ACTIVATION_ALPHABET.len())])
            })
            .collect();
        ActivationCode(code)
    }

    /// Reads a code as a person types it: case, spaces and hyphens do not matter
    /// (`abcd-efgh` is `ABCDEFGH`).
    pub fn parse(input: &str) -> Result<ActivationCode, ActivationCodeError> {
        let code: String = input
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .map(|c| c.to_ascii_uppercase())
            .collect();
        if let Some(bad) = code
            .chars()
            .find(|c| !c.is_ascii() || !ACTIVATION_ALPHABET.contains(&(*c as u8)))
        {
            return Err(ActivationCodeError::Character(bad));
        }
        if code.len() != CODE_LEN {
            return Err(ActivationCodeError::Length);
        }
        Ok(ActivationCode(code))
    }

    /// The code, for the activation letter.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The digest stored for this code and account: hex SHA-256 of `user_id:code`.
    pub fn digest(&self, user_id: &str) -> String {
        let mut h = Sha256::new();
        h.update(user_id.as_bytes());
        h.update(b":");
        h.update(self.0.as_bytes());
        hex::encode(h.finalize())
    }
}

impl fmt::Debug for ActivationCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A code is a secret: never in logs.
        f.write_str("ActivationCode(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_codes_are_well_formed_and_differ() {
        let a = ActivationCode::generate();
        let b = ActivationCode::generate();
        assert_eq!(ActivationCode::parse(a.as_str()), Ok(a.clone()));
        assert_eq!(a.as_str().len(), 8);
        assert_ne!(a, b, "two codes in a row should not collide (31^8 space)");
    }

    #[test]
    fn typing_is_forgiving_about_case_spaces_and_hyphens() {
        let code = ActivationCode::parse("abcd-efgh").expect("valid");
        assert_eq!(code.as_str(), "ABCDEFGH");
        assert_eq!(ActivationCode::parse(" AB CD EF GH "), Ok(code));
    }

    #[test]
    fn ambiguous_or_missing_characters_are_refused() {
        assert_eq!(
            ActivationCode::parse("ABCDEFG0"),
            Err(ActivationCodeError::Character('0'))
        );
        assert_eq!(
            ActivationCode::parse("ABCDEFGI"),
            Err(ActivationCodeError::Character('I'))
        );
        assert_eq!(
            ActivationCode::parse("ABCDEFGé"),
            Err(ActivationCodeError::Character('é'))
        );
        assert_eq!(
            ActivationCode::parse("ABC"),
            Err(ActivationCodeError::Length)
        );
        assert_eq!(
            ActivationCode::parse("ABCDEFGHJ"),
            Err(ActivationCodeError::Length)
        );
    }

    #[test]
    fn digest_depends_on_the_account() {
        let code = ActivationCode::parse("ABCDEFGH").expect("valid");
        assert_ne!(code.digest("user-1"), code.digest("user-2"));
        assert_eq!(code.digest("user-1").len(), 64);
        assert_eq!(format!("{code:?}"), "ActivationCode(***)");
    }
}
