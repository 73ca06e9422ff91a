//! First run: an instance without a collectivité administrator prints a single-use setup link
//! (`preau serve`, or `preau admin setup-link` at any time); whoever opens it names the collectivité
//! and creates the first collectivité administrator. There is no default password anywhere.

use crate::auth::token::Token;
use crate::clock::Clock;
use crate::db::{Db, DbResult};

/// The purpose of setup tokens in `one_time_tokens`.
pub const SETUP: &str = "setup";
/// How long a setup link stays valid.
pub const SETUP_VALIDITY_MS: i64 = 24 * 3600 * 1000;

/// Creates a new setup link (the previous unused ones stop working) under `base_url`.
pub async fn new_setup_link(db: &Db, clock: &Clock, base_url: &str) -> DbResult<String> {
    let token = Token::generate();
    let now = clock.now_ms();
    db.revoke_one_time_tokens(SETUP).await?;
    db.create_one_time_token(SETUP, None, &token.digest(), now, now + SETUP_VALIDITY_MS)
        .await?;
    Ok(format!(
        "{}/installation?jeton={}",
        base_url.trim_end_matches('/'),
        token.expose()
    ))
}
