//! Rights in the database: grants (establishment, service, permission, profile), their defaults
//! installed once per (establishment, service), the journal of changes, and the facts the
//! communication rules need.

use super::tx::run_tx;
use super::{BeginWrite, Db, DbError, DbResult, Tx, new_id, run};
use crate::identity::Profile;
use crate::rights::Permission;
use crate::rights::communication::Relation;

impl Tx {
    /// Deletes every grant of `service` (a plugin whose last version is removed) in every
    /// establishment, and the record that its defaults were applied.
    pub async fn delete_service_grants(&mut self, service: &str) -> DbResult<()> {
        let prefix = format!("{service}#");
        let prefix_chars = i32::try_from(prefix.chars().count()).unwrap_or(i32::MAX);
        run_tx!(self, conn => {
            sqlx::query("DELETE FROM grants WHERE service = $1")
                .bind(service).execute(&mut *conn).await?;
            sqlx::query(
                "DELETE FROM grant_defaults_applied WHERE service = $1 OR substr(service, 1, $2) = $3",
            )
            .bind(service).bind(prefix_chars).bind(&prefix)
            .execute(&mut *conn).await?;
        });
        Ok(())
    }

    /// Installs the default grants of `permissions` (one service) in an establishment, once: a
    /// later call does nothing, so a head's removal of a default grant is never undone.
    pub async fn apply_default_grants(
        &mut self,
        establishment_id: &str,
        service: &str,
        permissions: &[Permission],
    ) -> DbResult<()> {
        let defaults: Vec<(&str, &[Profile])> = permissions
            .iter()
            .filter(|p| p.service == service)
            .map(|p| (p.id, p.defaults))
            .collect();
        self.apply_defaults_once(establishment_id, service, service, &defaults)
            .await
    }

    /// The default grants of a plugin's permissions (from its manifest: `(permission id,
    /// profiles)`), each permission once per establishment: a permission a new version adds gets
    /// its defaults when that version is approved, and a head's removal of a default grant is
    /// never undone.
    pub async fn apply_plugin_default_grants(
        &mut self,
        establishment_id: &str,
        plugin: &str,
        defaults: &[(&str, &[Profile])],
    ) -> DbResult<()> {
        for one in defaults {
            let marker = format!("{plugin}#{}", one.0);
            self.apply_defaults_once(establishment_id, &marker, plugin, std::slice::from_ref(one))
                .await?;
        }
        Ok(())
    }

    /// Inserts `defaults` as grants of `service` unless `marker` was applied already.
    async fn apply_defaults_once(
        &mut self,
        establishment_id: &str,
        marker: &str,
        service: &str,
        defaults: &[(&str, &[Profile])],
    ) -> DbResult<()> {
        let now = self.now_ms;
        run_tx!(self, conn => {
            let first = sqlx::query(
                "INSERT INTO grant_defaults_applied (establishment_id, service, applied_at) VALUES ($1, $2, $3) \
                 ON CONFLICT DO NOTHING",
            )
            .bind(establishment_id).bind(marker).bind(now)
            .execute(&mut *conn).await?.rows_affected() == 1;
            if first {
                for (permission, profiles) in defaults {
                    for profile in *profiles {
                        sqlx::query(
                            "INSERT INTO grants (establishment_id, service, permission, profile) VALUES ($1, $2, $3, $4) \
                             ON CONFLICT DO NOTHING",
                        )
                        .bind(establishment_id).bind(service).bind(*permission).bind(profile.as_str())
                        .execute(&mut *conn).await?;
                    }
                }
            }
        });
        Ok(())
    }
}

impl Db {
    /// The profiles holding a permission in an establishment.
    pub async fn granted_profiles(
        &self,
        establishment_id: &str,
        service: &str,
        permission: &str,
    ) -> DbResult<Vec<Profile>> {
        let rows: Vec<String> = run!(self, pool => {
            sqlx::query_scalar(
                "SELECT profile FROM grants WHERE establishment_id = $1 AND service = $2 AND permission = $3 ORDER BY profile",
            )
            .bind(establishment_id).bind(service).bind(permission)
            .fetch_all(pool).await?
        });
        rows.iter()
            .map(|p| {
                p.parse()
                    .map_err(|e: crate::identity::UnknownValue| DbError::Invalid(e.to_string()))
            })
            .collect()
    }

    /// Every grant of an establishment, as (service, permission, profile): what a page that asks
    /// many permissions at once reads in one query ([`crate::rights::permissions_in`]).
    pub async fn grants_in(
        &self,
        establishment_id: &str,
    ) -> DbResult<Vec<(String, String, Profile)>> {
        let rows: Vec<(String, String, String)> = run!(self, pool => {
            sqlx::query_as(
                "SELECT service, permission, profile FROM grants WHERE establishment_id = $1",
            )
            .bind(establishment_id)
            .fetch_all(pool).await?
        });
        rows.into_iter()
            .map(|(service, permission, profile)| {
                let profile = profile
                    .parse()
                    .map_err(|e: crate::identity::UnknownValue| DbError::Invalid(e.to_string()))?;
                Ok((service, permission, profile))
            })
            .collect()
    }

