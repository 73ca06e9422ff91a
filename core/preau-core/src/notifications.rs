//! The notification centre's e-mail and retention, run by `preau serve`: every minute, the
//! notifications of people who want them at once go out (one message per person, gathering
//! what arrived since); from [`DIGEST_HOUR`] (Europe/Paris), the day's digest goes to those who
//! chose "daily" (the default). A notification is claimed in the database before it is sent,
//! so several nodes never mail it twice; one read in the portal before its mail goes is not
//! mailed. Read notifications are kept [`KEEP_READ_DAYS`] days, any [`KEEP_ANY_DAYS`] days.
//! Without `[smtp]`, nothing is mailed (the portal still shows everything).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{NaiveTime, TimeZone};

use crate::clock::Clock;
use crate::config::Config;
use crate::db::notifications::{EmailPreference, MailRow};
use crate::db::{Db, DbResult};
use crate::mail::Mailer;

/// How often the mailer looks for notifications to send.
pub const EVERY: Duration = Duration::from_secs(60);
/// The local hour from which the daily digest goes out.
pub const DIGEST_HOUR: u32 = 17;
/// Read notifications are deleted after this many days.
pub const KEEP_READ_DAYS: i64 = 90;
/// Every notification is deleted after this many days.
pub const KEEP_ANY_DAYS: i64 = 365;
/// Most notifications handled in one pass.
const BATCH: i64 = 2_000;

const DAY_MS: i64 = 86_400_000;

/// What one pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MailReport {
    /// Messages sent (one per person per pass).
    pub messages: usize,
    /// Notifications they carried.
    pub notifications: usize,
    /// Notifications deleted by retention.
    pub purged: u64,
}

/// Starts the mailer loop.
pub fn spawn(db: Db, clock: Clock, config: Arc<Config>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mailer = config.smtp.as_ref().and_then(|smtp| match Mailer::new(smtp) {
            Ok(m) => Some(m),
            Err(e) => {
                tracing::error!(error = %e, "notifications: SMTP unusable, nothing will be mailed");
                None
            }
        });
        let base = config.public_base_url();
        let mut ticker = tokio::time::interval(EVERY);
        loop {
            ticker.tick().await;
            match run_once(&db, &clock, mailer.as_ref(), &base).await {
                Ok(r) if r.messages > 0 || r.purged > 0 => {
                    tracing::info!(
                        messages = r.messages,
                        notifications = r.notifications,
                        purged = r.purged,
                        "notifications mailed and purged"
                    )
                }
                Ok(_) => {}
                Err(e) => tracing::error!(error = %e, "notifications: pass failed"),
            }
        }
    })
}

/// One pass: immediate mails, the digest when it is time, retention.
pub async fn run_once(
    db: &Db,
    clock: &Clock,
    mailer: Option<&Mailer>,
    base_url: &str,
) -> DbResult<MailReport> {
    let now = clock.now_ms();
    let mut report = MailReport {
        purged: db
            .purge_notifications(now - KEEP_READ_DAYS * DAY_MS, now - KEEP_ANY_DAYS * DAY_MS)
            .await?,
        ..MailReport::default()
    };
    let Some(mailer) = mailer else {
        return Ok(report);
    };
    let immediate = db
        .notifications_to_mail(EmailPreference::Immediate, now + 1, BATCH)
        .await?;
    send(db, clock, mailer, base_url, immediate, &mut report).await?;
    if let Some(cutoff) = digest_cutoff(clock) {
        let daily = db
            .notifications_to_mail(EmailPreference::Daily, cutoff, BATCH)
            .await?;
        send(db, clock, mailer, base_url, daily, &mut report).await?;
    }
    Ok(report)
}

/// Today's digest time, once it has passed: notifications created before it go in the digest.
fn digest_cutoff(clock: &Clock) -> Option<i64> {
    let local = clock.now_local();
    let at = clock
        .tz()
        .from_local_datetime(&local.date_naive().and_time(NaiveTime::from_hms_opt(
            DIGEST_HOUR,
            0,
            0,
        )?))
        .earliest()?;
    (local >= at).then(|| at.timestamp_millis())
}

/// One message per person, with what they have not read, after claiming it.
async fn send(
    db: &Db,
    clock: &Clock,
    mailer: &Mailer,
    base_url: &str,
    rows: Vec<MailRow>,
    report: &mut MailReport,
) -> DbResult<()> {
    let mut by_person: BTreeMap<String, Vec<MailRow>> = BTreeMap::new();
    for row in rows {
        by_person.entry(row.user_id.clone()).or_default().push(row);
    }
    for (_, rows) in by_person {
        let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
        let claimed = db
            .claim_notifications_for_mail(&ids, clock.now_ms())
            .await?;
        let mine: Vec<&MailRow> = rows.iter().filter(|r| claimed.contains(&r.id)).collect();
        let Some(first) = mine.first() else {
            continue;
        };
        let (subject, body) = message(&mine, base_url, clock);
        // A failed send is logged, not retried: the notification stays in the portal.
        if let Err(e) = mailer.send(&first.email, &subject, body).await {
            tracing::warn!(error = %e, "notification mail not sent");
            continue;
        }
        report.messages += 1;
        report.notifications += mine.len();
    }
    Ok(())
}

/// The message for one person: French, then English.
fn message(rows: &[&MailRow], base_url: &str, clock: &Clock) -> (String, String) {
    let n = rows.len();
    let subject = if n == 1 {
        format!("Préau : {}", rows[0].title)
    } else {
        format!("Préau : {n} notifications")
    };
    let mut body = format!(
        "Bonjour {},\n\nVous avez {n} notification{} non lue{} dans Préau / You have {n} unread notification{} in Préau:\n\n",
        rows[0].first_name,
        if n > 1 { "s" } else { "" },
        if n > 1 { "s" } else { "" },
        if n > 1 { "s" } else { "" },
    );
    for r in rows {
        body.push_str(&format!(
            "• {} ({})\n",
            r.title,
            clock.format_ms(r.created_at, "%d/%m/%Y %H:%M")
        ));
        if !r.body.is_empty() {
            body.push_str(&format!("  {}\n", r.body));
        }
        if let Some(link) = &r.link {
            body.push_str(&format!("  {base_url}{link}\n"));
        }
        body.push('\n');
    }
    body.push_str(&format!(
        "Choisir quand recevoir ces courriels / Choose when to receive these e-mails: {base_url}/notifications\n"
    ));
    (subject, body)
}
