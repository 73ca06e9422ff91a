//! SQL of the notification centre (`crate::notifications` decides): one row per recipient, read
//! or not, mailed or not, and each person's e-mail preference.

use sqlx::FromRow;

use super::tx::{Tx, run_tx};
use super::{Db, DbError, DbResult, new_id, run};

/// How a person wants notifications by e-mail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmailPreference {
    Never,
    Immediate,
    /// One digest a day (the default).
    Daily,
}

impl EmailPreference {
    pub fn as_str(self) -> &'static str {
        match self {
            EmailPreference::Never => "never",
            EmailPreference::Immediate => "immediate",
            EmailPreference::Daily => "daily",
        }
    }

    pub fn parse(s: &str) -> Option<EmailPreference> {
        match s {
            "never" => Some(EmailPreference::Never),
            "immediate" => Some(EmailPreference::Immediate),
            "daily" => Some(EmailPreference::Daily),
            _ => None,
        }
    }
}

/// A notification as one person has it.
#[derive(Debug, Clone, FromRow)]
pub struct NotificationRow {
    pub id: String,
    pub user_id: String,
    pub establishment_id: String,
    pub plugin: String,
    pub title: String,
    pub body: String,
    pub link: Option<String>,
    pub created_at: i64,
    pub read_at: Option<i64>,
}

/// A notification waiting to go out by e-mail, with where it goes.
#[derive(Debug, Clone, FromRow)]
pub struct MailRow {
    pub id: String,
    pub user_id: String,
    pub email: String,
    pub first_name: String,
    pub title: String,
    pub body: String,
    pub link: Option<String>,
    pub created_at: i64,
}

/// What one notification says, for [`Tx::insert_notification`].
#[derive(Debug, Clone)]
pub struct NewNotification<'a> {
    pub establishment_id: &'a str,
    pub plugin: &'a str,
    pub title: &'a str,
    pub body: &'a str,
    pub link: Option<&'a str>,
}

const COLUMNS: &str =
    "id, user_id, establishment_id, plugin, title, body, link, created_at, read_at";

impl Tx {
    /// Notifies `user_id` (one row, stamped with the transaction's time).
    pub async fn insert_notification(
        &mut self,
        user_id: &str,
        n: &NewNotification<'_>,
    ) -> DbResult<()> {
        let now = self.now_ms;
        run_tx!(self, conn => {
            sqlx::query(
                "INSERT INTO notifications (id, user_id, establishment_id, plugin, title, body, link, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(new_id()).bind(user_id).bind(n.establishment_id).bind(n.plugin)
            .bind(n.title).bind(n.body).bind(n.link).bind(now)
            .execute(&mut *conn).await?;
        });
        Ok(())
    }
}

impl Db {
    /// The latest notifications of a person, newest first.
    pub async fn notifications_of(
        &self,
        user_id: &str,
        limit: i64,
    ) -> DbResult<Vec<NotificationRow>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM notifications WHERE user_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2"
        );
        Ok(run!(self, pool => {
            sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(user_id).bind(limit).fetch_all(pool).await?
        }))
    }

    /// Marks one of the person's notifications read; its link, `NotFound` if it is not theirs.
    pub async fn read_notification(
        &self,
        user_id: &str,
        id: &str,
        now_ms: i64,
    ) -> DbResult<Option<String>> {
        let link: Option<Option<String>> = run!(self, pool => {
            sqlx::query_scalar(
                "UPDATE notifications SET read_at = COALESCE(read_at, $3) WHERE user_id = $1 AND id = $2 RETURNING link",
            )
            .bind(user_id).bind(id).bind(now_ms).fetch_optional(pool).await?
        });
        link.ok_or_else(|| DbError::NotFound(format!("notification {id}")))
    }

    /// Marks every notification of the person read.
    pub async fn read_all_notifications(&self, user_id: &str, now_ms: i64) -> DbResult<u64> {
        Ok(run!(self, pool => {
            sqlx::query("UPDATE notifications SET read_at = $2 WHERE user_id = $1 AND read_at IS NULL")
                .bind(user_id).bind(now_ms).execute(pool).await?.rows_affected()
        }))
    }

    /// The person's e-mail preference (`Daily` when never chosen).
    pub async fn email_preference(&self, user_id: &str) -> DbResult<EmailPreference> {
        let value: Option<String> = run!(self, pool => {
            sqlx::query_scalar("SELECT email FROM notification_preferences WHERE user_id = $1")
                .bind(user_id).fetch_optional(pool).await?
        });
        Ok(value
            .as_deref()
            .and_then(EmailPreference::parse)
            .unwrap_or(EmailPreference::Daily))
    }

    /// Sets the person's e-mail preference.
    pub async fn set_email_preference(
        &self,
        user_id: &str,
        preference: EmailPreference,
    ) -> DbResult<()> {
        run!(self, pool => {
            sqlx::query(
                "INSERT INTO notification_preferences (user_id, email) VALUES ($1, $2) \
                 ON CONFLICT (user_id) DO UPDATE SET email = excluded.email",
            )
            .bind(user_id).bind(preference.as_str()).execute(pool).await?;
        });
        Ok(())
    }

    /// Unread, unmailed notifications created before `before_ms` of active people with an
    /// e-mail address whose preference is `preference`, oldest first.
    pub async fn notifications_to_mail(
        &self,
        preference: EmailPreference,
        before_ms: i64,
        limit: i64,
    ) -> DbResult<Vec<MailRow>> {
        // No preference row means "daily".
        let matches = match preference {
            EmailPreference::Daily => "(p.email IS NULL OR p.email = 'daily')",
            EmailPreference::Immediate => "p.email = 'immediate'",
            EmailPreference::Never => "p.email = 'never'",
        };
        let sql = format!(
            "SELECT n.id, n.user_id, u.email, u.first_name, n.title, n.body, n.link, n.created_at \
             FROM notifications n JOIN users u ON u.id = n.user_id \
             LEFT JOIN notification_preferences p ON p.user_id = n.user_id \
             WHERE n.emailed_at IS NULL AND n.read_at IS NULL AND n.created_at < $1 \
             AND u.email IS NOT NULL AND u.state = 'active' AND {matches} \
             ORDER BY n.user_id, n.created_at LIMIT $2"
        );
        Ok(run!(self, pool => {
            sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(before_ms).bind(limit).fetch_all(pool).await?
        }))
    }

    /// Claims these notifications for sending (sets `emailed_at` where it is still empty): the
    /// ids this node claimed, so that two nodes never mail the same one.
    pub async fn claim_notifications_for_mail(
        &self,
        ids: &[String],
        now_ms: i64,
    ) -> DbResult<Vec<String>> {
        let mut claimed = Vec::new();
        for id in ids {
            let n = run!(self, pool => {
                sqlx::query("UPDATE notifications SET emailed_at = $2 WHERE id = $1 AND emailed_at IS NULL")
                    .bind(id).bind(now_ms).execute(pool).await?.rows_affected()
            });
            if n == 1 {
                claimed.push(id.clone());
            }
        }
        Ok(claimed)
    }

    /// Deletes notifications read before `read_before_ms`, and any created before
    /// `any_before_ms`. How many went.
    pub async fn purge_notifications(
        &self,
        read_before_ms: i64,
        any_before_ms: i64,
    ) -> DbResult<u64> {
        Ok(run!(self, pool => {
            sqlx::query(
                "DELETE FROM notifications WHERE (read_at IS NOT NULL AND read_at < $1) OR created_at < $2",
            )
            .bind(read_before_ms).bind(any_before_ms).execute(pool).await?.rows_affected()
        }))
    }
}
