//! Resetting someone else's account (a forgotten password, a lost letter): within the actor's
//! scope ([`crate::rights::reset`]), a new activation code or a temporary password, both shown
//! once to the actor, who hands them over. Traced on the account reset.

use tracing::info;

use crate::access::Access;
use crate::auth::client::ClientInfo;
use crate::auth::password;
use crate::calendar::school_year_id;
use crate::clock::Clock;
use crate::db::auth::{Trace, TraceEvent};
use crate::db::{Db, DbError};
use crate::identity::ActivationCode;
use crate::rights::reset::reset_scope;

/// What kind of reset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ResetKind {
    /// Back to "to activate", with a new code: first connection again (password and charter).
    ActivationCode,
    /// A temporary password, to replace at the next login.
    TemporaryPassword,
}

/// The secret to hand over, shown once.
#[derive(Debug)]
pub enum ResetSecret {
    ActivationCode(ActivationCode),
    TemporaryPassword(String),
}

impl ResetSecret {
    /// The secret as text.
    pub fn expose(&self) -> &str {
        match self {
            ResetSecret::ActivationCode(c) => c.as_str(),
            ResetSecret::TemporaryPassword(p) => p,
        }
    }
}

/// Why a reset is refused.
#[derive(Debug, thiserror::Error)]
pub enum ResetError {
    #[error("réinitialisation non autorisée / reset not allowed")]
    Forbidden,
    #[error(transparent)]
    Db(#[from] DbError),
}

/// Resets `target_id`'s account on behalf of `actor`, in the establishment `establishment_id`.
#[allow(
    clippy::too_many_arguments,
    reason = "the request's context, each argument a distinct fact"
)]
pub async fn reset_account(
    db: &Db,
    clock: &Clock,
    actor_id: &str,
    actor: &Access,
    establishment_id: &str,
    target_id: &str,
    kind: ResetKind,
    client: &ClientInfo,
) -> Result<ResetSecret, ResetError> {
    let year = school_year_id(clock.today());
    let Some(scope) = reset_scope(db, actor, actor_id, establishment_id, &year).await? else {
        return Err(ResetError::Forbidden);
    };
    if actor_id == target_id
        || !db
            .in_reset_scope(establishment_id, &scope, target_id)
            .await?
    {
        return Err(ResetError::Forbidden);
    }
    let target = db.user(target_id).await?.ok_or(ResetError::Forbidden)?;
    let now = clock.now_ms();
    let secret = match kind {
        ResetKind::ActivationCode => {
            let code = ActivationCode::generate();
            db.reset_to_code(target_id, &code.digest(db.code_key(), target_id), now)
                .await?;
            ResetSecret::ActivationCode(code)
        }
        ResetKind::TemporaryPassword => {
            let temporary = password::generate_temporary();
            let hash = password::hash_off_thread(&temporary)
                .await
                .ok_or_else(|| DbError::Invalid("argon2".into()))?;
            db.reset_to_temporary_password(target_id, &hash, now)
                .await?;
            ResetSecret::TemporaryPassword(temporary)
        }
    };
    db.record_trace(&Trace {
        establishment_id: Some(establishment_id),
        ..Trace::success(
            now,
            TraceEvent::PasswordReset,
            target_id,
            &target.login,
            client,
        )
    })
    .await?;
    info!(
        actor = actor_id,
        target = target_id,
        ?kind,
        "account reset by a staff member"
    );
    Ok(secret)
}
