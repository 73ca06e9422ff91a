//! The one clock of the system. Everything that asks "what time is it" or "what day is it" — the
//! core, the plugins' clock, the demo, the tests — asks a [`Clock`], which may be shifted to another
//! day by the `today` setting (`PREAU_TODAY`) so that nothing depends on the day a test runs.

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use chrono_tz::Tz;

/// Where "now" comes from, in the collectivité's time zone.
#[derive(Clone, Copy, Debug)]
pub struct Clock {
    /// Added to the system time; zero unless `today` is overridden. Time keeps flowing.
    offset: TimeDelta,
    tz: Tz,
}

/// A `today` override: a day (the time of day stays real) or an exact instant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClockOverride {
    /// Shift to this local day, keeping the real time of day.
    Day(NaiveDate),
    /// Shift so that now is this instant at start-up.
    Instant(DateTime<Utc>),
}

impl ClockOverride {
    /// Reads `2026-11-30` or an RFC 3339 instant such as `2026-11-30T08:15:00+01:00`.
    pub fn parse(s: &str) -> Result<ClockOverride, String> {
        let s = s.trim();
        if let Ok(day) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
            return Ok(ClockOverride::Day(day));
        }
        DateTime::parse_from_rfc3339(s)
            .map(|t| ClockOverride::Instant(t.with_timezone(&Utc)))
            .map_err(|_| {
                format!(
                    "« {s} » n'est ni une date AAAA-MM-JJ ni un instant RFC 3339 / `{s}` is neither a YYYY-MM-DD date nor an RFC 3339 instant"
                )
            })
    }
}

impl Clock {
    /// The system clock, in time zone `tz`.
    pub fn system(tz: Tz) -> Clock {
        Clock {
            offset: TimeDelta::zero(),
            tz,
        }
    }

    /// The system clock, shifted as `over` says (or not shifted at all).
    pub fn new(tz: Tz, over: Option<ClockOverride>) -> Clock {
        let real = Utc::now();
        let offset = match over {
            None => TimeDelta::zero(),
            Some(ClockOverride::Instant(at)) => at - real,
            Some(ClockOverride::Day(day)) => {
                let real_local = real.with_timezone(&tz);
                TimeDelta::days((day - real_local.date_naive()).num_days())
            }
        };
        Clock { offset, tz }
    }

    /// The current instant.
    pub fn now(&self) -> DateTime<Utc> {
        Utc::now() + self.offset
    }

    /// The current instant in the collectivité's time zone.
    pub fn now_local(&self) -> DateTime<Tz> {
        self.now().with_timezone(&self.tz)
    }

    /// Today's date in the collectivité's time zone.
    pub fn today(&self) -> NaiveDate {
        self.now_local().date_naive()
    }

    /// Milliseconds since the Unix epoch: the form timestamps take in the database.
    pub fn now_ms(&self) -> i64 {
        self.now().timestamp_millis()
    }

    /// An instant (milliseconds since the epoch) in the collectivité's time zone, formatted
    /// with a `chrono` pattern (`%d/%m/%Y %H:%M`).
    pub fn format_ms(&self, at_ms: i64, pattern: &str) -> String {
        chrono::DateTime::from_timestamp_millis(at_ms)
            .map(|t| t.with_timezone(&self.tz()).format(pattern).to_string())
            .unwrap_or_default()
    }

    /// The collectivité's time zone.
    pub fn tz(&self) -> Tz {
        self.tz
    }

    /// Whether this clock is shifted away from the system time.
    pub fn is_shifted(&self) -> bool {
        !self.offset.is_zero()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_day_override_moves_today_and_keeps_time_flowing() {
        let day = NaiveDate::from_ymd_opt(2026, 11, 27).expect("valid date");
        let clock = Clock::new(chrono_tz::Europe::Paris, Some(ClockOverride::Day(day)));
        assert_eq!(clock.today(), day);
        let a = clock.now();
        std::thread::sleep(std::time::Duration::from_millis(5));
        assert!(clock.now() > a);
    }

    #[test]
    fn an_instant_override_is_honoured_in_the_local_zone() {
        let over = ClockOverride::parse("2026-12-31T23:30:00Z").expect("valid");
        // 23:30 UTC is already the next day in La Réunion (UTC+4) and Paris (UTC+1), still the 31st
        // in Guyane (UTC-3).
        let reunion = Clock::new(chrono_tz::Indian::Reunion, Some(over));
        let paris = Clock::new(chrono_tz::Europe::Paris, Some(over));
        assert_eq!(
            reunion.today(),
            NaiveDate::from_ymd_opt(2027, 1, 1).expect("valid")
        );
        assert_eq!(
            paris.today(),
            NaiveDate::from_ymd_opt(2027, 1, 1).expect("valid")
        );
        let guyane = Clock::new(chrono_tz::America::Cayenne, Some(over));
        assert_eq!(
            guyane.today(),
            NaiveDate::from_ymd_opt(2026, 12, 31).expect("valid")
        );
    }

    #[test]
    fn override_parsing_names_the_bad_value() {
        assert_eq!(
            ClockOverride::parse("2026-11-30"),
            Ok(ClockOverride::Day(
                NaiveDate::from_ymd_opt(2026, 11, 30).expect("valid")
            ))
        );
        let err = ClockOverride::parse("30/11/2026").expect_err("not ISO");
        assert!(err.contains("30/11/2026"), "{err}");
    }
}
