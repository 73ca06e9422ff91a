//! Account resets by the establishment's staff: whom an actor may reset (by scope, with a name
//! search), and the two resets — a new activation code, or a temporary password to change at the
//! next login. Both end the account's sessions.

use serde::Serialize;
use sqlx::FromRow;

use super::{BeginWrite, Db, DbError, DbResult, run};
use crate::identity::fold_name;
use crate::rights::reset::ResetScope;

/// A person an actor may reset, as the accounts page lists them.
#[derive(Debug, Clone, Serialize, FromRow)]
pub struct ResettablePerson {
    pub id: String,
    pub login: String,
    pub first_name: String,
    pub last_name: String,
    /// The person's profiles in the establishment, comma-separated.
    pub profiles: String,
    pub activated: bool,
}

/// Holds no role (local or collectivité admin).
const NO_ROLE: &str = "NOT EXISTS (SELECT 1 FROM role_assignments r WHERE r.user_id = u.id)";

/// The SQL condition of a scope, on `u`, with `$1` the establishment, `$2` the teacher and `$3`
/// the school year (both `''` when the scope has none; every parameter is mentioned so that
/// PostgreSQL can type it).
fn scope_condition(scope: &ResetScope) -> String {
    let attached =
        "EXISTS (SELECT 1 FROM attachments a WHERE a.user_id = u.id AND a.establishment_id = $1)";
    let unused = "$2 = $2 AND $3 = $3";
    match scope {
        ResetScope::Anyone => format!("{attached} AND {unused}"),
        ResetScope::Everyone => format!(
            "{attached} AND {NO_ROLE} AND NOT EXISTS (SELECT 1 FROM attachments o WHERE o.user_id = u.id \
             AND o.establishment_id <> $1 AND o.profile NOT IN ('eleve', 'parent')) AND {unused}"
        ),
        ResetScope::StudentsAndParents => format!(
            "{attached} AND {NO_ROLE} AND NOT EXISTS (SELECT 1 FROM attachments o WHERE o.user_id = u.id \
             AND o.profile NOT IN ('eleve', 'parent')) AND {unused}"
        ),
        ResetScope::StudentsOf { .. } => format!(
            "EXISTS (SELECT 1 FROM attachments a WHERE a.user_id = u.id AND a.establishment_id = $1 AND a.profile = 'eleve') \
             AND {NO_ROLE} AND NOT EXISTS (SELECT 1 FROM attachments o WHERE o.user_id = u.id AND o.profile <> 'eleve') \
             AND EXISTS (SELECT 1 FROM class_group_members m \
             JOIN teaching_assignments t ON t.class_group_id = m.class_group_id \
             JOIN class_groups g ON g.id = m.class_group_id \
             WHERE m.user_id = u.id AND t.teacher_id = $2 AND g.establishment_id = $1 AND g.school_year_id = $3)"
        ),
    }
}

/// The teacher and school year parameters of a scope.
fn scope_params(scope: &ResetScope) -> (&str, &str) {
    match scope {
        ResetScope::StudentsOf {
            teacher,
            school_year,
        } => (teacher, school_year),
        _ => ("", ""),
    }
}

impl Db {
    /// The people `scope` covers in the establishment, by name, at most `limit`; `search` keeps
    /// those whose name contains the words typed (accents and case ignored).
    pub async fn resettable(
        &self,
        establishment_id: &str,
        scope: &ResetScope,
        search: &str,
        limit: u32,
    ) -> DbResult<Vec<ResettablePerson>> {
        // Names are stored as "nom prenom": match the words in the order typed or reversed, so
        // that "Léa Martin" and "Martin Léa" both find her.
        let mut words: Vec<String> = search
            .split_whitespace()
            .map(fold_name)
            .filter(|w| !w.is_empty())
            .collect();
        let pattern = format!("%{}%", words.join("%"));
        words.reverse();
        let reversed = format!("%{}%", words.join("%"));
        let (teacher, year) = scope_params(scope);
        let sql = format!(
            "SELECT u.id, u.login, u.first_name, u.last_name, \
             COALESCE((SELECT STRING_AGG(a.profile, ',') FROM attachments a WHERE a.user_id = u.id AND a.establishment_id = $1), '') AS profiles, \
             (u.password_hash IS NOT NULL) AS activated \
             FROM users u WHERE {} AND u.state = 'active' AND (u.sort_key LIKE $4 OR u.sort_key LIKE $6) \
             ORDER BY u.sort_key, u.id LIMIT $5",
            scope_condition(scope)
        );
        // SQLite names the aggregate GROUP_CONCAT; it is the one dialect difference here.
        let sql = match self.engine() {
            super::Engine::Sqlite => {
                sql.replace("STRING_AGG(a.profile, ',')", "GROUP_CONCAT(a.profile, ',')")
            }
            super::Engine::Postgres => sql,
        };
        Ok(run!(self, pool => {
            sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(establishment_id).bind(teacher).bind(year).bind(&pattern).bind(i64::from(limit)).bind(&reversed)
                .fetch_all(pool).await?
        }))
    }

    /// Whether `scope` covers the person `user_id` in the establishment.
    pub async fn in_reset_scope(
        &self,
        establishment_id: &str,
        scope: &ResetScope,
        user_id: &str,
    ) -> DbResult<bool> {
        let sql = format!(
            "SELECT COUNT(*) FROM users u WHERE {} AND u.id = $4",
            scope_condition(scope)
        );
        let (teacher, year) = scope_params(scope);
        let n: i64 = run!(self, pool => {
            sqlx::query_scalar(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(establishment_id).bind(teacher).bind(year).bind(user_id)
                .fetch_one(pool).await?
        });
        Ok(n > 0)
    }

    /// Puts an account back to "to activate" with a new code (stored as its digest); the person
    /// does the first connection again. Ends the account's sessions.
    pub async fn reset_to_code(
        &self,
        user_id: &str,
        code_digest: &str,
        now_ms: i64,
    ) -> DbResult<()> {
        self.reset(user_id, "password_hash = NULL, activation_digest = $2, activated_at = NULL, must_change_password = FALSE", code_digest, now_ms).await
    }

    /// Gives an account a temporary password (stored as its hash), to change at the next login.
    /// Ends the account's sessions.
    pub async fn reset_to_temporary_password(
        &self,
        user_id: &str,
        password_hash: &str,
        now_ms: i64,
    ) -> DbResult<()> {
        self.reset(
            user_id,
            "password_hash = $2, activation_digest = NULL, must_change_password = TRUE",
            password_hash,
            now_ms,
        )
        .await
    }

    async fn reset(&self, user_id: &str, set: &str, secret: &str, now_ms: i64) -> DbResult<()> {
        let sql =
            format!("UPDATE users SET {set}, updated_at = $3 WHERE id = $1 AND state = 'active'");
        let n = run!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let n = sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(user_id).bind(secret).bind(now_ms)
                .execute(&mut *tx).await?.rows_affected();
            sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(user_id).execute(&mut *tx).await?;
            sqlx::query("DELETE FROM one_time_tokens WHERE user_id = $1 AND used_at IS NULL")
                .bind(user_id).execute(&mut *tx).await?;
            tx.commit().await?;
            n
        });
        if n == 0 {
            return Err(DbError::NotFound(format!("compte / account {user_id}")));
        }
        Ok(())
    }
}
