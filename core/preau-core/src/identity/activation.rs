//! Activation codes: the 8-character secret printed on an account's activation letter and typed at
//! first connection. The alphabet leaves out characters that read alike (0/O, 1/I/L).
//!
//! Only a digest is stored: HMAC-SHA-256 of `user_id:code` under a [`CodeKey`] kept outside the
//! database (`{data_dir}/secrets/activation-codes.key`). The 31⁸ codes are few enough to try
//! offline against an unkeyed digest; with the key elsewhere, a copy of the database alone gives
//! nothing to try them against. A slow hash would only slow down imports of thousands of
//! accounts, and guessing online is throttled by the login path. Digests stored before the key
//! (plain SHA-256, 64 hex characters) are still accepted until the code is used or replaced.

use std::fmt;
use std::io::{Read, Write};
use std::path::Path;

use hmac::{KeyInit, Mac};
use rand::RngExt;
use sha2::{Digest, Sha256};

use crate::auth::token::constant_time_eq;

/// What a keyed digest starts with, to tell it from an older plain one.
const KEYED_PREFIX: &str = "hmac-sha256:";

/// The secret activation codes are digested with: 32 random bytes, generated on the first start
/// into a file only the server's user can read, shared by every node through `data_dir`.
#[derive(Clone)]
pub struct CodeKey([u8; 32]);

impl CodeKey {
    /// A fresh key (tests, and the first start).
    pub fn generate() -> CodeKey {
        CodeKey(rand::rng().random())
    }

    /// The key in `path`, created there (mode 0600) when there is none; of nodes starting
    /// together, the first to create the file wins and the others read it.
    pub fn load_or_create(path: &Path) -> std::io::Result<CodeKey> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        match options.open(path) {
            Ok(mut file) => {
                let key = CodeKey::generate();
                file.write_all(hex::encode(key.0).as_bytes())?;
                file.sync_all()?;
                Ok(key)
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                let mut text = String::new();
                std::fs::File::open(path)?.read_to_string(&mut text)?;
                let bytes = hex::decode(text.trim())
                    .ok()
                    .and_then(|b| <[u8; 32]>::try_from(b).ok())
                    .ok_or_else(|| {
                        std::io::Error::new(
                            std::io::ErrorKind::InvalidData,
                            format!(
                                "{} : clé illisible (64 caractères hexadécimaux attendus) / unreadable key (64 hex characters expected)",
                                path.display()
                            ),
                        )
                    })?;
                Ok(CodeKey(bytes))
            }
            Err(e) => Err(e),
        }
    }
}

impl fmt::Debug for CodeKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CodeKey(***)")
    }
}

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

    /// The digest stored for this code and account: HMAC-SHA-256 of `user_id:code` under `key`.
    pub fn digest(&self, key: &CodeKey, user_id: &str) -> String {
        let mut mac = hmac::Hmac::<Sha256>::new_from_slice(&key.0)
            .unwrap_or_else(|_| unreachable!("HMAC takes a key of any length"));
        mac.update(user_id.as_bytes());
        mac.update(b":");
        mac.update(self.0.as_bytes());
        format!("{KEYED_PREFIX}{}", hex::encode(mac.finalize().into_bytes()))
    }

    /// Whether this code is the one whose digest for `user_id` is `stored` (a keyed digest, or a
    /// plain SHA-256 one stored before the key existed), compared in constant time.
    pub fn matches(&self, key: &CodeKey, user_id: &str, stored: &str) -> bool {
        let expected = if stored.starts_with(KEYED_PREFIX) {
            self.digest(key, user_id)
        } else {
            let mut h = Sha256::new();
            h.update(user_id.as_bytes());
            h.update(b":");
            h.update(self.0.as_bytes());
            hex::encode(h.finalize())
        };
        constant_time_eq(expected.as_bytes(), stored.as_bytes())
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
    fn digest_depends_on_the_account_and_the_key() {
        let code = ActivationCode::parse("ABCDEFGH").expect("valid");
        let (key, other) = (CodeKey::generate(), CodeKey::generate());
        let stored = code.digest(&key, "user-1");
        assert_ne!(stored, code.digest(&key, "user-2"));
        assert_ne!(stored, code.digest(&other, "user-1"));
        assert!(stored.starts_with("hmac-sha256:"));
        assert!(code.matches(&key, "user-1", &stored));
        assert!(!code.matches(&other, "user-1", &stored), "another key");
        assert!(!code.matches(&key, "user-2", &stored), "another account");
        let wrong = ActivationCode::parse("ABCDEFGJ").expect("valid");
        assert!(!wrong.matches(&key, "user-1", &stored));
        assert_eq!(format!("{code:?}"), "ActivationCode(***)");
        assert_eq!(format!("{key:?}"), "CodeKey(***)");
    }

    #[test]
    fn a_digest_stored_before_the_key_still_matches() {
        let code = ActivationCode::parse("ABCDEFGH").expect("valid");
        let legacy = hex::encode(Sha256::digest(b"user-1:ABCDEFGH"));
        assert!(code.matches(&CodeKey::generate(), "user-1", &legacy));
        assert!(!code.matches(&CodeKey::generate(), "user-2", &legacy));
    }

    #[test]
    fn the_key_file_is_created_once_private_and_read_back() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("secrets/activation-codes.key");
        let first = CodeKey::load_or_create(&path).expect("created");
        let again = CodeKey::load_or_create(&path).expect("read");
        assert_eq!(first.0, again.0);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::write(&path, "pas une clé").expect("spoil");
        let e = CodeKey::load_or_create(&path).expect_err("unreadable");
        assert!(e.to_string().contains("unreadable key"), "{e}");
    }
}
