//! UAI (Unité Administrative Immatriculée): the national establishment code, 7 digits followed by a
//! check letter taken from `ABCDEFGHJKLMNPRSTUVWXYZ` at index (the 7-digit number mod 23).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The 23 letters a UAI key can be (I, O and Q are left out to avoid confusion with digits).
const KEY_LETTERS: &[u8; 23] = b"ABCDEFGHJKLMNPRSTUVWXYZ";

/// A valid UAI, always stored upper-case (`0750001U`).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Uai(String);

/// Why a string is not a UAI. Messages are for people: French first, then English.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UaiError {
    #[error(
        "un code UAI compte 8 caractères, « {0} » en a {1} / a UAI code has 8 characters, `{0}` has {1}"
    )]
    Length(String, usize),
    #[error(
        "un code UAI commence par 7 chiffres : « {0} » / a UAI code starts with 7 digits: `{0}`"
    )]
    Digits(String),
    #[error(
        "la lettre clé du code UAI « {uai} » devrait être {expected} / the check letter of UAI `{uai}` should be {expected}"
    )]
    Key { uai: String, expected: char },
}

impl Uai {
    /// Parses and checks a UAI; lower-case letters are accepted and normalised.
    pub fn parse(input: &str) -> Result<Uai, UaiError> {
        let s = input.trim().to_ascii_uppercase();
        let count = s.chars().count();
        if count != 8 {
            return Err(UaiError::Length(input.to_string(), count));
        }
        let (digits, key) = s.split_at(7);
        if !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(UaiError::Digits(input.to_string()));
        }
        let number: u32 = digits
            .parse()
            .map_err(|_| UaiError::Digits(input.to_string()))?;
        let expected = Self::key_for(number);
        if key.as_bytes() != [expected as u8] {
            return Err(UaiError::Key {
                uai: input.to_string(),
                expected,
            });
        }
        Ok(Uai(s))
    }

    /// Builds the UAI of a 7-digit number (`750001` → `0750001U`), for generators and tests.
    pub fn from_number(number: u32) -> Option<Uai> {
        (number < 10_000_000).then(|| Uai(format!("{number:07}{}", Self::key_for(number))))
    }

    fn key_for(number: u32) -> char {
        char::from(KEY_LETTERS[(number % 23) as usize])
    }

    /// The code as stored and shown (`0750001U`).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The département part (`075`), as written in the code.
    pub fn departement(&self) -> &str {
        &self.0[..3]
    }
}

impl fmt::Display for Uai {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Uai {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Uai({})", self.0)
    }
}

impl FromStr for Uai {
    type Err = UaiError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Uai::parse(s)
    }
}

impl TryFrom<String> for Uai {
    type Error = UaiError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Uai::parse(&s)
    }
}

impl Serialize for Uai {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Uai {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Uai::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(input: &str, expected: Result<&str, UaiError>) {
        assert_eq!(
            Uai::parse(input).as_ref().map(Uai::as_str),
            expected.as_deref()
        );
    }

    #[test]
    fn accepts_codes_with_the_right_key() {
        // 750001 mod 23 = 17 → U; 750652 mod 23 = 1 → B.
        check("0750001U", Ok("0750001U"));
        check("0750652B", Ok("0750652B"));
        check(" 0750652b ", Ok("0750652B"));
        check("0330021U", Ok("0330021U"));
    }

    #[test]
    fn refuses_wrong_key_length_or_digits() {
        check(
            "0750001B",
            Err(UaiError::Key {
                uai: "0750001B".into(),
                expected: 'U',
            }),
        );
        check("075001A", Err(UaiError::Length("075001A".into(), 7)));
        check("07500012A", Err(UaiError::Length("07500012A".into(), 9)));
        check("07A0001A", Err(UaiError::Digits("07A0001A".into())));
        check("", Err(UaiError::Length(String::new(), 0)));
        check(
            "0750001É",
            Err(UaiError::Key {
                uai: "0750001É".into(),
                expected: 'U',
            }),
        );
    }

    #[test]
    fn from_number_round_trips() {
        for n in [0, 1, 22, 23, 750_652, 9_999_999] {
            let uai = Uai::from_number(n).expect("7 digits");
            assert_eq!(Uai::parse(uai.as_str()), Ok(uai.clone()));
        }
        assert_eq!(Uai::from_number(10_000_000), None);
    }
}
