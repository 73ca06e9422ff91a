//! The school calendar: which days have classes. An establishment follows one holiday calendar
//! (zone A, B or C, Corse, an overseas académie…), the public holidays that apply where it is,
//! and its own weekdays with classes. [`SchoolCalendar::next_school_day`] is the function every
//! service uses ("pour demain" on a Friday means Monday; on the last day before the holidays it
//! means the day classes resume).
//!
//! The data is shipped with Préau (`data/calendar/*.toml`, see [`shipped`]) and loaded into the
//! database, where an administrator can correct it; nothing is ever downloaded.

pub mod shipped;

use chrono::{Datelike, NaiveDate, Weekday};
use serde::Serialize;

/// How far [`SchoolCalendar::next_school_day`] looks ahead: longer than any summer break.
const LOOKAHEAD_DAYS: u32 = 120;

/// The school year a day belongs to, as its id (`2026-2027`). A school year runs from 1 August to
/// 31 July, so that it holds the August rentrée of La Réunion and Mayotte.
pub fn school_year_id(day: NaiveDate) -> String {
    let start = if day.month() >= 8 {
        day.year()
    } else {
        day.year() - 1
    };
    format!("{start}-{}", start + 1)
}

/// The first and last day of a school year id (`2026-2027` → 2026-08-01, 2027-07-31).
pub fn school_year_bounds(id: &str) -> Option<(NaiveDate, NaiveDate)> {
    let (a, b) = id.split_once('-')?;
    let (a, b): (i32, i32) = (a.parse().ok()?, b.parse().ok()?);
    if b != a + 1 {
        return None;
    }
    Some((
        NaiveDate::from_ymd_opt(a, 8, 1)?,
        NaiveDate::from_ymd_opt(b, 7, 31)?,
    ))
}

/// A span of school days: from the rentrée to the last day of classes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TermSpan {
    pub school_year: String,
    pub first_day: NaiveDate,
    pub last_day: NaiveDate,
}

/// School holidays: days without classes, both ends included.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Holiday {
    pub school_year: String,
    pub kind: String,
    pub label_fr: String,
    pub label_en: String,
    pub first_day_off: NaiveDate,
    pub last_day_off: NaiveDate,
}

/// A public holiday (jour férié).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PublicHoliday {
    pub day: NaiveDate,
    pub label_fr: String,
    pub label_en: String,
}

/// What a day is for an establishment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DayStatus {
    /// A day with classes.
    SchoolDay,
    /// A weekday without classes for this establishment (Saturday, Sunday, often Wednesday in écoles).
    NoClassWeekday,
    /// Within school holidays.
    Holiday { label_fr: String, label_en: String },
    /// A public holiday that falls on a day that would have had classes.
    PublicHoliday { label_fr: String, label_en: String },
    /// Between the last day of classes and the next rentrée.
    SummerBreak,
    /// No calendar data covers this day: the administrator must add it.
    Unknown,
}

/// The school days of one establishment.
#[derive(Debug, Clone)]
pub struct SchoolCalendar {
    /// Weekdays with classes, indexed from Monday (0) to Sunday (6).
    weekdays: [bool; 7],
    /// Sorted by first day.
    terms: Vec<TermSpan>,
    holidays: Vec<Holiday>,
    /// Sorted by day.
    public_holidays: Vec<PublicHoliday>,
}

/// Reads the weekdays-with-classes setting, ISO numbers as digits (`12345`, `123456`).
pub fn parse_weekdays(s: &str) -> Result<[bool; 7], String> {
    let mut days = [false; 7];
    for c in s.chars() {
        match c.to_digit(10) {
            Some(d @ 1..=7) => days[d as usize - 1] = true,
            _ => {
                return Err(format!(
                    "jours de classe illisibles « {s} » (chiffres 1 = lundi … 7 = dimanche) / unreadable school weekdays `{s}` (digits 1 = Monday … 7 = Sunday)"
                ));
            }
        }
    }
    if days.iter().all(|d| !d) {
        return Err("aucun jour de classe / no school weekday".into());
    }
    Ok(days)
}

