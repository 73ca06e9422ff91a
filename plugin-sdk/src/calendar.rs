//! Dates for school pages: `YYYY-MM-DD` parsing, the week of a day (weeks start on Monday, as
//! in France), the grid of a month (`YYYY-MM`), and thin wrappers over the `clock` and
//! `calendar` imports that answer [`NaiveDate`]s ([`today`], [`is_school_day`],
//! [`next_school_day`], [`school_days_of_week`]).
//!
//! Day and month names are in [`Lang`](crate::i18n::Lang) (`weekday_name`, `month_name`,
//! `long_date`).

use std::fmt;
use std::str::FromStr;

use chrono::{Datelike, Days, NaiveDate};

use crate::api;

/// A `YYYY-MM-DD` day, strictly (four-digit year, two-digit month and day, a real day):
/// what the calendar import, the `date` form field and the view's dates use.
pub fn parse_date(s: &str) -> Option<NaiveDate> {
    let b = s.as_bytes();
    let shaped = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    if !shaped {
        return None;
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
}

/// `date` as `YYYY-MM-DD`.
pub fn iso(date: NaiveDate) -> String {
    date.format("%Y-%m-%d").to_string()
}

/// The Monday of `date`'s week.
pub fn week_start(date: NaiveDate) -> NaiveDate {
    date - Days::new(u64::from(date.weekday().num_days_from_monday()))
}

/// The seven days of `date`'s week, Monday to Sunday.
pub fn week_days(date: NaiveDate) -> [NaiveDate; 7] {
    let monday = week_start(date);
    std::array::from_fn(|i| monday + Days::new(i as u64))
}

/// A month of a year: `2026-11`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct YearMonth {
    year: i32,
    month: u32,
}

/// A text that is not a `YYYY-MM` month.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("« {0} » n'est pas un mois AAAA-MM / '{0}' is not a YYYY-MM month")]
pub struct InvalidMonth(pub String);

impl YearMonth {
    /// Month `month` (1 to 12) of `year` (0 to 9999); `None` outside.
    pub fn new(year: i32, month: u32) -> Option<YearMonth> {
        ((0..=9999).contains(&year) && (1..=12).contains(&month))
            .then_some(YearMonth { year, month })
    }

    /// The month holding `date`.
    pub fn of(date: NaiveDate) -> YearMonth {
        YearMonth {
            year: date.year(),
            month: date.month(),
        }
    }

    /// The year.
    pub fn year(self) -> i32 {
        self.year
    }

    /// The month, 1 to 12.
    pub fn month(self) -> u32 {
        self.month
    }

    /// Its first day.
    pub fn first_day(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year, self.month, 1).unwrap_or_default()
    }

    /// Its last day.
    pub fn last_day(self) -> NaiveDate {
        self.next().first_day().pred_opt().unwrap_or_default()
    }

    /// The month after.
    pub fn next(self) -> YearMonth {
        if self.month == 12 {
            YearMonth {
                year: self.year + 1,
                month: 1,
            }
        } else {
            YearMonth {
                year: self.year,
                month: self.month + 1,
            }
        }
    }

    /// The month before.
    pub fn previous(self) -> YearMonth {
        if self.month == 1 {
            YearMonth {
                year: self.year - 1,
                month: 12,
            }
        } else {
            YearMonth {
                year: self.year,
                month: self.month - 1,
            }
        }
    }

    /// The days of the month, in order.
    pub fn days(self) -> impl Iterator<Item = NaiveDate> {
        let last = self.last_day();
        self.first_day().iter_days().take_while(move |d| *d <= last)
    }

    /// The month as a grid of weeks, Monday to Sunday: each week has seven cells, `None` for
    /// the days of the neighbouring months (4 to 6 weeks).
    pub fn grid(self) -> Vec<[Option<NaiveDate>; 7]> {
        let mut weeks = Vec::new();
        let mut monday = week_start(self.first_day());
        while monday <= self.last_day() {
            let week = week_days(monday);
            weeks.push(week.map(|d| (YearMonth::of(d) == self).then_some(d)));
            monday = monday + Days::new(7);
        }
        weeks
    }
}

impl fmt::Display for YearMonth {
    /// `2026-11`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

impl FromStr for YearMonth {
    type Err = InvalidMonth;

    /// `YYYY-MM`, strictly.
    fn from_str(s: &str) -> Result<YearMonth, InvalidMonth> {
        let invalid = || InvalidMonth(s.chars().take(40).collect());
        let (year, month) = s.split_once('-').ok_or_else(invalid)?;
        if year.len() != 4
            || month.len() != 2
            || !(year.chars().chain(month.chars())).all(|c| c.is_ascii_digit())
        {
            return Err(invalid());
        }
        let year = year.parse().map_err(|_| invalid())?;
        let month = month.parse().map_err(|_| invalid())?;
        YearMonth::new(year, month).ok_or_else(invalid)
    }
}

/// Why the school calendar did not answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    /// The day is not a date of the calendar.
    #[error("date invalide / invalid date: {0}")]
    InvalidDate(String),
    /// The calendar data does not reach that far (an administrator must add the school year).
    #[error("calendrier incomplet / calendar data missing: {0}")]
    NotFound(String),
    /// The core could not answer; retry in a later call.
    #[error("calendrier indisponible / calendar unavailable: {0}")]
    Unavailable(String),
    /// The core answered a day that is not `YYYY-MM-DD` (quoted).
    #[error("réponse inattendue du calendrier / unexpected calendar answer: {0}")]
    Unexpected(String),
}

