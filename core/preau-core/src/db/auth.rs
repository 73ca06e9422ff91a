//! Accounts in the database: credentials, sessions (cookie and bearer), failed-login counters,
//! connection traces and their purge.

use sqlx::FromRow;

use super::{BeginWrite, Db, DbError, DbResult, new_id, run};
use crate::auth::throttle;

/// What a login checks: never serialized, never logged.
#[derive(FromRow)]
pub struct Credentials {
    pub user_id: String,
    pub login: String,
    pub password_hash: Option<String>,
    pub activation_digest: Option<String>,
    pub state: String,
    pub must_change_password: bool,
    pub charter_version: Option<i64>,
}

/// How a session travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionKind {
    /// A browser cookie: state changes need the CSRF token.
    Cookie,
    /// An `Authorization: Bearer` token of an API client.
    Bearer,
}

impl SessionKind {
    fn as_str(self) -> &'static str {
        match self {
            SessionKind::Cookie => "cookie",
            SessionKind::Bearer => "bearer",
        }
    }
}

/// A stored session.
#[derive(Debug, Clone, FromRow)]
pub struct SessionRow {
    pub id_hash: String,
    pub user_id: String,
    pub kind: String,
    pub csrf_token: String,
    pub establishment_id: Option<String>,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub expires_at: i64,
    pub ip: String,
    pub user_agent: String,
    /// The account's state (`active`, `departed`, `disabled`): only active accounts are served.
    pub user_state: String,
    /// The account must choose a new password before anything else.
    pub must_change_password: bool,
    /// The charter version the account accepted, and the current one.
    pub charter_version: Option<i64>,
    pub charter_current: Option<i64>,
    /// The account's login and names, for the page frame and `/me`.
    pub first_name: String,
    pub last_name: String,
    pub login: String,
    /// The account's unread notifications (the page frame's bell), read with the session so
    /// that a page costs no extra query for it.
    pub unread_notifications: i64,
}

/// A session is marked as used at most this often (one write per minute, not per request).
const TOUCH_EVERY_MS: i64 = 60_000;

impl SessionRow {
    /// Whether the session is within its absolute lifetime and has not been idle too long.
    pub fn is_alive(&self, now_ms: i64, idle_ms: i64) -> bool {
        self.expires_at > now_ms && now_ms - self.last_seen_at <= idle_ms
    }

    /// Whether the session's last use should be written down now.
    pub fn needs_touch(&self, now_ms: i64) -> bool {
        now_ms - self.last_seen_at > TOUCH_EVERY_MS
    }

    /// Whether the account still has to accept the current charter.
    pub fn charter_outdated(&self) -> bool {
        match (self.charter_version, self.charter_current) {
            (_, None) => false,
            (None, Some(_)) => true,
            (Some(accepted), Some(current)) => accepted < current,
        }
    }
}

/// A version of the charter.
#[derive(Debug, Clone, FromRow)]
pub struct Charter {
    pub version: i64,
    pub body_fr: String,
    pub body_en: String,
}

/// What a new session records.
#[derive(Debug, Clone)]
pub struct NewSession<'a> {
    pub id_hash: &'a str,
    pub user_id: &'a str,
    pub kind: SessionKind,
    pub csrf_token: &'a str,
    pub establishment_id: Option<&'a str>,
    pub now_ms: i64,
    pub expires_at: i64,
    pub ip: &'a str,
    pub user_agent: &'a str,
}

/// A connection trace (CNIL): who, when, from where, with what result.
#[derive(Debug, Clone)]
pub struct Trace<'a> {
    pub at: i64,
    pub user_id: Option<&'a str>,
    pub login: &'a str,
    pub event: TraceEvent,
    pub success: bool,
    pub ip: &'a str,
    pub user_agent: &'a str,
    pub establishment_id: Option<&'a str>,
    /// The session's profiles, comma-separated.
    pub profiles: &'a str,
}

impl<'a> Trace<'a> {
    /// A successful event of `user_id`, from `client`, outside any establishment and profile
    /// (set those fields when the event has them).
    pub fn success(
        at: i64,
        event: TraceEvent,
        user_id: &'a str,
        login: &'a str,
        client: &'a crate::auth::client::ClientInfo,
    ) -> Trace<'a> {
        Trace {
            at,
            user_id: Some(user_id),
            login,
            event,
            success: true,
            ip: &client.ip,
            user_agent: &client.user_agent,
            establishment_id: None,
            profiles: "",
        }
    }
}