    /// The grant matrix of one service in an establishment: (permission, profile) pairs.
    pub async fn grant_matrix(
        &self,
        establishment_id: &str,
        service: &str,
    ) -> DbResult<Vec<(String, Profile)>> {
        let rows: Vec<(String, String)> = run!(self, pool => {
            sqlx::query_as(
                "SELECT permission, profile FROM grants WHERE establishment_id = $1 AND service = $2 ORDER BY permission, profile",
            )
            .bind(establishment_id).bind(service)
            .fetch_all(pool).await?
        });
        rows.into_iter()
            .map(|(perm, p)| {
                Ok((
                    perm,
                    p.parse().map_err(|e: crate::identity::UnknownValue| {
                        DbError::Invalid(e.to_string())
                    })?,
                ))
            })
            .collect()
    }

    /// The latest changes of a service's grants in an establishment, newest first: (at, who —
    /// login, or `None` for the system —, permission, profile, granted).
    pub async fn grant_changes_of(
        &self,
        establishment_id: &str,
        service: &str,
        limit: i64,
    ) -> DbResult<Vec<(i64, Option<String>, String, String, bool)>> {
        Ok(run!(self, pool => {
            sqlx::query_as(
                "SELECT c.at, u.login, c.permission, c.profile, c.granted FROM grant_changes c \
                 LEFT JOIN users u ON u.id = c.by_user_id \
                 WHERE c.establishment_id = $1 AND c.service = $2 ORDER BY c.at DESC, c.id DESC LIMIT $3",
            )
            .bind(establishment_id).bind(service).bind(limit)
            .fetch_all(pool).await?
        }))
    }

    /// Grants or withdraws a permission from a profile, and records who did it; effective at once.
    #[allow(
        clippy::too_many_arguments,
        reason = "one flat record of a matrix change; a struct would only rename the fields"
    )]
    pub async fn set_grant(
        &self,
        establishment_id: &str,
        service: &str,
        permission: &str,
        profile: Profile,
        granted: bool,
        by_user_id: Option<&str>,
        now_ms: i64,
    ) -> DbResult<()> {
        run!(self, pool => {
            let mut tx = pool.begin_write().await?;
            if granted {
                sqlx::query(
                    "INSERT INTO grants (establishment_id, service, permission, profile) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
                )
                .bind(establishment_id).bind(service).bind(permission).bind(profile.as_str())
                .execute(&mut *tx).await?;
            } else {
                sqlx::query(
                    "DELETE FROM grants WHERE establishment_id = $1 AND service = $2 AND permission = $3 AND profile = $4",
                )
                .bind(establishment_id).bind(service).bind(permission).bind(profile.as_str())
                .execute(&mut *tx).await?;
            }
            sqlx::query(
                "INSERT INTO grant_changes (id, at, by_user_id, establishment_id, service, permission, profile, granted) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(new_id()).bind(now_ms).bind(by_user_id).bind(establishment_id).bind(service)
            .bind(permission).bind(profile.as_str()).bind(granted)
            .execute(&mut *tx).await?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// The facts the communication rules need about `from` writing to `to` in an establishment.
    pub async fn relation(
        &self,
        from: &str,
        to: &str,
        establishment_id: &str,
    ) -> DbResult<Relation> {
        let profiles = |rows: Vec<String>| -> DbResult<Vec<Profile>> {
            rows.iter()
                .map(|p| {
                    p.parse()
                        .map_err(|e: crate::identity::UnknownValue| DbError::Invalid(e.to_string()))
                })
                .collect()
        };
        let (from_p, to_p, teaches_writer, teaches_child, family): (
            Vec<String>,
            Vec<String>,
            i64,
            i64,
            i64,
        ) = run!(self, pool => {
            let q = "SELECT profile FROM attachments WHERE user_id = $1 AND establishment_id = $2";
            let from_p = sqlx::query_scalar(q).bind(from).bind(establishment_id).fetch_all(pool).await?;
            let to_p = sqlx::query_scalar(q).bind(to).bind(establishment_id).fetch_all(pool).await?;
            let teaches_writer = sqlx::query_scalar(
                "SELECT COUNT(*) FROM teaching_assignments t JOIN class_group_members m ON m.class_group_id = t.class_group_id \
                 JOIN class_groups g ON g.id = t.class_group_id \
                 WHERE t.teacher_id = $1 AND m.user_id = $2 AND g.establishment_id = $3",
            )
            .bind(to).bind(from).bind(establishment_id).fetch_one(pool).await?;
            let teaches_child = sqlx::query_scalar(
                "SELECT COUNT(*) FROM family_links f JOIN class_group_members m ON m.user_id = f.student_id \
                 JOIN teaching_assignments t ON t.class_group_id = m.class_group_id \
                 JOIN class_groups g ON g.id = m.class_group_id \
                 WHERE f.parent_id = $2 AND t.teacher_id = $1 AND g.establishment_id = $3",
            )
            .bind(to).bind(from).bind(establishment_id).fetch_one(pool).await?;
            let family = sqlx::query_scalar(
                "SELECT COUNT(*) FROM family_links WHERE (parent_id = $1 AND student_id = $2) OR (parent_id = $2 AND student_id = $1)",
            )
            .bind(from).bind(to).fetch_one(pool).await?;
            (from_p, to_p, teaches_writer, teaches_child, family)
        });
        Ok(Relation {
            from: profiles(from_p)?,
            to: profiles(to_p)?,
            teaches_writer: teaches_writer > 0,
            teaches_writers_child: teaches_child > 0,
            family: family > 0,
        })
    }
}
