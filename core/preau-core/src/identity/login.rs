//! Logins: `prenom.nom`, folded to lower-case ASCII, followed by a number when the base is already
//! taken (`jean.dupont`, `jean.dupont1`, `jean.dupont2`…). A login once issued is never issued again:
//! the database keeps every issued login (`crate::db::identity::allocate_login`).

use deunicode::deunicode;

/// The longest login issued; long compound names are cut so that the number still fits.
pub const LOGIN_MAX_LEN: usize = 40;
/// Room kept for the disambiguating number.
const NUMBER_ROOM: usize = 4;

/// Why no login can be built from a name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LoginError {
    #[error(
        "le prénom « {0} » ne contient aucune lettre utilisable / first name `{0}` has no usable letter"
    )]
    EmptyFirstName(String),
    #[error(
        "le nom « {0} » ne contient aucune lettre utilisable / last name `{0}` has no usable letter"
    )]
    EmptyLastName(String),
}

/// The `prenom.nom` part of a login, before any number is added.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginBase(String);

impl LoginBase {
    /// Folds a first and last name into a login base: accents and ligatures become ASCII
    /// (`Anaïs Lœuillet` → `anais.loeuillet`), spaces become hyphens, apostrophes and other
    /// punctuation disappear (`Ève N'Diaye` → `eve.ndiaye`).
    pub fn from_names(first_name: &str, last_name: &str) -> Result<LoginBase, LoginError> {
        let first = fold_name(first_name);
        let last = fold_name(last_name);
        if first.is_empty() {
            return Err(LoginError::EmptyFirstName(first_name.to_string()));
        }
        if last.is_empty() {
            return Err(LoginError::EmptyLastName(last_name.to_string()));
        }
        let mut base = format!("{first}.{last}");
        let max = LOGIN_MAX_LEN - NUMBER_ROOM;
        if base.len() > max {
            base.truncate(max);
            while base.ends_with(['-', '.']) {
                base.pop();
            }
        }
        Ok(LoginBase(base))
    }

    /// The `n`-th candidate: the base itself for 0, then `base1`, `base2`…
    pub fn candidate(&self, n: u32) -> String {
        if n == 0 {
            self.0.clone()
        } else {
            format!("{}{n}", self.0)
        }
    }

    /// The base as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// If `login` is a candidate of this base, its number (0 for the base itself).
    pub fn number_of(&self, login: &str) -> Option<u32> {
        let rest = login.strip_prefix(&self.0)?;
        if rest.is_empty() {
            return Some(0);
        }
        if rest.starts_with('0') || !rest.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        rest.parse().ok()
    }
}

/// Folds one name to the login alphabet `[a-z0-9-]`.
pub fn fold_name(name: &str) -> String {
    let ascii = deunicode(name).to_ascii_lowercase();
    let mut out = String::with_capacity(ascii.len());
    for c in ascii.chars() {
        match c {
            'a'..='z' | '0'..='9' => out.push(c),
            ' ' | '-' | '_' if !out.is_empty() && !out.ends_with('-') => out.push('-'),
            _ => {}
        }
    }
    while out.ends_with('-') {
        out.pop();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(first: &str, last: &str, expected: &str) {
        let base = LoginBase::from_names(first, last).expect("valid names");
        assert_eq!(base.as_str(), expected);
    }

    #[test]
    fn folds_french_names_to_ascii() {
        check("Jean", "Dupont", "jean.dupont");
        check("Anaïs", "Lœuillet", "anais.loeuillet");
        check("Ève", "N'Diaye", "eve.ndiaye");
        check(
            "Jean-Baptiste",
            "de La Fontaine",
            "jean-baptiste.de-la-fontaine",
        );
        check("Zoé", "Müller-Größ", "zoe.muller-gross");
        check("  Léa ", " Çelik", "lea.celik");
        check("Nguyễn", "Thị  Minh", "nguyen.thi-minh");
    }

    #[test]
    fn long_names_are_cut_with_room_for_a_number() {
        let base = LoginBase::from_names(
            "Marie-Charlotte-Éléonore",
            "de Saint-Exupéry-Montmorency-Laval",
        )
        .expect("valid");
        assert!(
            base.as_str().len() <= LOGIN_MAX_LEN - 4,
            "{}",
            base.as_str()
        );
        assert!(!base.as_str().ends_with('-'));
        assert!(base.candidate(999).len() <= LOGIN_MAX_LEN);
    }

    #[test]
    fn names_without_letters_are_refused() {
        assert_eq!(
            LoginBase::from_names("'", "Dupont"),
            Err(LoginError::EmptyFirstName("'".into()))
        );
        assert_eq!(
            LoginBase::from_names("Jean", " - "),
            Err(LoginError::EmptyLastName(" - ".into()))
        );
    }

    #[test]
    fn candidates_and_their_numbers() {
        let base = LoginBase::from_names("Jean", "Dupont").expect("valid");
        assert_eq!(base.candidate(0), "jean.dupont");
        assert_eq!(base.candidate(2), "jean.dupont2");
        assert_eq!(base.number_of("jean.dupont"), Some(0));
        assert_eq!(base.number_of("jean.dupont12"), Some(12));
        assert_eq!(base.number_of("jean.dupont-x"), None);
        assert_eq!(base.number_of("jean.dupont01"), None);
        assert_eq!(base.number_of("jean.dupo"), None);
    }
}