/// What a trace records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TraceEvent {
    Login,
    Logout,
    Activation,
    PasswordChange,
    PasswordReset,
}

impl TraceEvent {
    fn as_str(self) -> &'static str {
        match self {
            TraceEvent::Login => "login",
            TraceEvent::Logout => "logout",
            TraceEvent::Activation => "activation",
            TraceEvent::PasswordChange => "password_change",
            TraceEvent::PasswordReset => "password_reset",
        }
    }
}

/// A stored trace, as the privacy console and tests read it.
#[derive(Debug, Clone, FromRow, serde::Serialize)]
pub struct TraceRow {
    pub at: i64,
    pub user_id: Option<String>,
    pub login: String,
    pub event: String,
    pub success: bool,
    pub ip: String,
    pub user_agent: String,
    pub establishment_id: Option<String>,
    pub profiles: String,
}

/// The state of a failed-login counter after a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, FromRow)]
pub struct ThrottleState {
    pub failures: i64,
    pub locked_until: i64,
}

const SELECT_SESSION: &str = "SELECT s.id_hash, s.user_id, s.kind, s.csrf_token, s.establishment_id, s.created_at, \
     s.last_seen_at, s.expires_at, s.ip, s.user_agent, u.state AS user_state, \
     u.must_change_password, u.charter_version, (SELECT MAX(version) FROM charters) AS charter_current, \
     u.first_name, u.last_name, u.login, \
     (SELECT COUNT(*) FROM notifications n WHERE n.user_id = s.user_id AND n.read_at IS NULL) AS unread_notifications \
     FROM sessions s JOIN users u ON u.id = s.user_id";

impl Db {
    /// The credentials of the account with this login (case-insensitive).
    pub async fn credentials(&self, login: &str) -> DbResult<Option<Credentials>> {
        let login = login.trim().to_lowercase();
        Ok(run!(self, pool => {
            sqlx::query_as(
                "SELECT id AS user_id, login, password_hash, activation_digest, state, must_change_password, charter_version \
                 FROM users WHERE login = $1",
            )
            .bind(&login)
            .fetch_optional(pool).await?
        }))
    }

    /// Whether the counter `key` is locked at `now_ms`.
    pub async fn is_throttled(&self, key: &str, now_ms: i64) -> DbResult<bool> {
        let locked: Option<i64> = run!(self, pool => {
            sqlx::query_scalar("SELECT locked_until FROM login_throttle WHERE key = $1")
                .bind(key)
                .fetch_optional(pool).await?
        });
        Ok(locked.is_some_and(|until| until > now_ms))
    }

    /// Counts one failure on `key`, atomically (several nodes may count at once); locks the key
    /// for [`throttle::LOCK_MS`] when `max` failures fall within [`throttle::WINDOW_MS`].
    pub async fn record_failure(
        &self,
        key: &str,
        max: i64,
        now_ms: i64,
    ) -> DbResult<ThrottleState> {
        let window_floor = now_ms - throttle::WINDOW_MS;
        let lock_until = now_ms + throttle::LOCK_MS;
        Ok(run!(self, pool => {
            sqlx::query_as(
                "INSERT INTO login_throttle (key, failures, window_start, locked_until) \
                 VALUES ($1, 1, $2, CASE WHEN 1 >= $4 THEN $5 ELSE 0 END) \
                 ON CONFLICT (key) DO UPDATE SET \
                   failures = CASE WHEN login_throttle.window_start < $3 THEN 1 ELSE login_throttle.failures + 1 END, \
                   window_start = CASE WHEN login_throttle.window_start < $3 THEN $2 ELSE login_throttle.window_start END, \
                   locked_until = CASE \
                     WHEN (CASE WHEN login_throttle.window_start < $3 THEN 1 ELSE login_throttle.failures + 1 END) >= $4 THEN $5 \
                     ELSE login_throttle.locked_until END \
                 RETURNING failures, locked_until",
            )
            .bind(key).bind(now_ms).bind(window_floor).bind(max).bind(lock_until)
            .fetch_one(pool).await?
        }))
    }

    /// Forgets the failures of `key` (after a successful login).
    pub async fn clear_failures(&self, key: &str) -> DbResult<()> {
        run!(self, pool => {
            sqlx::query("DELETE FROM login_throttle WHERE key = $1").bind(key).execute(pool).await?;
        });
        Ok(())
    }

