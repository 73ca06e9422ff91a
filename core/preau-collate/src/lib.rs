//! French collation keys: `sort_key("Éloïse")` is a string whose *bytewise* order is the French
//! alphabetical order (accents and case only break ties; "Dupont" < "Durand" < "Élise" < "Emma").
//!
//! The plugin storage compares index strings bytewise on both database engines, so a plugin that
//! wants names listed the French way stores this key in an indexed field (or declares the index
//! field with `collation = "fr"` and lets the core compute it). The plugin SDK re-exports this
//! crate, so a plugin can sort in memory the same way the core does.
//!
//! The key comes from ICU4X (CLDR French collation, tertiary strength), written as lowercase hex
//! so that it is valid text on every engine: hex keeps the byte order and the prefix property.
//! Keys change when ICU4X's data changes: [`COLLATION_VERSION`] names the algorithm, and whoever
//! stores keys rebuilds them when it differs.

use std::cmp::Ordering;
use std::sync::LazyLock;

use icu_collator::options::{CollatorOptions, Strength};
use icu_collator::{Collator, CollatorBorrowed};
use icu_locale_core::locale;

/// Names the key algorithm and its data; stored next to persisted keys, bumped with ICU4X.
pub const COLLATION_VERSION: &str = "icu4x-2.4-fr-tertiary";

static FRENCH: LazyLock<Option<CollatorBorrowed<'static>>> = LazyLock::new(|| {
    let mut options = CollatorOptions::default();
    options.strength = Some(Strength::Tertiary);
    Collator::try_new(locale!("fr").into(), options).ok()
});

/// The French collation key of `text`, as lowercase hex: compare keys bytewise (or as plain
/// strings) to order texts alphabetically. Store it in a JSON string field.
pub fn sort_key(text: &str) -> String {
    to_hex(&sort_key_bytes(text))
}

/// The French collation key of `text`, as bytes (half the size of [`sort_key`]): compare them
/// bytewise. The core stores these in its indexes.
///
/// The French collation data is compiled into the binary; should it ever fail to load, the key
/// falls back to the lowercased text (still a total, stable order).
pub fn sort_key_bytes(text: &str) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(text.len() * 3);
    match FRENCH.as_ref() {
        Some(collator) => {
            let Ok(()) = collator.write_sort_key_to(text, &mut bytes);
        }
        None => bytes.extend_from_slice(text.to_lowercase().as_bytes()),
    }
    bytes
}

/// Compares two texts in French alphabetical order (the order of their [`sort_key`]s).
pub fn compare(a: &str, b: &str) -> Ordering {
    match FRENCH.as_ref() {
        Some(collator) => collator.compare(a, b),
        None => a.to_lowercase().cmp(&b.to_lowercase()),
    }
}

fn to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sorted_by_key(names: &[&str]) -> Vec<String> {
        let mut v: Vec<(String, String)> =
            names.iter().map(|n| (sort_key(n), n.to_string())).collect();
        v.sort();
        v.into_iter().map(|(_, n)| n).collect()
    }

    #[test]
    fn orders_names_the_french_way() {
        let names = [
            "Zoé", "émile", "Émilie", "Durand", "Dupont", "Éloïse", "Eloise", "Çedric", "Cédric",
            "Cecile", "Œdipe", "Oscar", "Ode", "Lefèvre", "Lefebvre", "Le Gall", "Legall",
        ];
        let by_key = sorted_by_key(&names);
        let mut by_compare: Vec<String> = names.iter().map(|s| s.to_string()).collect();
        by_compare.sort_by(|a, b| compare(a, b));
        assert_eq!(by_key, by_compare, "keys and comparison agree");
        let pos = |n: &str| by_key.iter().position(|x| x == n).expect("present");
        // Accents do not change the letter: É sorts with E, Ç with C, Œ as OE.
        assert!(pos("Dupont") < pos("Durand"));
        assert!(pos("Durand") < pos("Éloïse"));
        assert!(pos("Éloïse") < pos("émile"));
        assert!(pos("Cecile") < pos("Cédric") && pos("Cecile") < pos("Çedric"));
        assert!(pos("Ode") < pos("Œdipe") && pos("Œdipe") < pos("Oscar"));
        assert!(pos("Lefebvre") < pos("Lefèvre"));
        assert!(pos("Zoé") == names.len() - 1);
        // Accents and case only break ties between otherwise equal names.
        assert!(pos("Eloise") < pos("Éloïse"));
    }

    #[test]
    fn keys_are_hex_and_prefix_ordered() {
        let k = sort_key("Anaïs");
        assert!(
            k.bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        );
        assert!(sort_key("Ana") < sort_key("Anaïs"));
        assert_eq!(sort_key("Anaïs"), sort_key("Anaïs"), "deterministic");
        assert!(sort_key("") < sort_key("a"));
    }

    #[test]
    fn collator_data_is_compiled_in() {
        assert!(FRENCH.is_some(), "the French collation data must load");
    }
}
