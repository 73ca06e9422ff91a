//! The calendar data shipped with Préau: school holidays per holiday calendar and school year,
//! and public holidays, read from `data/calendar/*.toml` (embedded in the binary). The database
//! holds the working copy; see `crate::db::calendar` for how it is seeded and corrected.

use chrono::NaiveDate;
use serde::Deserialize;

const SCHOOL_HOLIDAYS: &str = include_str!("../../data/calendar/school-holidays.toml");
const PUBLIC_HOLIDAYS: &str = include_str!("../../data/calendar/public-holidays.toml");

/// A holiday calendar (zone A, zone B…).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CalendarDef {
    pub id: String,
    pub label_fr: String,
    pub label_en: String,
    #[serde(default)]
    pub academies: Vec<String>,
}

/// The rentrée and last day of classes of one calendar in one school year.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SchoolYearDef {
    pub calendar: String,
    pub year: String,
    pub first_day: NaiveDate,
    pub last_day: NaiveDate,
    #[serde(default)]
    pub verified: bool,
}

/// School holidays of one calendar.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HolidayDef {
    pub calendar: String,
    pub year: String,
    pub kind: String,
    pub label_fr: String,
    pub label_en: String,
    pub first_day_off: NaiveDate,
    pub last_day_off: NaiveDate,
    #[serde(default)]
    pub verified: bool,
}

/// A public holiday and where it applies.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublicHolidayDef {
    pub date: NaiveDate,
    pub scope: String,
    pub label_fr: String,
    pub label_en: String,
}

/// All the shipped calendar data.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShippedCalendar {
    pub calendar: Vec<CalendarDef>,
    pub school_year: Vec<SchoolYearDef>,
    pub holiday: Vec<HolidayDef>,
    #[serde(default)]
    pub public_holiday: Vec<PublicHolidayDef>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PublicHolidaysFile {
    public_holiday: Vec<PublicHolidayDef>,
}

impl ShippedCalendar {
    /// Parses the embedded files. They are checked by this module's tests, so a failure here is a
    /// packaging bug; it is still reported as an error, never a panic.
    pub fn load() -> Result<ShippedCalendar, String> {
        let mut data: ShippedCalendar = toml::from_str(SCHOOL_HOLIDAYS)
            .map_err(|e| format!("data/calendar/school-holidays.toml: {e}"))?;
        let public: PublicHolidaysFile = toml::from_str(PUBLIC_HOLIDAYS)
            .map_err(|e| format!("data/calendar/public-holidays.toml: {e}"))?;
        data.public_holiday = public.public_holiday;
        Ok(data)
    }
}

impl ShippedCalendar {
    /// The school calendar an establishment following `calendar_id` gets from the shipped data
    /// alone (the database copy may hold corrections).
    pub fn school_calendar(
        &self,
        calendar_id: &str,
        weekdays: [bool; 7],
        departement: &str,
    ) -> super::SchoolCalendar {
        let scopes = super::public_holiday_scopes(calendar_id, departement);
        super::SchoolCalendar::new(
            weekdays,
            self.school_year
                .iter()
                .filter(|y| y.calendar == calendar_id)
                .map(|y| super::TermSpan {
                    school_year: y.year.clone(),
                    first_day: y.first_day,
                    last_day: y.last_day,
                })
                .collect(),
            self.holiday
                .iter()
                .filter(|h| h.calendar == calendar_id)
                .map(|h| super::Holiday {
                    school_year: h.year.clone(),
                    kind: h.kind.clone(),
                    label_fr: h.label_fr.clone(),
                    label_en: h.label_en.clone(),
                    first_day_off: h.first_day_off,
                    last_day_off: h.last_day_off,
                })
                .collect(),
            self.public_holiday
                .iter()
                .filter(|p| scopes.contains(&p.scope))
                .map(|p| super::PublicHoliday {
                    day: p.date,
                    label_fr: p.label_fr.clone(),
                    label_en: p.label_en.clone(),
                })
                .collect(),
        )
    }
}