    /// Opens a session.
    pub async fn create_session(&self, s: &NewSession<'_>) -> DbResult<()> {
        run!(self, pool => {
            sqlx::query(
                "INSERT INTO sessions (id_hash, user_id, kind, csrf_token, establishment_id, created_at, last_seen_at, expires_at, ip, user_agent) \
                 VALUES ($1, $2, $3, $4, $5, $6, $6, $7, $8, $9)",
            )
            .bind(s.id_hash).bind(s.user_id).bind(s.kind.as_str()).bind(s.csrf_token).bind(s.establishment_id)
            .bind(s.now_ms).bind(s.expires_at).bind(s.ip).bind(s.user_agent)
            .execute(pool).await?;
        });
        Ok(())
    }

    /// The session with this token digest.
    pub async fn session(&self, id_hash: &str) -> DbResult<Option<SessionRow>> {
        let sql = format!("{SELECT_SESSION} WHERE s.id_hash = $1");
        Ok(run!(self, pool => {
            sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(id_hash).fetch_optional(pool).await?
        }))
    }

    /// The open sessions of a person, most recent first.
    pub async fn sessions_of(&self, user_id: &str) -> DbResult<Vec<SessionRow>> {
        let sql = format!("{SELECT_SESSION} WHERE s.user_id = $1 ORDER BY s.last_seen_at DESC");
        Ok(run!(self, pool => {
            sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(user_id).fetch_all(pool).await?
        }))
    }

    /// Records that a session was used at `now_ms`.
    pub async fn touch_session(&self, id_hash: &str, now_ms: i64) -> DbResult<()> {
        run!(self, pool => {
            sqlx::query("UPDATE sessions SET last_seen_at = $2 WHERE id_hash = $1 AND last_seen_at < $2")
                .bind(id_hash).bind(now_ms).execute(pool).await?;
        });
        Ok(())
    }

    /// Ends one session of a person; `NotFound` if it is not theirs.
    pub async fn delete_session(&self, user_id: &str, id_hash: &str) -> DbResult<()> {
        let n = run!(self, pool => {
            sqlx::query("DELETE FROM sessions WHERE id_hash = $1 AND user_id = $2")
                .bind(id_hash).bind(user_id).execute(pool).await?.rows_affected()
        });
        if n == 0 {
            return Err(DbError::NotFound("session".into()));
        }
        Ok(())
    }

    /// Ends every session of a person but `keep` (the current one), e.g. after a password change.
    pub async fn delete_other_sessions(&self, user_id: &str, keep: Option<&str>) -> DbResult<u64> {
        Ok(run!(self, pool => {
            sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND id_hash <> $2")
                .bind(user_id).bind(keep.unwrap_or("")).execute(pool).await?.rows_affected()
        }))
    }

    /// Removes sessions past their absolute end or idle for longer than `idle_ms`.
    pub async fn purge_sessions(&self, now_ms: i64, idle_ms: i64) -> DbResult<u64> {
        Ok(run!(self, pool => {
            sqlx::query("DELETE FROM sessions WHERE expires_at <= $1 OR last_seen_at <= $2")
                .bind(now_ms).bind(now_ms - idle_ms).execute(pool).await?.rows_affected()
        }))
    }

    /// Moves a session to another establishment (the switcher).
    pub async fn set_session_establishment(
        &self,
        id_hash: &str,
        establishment_id: &str,
    ) -> DbResult<()> {
        run!(self, pool => {
            sqlx::query("UPDATE sessions SET establishment_id = $2 WHERE id_hash = $1")
                .bind(id_hash).bind(establishment_id).execute(pool).await?;
        });
        Ok(())
    }

    /// First connection: sets the password, records the accepted charter, forgets the activation
    /// code. `Conflict` if the account was activated meanwhile.
    pub async fn activate(
        &self,
        user_id: &str,
        password_hash: &str,
        charter_version: Option<i64>,
        now_ms: i64,
    ) -> DbResult<()> {
        let n = run!(self, pool => {
            sqlx::query(
                "UPDATE users SET password_hash = $2, charter_version = $3, activation_digest = NULL, \
                 activated_at = $4, must_change_password = FALSE, updated_at = $4 \
                 WHERE id = $1 AND password_hash IS NULL AND activation_digest IS NOT NULL",
            )
            .bind(user_id).bind(password_hash).bind(charter_version).bind(now_ms)
            .execute(pool).await?.rows_affected()
        });
        if n == 0 {
            return Err(DbError::Conflict(
                "compte déjà activé / account already activated".into(),
            ));
        }
        Ok(())
    }