impl SchoolCalendar {
    /// Builds a calendar from its parts (in any order).
    pub fn new(
        weekdays: [bool; 7],
        mut terms: Vec<TermSpan>,
        holidays: Vec<Holiday>,
        mut public_holidays: Vec<PublicHoliday>,
    ) -> SchoolCalendar {
        terms.sort_by_key(|t| t.first_day);
        public_holidays.sort_by_key(|p| p.day);
        SchoolCalendar {
            weekdays,
            terms,
            holidays,
            public_holidays,
        }
    }

    /// What `day` is.
    pub fn day_status(&self, day: NaiveDate) -> DayStatus {
        let Some(term) = self
            .terms
            .iter()
            .find(|t| t.first_day <= day && day <= t.last_day)
        else {
            // Between two known terms, or in the summer part of a known school year.
            let between_terms = self.terms.first().is_some_and(|t| t.first_day <= day)
                && self.terms.last().is_some_and(|t| day <= t.last_day);
            let year = school_year_id(day);
            let in_known_year = self.terms.iter().any(|t| t.school_year == year);
            return if between_terms || in_known_year {
                DayStatus::SummerBreak
            } else {
                DayStatus::Unknown
            };
        };
        if let Some(h) = self
            .holidays
            .iter()
            .find(|h| h.first_day_off <= day && day <= h.last_day_off)
        {
            return DayStatus::Holiday {
                label_fr: h.label_fr.clone(),
                label_en: h.label_en.clone(),
            };
        }
        if !self.weekdays[day.weekday().num_days_from_monday() as usize] {
            return DayStatus::NoClassWeekday;
        }
        if let Ok(i) = self.public_holidays.binary_search_by_key(&day, |p| p.day) {
            let p = &self.public_holidays[i];
            return DayStatus::PublicHoliday {
                label_fr: p.label_fr.clone(),
                label_en: p.label_en.clone(),
            };
        }
        let _ = term;
        DayStatus::SchoolDay
    }

    /// Whether `day` has classes.
    pub fn is_school_day(&self, day: NaiveDate) -> bool {
        self.day_status(day) == DayStatus::SchoolDay
    }

    /// The first day with classes strictly after `day`, or `None` when the calendar data does not
    /// reach that far (an administrator must add the next school year).
    pub fn next_school_day(&self, day: NaiveDate) -> Option<NaiveDate> {
        let mut d = day;
        for _ in 0..LOOKAHEAD_DAYS {
            d = d.succ_opt()?;
            match self.day_status(d) {
                DayStatus::SchoolDay => return Some(d),
                DayStatus::Unknown => return None,
                _ => {}
            }
        }
        None
    }

    /// The school holidays of the calendar.
    pub fn holidays(&self) -> &[Holiday] {
        &self.holidays
    }

    /// The terms (rentrée to last day of classes) the calendar knows.
    pub fn terms(&self) -> &[TermSpan] {
        &self.terms
    }

    /// The public holidays that apply.
    pub fn public_holidays(&self) -> &[PublicHoliday] {
        &self.public_holidays
    }

    /// Whether classes are held on `weekday`.
    pub fn has_classes_on(&self, weekday: Weekday) -> bool {
        self.weekdays[weekday.num_days_from_monday() as usize]
    }
}

/// The public-holiday scopes that apply to an establishment: national ones, those of its holiday
/// calendar (overseas abolition-of-slavery days), and Alsace-Moselle's for départements 57, 67, 68.
pub fn public_holiday_scopes(holiday_calendar: &str, departement: &str) -> Vec<String> {
    let mut scopes = vec!["national".to_string(), holiday_calendar.to_string()];
    if matches!(departement, "057" | "067" | "068") {
        scopes.push("alsace-moselle".to_string());
    }
    scopes
}

#[cfg(test)]
mod tests;
