//! The portal's languages: French first, English second, through Fluent (`locales/{fr,en}/*.ftl`,
//! compiled into the binary). The language comes from the `preau_lang` cookie, else from the
//! browser's `Accept-Language`, else French.

use std::borrow::Cow;
use std::collections::HashMap;

use axum::http::HeaderMap;
use axum::http::header::ACCEPT_LANGUAGE;
use fluent_templates::Loader;
use fluent_templates::fluent_bundle::FluentValue;
use unic_langid::{LanguageIdentifier, langid};

use crate::auth::client::cookie_value;

fluent_templates::static_loader! {
    static LOCALES = {
        locales: "./locales",
        fallback_language: "fr",
        customise: |bundle| bundle.set_use_isolating(false),
    };
}

/// The cookie that remembers a chosen language.
pub const LANG_COOKIE: &str = "preau_lang";

static FR: LanguageIdentifier = langid!("fr");
static EN: LanguageIdentifier = langid!("en");

/// A language of the interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Fr,
    En,
}

impl Lang {
    /// The language tag (`fr`, `en`), for `<html lang>` and the cookie.
    pub fn as_str(self) -> &'static str {
        match self {
            Lang::Fr => "fr",
            Lang::En => "en",
        }
    }

    /// Reads a tag; anything but `en…` is French.
    pub fn parse(s: &str) -> Option<Lang> {
        match s.trim().get(..2).map(str::to_ascii_lowercase).as_deref() {
            Some("fr") => Some(Lang::Fr),
            Some("en") => Some(Lang::En),
            _ => None,
        }
    }

    /// The language of a request: cookie, then `Accept-Language` (first supported), then French.
    pub fn of_request(headers: &HeaderMap) -> Lang {
        let from_cookie = cookie_value(headers, LANG_COOKIE).and_then(Lang::parse);
        from_cookie
            .or_else(|| {
                headers
                    .get(ACCEPT_LANGUAGE)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| {
                        v.split(',')
                            .find_map(|part| Lang::parse(part.split(';').next().unwrap_or("")))
                    })
            })
            .unwrap_or(Lang::Fr)
    }

    fn id(self) -> &'static LanguageIdentifier {
        match self {
            Lang::Fr => &FR,
            Lang::En => &EN,
        }
    }
}

/// Translates keys into one language; templates call `tr.t("key")`.
#[derive(Debug, Clone, Copy)]
pub struct Tr {
    pub lang: Lang,
}

impl Tr {
    /// The text of `key`.
    pub fn t(&self, key: &str) -> String {
        LOCALES.lookup(self.lang.id(), key)
    }

    /// The text of `key` with its `{ $name }` placeables filled.
    pub fn t_with(&self, key: &str, args: &[(&'static str, &str)]) -> String {
        let args: HashMap<Cow<'static, str>, FluentValue> = args
            .iter()
            .map(|(k, v)| (Cow::Borrowed(*k), FluentValue::from(v.to_string())))
            .collect();
        LOCALES.lookup_with_args(self.lang.id(), key, &args)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::header::COOKIE;

    fn keys(text: &str) -> Vec<&str> {
        text.lines()
            .filter_map(|l| l.split_once(" = ").map(|(k, _)| k))
            .filter(|k| !k.starts_with('#') && !k.starts_with(' '))
            .collect()
    }

    #[test]
    fn both_languages_have_the_same_keys() {
        let fr = include_str!("../../locales/fr/portal.ftl");
        let en = include_str!("../../locales/en/portal.ftl");
        assert_eq!(keys(fr), keys(en));
    }

    #[test]
    fn texts_are_translated_and_filled() {
        let fr = Tr { lang: Lang::Fr };
        let en = Tr { lang: Lang::En };
        assert_eq!(fr.t("login-submit"), "Se connecter");
        assert_eq!(en.t("login-submit"), "Sign in");
        assert_eq!(
            fr.t_with("dashboard-hello", &[("name", "Léa")]),
            "Bonjour Léa"
        );
    }

    #[test]
    fn language_comes_from_cookie_then_browser() {
        let mut h = HeaderMap::new();
        assert_eq!(Lang::of_request(&h), Lang::Fr);
        h.insert(
            ACCEPT_LANGUAGE,
            "en-GB,en;q=0.9,fr;q=0.8".parse().expect("header"),
        );
        assert_eq!(Lang::of_request(&h), Lang::En);
        h.insert(COOKIE, "preau_lang=fr".parse().expect("header"));
        assert_eq!(Lang::of_request(&h), Lang::Fr);
    }
}