    /// Sets a new password chosen by the account's owner (clears a forced change); pending reset
    /// links of the account stop working.
    pub async fn set_password(
        &self,
        user_id: &str,
        password_hash: &str,
        now_ms: i64,
    ) -> DbResult<()> {
        run!(self, pool => {
            let mut tx = pool.begin_write().await?;
            sqlx::query("UPDATE users SET password_hash = $2, must_change_password = FALSE, updated_at = $3 WHERE id = $1")
                .bind(user_id).bind(password_hash).bind(now_ms).execute(&mut *tx).await?;
            sqlx::query("DELETE FROM one_time_tokens WHERE user_id = $1 AND used_at IS NULL")
                .bind(user_id).execute(&mut *tx).await?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// The password hash of an account, to check the current password before a change.
    pub async fn password_hash(&self, user_id: &str) -> DbResult<Option<String>> {
        let hash: Option<Option<String>> = run!(self, pool => {
            sqlx::query_scalar("SELECT password_hash FROM users WHERE id = $1").bind(user_id).fetch_optional(pool).await?
        });
        Ok(hash.flatten())
    }

    /// Records that an account accepted a charter version.
    pub async fn accept_charter(&self, user_id: &str, version: i64) -> DbResult<()> {
        run!(self, pool => {
            sqlx::query("UPDATE users SET charter_version = $2 WHERE id = $1").bind(user_id).bind(version).execute(pool).await?;
        });
        Ok(())
    }

    /// The current charter (the highest version).
    pub async fn current_charter(&self) -> DbResult<Option<Charter>> {
        Ok(run!(self, pool => {
            sqlx::query_as("SELECT version, body_fr, body_en FROM charters ORDER BY version DESC LIMIT 1")
                .fetch_optional(pool).await?
        }))
    }

    /// Publishes a new charter version; everyone must accept it again at their next visit.
    pub async fn publish_charter(
        &self,
        body_fr: &str,
        body_en: &str,
        now_ms: i64,
    ) -> DbResult<i64> {
        Ok(run!(self, pool => {
            sqlx::query_scalar(
                "INSERT INTO charters (version, published_at, body_fr, body_en) \
                 SELECT COALESCE(MAX(version), 0) + 1, $1, $2, $3 FROM charters RETURNING version",
            )
            .bind(now_ms).bind(body_fr).bind(body_en)
            .fetch_one(pool).await?
        }))
    }

    /// Installs the shipped charter as version 1 on a new instance.
    pub(super) async fn seed_charter(&self) -> DbResult<()> {
        run!(self, pool => {
            sqlx::query(
                "INSERT INTO charters (version, published_at, body_fr, body_en) VALUES (1, 0, $1, $2) \
                 ON CONFLICT (version) DO NOTHING",
            )
            .bind(include_str!("../../data/legal/charte.fr.txt"))
            .bind(include_str!("../../data/legal/charte.en.txt"))
            .execute(pool).await?;
        });
        Ok(())
    }

    /// Stores a single-use token (by digest) for `purpose` (`setup`, `password_reset`).
    pub async fn create_one_time_token(
        &self,
        purpose: &str,
        user_id: Option<&str>,
        digest: &str,
        now_ms: i64,
        expires_at: i64,
    ) -> DbResult<()> {
        run!(self, pool => {
            sqlx::query(
                "INSERT INTO one_time_tokens (token_hash, purpose, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(digest).bind(purpose).bind(user_id).bind(now_ms).bind(expires_at)
            .execute(pool).await?;
        });
        Ok(())
    }

    /// Whether a token is usable now (exists for `purpose`, unused, unexpired), without using it.
    pub async fn one_time_token_valid(
        &self,
        purpose: &str,
        digest: &str,
        now_ms: i64,
    ) -> DbResult<bool> {
        let n: i64 = run!(self, pool => {
            sqlx::query_scalar(
                "SELECT COUNT(*) FROM one_time_tokens WHERE token_hash = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > $3",
            )
            .bind(digest).bind(purpose).bind(now_ms)
            .fetch_one(pool).await?
        });
        Ok(n > 0)
    }

    /// The account a token was issued for (used or not).
    pub async fn one_time_token_user(
        &self,
        purpose: &str,
        digest: &str,
    ) -> DbResult<Option<String>> {
        let user: Option<Option<String>> = run!(self, pool => {
            sqlx::query_scalar("SELECT user_id FROM one_time_tokens WHERE token_hash = $1 AND purpose = $2")
                .bind(digest).bind(purpose).fetch_optional(pool).await?
        });
        Ok(user.flatten())
    }

    /// Uses a token, atomically: `Some(user_id)` the first time it is presented while valid, `None`
    /// afterwards or when unknown or expired.
    pub async fn consume_one_time_token(
        &self,
        purpose: &str,
        digest: &str,
        now_ms: i64,
    ) -> DbResult<Option<Option<String>>> {
        Ok(run!(self, pool => {
            sqlx::query_scalar(
                "UPDATE one_time_tokens SET used_at = $3 \
                 WHERE token_hash = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > $3 RETURNING user_id",
            )
            .bind(digest).bind(purpose).bind(now_ms)
            .fetch_optional(pool).await?
        }))
    }

    /// Withdraws the unused tokens of `purpose` (a new setup link replaces the previous ones).
    pub async fn revoke_one_time_tokens(&self, purpose: &str) -> DbResult<u64> {
        Ok(run!(self, pool => {
            sqlx::query("DELETE FROM one_time_tokens WHERE purpose = $1 AND used_at IS NULL")
                .bind(purpose).execute(pool).await?.rows_affected()
        }))
    }

    /// Deletes one-time tokens that were used or have expired.
    pub async fn purge_one_time_tokens(&self, now_ms: i64) -> DbResult<u64> {
        Ok(run!(self, pool => {
            sqlx::query("DELETE FROM one_time_tokens WHERE used_at IS NOT NULL OR expires_at <= $1")
                .bind(now_ms).execute(pool).await?.rows_affected()
        }))
    }

    /// The active accounts with this e-mail address (case-insensitive): `(id, login, first name,
    /// last name)`. A parent may have one address for several accounts.
    pub async fn accounts_with_email(
        &self,
        email: &str,
    ) -> DbResult<Vec<(String, String, String, String)>> {
        let email = email.trim().to_lowercase();
        Ok(run!(self, pool => {
            sqlx::query_as(
                "SELECT id, login, first_name, last_name FROM users \
                 WHERE LOWER(email) = $1 AND state = 'active' ORDER BY login",
            )
            .bind(&email)
            .fetch_all(pool).await?
        }))
    }

    /// Whether the collectivité has an administrator (else the instance awaits its setup).
    pub async fn has_collectivite_admin(&self) -> DbResult<bool> {
        let n: i64 = run!(self, pool => {
            sqlx::query_scalar(
                "SELECT COUNT(*) FROM role_assignments r JOIN users u ON u.id = r.user_id \
                 WHERE r.role = 'admin_collectivite' AND u.state = 'active'",
            )
            .fetch_one(pool).await?
        });
        Ok(n > 0)
    }

    /// Records a connection trace.
    pub async fn record_trace(&self, t: &Trace<'_>) -> DbResult<()> {
        run!(self, pool => {
            sqlx::query(
                "INSERT INTO connection_traces (id, at, user_id, login, event, success, ip, user_agent, establishment_id, profiles) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            )
            .bind(new_id()).bind(t.at).bind(t.user_id).bind(t.login).bind(t.event.as_str()).bind(t.success)
            .bind(t.ip).bind(t.user_agent).bind(t.establishment_id).bind(t.profiles)
            .execute(pool).await?;
        });
        Ok(())
    }

    /// The traces of a person, most recent first (at most `limit`).
    pub async fn traces_of(&self, user_id: &str, limit: u32) -> DbResult<Vec<TraceRow>> {
        Ok(run!(self, pool => {
            sqlx::query_as(
                "SELECT at, user_id, login, event, success, ip, user_agent, establishment_id, profiles \
                 FROM connection_traces WHERE user_id = $1 ORDER BY at DESC LIMIT $2",
            )
            .bind(user_id).bind(i64::from(limit))
            .fetch_all(pool).await?
        }))
    }

    /// Deletes the traces older than `before_ms` (the configured retention).
    pub async fn purge_traces(&self, before_ms: i64) -> DbResult<u64> {
        Ok(run!(self, pool => {
            sqlx::query("DELETE FROM connection_traces WHERE at < $1").bind(before_ms).execute(pool).await?.rows_affected()
        }))
    }
}
