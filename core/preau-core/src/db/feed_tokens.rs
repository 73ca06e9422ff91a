//! SQL of personal feed tokens (`apps::tokens` decides): one per (person, establishment,
//! plugin), stored as its digest; replacing one revokes the previous.

use super::{BeginWrite, Db, DbResult, run};

impl Db {
    /// Stores `digest` as the person's token for the plugin here, replacing (revoking) any
    /// previous one.
    pub async fn replace_feed_token(
        &self,
        digest: &str,
        user_id: &str,
        establishment_id: &str,
        plugin: &str,
        now_ms: i64,
    ) -> DbResult<()> {
        run!(self, pool => {
            let mut tx = pool.begin_write().await?;
            sqlx::query("DELETE FROM feed_tokens WHERE user_id = $1 AND establishment_id = $2 AND plugin = $3")
                .bind(user_id).bind(establishment_id).bind(plugin).execute(&mut *tx).await?;
            sqlx::query(
                "INSERT INTO feed_tokens (digest, user_id, establishment_id, plugin, created_at) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(digest).bind(user_id).bind(establishment_id).bind(plugin).bind(now_ms)
            .execute(&mut *tx).await?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// Revokes the person's token for the plugin here; whether there was one.
    pub async fn revoke_feed_token(
        &self,
        user_id: &str,
        establishment_id: &str,
        plugin: &str,
    ) -> DbResult<bool> {
        Ok(run!(self, pool => {
            sqlx::query("DELETE FROM feed_tokens WHERE user_id = $1 AND establishment_id = $2 AND plugin = $3")
                .bind(user_id).bind(establishment_id).bind(plugin).execute(pool).await?.rows_affected() == 1
        }))
    }

    /// When the person's token for the plugin here was created, if they have one.
    pub async fn feed_token_created(
        &self,
        user_id: &str,
        establishment_id: &str,
        plugin: &str,
    ) -> DbResult<Option<i64>> {
        Ok(run!(self, pool => {
            sqlx::query_scalar("SELECT created_at FROM feed_tokens WHERE user_id = $1 AND establishment_id = $2 AND plugin = $3")
                .bind(user_id).bind(establishment_id).bind(plugin).fetch_optional(pool).await?
        }))
    }

    /// The owner of the token `digest` for the plugin here (marking it used), if it is valid
    /// and the account is active.
    pub async fn feed_token_owner(
        &self,
        digest: &str,
        establishment_id: &str,
        plugin: &str,
        now_ms: i64,
    ) -> DbResult<Option<String>> {
        Ok(run!(self, pool => {
            sqlx::query_scalar(
                "UPDATE feed_tokens SET last_used_at = $4 WHERE digest = $1 AND establishment_id = $2 AND plugin = $3 \
                 AND user_id IN (SELECT id FROM users WHERE state = 'active') RETURNING user_id",
            )
            .bind(digest).bind(establishment_id).bind(plugin).bind(now_ms)
            .fetch_optional(pool).await?
        }))
    }
}
