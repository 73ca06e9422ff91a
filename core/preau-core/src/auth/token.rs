//! Secret tokens (session ids, bearer tokens, one-time links): 32 random bytes shown as hex.
//! Only their SHA-256 digest is stored, so a copy of the database opens no session.

use std::fmt;

use rand::RngExt;
use sha2::{Digest, Sha256};

/// A secret token, as given to the client once.
#[derive(Clone, PartialEq, Eq)]
pub struct Token(String);

impl Token {
    /// A fresh token from the operating system's random source.
    pub fn generate() -> Token {
        let bytes: [u8; 32] = rand::rng().random();
        Token(hex::encode(bytes))
    }

    /// Reads a token sent by a client; `None` unless it has the shape of one.
    pub fn parse(s: &str) -> Option<Token> {
        let s = s.trim();
        (s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit()))
            .then(|| Token(s.to_ascii_lowercase()))
    }

    /// The token, for the client.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The digest the database keeps.
    pub fn digest(&self) -> String {
        hex::encode(Sha256::digest(self.0.as_bytes()))
    }
}

/// Compares two secrets in time independent of where they differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_hide() {
        let t = Token::generate();
        assert_eq!(Token::parse(t.expose()), Some(t.clone()));
        assert_ne!(t, Token::generate());
        assert_eq!(t.digest().len(), 64);
        assert_ne!(t.digest(), t.expose());
        assert_eq!(format!("{t:?}"), "Token(***)");
        assert_eq!(Token::parse("short"), None);
        assert_eq!(Token::parse(&"g".repeat(64)), None);
    }
}
