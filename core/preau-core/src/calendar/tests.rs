//! Behaviour of the school calendar, on the shipped data and on hand-made calendars.

use chrono::NaiveDate;

use super::shipped::ShippedCalendar;
use super::*;

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("test date")
}

const MON_TO_FRI: [bool; 7] = [true, true, true, true, true, false, false];

fn zone_c() -> SchoolCalendar {
    ShippedCalendar::load()
        .expect("shipped data parses")
        .school_calendar("zone-c", MON_TO_FRI, "075")
}

#[track_caller]
fn check_next(cal: &SchoolCalendar, from: &str, expected: Option<&str>) {
    assert_eq!(
        cal.next_school_day(d(from)),
        expected.map(d),
        "next school day after {from}"
    );
}

#[test]
fn next_school_day_in_paris() {
    let cal = zone_c();
    // "Pour demain" on a Friday means Monday.
    check_next(&cal, "2026-11-27", Some("2026-11-30"));
    // The last Friday before the Toussaint holidays: classes resume on Monday 2 November.
    check_next(&cal, "2026-10-16", Some("2026-11-02"));
    // 11 November 2026 is a Wednesday and a public holiday.
    check_next(&cal, "2026-11-10", Some("2026-11-12"));
    // Christmas: classes end Saturday 19 December, resume Monday 4 January.
    check_next(&cal, "2026-12-18", Some("2027-01-04"));
    // Ascension bridge 2027 (Thursday 6 to Sunday 9 May).
    check_next(&cal, "2027-05-05", Some("2027-05-10"));
    // Summer 2026: from the last week of 2025-2026 to the rentrée of 1 September 2026.
    check_next(&cal, "2026-07-03", Some("2026-09-01"));
}

#[test]
fn beyond_the_known_years_the_answer_is_unknown() {
    let cal = zone_c();
    // No 2027-2028 data: the calendar refuses to guess.
    check_next(&cal, "2027-07-02", None);
    assert_eq!(cal.day_status(d("2027-09-06")), DayStatus::Unknown);
    assert_eq!(cal.day_status(d("2027-07-20")), DayStatus::SummerBreak);
}

#[test]
fn day_status_names_holidays() {
    let cal = zone_c();
    assert_eq!(cal.day_status(d("2026-11-30")), DayStatus::SchoolDay);
    assert_eq!(cal.day_status(d("2026-11-28")), DayStatus::NoClassWeekday);
    assert!(matches!(
        cal.day_status(d("2026-10-20")),
        DayStatus::Holiday { label_fr, .. } if label_fr == "Vacances de la Toussaint"
    ));
    assert!(matches!(
        cal.day_status(d("2026-11-11")),
        DayStatus::PublicHoliday { label_fr, .. } if label_fr.contains("11 novembre") || label_fr.contains("Armistice")
    ));
}

#[test]
fn zones_differ_in_winter() {
    let data = ShippedCalendar::load().expect("shipped data parses");
    let a = data.school_calendar("zone-a", MON_TO_FRI, "069");
    let c = data.school_calendar("zone-c", MON_TO_FRI, "075");
    let differs = (0..60)
        .map(|i| d("2027-02-01") + chrono::Days::new(i))
        .any(|day| a.is_school_day(day) != c.is_school_day(day));
    assert!(differs, "zones A and C have different winter holidays");
}

#[test]
fn alsace_moselle_has_good_friday_off() {
    let data = ShippedCalendar::load().expect("shipped data parses");
    let strasbourg = data.school_calendar("zone-b", MON_TO_FRI, "067");
    let lille = data.school_calendar("zone-b", MON_TO_FRI, "059");
    // Good Friday 2027 is 26 March.
    assert!(matches!(
        strasbourg.day_status(d("2027-03-26")),
        DayStatus::PublicHoliday { .. }
    ));
    assert_eq!(lille.day_status(d("2027-03-26")), DayStatus::SchoolDay);
}

#[test]
fn saturday_classes_when_the_establishment_has_them() {
    let data = ShippedCalendar::load().expect("shipped data parses");
    let with_saturday =
        data.school_calendar("zone-c", parse_weekdays("123456").expect("valid"), "075");
    check_next(&with_saturday, "2026-11-27", Some("2026-11-28"));
}

#[test]
fn every_shipped_calendar_is_consistent() {
    let data = ShippedCalendar::load().expect("shipped data parses");
    for c in &data.calendar {
        let years: Vec<_> = data
            .school_year
            .iter()
            .filter(|y| y.calendar == c.id)
            .collect();
        assert!(!years.is_empty(), "calendar {} has no school year", c.id);
        for y in &years {
            assert!(y.first_day < y.last_day, "{} {}", c.id, y.year);
            assert_eq!(school_year_id(y.first_day), y.year, "{} rentrée", c.id);
            assert_eq!(school_year_id(y.last_day), y.year, "{} last day", c.id);
        }
        for h in data.holiday.iter().filter(|h| h.calendar == c.id) {
            let y = years
                .iter()
                .find(|y| y.year == h.year)
                .unwrap_or_else(|| panic!("{} {} has no school year", c.id, h.year));
            assert!(
                y.first_day <= h.first_day_off && h.last_day_off <= y.last_day,
                "{} {} {} lies outside its school year",
                c.id,
                h.year,
                h.kind
            );
        }
    }
    for p in &data.public_holiday {
        assert!(
            p.scope == "national"
                || p.scope == "alsace-moselle"
                || data.calendar.iter().any(|c| c.id == p.scope),
            "unknown scope {}",
            p.scope
        );
    }
}

#[test]
fn school_years_run_from_august_to_july() {
    assert_eq!(school_year_id(d("2026-08-01")), "2026-2027");
    assert_eq!(school_year_id(d("2027-07-31")), "2026-2027");
    assert_eq!(school_year_id(d("2026-07-31")), "2025-2026");
    assert_eq!(
        school_year_bounds("2026-2027"),
        Some((d("2026-08-01"), d("2027-07-31")))
    );
    assert_eq!(school_year_bounds("2026-2028"), None);
    assert_eq!(school_year_bounds("2026"), None);
}

#[test]
fn weekdays_setting_is_checked() {
    assert_eq!(parse_weekdays("12345"), Ok(MON_TO_FRI));
    assert!(parse_weekdays("1238").is_err());
    assert!(parse_weekdays("").is_err());
    assert!(parse_weekdays("lundi").is_err());
}