impl From<api::calendar::Error> for CalendarError {
    fn from(e: api::calendar::Error) -> CalendarError {
        match e {
            api::calendar::Error::InvalidDate(m) => CalendarError::InvalidDate(m),
            api::calendar::Error::NotFound(m) => CalendarError::NotFound(m),
            api::calendar::Error::Unavailable(m) => CalendarError::Unavailable(m),
        }
    }
}

impl From<CalendarError> for crate::Failure {
    /// A 500 failure (404 when the calendar data is missing), with the error's message.
    fn from(e: CalendarError) -> crate::Failure {
        let status = if matches!(e, CalendarError::NotFound(_)) {
            404
        } else {
            500
        };
        crate::Failure {
            status,
            message: e.to_string(),
        }
    }
}

fn day_of(answer: String) -> Result<NaiveDate, CalendarError> {
    parse_date(&answer).ok_or(CalendarError::Unexpected(answer))
}

/// Today in the instance's time zone (the core's clock, shifted for demos and tests: never the
/// machine's).
pub fn today() -> Result<NaiveDate, CalendarError> {
    day_of(api::clock::today())
}

/// Whether `date` has classes in the call's establishment (not a weekend, holiday or public
/// holiday).
pub fn is_school_day(date: NaiveDate) -> Result<bool, CalendarError> {
    Ok(api::calendar::is_school_day(&iso(date))?)
}

/// The first day with classes strictly after `date`.
pub fn next_school_day(date: NaiveDate) -> Result<NaiveDate, CalendarError> {
    day_of(api::calendar::next_school_day(&iso(date))?)
}

/// The days with classes of `date`'s week, Monday to Sunday.
pub fn school_days_of_week(date: NaiveDate) -> Result<Vec<NaiveDate>, CalendarError> {
    let mut days = Vec::new();
    for day in week_days(date) {
        if is_school_day(day)? {
            days.push(day);
        }
    }
    Ok(days)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        parse_date(s).expect("test date")
    }

    #[test]
    fn strict_dates() {
        assert_eq!(
            parse_date("2026-11-30"),
            NaiveDate::from_ymd_opt(2026, 11, 30)
        );
        for bad in [
            "2026-02-30",
            "2026-1-05",
            "26-11-30",
            "2026/11/30",
            "",
            "2026-11-30 ",
        ] {
            assert_eq!(parse_date(bad), None, "{bad}");
        }
        assert_eq!(iso(day("2027-01-04")), "2027-01-04");
    }

    #[test]
    fn weeks_start_on_monday() {
        assert_eq!(week_start(day("2026-11-30")), day("2026-11-30"));
        assert_eq!(week_start(day("2026-12-06")), day("2026-11-30"));
        assert_eq!(week_start(day("2027-01-01")), day("2026-12-28"));
        let days = week_days(day("2026-12-03"));
        assert_eq!(days[0], day("2026-11-30"));
        assert_eq!(days[6], day("2026-12-06"));
    }

    #[test]
    fn months_and_their_grid() {
        let november: YearMonth = "2026-11".parse().expect("month");
        assert_eq!(november.to_string(), "2026-11");
        assert_eq!(november.first_day(), day("2026-11-01"));
        assert_eq!(november.last_day(), day("2026-11-30"));
        assert_eq!(november.days().count(), 30);
        assert_eq!(november.next().to_string(), "2026-12");
        assert_eq!(november.next().next().to_string(), "2027-01");
        assert_eq!(
            YearMonth::new(2027, 1).map(YearMonth::previous),
            YearMonth::new(2026, 12)
        );
        assert_eq!(
            "2028-02".parse::<YearMonth>().map(YearMonth::last_day),
            Ok(day("2028-02-29"))
        );
        for bad in ["2026-13", "2026-1", "2026", "abcd-ef", "2026-11-01"] {
            assert!(bad.parse::<YearMonth>().is_err(), "{bad}");
        }
        // November 2026 starts on a Sunday: six weeks, the first with only its last cell.
        let grid = november.grid();
        assert_eq!(grid.len(), 6);
        assert_eq!(grid[0][..6], [None; 6]);
        assert_eq!(grid[0][6], Some(day("2026-11-01")));
        assert_eq!(grid[5][0], Some(day("2026-11-30")));
        assert_eq!(grid[5][1], None);
        // February 2027 starts on a Monday and has exactly four weeks.
        let february = YearMonth::new(2027, 2).expect("month").grid();
        assert_eq!(february.len(), 4);
        assert!(february.iter().flatten().all(Option::is_some));
        assert_eq!(YearMonth::of(day("2026-11-30")), november);
    }

    #[test]
    fn calendar_errors_become_failures() {
        let f: crate::Failure = CalendarError::NotFound("2031-2032".into()).into();
        assert_eq!(f.status, 404);
        assert!(f.message.contains(" / "));
        let f: crate::Failure =
            CalendarError::from(api::calendar::Error::Unavailable("x".into())).into();
        assert_eq!(f.status, 500);
    }
}
