//! The school calendar in the database: seeding from the shipped data, administrators'
//! corrections (which later seeds never overwrite), and loading one establishment's
//! [`SchoolCalendar`].

use chrono::NaiveDate;

use super::{BeginWrite, Db, DbError, DbResult, run};
use crate::calendar::shipped::ShippedCalendar;
use crate::calendar::{
    Holiday, PublicHoliday, SchoolCalendar, TermSpan, parse_weekdays, public_holiday_scopes,
    school_year_bounds,
};
use crate::identity::Uai;

/// Who wrote a calendar row: shipped rows follow new releases, admin rows are never overwritten.
const SHIPPED: &str = "shipped";
const ADMIN: &str = "admin";

fn day(s: &str) -> DbResult<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| {
        DbError::Invalid(format!(
            "date illisible en base / unreadable stored date `{s}`"
        ))
    })
}

fn year_bounds(id: &str) -> DbResult<(String, String)> {
    let (a, b) = school_year_bounds(id).ok_or_else(|| {
        DbError::Invalid(format!(
            "année scolaire illisible « {id} » (attendu AAAA-AAAA) / unreadable school year `{id}` (expected YYYY-YYYY)"
        ))
    })?;
    Ok((a.to_string(), b.to_string()))
}

impl Db {
    /// Loads the shipped calendar data: new rows are added, shipped rows are updated, rows an
    /// administrator corrected are left alone.
    pub(super) async fn seed_shipped_calendar(&self) -> DbResult<()> {
        let data = ShippedCalendar::load().map_err(DbError::Invalid)?;
        let mut years: Vec<&str> = data.school_year.iter().map(|y| y.year.as_str()).collect();
        years.sort_unstable();
        years.dedup();
        run!(self, pool => {
            let mut tx = pool.begin_write().await?;
            for c in &data.calendar {
                sqlx::query(
                    "INSERT INTO holiday_calendars (id, label_fr, label_en) VALUES ($1, $2, $3) \
                     ON CONFLICT (id) DO UPDATE SET label_fr = excluded.label_fr, label_en = excluded.label_en",
                )
                .bind(&c.id).bind(&c.label_fr).bind(&c.label_en)
                .execute(&mut *tx).await?;
            }
            for id in &years {
                let (starts, ends) = year_bounds(id)?;
                sqlx::query(
                    "INSERT INTO school_years (id, starts_on, ends_on) VALUES ($1, $2, $3) \
                     ON CONFLICT (id) DO NOTHING",
                )
                .bind(id).bind(starts).bind(ends)
                .execute(&mut *tx).await?;
            }
            for y in &data.school_year {
                sqlx::query(
                    "INSERT INTO calendar_school_years (calendar_id, school_year_id, first_day, last_day, source) \
                     VALUES ($1, $2, $3, $4, $5) \
                     ON CONFLICT (calendar_id, school_year_id) DO UPDATE \
                     SET first_day = excluded.first_day, last_day = excluded.last_day \
                     WHERE calendar_school_years.source = 'shipped'",
                )
                .bind(&y.calendar).bind(&y.year)
                .bind(y.first_day.to_string()).bind(y.last_day.to_string()).bind(SHIPPED)
                .execute(&mut *tx).await?;
            }
            for h in &data.holiday {
                sqlx::query(
                    "INSERT INTO school_holidays \
                     (calendar_id, school_year_id, kind, label_fr, label_en, first_day_off, last_day_off, source) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
                     ON CONFLICT (calendar_id, school_year_id, kind) DO UPDATE \
                     SET label_fr = excluded.label_fr, label_en = excluded.label_en, \
                         first_day_off = excluded.first_day_off, last_day_off = excluded.last_day_off \
                     WHERE school_holidays.source = 'shipped'",
                )
                .bind(&h.calendar).bind(&h.year).bind(&h.kind)
                .bind(&h.label_fr).bind(&h.label_en)
                .bind(h.first_day_off.to_string()).bind(h.last_day_off.to_string()).bind(SHIPPED)
                .execute(&mut *tx).await?;
            }
            for p in &data.public_holiday {
                sqlx::query(
                    "INSERT INTO public_holidays (day, scope, label_fr, label_en, source) \
                     VALUES ($1, $2, $3, $4, $5) \
                     ON CONFLICT (day, scope) DO UPDATE \
                     SET label_fr = excluded.label_fr, label_en = excluded.label_en \
                     WHERE public_holidays.source = 'shipped'",
                )
                .bind(p.date.to_string()).bind(&p.scope).bind(&p.label_fr).bind(&p.label_en).bind(SHIPPED)
                .execute(&mut *tx).await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    /// An administrator's correction of school holidays (creates or replaces the holiday of this
    /// kind); later releases never overwrite it.
    pub async fn set_school_holiday(&self, calendar_id: &str, holiday: &Holiday) -> DbResult<()> {
        if holiday.first_day_off > holiday.last_day_off {
            return Err(DbError::Invalid(
                "les vacances finissent avant de commencer / the holidays end before they start"
                    .into(),
            ));
        }
        self.ensure_school_year(&holiday.school_year).await?;
        run!(self, pool => {
            sqlx::query(
                "INSERT INTO school_holidays \
                 (calendar_id, school_year_id, kind, label_fr, label_en, first_day_off, last_day_off, source) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
                 ON CONFLICT (calendar_id, school_year_id, kind) DO UPDATE \
                 SET label_fr = excluded.label_fr, label_en = excluded.label_en, \
                     first_day_off = excluded.first_day_off, last_day_off = excluded.last_day_off, \
                     source = excluded.source",
            )
            .bind(calendar_id).bind(&holiday.school_year).bind(&holiday.kind)
            .bind(&holiday.label_fr).bind(&holiday.label_en)
            .bind(holiday.first_day_off.to_string()).bind(holiday.last_day_off.to_string()).bind(ADMIN)
            .execute(pool).await
            .map_err(|e| foreign_key_as_unknown_calendar(e, calendar_id))?;
        });
        Ok(())
    }

    /// An administrator's correction of the rentrée and last day of classes.
    pub async fn set_term(&self, calendar_id: &str, term: &TermSpan) -> DbResult<()> {
        if term.first_day > term.last_day {
            return Err(DbError::Invalid(
                "l'année finit avant la rentrée / the year ends before it starts".into(),
            ));
        }
        self.ensure_school_year(&term.school_year).await?;
        run!(self, pool => {
            sqlx::query(
                "INSERT INTO calendar_school_years (calendar_id, school_year_id, first_day, last_day, source) \
                 VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (calendar_id, school_year_id) DO UPDATE \
                 SET first_day = excluded.first_day, last_day = excluded.last_day, source = excluded.source",
            )
            .bind(calendar_id).bind(&term.school_year)
            .bind(term.first_day.to_string()).bind(term.last_day.to_string()).bind(ADMIN)
            .execute(pool).await
            .map_err(|e| foreign_key_as_unknown_calendar(e, calendar_id))?;
        });
        Ok(())
    }

    /// An administrator's addition or correction of a public holiday.
    pub async fn set_public_holiday(&self, scope: &str, holiday: &PublicHoliday) -> DbResult<()> {
        run!(self, pool => {
            sqlx::query(
                "INSERT INTO public_holidays (day, scope, label_fr, label_en, source) VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (day, scope) DO UPDATE \
                 SET label_fr = excluded.label_fr, label_en = excluded.label_en, source = excluded.source",
            )
            .bind(holiday.day.to_string()).bind(scope)
            .bind(&holiday.label_fr).bind(&holiday.label_en).bind(ADMIN)
            .execute(pool).await?;
        });
        Ok(())
    }

    /// Creates the school year row if missing.
    pub(super) async fn ensure_school_year(&self, id: &str) -> DbResult<()> {
        let (starts, ends) = year_bounds(id)?;
        run!(self, pool => {
            sqlx::query(
                "INSERT INTO school_years (id, starts_on, ends_on) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING",
            )
            .bind(id).bind(starts).bind(ends)
            .execute(pool).await?;
        });
        Ok(())
    }

    /// The ids of the holiday calendars, for validation and consoles.
    pub async fn holiday_calendar_ids(&self) -> DbResult<Vec<String>> {
        let ids = run!(self, pool => {
            sqlx::query_scalar::<_, String>("SELECT id FROM holiday_calendars ORDER BY id")
                .fetch_all(pool).await?
        });
        Ok(ids)
    }

    /// The school calendar of an establishment.
    pub async fn school_calendar(&self, uai: &Uai) -> DbResult<SchoolCalendar> {
        let (calendar_id, weekdays): (String, String) = run!(self, pool => {
            sqlx::query_as(
                "SELECT holiday_calendar_id, school_weekdays FROM establishments WHERE uai = $1",
            )
            .bind(uai.as_str())
            .fetch_optional(pool).await?
        })
        .ok_or_else(|| DbError::NotFound(format!("établissement / establishment {uai}")))?;
        let weekdays = parse_weekdays(&weekdays).map_err(DbError::Invalid)?;
        let scopes = public_holiday_scopes(&calendar_id, uai.departement());

        let (terms, holidays, public): (Vec<TermRow>, Vec<HolidayRow>, Vec<PublicHolidayRow>) = run!(self, pool => {
            let terms = sqlx::query_as(
                "SELECT school_year_id, first_day, last_day FROM calendar_school_years WHERE calendar_id = $1",
            )
            .bind(&calendar_id)
            .fetch_all(pool).await?;
            let holidays = sqlx::query_as(
                "SELECT school_year_id, kind, label_fr, label_en, first_day_off, last_day_off \
                 FROM school_holidays WHERE calendar_id = $1 ORDER BY first_day_off",
            )
            .bind(&calendar_id)
            .fetch_all(pool).await?;
            let public = sqlx::query_as(
                "SELECT day, label_fr, label_en, scope FROM public_holidays \
                 WHERE scope = $1 OR scope = $2 OR scope = $3 ORDER BY day",
            )
            .bind(&scopes[0]).bind(&scopes[1]).bind(scopes.get(2).unwrap_or(&scopes[0]))
            .fetch_all(pool).await?;
            (terms, holidays, public)
        });

        let terms = terms
            .into_iter()
            .map(|(school_year, first, last)| {
                Ok(TermSpan {
                    school_year,
                    first_day: day(&first)?,
                    last_day: day(&last)?,
                })
            })
            .collect::<DbResult<Vec<_>>>()?;
        let holidays = holidays
            .into_iter()
            .map(|(school_year, kind, label_fr, label_en, first, last)| {
                Ok(Holiday {
                    school_year,
                    kind,
                    label_fr,
                    label_en,
                    first_day_off: day(&first)?,
                    last_day_off: day(&last)?,
                })
            })
            .collect::<DbResult<Vec<_>>>()?;
        let public = public
            .into_iter()
            .map(|(d, label_fr, label_en, _scope)| {
                Ok(PublicHoliday {
                    day: day(&d)?,
                    label_fr,
                    label_en,
                })
            })
            .collect::<DbResult<Vec<_>>>()?;
        Ok(SchoolCalendar::new(weekdays, terms, holidays, public))
    }
}

/// `(school_year_id, first_day, last_day)`.
type TermRow = (String, String, String);
/// `(school_year_id, kind, label_fr, label_en, first_day_off, last_day_off)`.
type HolidayRow = (String, String, String, String, String, String);
/// `(day, label_fr, label_en, scope)`.
type PublicHolidayRow = (String, String, String, String);

/// Turns a foreign-key failure on `calendar_id` into a message naming the calendar.
fn foreign_key_as_unknown_calendar(e: sqlx::Error, calendar_id: &str) -> DbError {
    match &e {
        sqlx::Error::Database(d) if d.is_foreign_key_violation() => DbError::Invalid(format!(
            "calendrier de vacances inconnu « {calendar_id} » / unknown holiday calendar `{calendar_id}`"
        )),
        _ => DbError::from(e),
    }
}
