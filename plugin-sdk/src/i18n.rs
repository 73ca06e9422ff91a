//! French first, English second: the reader's [`Lang`], picking a message with [`t`] or
//! [`Lang::pick`], and dates written out in either language ("lundi 30 novembre 2026",
//! "Monday 30 November 2026").
//!
//! The request says which language the person reads in (`language`: `fr` or `en`); anything
//! else is read as French. For a plugin with many messages, the manifest's Fluent files
//! (`[translations]`) are the place; these helpers are for the handful a page needs.

use chrono::{Datelike, NaiveDate, Weekday};

/// The languages of the portal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Lang {
    /// French, the default.
    #[default]
    Fr,
    /// English.
    En,
}

impl Lang {
    /// The language of a request's `language` code: `en` (any case, or `en-GB`…) is English,
    /// anything else French.
    pub fn from_code(code: &str) -> Lang {
        let primary = code.split(['-', '_']).next().unwrap_or_default();
        if primary.eq_ignore_ascii_case("en") {
            Lang::En
        } else {
            Lang::Fr
        }
    }

    /// Its code: `fr` or `en`.
    pub fn code(self) -> &'static str {
        match self {
            Lang::Fr => "fr",
            Lang::En => "en",
        }
    }

    /// `fr` or `en`, as this language reads.
    pub fn pick<T>(self, fr: T, en: T) -> T {
        match self {
            Lang::Fr => fr,
            Lang::En => en,
        }
    }

    /// The day written out: `lundi 30 novembre 2026`, `lundi 1er décembre 2026`;
    /// `Monday 30 November 2026`.
    pub fn long_date(self, date: NaiveDate) -> String {
        format!("{} {}", self.day_and_month(date), date.year())
    }

    /// The day without its year: `lundi 30 novembre`, `Monday 30 November`.
    pub fn day_and_month(self, date: NaiveDate) -> String {
        let day = date.day();
        let number = match (self, day) {
            (Lang::Fr, 1) => "1er".to_owned(),
            _ => day.to_string(),
        };
        format!(
            "{} {number} {}",
            self.weekday_name(date.weekday()),
            self.month_name(date.month())
        )
    }

    /// The month and year: `novembre 2026`, `November 2026`.
    pub fn month_and_year(self, year: i32, month: u32) -> String {
        format!("{} {year}", self.month_name(month))
    }

    /// The day as digits: `30/11/2026` in both languages (the portal's British English writes
    /// days first too).
    pub fn short_date(self, date: NaiveDate) -> String {
        date.format("%d/%m/%Y").to_string()
    }

    /// The name of a day of the week: `lundi`, `Monday` (French names take no capital).
    pub fn weekday_name(self, day: Weekday) -> &'static str {
        let i = day.num_days_from_monday() as usize;
        self.pick(WEEKDAYS_FR[i], WEEKDAYS_EN[i])
    }

    /// The abbreviated name of a day of the week: `lun.`, `Mon`.
    pub fn weekday_abbreviation(self, day: Weekday) -> &'static str {
        let i = day.num_days_from_monday() as usize;
        self.pick(WEEKDAYS_SHORT_FR[i], WEEKDAYS_SHORT_EN[i])
    }

    /// The name of month `month` (1 to 12): `novembre`, `November`; empty outside 1 to 12.
    pub fn month_name(self, month: u32) -> &'static str {
        let Some(i) = month.checked_sub(1).map(|i| i as usize).filter(|i| *i < 12) else {
            return "";
        };
        self.pick(MONTHS_FR[i], MONTHS_EN[i])
    }
}

/// `fr` or `en`, as `lang` reads: `t(req.lang(), "Enregistrer", "Save")`.
pub fn t<T>(lang: Lang, fr: T, en: T) -> T {
    lang.pick(fr, en)
}

/// The first letter in upper case: `Lundi 30 novembre` for a title.
pub fn capitalize(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

const WEEKDAYS_FR: [&str; 7] = [
    "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche",
];
const WEEKDAYS_EN: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];
const WEEKDAYS_SHORT_FR: [&str; 7] = ["lun.", "mar.", "mer.", "jeu.", "ven.", "sam.", "dim."];
const WEEKDAYS_SHORT_EN: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
const MONTHS_FR: [&str; 12] = [
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
];
const MONTHS_EN: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("test date")
    }

    #[test]
    fn the_language_of_a_code() {
        assert_eq!(Lang::from_code("fr"), Lang::Fr);
        assert_eq!(Lang::from_code("en"), Lang::En);
        assert_eq!(Lang::from_code("EN-gb"), Lang::En);
        assert_eq!(Lang::from_code("de"), Lang::Fr);
        assert_eq!(Lang::from_code(""), Lang::Fr);
        assert_eq!(Lang::En.code(), "en");
    }

    #[test]
    fn picking_a_message() {
        assert_eq!(t(Lang::Fr, "Bonjour", "Hello"), "Bonjour");
        assert_eq!(t(Lang::En, "Bonjour", "Hello"), "Hello");
        assert_eq!(Lang::En.pick(1, 2), 2);
    }

    #[test]
    fn dates_in_french_and_english() {
        assert_eq!(
            Lang::Fr.long_date(day("2026-11-30")),
            "lundi 30 novembre 2026"
        );
        assert_eq!(
            Lang::En.long_date(day("2026-11-30")),
            "Monday 30 November 2026"
        );
        assert_eq!(
            Lang::Fr.long_date(day("2026-12-01")),
            "mardi 1er décembre 2026"
        );
        assert_eq!(Lang::En.day_and_month(day("2027-08-01")), "Sunday 1 August");
        assert_eq!(Lang::Fr.month_and_year(2027, 2), "février 2027");
        assert_eq!(Lang::En.short_date(day("2026-11-03")), "03/11/2026");
        assert_eq!(Lang::Fr.weekday_abbreviation(Weekday::Wed), "mer.");
        assert_eq!(Lang::Fr.month_name(13), "");
        assert_eq!(Lang::Fr.month_name(0), "");
        assert_eq!(
            capitalize(&Lang::Fr.day_and_month(day("2026-11-30"))),
            "Lundi 30 novembre"
        );
        assert_eq!(capitalize("été"), "Été");
        assert_eq!(capitalize(""), "");
    }
}
