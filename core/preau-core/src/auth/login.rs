//! The login path shared by the API and the portal: throttling, password check (off the async
//! executor), session creation and connection traces. Every failure looks the same from outside,
//! whether the account exists or not.

use crate::auth::client::ClientInfo;
use crate::auth::password;
use crate::auth::throttle::{self, account_key, address_key};
use crate::auth::token::Token;
use crate::clock::Clock;
use crate::config::Config;
use crate::db::auth::{NewSession, SessionKind, Trace, TraceEvent};
use crate::db::{Db, DbError};

/// A successful login.
#[derive(Debug)]
pub struct LoggedIn {
    pub user_id: String,
    pub login: String,
    /// The session's secret, for the cookie or the bearer header: shown once, never stored.
    pub token: Token,
    pub csrf_token: String,
    pub expires_at: i64,
    /// The account must choose a new password before anything else (reset by a staff member).
    pub must_change_password: bool,
}

/// Why a login did not succeed. Deliberately coarse: no account enumeration.
#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    #[error("identifiant ou mot de passe incorrect / wrong login or password")]
    Failed,
    #[error(
        "trop de tentatives : réessayez dans quelques minutes / too many attempts: try again in a few minutes"
    )]
    Throttled,
    #[error(transparent)]
    Db(#[from] DbError),
}

/// Checks `login` and `password` and opens a session of `kind`, within the configured session
/// lifetimes and throttling bounds.
pub async fn login(
    db: &Db,
    clock: &Clock,
    config: &Config,
    login: &str,
    password_typed: &str,
    client: &ClientInfo,
    kind: SessionKind,
) -> Result<LoggedIn, LoginError> {
    let now = clock.now_ms();
    let account = account_key(login);
    let address = address_key(&client.ip);
    let typed_login = login.trim().to_lowercase();
    let failure = || Trace {
        at: now,
        user_id: None,
        login: &typed_login,
        event: TraceEvent::Login,
        success: false,
        ip: &client.ip,
        user_agent: &client.user_agent,
        establishment_id: None,
        profiles: "",
    };
    if db.is_throttled(&account, now).await? || db.is_throttled(&address, now).await? {
        db.record_trace(&failure()).await?;
        return Err(LoginError::Throttled);
    }
    // Count the attempt before checking it: of many attempts sent at once, only the first
    // ACCOUNT_MAX_FAILURES get an answer other than "throttled".
    let counted = db
        .record_failure(&account, throttle::ACCOUNT_MAX_FAILURES, now)
        .await?;
    if counted.failures > throttle::ACCOUNT_MAX_FAILURES {
        db.record_trace(&failure()).await?;
        return Err(LoginError::Throttled);
    }
    let credentials = db.credentials(login).await?;
    let candidate = credentials
        .as_ref()
        .filter(|c| c.state == "active")
        .and_then(|c| c.password_hash.clone());
    let verified = match candidate {
        Some(stored) => password::verify_off_thread(stored, password_typed).await,
        None => {
            let typed = password_typed.to_string();
            let _ = tokio::task::spawn_blocking(move || password::verify_nothing(&typed)).await;
            false
        }
    };
    let Some(credentials) = credentials.filter(|_| verified) else {
        db.record_failure(&address, config.login.address_max_failures(&client.ip), now)
            .await?;
        db.record_trace(&failure()).await?;
        return Err(LoginError::Failed);
    };
    db.clear_failures(&account).await?;

    let attachments = db.attachments_of(&credentials.user_id).await?;
    // The session starts in the first establishment the person is attached to, or, for a local
    // admin without attachment, the one they administer.
    let establishment_id = match attachments.first() {
        Some(a) => Some(a.establishment_id.clone()),
        None => match db
            .roles_of(&credentials.user_id)
            .await?
            .into_iter()
            .find_map(|r| r.uai)
        {
            Some(uai) => db.establishment(&uai).await?.map(|e| e.id),
            None => None,
        },
    };
    let mut profiles: Vec<&str> = attachments.iter().map(|a| a.profile.as_str()).collect();
    profiles.dedup();
    let token = Token::generate();
    let csrf_token = Token::generate().expose().to_string();
    let expires_at = now + config.sessions.absolute_ms();
    db.create_session(&NewSession {
        id_hash: &token.digest(),
        user_id: &credentials.user_id,
        kind,
        csrf_token: &csrf_token,
        establishment_id: establishment_id.as_deref(),
        now_ms: now,
        expires_at,
        ip: &client.ip,
        user_agent: &client.user_agent,
    })
    .await?;
    db.record_trace(&Trace {
        user_id: Some(&credentials.user_id),
        login: &credentials.login,
        establishment_id: establishment_id.as_deref(),
        profiles: &profiles.join(","),
        success: true,
        ..failure()
    })
    .await?;
    Ok(LoggedIn {
        user_id: credentials.user_id,
        login: credentials.login,
        token,
        csrf_token,
        expires_at,
        must_change_password: credentials.must_change_password,
    })
}
