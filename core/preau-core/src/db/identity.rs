//! The identity model in the database: the collectivité, establishments, accounts (with login
//! allocation), attachments and functions, roles, classes and groups, subjects, teaching
//! assignments and family links. Writes are [`Tx`] methods; reads are [`Db`] methods.

use serde::Serialize;
use sqlx::FromRow;

use super::tx::run_tx;
use super::{Db, DbError, DbResult, Tx, new_id, run};
use crate::calendar::parse_weekdays;
use crate::identity::{
    ActivationCode, EstablishmentKind, EstablishmentState, LoginBase, Profile, Role, Uai, fold_name,
};

/// The collectivité this instance serves.
#[derive(Debug, Clone, Serialize, FromRow)]
pub struct Collectivite {
    pub id: String,
    pub name: String,
}

/// An establishment (collège, lycée…).
#[derive(Debug, Clone, Serialize, FromRow)]
pub struct Establishment {
    pub id: String,
    #[sqlx(try_from = "String")]
    pub uai: Uai,
    pub name: String,
    #[sqlx(try_from = "String")]
    pub kind: EstablishmentKind,
    pub city: String,
    #[sqlx(try_from = "String")]
    pub state: EstablishmentState,
    pub wave_id: Option<String>,
    pub holiday_calendar_id: String,
    pub school_weekdays: String,
}

/// What is needed to create an establishment.
#[derive(Debug, Clone)]
pub struct NewEstablishment {
    pub uai: Uai,
    pub name: String,
    pub kind: EstablishmentKind,
    pub city: String,
    pub state: EstablishmentState,
    pub wave_id: Option<String>,
    pub holiday_calendar_id: String,
    /// ISO weekdays with classes (`12345`).
    pub school_weekdays: String,
}

/// An account's public facts (never its secrets).
#[derive(Debug, Clone, Serialize, FromRow)]
pub struct User {
    pub id: String,
    pub login: String,
    pub first_name: String,
    pub last_name: String,
    pub email: Option<String>,
    pub external_id: Option<String>,
    pub state: String,
    pub activated_at: Option<i64>,
}

impl User {
    /// "Prénom Nom", as people are addressed.
    pub fn display_name(&self) -> String {
        format!("{} {}", self.first_name, self.last_name)
    }
}

/// What is needed to create an account. The login is allocated by [`Tx::create_user`].
#[derive(Debug, Clone, Default)]
pub struct NewUser {
    pub first_name: String,
    pub last_name: String,
    pub email: Option<String>,
    /// The directory's stable key (ENTPersonJointure), when the account comes from an import.
    pub external_id: Option<String>,
    /// An argon2id PHC string, for an account that is already activated.
    pub password_hash: Option<String>,
    /// The activation code printed on the letter, for an account not yet activated.
    pub activation_code: Option<ActivationCode>,
    /// The charter version already accepted (an account created activated, as in the demo).
    pub charter_version: Option<i64>,
}

/// A short reference to a person, for lists.
#[derive(Debug, Clone, Serialize, FromRow, PartialEq, Eq)]
pub struct UserSummary {
    pub id: String,
    pub login: String,
    pub first_name: String,
    pub last_name: String,
}

/// One of a person's attachments, with its establishment.
#[derive(Debug, Clone, Serialize)]
pub struct AttachmentView {
    pub id: String,
    pub establishment_id: String,
    pub uai: Uai,
    pub establishment_name: String,
    pub profile: Profile,
    pub national_code: Option<String>,
    pub functions: Vec<Function>,
}

/// A function held through an attachment (AAF `ENTPersonFonctions`).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Function {
    pub code: String,
    pub label: String,
}

/// One of a person's roles; `uai` is set for a local admin.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct RoleView {
    pub role: Role,
    pub uai: Option<Uai>,
    /// The establishment's id, for a local admin (not part of the API's answer).
    #[serde(skip)]
    pub establishment_id: Option<String>,
}

/// Whether a class-group is a class or a group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum GroupKind {
    Class,
    Group,
}

impl GroupKind {
    fn as_str(self) -> &'static str {
        match self {
            GroupKind::Class => "class",
            GroupKind::Group => "group",
        }
    }
}

impl TryFrom<String> for GroupKind {
    type Error = DbError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        match s.as_str() {
            "class" => Ok(GroupKind::Class),
            "group" => Ok(GroupKind::Group),
            _ => Err(DbError::Invalid(format!("unknown class-group kind `{s}`"))),
        }
    }
}

/// A class or group of one establishment and school year.
#[derive(Debug, Clone, Serialize, FromRow)]
pub struct ClassGroup {
    pub id: String,
    pub establishment_id: String,
    #[sqlx(try_from = "String")]
    pub uai: Uai,
    pub school_year_id: String,
    #[sqlx(try_from = "String")]
    pub kind: GroupKind,
    pub code: String,
    pub name: String,
    pub level: Option<String>,
    pub member_count: i64,
}

/// What is needed to create a class or group.
#[derive(Debug, Clone)]
pub struct NewClassGroup {
    pub establishment_id: String,
    pub school_year_id: String,
    pub kind: GroupKind,
    pub code: String,
    pub name: String,
    pub level: Option<String>,
}

/// A subject taught in an establishment.
#[derive(Debug, Clone, Serialize, FromRow, PartialEq, Eq)]
pub struct Subject {
    pub id: String,
    pub code: String,
    pub label: String,
}

/// A teacher teaches a subject to a class or group.
#[derive(Debug, Clone, Serialize)]
pub struct TeachingAssignment {
    pub id: String,
    pub teacher: UserSummary,
    pub class_group: ClassGroupRef,
    pub subject: Subject,
}

/// A short reference to a class or group.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ClassGroupRef {
    pub id: String,
    pub uai: Uai,
    pub kind: GroupKind,
    pub code: String,
    pub name: String,
    pub school_year_id: String,
}

/// How a parent relates to a student.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Relationship {
    Mother,
    Father,
    Guardian,
    Other,
}

impl Relationship {
    fn as_str(self) -> &'static str {
        match self {
            Relationship::Mother => "mother",
            Relationship::Father => "father",
            Relationship::Guardian => "guardian",
            Relationship::Other => "other",
        }
    }
}

impl TryFrom<String> for Relationship {
    type Error = DbError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        match s.as_str() {
            "mother" => Ok(Relationship::Mother),
            "father" => Ok(Relationship::Father),
            "guardian" => Ok(Relationship::Guardian),
            "other" => Ok(Relationship::Other),
            _ => Err(DbError::Invalid(format!("unknown relationship `{s}`"))),
        }
    }
}

/// A parent's child, with where the child is schooled.
#[derive(Debug, Clone, Serialize)]
pub struct Child {
    pub user: UserSummary,
    pub legal_guardian: bool,
    pub relationship: Relationship,
    pub attachments: Vec<ChildAttachment>,
}

/// Where a child is a student, and their classes there.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ChildAttachment {
    pub uai: Uai,
    pub establishment_name: String,
    pub classes: Vec<ClassGroupRef>,
}

/// Which adults of an establishment a directory listing shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StaffFilter {
    Profile(Profile),
    LocalAdmins,
    All,
}

/// One entry of an establishment's directory of adults.
#[derive(Debug, Clone, Serialize)]
pub struct StaffEntry {
    pub user: UserSummary,
    pub profiles: Vec<Profile>,
    pub admin_local: bool,
    pub functions: Vec<Function>,
}

/// `(user_id, profile, function code, function label)` of a staff attachment.
type StaffDetailRow = (String, String, Option<String>, Option<String>);

/// The folded `nom prenom` the database orders people by, identically on both engines.
fn sort_key(first_name: &str, last_name: &str) -> String {
    format!("{} {}", fold_name(last_name), fold_name(first_name))
}

const SELECT_CLASS_GROUP: &str = "SELECT g.id, g.establishment_id, e.uai, g.school_year_id, g.kind, g.code, g.name, g.level, \
     (SELECT COUNT(*) FROM class_group_members m WHERE m.class_group_id = g.id) AS member_count \
     FROM class_groups g JOIN establishments e ON e.id = g.establishment_id";

#[derive(FromRow)]
struct ClassGroupRefRow {
    id: String,
    uai: String,
    kind: String,
    code: String,
    name: String,
    school_year_id: String,
}

impl TryFrom<ClassGroupRefRow> for ClassGroupRef {
    type Error = DbError;
    fn try_from(r: ClassGroupRefRow) -> DbResult<ClassGroupRef> {
        Ok(ClassGroupRef {
            id: r.id,
            uai: Uai::parse(&r.uai).map_err(|e| DbError::Invalid(e.to_string()))?,
            kind: GroupKind::try_from(r.kind)?,
            code: r.code,
            name: r.name,
            school_year_id: r.school_year_id,
        })
    }
}

fn invalid<E: std::fmt::Display>(e: E) -> DbError {
    DbError::Invalid(e.to_string())
}

// ---------------------------------------------------------------------------------------------
// Writes
// ---------------------------------------------------------------------------------------------

impl Tx {
    /// Names the collectivité (creates it on first call).
    pub async fn set_collectivite(&mut self, name: &str) -> DbResult<Collectivite> {
        let now = self.now_ms;
        let id = "collectivite".to_string();
        run_tx!(self, conn => {
            sqlx::query(
                "INSERT INTO collectivite (id, name, created_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (id) DO UPDATE SET name = excluded.name",
            )
            .bind(&id).bind(name).bind(now)
            .execute(&mut *conn).await?;
        });
        Ok(Collectivite {
            id,
            name: name.to_string(),
        })
    }

    /// Creates a deployment wave.
    pub async fn create_wave(
        &mut self,
        name: &str,
        planned_on: Option<chrono::NaiveDate>,
    ) -> DbResult<String> {
        let id = new_id();
        run_tx!(self, conn => {
            sqlx::query("INSERT INTO deployment_waves (id, name, planned_on) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
                .bind(&id).bind(name).bind(planned_on.map(|d| d.to_string()))
                .execute(&mut *conn).await?.rows_affected()
        })
        .eq(&1)
        .then_some(id)
        .ok_or_else(|| DbError::Conflict(format!("la vague « {name} » existe déjà / wave `{name}` already exists")))
    }

    /// Creates an establishment; its UAI must be new.
    pub async fn create_establishment(
        &mut self,
        new: &NewEstablishment,
    ) -> DbResult<Establishment> {
        parse_weekdays(&new.school_weekdays).map_err(DbError::Invalid)?;
        let id = new_id();
        let now = self.now_ms;
        let inserted = run_tx!(self, conn => {
            let calendar: Option<String> = sqlx::query_scalar("SELECT id FROM holiday_calendars WHERE id = $1")
                .bind(&new.holiday_calendar_id)
                .fetch_optional(&mut *conn).await?;
            if calendar.is_none() {
                return Err(DbError::Invalid(format!(
                    "calendrier de vacances inconnu « {} » / unknown holiday calendar `{}`",
                    new.holiday_calendar_id, new.holiday_calendar_id
                )));
            }
            if let Some(wave) = &new.wave_id {
                let found: Option<String> = sqlx::query_scalar("SELECT id FROM deployment_waves WHERE id = $1")
                    .bind(wave)
                    .fetch_optional(&mut *conn).await?;
                if found.is_none() {
                    return Err(DbError::Invalid(format!("vague inconnue / unknown wave {wave}")));
                }
            }
            sqlx::query(
                "INSERT INTO establishments \
                 (id, uai, name, kind, city, state, wave_id, holiday_calendar_id, school_weekdays, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING",
            )
            .bind(&id).bind(new.uai.as_str()).bind(&new.name).bind(new.kind.as_str())
            .bind(&new.city).bind(new.state.as_str()).bind(&new.wave_id)
            .bind(&new.holiday_calendar_id).bind(&new.school_weekdays).bind(now)
            .execute(&mut *conn).await?.rows_affected()
        });
        if inserted == 0 {
            return Err(DbError::Conflict(format!(
                "un établissement porte déjà le code UAI {} / an establishment already has UAI {}",
                new.uai, new.uai
            )));
        }
        self.apply_default_grants(&id, crate::rights::CORE, crate::rights::CORE_PERMISSIONS)
            .await?;
        Ok(Establishment {
            id,
            uai: new.uai.clone(),
            name: new.name.clone(),
            kind: new.kind,
            city: new.city.clone(),
            state: new.state,
            wave_id: new.wave_id.clone(),
            holiday_calendar_id: new.holiday_calendar_id.clone(),
            school_weekdays: new.school_weekdays.clone(),
        })
    }

    /// Moves an establishment along the roll-out.
    pub async fn set_establishment_deployment(
        &mut self,
        establishment_id: &str,
        state: EstablishmentState,
        wave_id: Option<&str>,
    ) -> DbResult<()> {
        let done = run_tx!(self, conn => {
            sqlx::query("UPDATE establishments SET state = $1, wave_id = $2 WHERE id = $3")
                .bind(state.as_str()).bind(wave_id).bind(establishment_id)
                .execute(&mut *conn).await?.rows_affected()
        });
        if done == 0 {
            return Err(DbError::NotFound(format!(
                "établissement / establishment {establishment_id}"
            )));
        }
        Ok(())
    }

    /// Issues a new login for `base`: the base itself if it was never issued, otherwise the
    /// smallest number above every one issued (`jean.dupont3` after `jean.dupont2`). A login is
    /// never issued twice, even after its account is gone.
    pub async fn allocate_login(&mut self, base: &LoginBase) -> DbResult<String> {
        let now = self.now_ms;
        loop {
            let issued: Vec<String> = run_tx!(self, conn => {
                sqlx::query_scalar("SELECT login FROM issued_logins WHERE login LIKE $1")
                    .bind(format!("{}%", base.as_str()))
                    .fetch_all(&mut *conn).await?
            });
            let next = issued
                .iter()
                .filter_map(|l| base.number_of(l))
                .max()
                .map_or(0, |n| n + 1);
            let login = base.candidate(next);
            let inserted = run_tx!(self, conn => {
                sqlx::query("INSERT INTO issued_logins (login, issued_at) VALUES ($1, $2) ON CONFLICT (login) DO NOTHING")
                    .bind(&login).bind(now)
                    .execute(&mut *conn).await?.rows_affected()
            });
            if inserted == 1 {
                return Ok(login);
            }
        }
    }

    /// Creates an account with a new login. With an `external_id` already known, the existing
    /// account is a conflict: imports look it up first, so that logins stay stable.
    pub async fn create_user(&mut self, new: &NewUser) -> DbResult<User> {
        let base = LoginBase::from_names(&new.first_name, &new.last_name).map_err(invalid)?;
        if let Some(external_id) = &new.external_id {
            let taken: Option<String> = run_tx!(self, conn => {
                sqlx::query_scalar("SELECT id FROM users WHERE external_id = $1")
                    .bind(external_id)
                    .fetch_optional(&mut *conn).await?
            });
            if taken.is_some() {
                return Err(DbError::Conflict(format!(
                    "un compte porte déjà l'identifiant d'annuaire {external_id} / an account already has directory id {external_id}"
                )));
            }
        }
        let login = self.allocate_login(&base).await?;
        let id = new_id();
        let now = self.now_ms;
        let activation_digest = new
            .activation_code
            .as_ref()
            .map(|c| c.digest(&self.codes, &id));
        let activated_at = new.password_hash.as_ref().map(|_| now);
        let first_name = new.first_name.trim().to_string();
        let last_name = new.last_name.trim().to_string();
        run_tx!(self, conn => {
            sqlx::query(
                "INSERT INTO users (id, login, first_name, last_name, sort_key, email, external_id, \
                 password_hash, activation_digest, activated_at, state, created_at, updated_at, charter_version) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'active', $11, $11, $12)",
            )
            .bind(&id).bind(&login).bind(&first_name).bind(&last_name)
            .bind(sort_key(&first_name, &last_name))
            .bind(&new.email).bind(&new.external_id).bind(&new.password_hash)
            .bind(&activation_digest).bind(activated_at).bind(now).bind(new.charter_version)
            .execute(&mut *conn).await?;
        });
        Ok(User {
            id,
            login,
            first_name,
            last_name,
            email: new.email.clone(),
            external_id: new.external_id.clone(),
            state: "active".into(),
            activated_at,
        })
    }

    /// Deletes an account and everything the core holds about it (attachments, memberships,
    /// family links, roles). Its login stays issued, so it is never given to someone else.
    /// The plugins of its establishments hear of it (`account.deleted`) unless it had departed,
    /// which they heard of then.
    pub async fn delete_user(&mut self, user_id: &str) -> DbResult<()> {
        let state: Option<String> = run_tx!(self, conn => {
            sqlx::query_scalar("SELECT state FROM users WHERE id = $1")
                .bind(user_id)
                .fetch_optional(&mut *conn).await?
        });
        if state.as_deref().is_some_and(|s| s != "departed") {
            self.enqueue_for_account(
                preau_host::EventKind::AccountDeleted,
                user_id,
                &serde_json::json!({}),
            )
            .await?;
        }
        let done = run_tx!(self, conn => {
            sqlx::query("DELETE FROM users WHERE id = $1")
                .bind(user_id)
                .execute(&mut *conn).await?.rows_affected()
        });
        if done == 0 {
            return Err(DbError::NotFound(format!("compte / account {user_id}")));
        }
        Ok(())
    }

    /// Marks an account `active`, `departed` or `disabled` (a departed or disabled account's
    /// sessions end). Departing announces it (`account.deleted`) to the plugins of every
    /// establishment it is attached to, once: how many events were enqueued.
    pub async fn set_user_state(&mut self, user_id: &str, state: &str) -> DbResult<u64> {
        if !matches!(state, "active" | "departed" | "disabled") {
            return Err(DbError::Invalid(format!(
                "état de compte inconnu / unknown account state `{state}`"
            )));
        }
        let now = self.now_ms;
        let before: Option<String> = run_tx!(self, conn => {
            sqlx::query_scalar("SELECT state FROM users WHERE id = $1")
                .bind(user_id)
                .fetch_optional(&mut *conn).await?
        });
        let Some(before) = before else {
            return Err(DbError::NotFound(format!("compte / account {user_id}")));
        };
        run_tx!(self, conn => {
            sqlx::query(
                "UPDATE users SET state = $2, updated_at = $3, erasure_deferred_at = NULL, \
                 departed_at = CASE WHEN $2 = 'departed' THEN $3 ELSE NULL END WHERE id = $1",
            )
            .bind(user_id).bind(state).bind(now)
            .execute(&mut *conn).await?;
            if state != "active" {
                sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(user_id).execute(&mut *conn).await?;
            }
        });
        if state == "departed" && before != "departed" {
            return self
                .enqueue_for_account(
                    preau_host::EventKind::AccountDeleted,
                    user_id,
                    &serde_json::json!({}),
                )
                .await;
        }
        Ok(0)
    }

    /// Attaches a person to an establishment with a profile (and the national code and functions
    /// the directory gave). A second attachment with the same profile is a conflict; another
    /// profile in the same establishment is fine (a teacher who is also a parent there).
    pub async fn attach(
        &mut self,
        user_id: &str,
        establishment_id: &str,
        profile: Profile,
        national_code: Option<&str>,
        functions: &[Function],
    ) -> DbResult<String> {
        let id = new_id();
        let now = self.now_ms;
        run_tx!(self, conn => {
            let inserted = sqlx::query(
                "INSERT INTO attachments (id, user_id, establishment_id, profile, national_code, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
            )
            .bind(&id).bind(user_id).bind(establishment_id).bind(profile.as_str()).bind(national_code).bind(now)
            .execute(&mut *conn).await?.rows_affected();
            if inserted == 0 {
                return Err(DbError::Conflict(format!(
                    "cette personne a déjà le profil {profile} dans cet établissement / this person already has profile {profile} in this establishment"
                )));
            }
            for f in functions {
                sqlx::query("INSERT INTO attachment_functions (attachment_id, code, label) VALUES ($1, $2, $3) \
                             ON CONFLICT (attachment_id, code) DO UPDATE SET label = excluded.label")
                    .bind(&id).bind(&f.code).bind(&f.label)
                    .execute(&mut *conn).await?;
            }
        });
        // The plugins enabled there hear of the newcomer (one statement; nothing is written
        // where no plugin is enabled, as in a fresh demo).
        self.enqueue_event(&super::outbox::NewEvent {
            kind: preau_host::EventKind::AccountCreated,
            establishment_id,
            plugin: None,
            subject: Some(user_id),
            payload: serde_json::json!({ "profiles": [profile.as_str()] }),
        })
        .await?;
        Ok(id)
    }

    /// Gives a person a role: `admin_local` needs the establishment, `admin_collectivite` none.
    pub async fn grant_role(
        &mut self,
        user_id: &str,
        role: Role,
        establishment_id: Option<&str>,
    ) -> DbResult<()> {
        match (role, establishment_id) {
            (Role::AdminLocal, None) => return Err(DbError::Invalid(
                "un administrateur local l'est d'un établissement / a local admin is admin of one establishment".into())),
            (Role::AdminCollectivite, Some(_)) => return Err(DbError::Invalid(
                "un administrateur de collectivité ne dépend d'aucun établissement / a collectivité admin belongs to no establishment".into())),
            _ => {}
        }
        let id = new_id();
        let now = self.now_ms;
        run_tx!(self, conn => {
            sqlx::query("INSERT INTO role_assignments (id, user_id, role, establishment_id, created_at) \
                         VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING")
                .bind(&id).bind(user_id).bind(role.as_str()).bind(establishment_id).bind(now)
                .execute(&mut *conn).await?.rows_affected()
        })
        .eq(&1)
        .then_some(())
        .ok_or_else(|| DbError::Conflict(format!("cette personne a déjà le rôle {role} / this person already has role {role}")))
    }

    /// Creates a class or group.
    pub async fn create_class_group(&mut self, new: &NewClassGroup) -> DbResult<String> {
        let id = new_id();
        let now = self.now_ms;
        let (starts, ends) = crate::calendar::school_year_bounds(&new.school_year_id)
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .ok_or_else(|| {
                DbError::Invalid(format!(
                    "année scolaire illisible « {} » / unreadable school year `{}`",
                    new.school_year_id, new.school_year_id
                ))
            })?;
        run_tx!(self, conn => {
            sqlx::query("INSERT INTO school_years (id, starts_on, ends_on) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING")
                .bind(&new.school_year_id).bind(starts).bind(ends)
                .execute(&mut *conn).await?;
            sqlx::query(
                "INSERT INTO class_groups (id, establishment_id, school_year_id, kind, code, name, level, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING",
            )
            .bind(&id).bind(&new.establishment_id).bind(&new.school_year_id).bind(new.kind.as_str())
            .bind(&new.code).bind(&new.name).bind(&new.level).bind(now)
            .execute(&mut *conn).await?.rows_affected()
        })
        .eq(&1)
        .then_some(id)
        .ok_or_else(|| DbError::Conflict(format!("« {} » existe déjà cette année / `{}` already exists this year", new.code, new.code)))
    }

    /// Puts a student in a class or group of an establishment where they are a student.
    pub async fn add_member(&mut self, class_group_id: &str, user_id: &str) -> DbResult<()> {
        run_tx!(self, conn => {
            let is_student: Option<i32> = sqlx::query_scalar(
                "SELECT 1 FROM class_groups g JOIN attachments a ON a.establishment_id = g.establishment_id \
                 WHERE g.id = $1 AND a.user_id = $2 AND a.profile = 'eleve'",
            )
            .bind(class_group_id).bind(user_id)
            .fetch_optional(&mut *conn).await?;
            if is_student.is_none() {
                return Err(DbError::Invalid(
                    "seul un élève de l'établissement peut être membre d'une classe ou d'un groupe / only a student of the establishment can join a class or group".into()));
            }
            sqlx::query("INSERT INTO class_group_members (class_group_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
                .bind(class_group_id).bind(user_id)
                .execute(&mut *conn).await?;
        });
        Ok(())
    }

    /// Creates (or renames) a subject of an establishment; returns its id.
    pub async fn upsert_subject(
        &mut self,
        establishment_id: &str,
        code: &str,
        label: &str,
    ) -> DbResult<String> {
        let id = new_id();
        let id: String = run_tx!(self, conn => {
            sqlx::query_scalar(
                "INSERT INTO subjects (id, establishment_id, code, label) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (establishment_id, code) DO UPDATE SET label = excluded.label RETURNING id",
            )
            .bind(&id).bind(establishment_id).bind(code).bind(label)
            .fetch_one(&mut *conn).await?
        });
        Ok(id)
    }

    /// Records that a teacher teaches a subject to a class or group. The teacher must be a
    /// teacher of that establishment, and the subject one of its subjects.
    pub async fn assign_teaching(
        &mut self,
        teacher_id: &str,
        class_group_id: &str,
        subject_id: &str,
    ) -> DbResult<String> {
        let id = new_id();
        run_tx!(self, conn => {
            let ok: Option<i32> = sqlx::query_scalar(
                "SELECT 1 FROM class_groups g \
                 JOIN attachments a ON a.establishment_id = g.establishment_id AND a.user_id = $2 AND a.profile = 'enseignant' \
                 JOIN subjects s ON s.establishment_id = g.establishment_id AND s.id = $3 \
                 WHERE g.id = $1",
            )
            .bind(class_group_id).bind(teacher_id).bind(subject_id)
            .fetch_optional(&mut *conn).await?;
            if ok.is_none() {
                return Err(DbError::Invalid(
                    "l'enseignant et la matière doivent appartenir à l'établissement de la classe / the teacher and the subject must belong to the class's establishment".into()));
            }
            let inserted = sqlx::query("INSERT INTO teaching_assignments (id, teacher_id, class_group_id, subject_id) \
                                        VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING")
                .bind(&id).bind(teacher_id).bind(class_group_id).bind(subject_id)
                .execute(&mut *conn).await?.rows_affected();
            if inserted == 0 {
                return Err(DbError::Conflict("ce service d'enseignement existe déjà / this teaching assignment already exists".into()));
            }
        });
        Ok(id)
    }

    /// Links a parent to a student (legal guardian or not).
    pub async fn link_family(
        &mut self,
        parent_id: &str,
        student_id: &str,
        legal_guardian: bool,
        relationship: Relationship,
    ) -> DbResult<()> {
        if parent_id == student_id {
            return Err(DbError::Invalid(
                "une personne n'est pas son propre parent / a person is not their own parent"
                    .into(),
            ));
        }
        let now = self.now_ms;
        run_tx!(self, conn => {
            sqlx::query(
                "INSERT INTO family_links (parent_id, student_id, legal_guardian, relationship, created_at) \
                 VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (parent_id, student_id) DO UPDATE \
                 SET legal_guardian = excluded.legal_guardian, relationship = excluded.relationship",
            )
            .bind(parent_id).bind(student_id).bind(legal_guardian).bind(relationship.as_str()).bind(now)
            .execute(&mut *conn).await?;
        });
        Ok(())
    }

    /// Creates the periods (trimestres or semestres) of an establishment's school year, replacing
    /// any of the same kind; `bounds` are consecutive (first day, last day) pairs.
    pub async fn set_periods(
        &mut self,
        establishment_id: &str,
        school_year_id: &str,
        kind: PeriodKind,
        bounds: &[(chrono::NaiveDate, chrono::NaiveDate)],
    ) -> DbResult<()> {
        if bounds.len() != kind.count() {
            return Err(DbError::Invalid(format!(
                "il faut {} périodes pour des {}s / {} periods are needed for {}s",
                kind.count(),
                kind.as_str(),
                kind.count(),
                kind.as_str()
            )));
        }
        if bounds.iter().any(|(a, b)| a > b) || bounds.windows(2).any(|w| w[0].1 >= w[1].0) {
            return Err(DbError::Invalid(
                "les périodes doivent se suivre sans se chevaucher / periods must follow each other without overlapping".into()));
        }
        run_tx!(self, conn => {
            sqlx::query("DELETE FROM periods WHERE establishment_id = $1 AND school_year_id = $2")
                .bind(establishment_id).bind(school_year_id)
                .execute(&mut *conn).await?;
            for (i, (first, last)) in bounds.iter().enumerate() {
                sqlx::query(
                    "INSERT INTO periods (id, establishment_id, school_year_id, kind, number, starts_on, ends_on) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(new_id()).bind(establishment_id).bind(school_year_id).bind(kind.as_str())
                .bind(i as i64 + 1).bind(first.to_string()).bind(last.to_string())
                .execute(&mut *conn).await?;
            }
        });
        Ok(())
    }
}

/// How an establishment divides its school year.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PeriodKind {
    Trimestre,
    Semestre,
}

impl PeriodKind {
    fn as_str(self) -> &'static str {
        match self {
            PeriodKind::Trimestre => "trimestre",
            PeriodKind::Semestre => "semestre",
        }
    }
    fn count(self) -> usize {
        match self {
            PeriodKind::Trimestre => 3,
            PeriodKind::Semestre => 2,
        }
    }
}

impl TryFrom<String> for PeriodKind {
    type Error = DbError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        match s.as_str() {
            "trimestre" => Ok(PeriodKind::Trimestre),
            "semestre" => Ok(PeriodKind::Semestre),
            _ => Err(DbError::Invalid(format!("unknown period kind `{s}`"))),
        }
    }
}

/// A trimestre or semestre of an establishment.
#[derive(Debug, Clone, Serialize, FromRow, PartialEq, Eq)]
pub struct Period {
    #[sqlx(try_from = "String")]
    pub kind: PeriodKind,
    pub number: i64,
    pub starts_on: String,
    pub ends_on: String,
}

// ---------------------------------------------------------------------------------------------
// Reads
// ---------------------------------------------------------------------------------------------

/// A row of [`Db::positions_of`]: an attachment (with one of its functions) or a role.
#[derive(FromRow)]
struct PositionRow {
    /// `attachment` or `role`.
    source: String,
    /// The attachment's id (empty for a role).
    id: String,
    establishment_id: Option<String>,
    uai: Option<String>,
    establishment_name: String,
    /// The attachment's profile or the role.
    kind: String,
    national_code: Option<String>,
    function_code: Option<String>,
    function_label: Option<String>,
}

/// Attachment rows (one per function, or one without), sorted by attachment, as views.
fn fold_attachments(rows: Vec<PositionRow>) -> DbResult<Vec<AttachmentView>> {
    let mut out: Vec<AttachmentView> = Vec::new();
    for r in rows {
        let function = match (r.function_code, r.function_label) {
            (Some(code), Some(label)) => Some(Function { code, label }),
            _ => None,
        };
        if let Some(last) = out.last_mut().filter(|a| a.id == r.id) {
            last.functions.extend(function);
            continue;
        }
        out.push(AttachmentView {
            functions: function.into_iter().collect(),
            uai: Uai::parse(r.uai.as_deref().unwrap_or_default()).map_err(invalid)?,
            profile: r.kind.parse().map_err(invalid)?,
            id: r.id,
            establishment_id: r.establishment_id.unwrap_or_default(),
            establishment_name: r.establishment_name,
            national_code: r.national_code,
        });
    }
    Ok(out)
}

fn role_view(
    role: String,
    uai: Option<String>,
    establishment_id: Option<String>,
) -> DbResult<RoleView> {
    Ok(RoleView {
        role: role.parse().map_err(invalid)?,
        uai: uai.map(|u| Uai::parse(&u)).transpose().map_err(invalid)?,
        establishment_id,
    })
}

impl Db {
    /// The collectivité, once named.
    pub async fn collectivite(&self) -> DbResult<Option<Collectivite>> {
        Ok(run!(self, pool => {
            sqlx::query_as("SELECT id, name FROM collectivite").fetch_optional(pool).await?
        }))
    }

    /// Whether the instance holds no one yet (the demo refuses to fill a used database).
    pub async fn is_empty(&self) -> DbResult<bool> {
        let n: i64 = run!(self, pool => {
            sqlx::query_scalar("SELECT (SELECT COUNT(*) FROM users) + (SELECT COUNT(*) FROM establishments) + (SELECT COUNT(*) FROM collectivite)")
                .fetch_one(pool).await?
        });
        Ok(n == 0)
    }

    /// Every establishment, by UAI.
    pub async fn establishments(&self) -> DbResult<Vec<Establishment>> {
        Ok(run!(self, pool => {
            sqlx::query_as(
                "SELECT id, uai, name, kind, city, state, wave_id, holiday_calendar_id, school_weekdays \
                 FROM establishments ORDER BY uai",
            )
            .fetch_all(pool).await?
        }))
    }

    /// The establishment with this UAI.
    pub async fn establishment(&self, uai: &Uai) -> DbResult<Option<Establishment>> {
        Ok(run!(self, pool => {
            sqlx::query_as(
                "SELECT id, uai, name, kind, city, state, wave_id, holiday_calendar_id, school_weekdays \
                 FROM establishments WHERE uai = $1",
            )
            .bind(uai.as_str())
            .fetch_optional(pool).await?
        }))
    }

    /// The account with this id.
    pub async fn user(&self, id: &str) -> DbResult<Option<User>> {
        Ok(run!(self, pool => {
            sqlx::query_as(
                "SELECT id, login, first_name, last_name, email, external_id, state, activated_at FROM users WHERE id = $1",
            )
            .bind(id)
            .fetch_optional(pool).await?
        }))
    }

    /// Marks an account `active`, `departed` (missing from a full import: purged after the
    /// retention delay) or `disabled`; a departed or disabled account's sessions end (one
    /// transaction: [`Tx::set_user_state`]), and a departure wakes the event delivery.
    pub async fn set_user_state(&self, user_id: &str, state: &str, now_ms: i64) -> DbResult<()> {
        let mut tx = self.begin(now_ms).await?;
        let announced = tx.set_user_state(user_id, state).await?;
        tx.commit().await?;
        if announced > 0 {
            super::outbox::wake();
        }
        Ok(())
    }

    /// The accounts that departed before `before_ms`, oldest departure first: those the purge
    /// erases (CNIL: within three months); each with when its erasure was first put off, if it
    /// was ([`Db::record_erasure_deferred`]).
    pub async fn departed_users_before(
        &self,
        before_ms: i64,
    ) -> DbResult<Vec<(String, Option<i64>)>> {
        Ok(run!(self, pool => {
            sqlx::query_as(
                "SELECT id, erasure_deferred_at FROM users WHERE state = 'departed' AND departed_at < $1 \
                 ORDER BY departed_at, id",
            )
            .bind(before_ms).fetch_all(pool).await?
        }))
    }

    /// Notes that the erasure of the departed account `user_id` was put off at `now_ms`, unless
    /// it already was (the first time counts).
    pub async fn record_erasure_deferred(&self, user_id: &str, now_ms: i64) -> DbResult<()> {
        run!(self, pool => {
            sqlx::query(
                "UPDATE users SET erasure_deferred_at = COALESCE(erasure_deferred_at, $2) \
                 WHERE id = $1 AND state = 'departed'",
            )
            .bind(user_id).bind(now_ms).execute(pool).await?;
        });
        Ok(())
    }

    /// Deletes the accounts that departed before `before_ms` (CNIL: within three months), with
    /// everything the core holds about them; their logins stay issued. Returns how many.
    pub async fn purge_departed_users(&self, before_ms: i64) -> DbResult<u64> {
        Ok(run!(self, pool => {
            sqlx::query("DELETE FROM users WHERE state = 'departed' AND departed_at < $1")
                .bind(before_ms).execute(pool).await?.rows_affected()
        }))
    }

    /// The account with this login.
    pub async fn user_by_login(&self, login: &str) -> DbResult<Option<User>> {
        Ok(run!(self, pool => {
            sqlx::query_as(
                "SELECT id, login, first_name, last_name, email, external_id, state, activated_at FROM users WHERE login = $1",
            )
            .bind(login)
            .fetch_optional(pool).await?
        }))
    }

    /// A person's attachments, with their functions, by establishment and profile.
    pub async fn attachments_of(&self, user_id: &str) -> DbResult<Vec<AttachmentView>> {
        Ok(self.positions_of(user_id).await?.0)
    }

    /// A person's roles.
    pub async fn roles_of(&self, user_id: &str) -> DbResult<Vec<RoleView>> {
        Ok(self.positions_of(user_id).await?.1)
    }

    /// A person's attachments (with their functions, by establishment UAI, profile and function
    /// code) and roles (by role, then UAI, the collectivité's first), in one query: every page
    /// asks both, through `Access::load`.
    pub async fn positions_of(
        &self,
        user_id: &str,
    ) -> DbResult<(Vec<AttachmentView>, Vec<RoleView>)> {
        let rows: Vec<PositionRow> = run!(self, pool => {
            sqlx::query_as(
                "SELECT 'attachment' AS source, a.id, a.establishment_id, e.uai, e.name AS establishment_name, \
                 a.profile AS kind, a.national_code, f.code AS function_code, f.label AS function_label \
                 FROM attachments a JOIN establishments e ON e.id = a.establishment_id \
                 LEFT JOIN attachment_functions f ON f.attachment_id = a.id \
                 WHERE a.user_id = $1 \
                 UNION ALL \
                 SELECT 'role', '', e.id, e.uai, '', r.role, NULL, NULL, NULL \
                 FROM role_assignments r LEFT JOIN establishments e ON e.id = r.establishment_id \
                 WHERE r.user_id = $1",
            )
            .bind(user_id)
            .fetch_all(pool).await?
        });
        let (mut attachments, mut roles): (Vec<PositionRow>, Vec<PositionRow>) =
            rows.into_iter().partition(|r| r.source == "attachment");
        attachments.sort_by(|a, b| {
            (&a.uai, &a.kind, &a.function_code).cmp(&(&b.uai, &b.kind, &b.function_code))
        });
        roles.sort_by(|a, b| (&a.kind, &a.uai).cmp(&(&b.kind, &b.uai)));
        let attachments = fold_attachments(attachments)?;
        let roles = roles
            .into_iter()
            .map(|r| role_view(r.kind, r.uai, r.establishment_id))
            .collect::<DbResult<_>>()?;
        Ok((attachments, roles))
    }

    /// The classes and groups a student belongs to in a school year.
    pub async fn class_groups_of(
        &self,
        user_id: &str,
        school_year_id: &str,
    ) -> DbResult<Vec<ClassGroupRef>> {
        let rows: Vec<ClassGroupRefRow> = run!(self, pool => {
            sqlx::query_as(
                "SELECT g.id, e.uai, g.kind, g.code, g.name, g.school_year_id \
                 FROM class_group_members m JOIN class_groups g ON g.id = m.class_group_id \
                 JOIN establishments e ON e.id = g.establishment_id \
                 WHERE m.user_id = $1 AND g.school_year_id = $2 ORDER BY e.uai, g.kind, g.code",
            )
            .bind(user_id).bind(school_year_id)
            .fetch_all(pool).await?
        });
        rows.into_iter().map(ClassGroupRef::try_from).collect()
    }

    /// The classes and groups of an establishment in a school year, with their sizes.
    pub async fn class_groups_in(
        &self,
        establishment_id: &str,
        school_year_id: &str,
    ) -> DbResult<Vec<ClassGroup>> {
        let sql = format!(
            "{SELECT_CLASS_GROUP} WHERE g.establishment_id = $1 AND g.school_year_id = $2 ORDER BY g.kind, g.code"
        );
        Ok(run!(self, pool => {
            sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(establishment_id).bind(school_year_id)
                .fetch_all(pool).await?
        }))
    }

    /// One class or group.
    pub async fn class_group(&self, id: &str) -> DbResult<Option<ClassGroup>> {
        let sql = format!("{SELECT_CLASS_GROUP} WHERE g.id = $1");
        Ok(run!(self, pool => {
            sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(id).fetch_optional(pool).await?
        }))
    }

    /// The students of a class or group, by name.
    pub async fn members_of(&self, class_group_id: &str) -> DbResult<Vec<UserSummary>> {
        Ok(run!(self, pool => {
            sqlx::query_as(
                "SELECT u.id, u.login, u.first_name, u.last_name FROM class_group_members m \
                 JOIN users u ON u.id = m.user_id WHERE m.class_group_id = $1 ORDER BY u.sort_key, u.id",
            )
            .bind(class_group_id)
            .fetch_all(pool).await?
        }))
    }

    /// What a teacher teaches in a school year (every establishment).
    pub async fn teaching_assignments_of(
        &self,
        teacher_id: &str,
        school_year_id: &str,
    ) -> DbResult<Vec<TeachingAssignment>> {
        self.teaching_assignments(
            "t.teacher_id = $1 AND g.school_year_id = $2",
            teacher_id,
            school_year_id,
        )
        .await
    }

    /// Who teaches what to a class or group.
    pub async fn teaching_assignments_for(
        &self,
        class_group_id: &str,
    ) -> DbResult<Vec<TeachingAssignment>> {
        self.teaching_assignments("t.class_group_id = $1 AND $2 = $2", class_group_id, "")
            .await
    }

    async fn teaching_assignments(
        &self,
        filter: &str,
        a: &str,
        b: &str,
    ) -> DbResult<Vec<TeachingAssignment>> {
        #[derive(FromRow)]
        struct Row {
            id: String,
            teacher_id: String,
            login: String,
            first_name: String,
            last_name: String,
            class_group_id: String,
            uai: String,
            kind: String,
            code: String,
            name: String,
            school_year_id: String,
            subject_id: String,
            subject_code: String,
            subject_label: String,
        }
        let sql = format!(
            "SELECT t.id, u.id AS teacher_id, u.login, u.first_name, u.last_name, \
             g.id AS class_group_id, e.uai, g.kind, g.code, g.name, g.school_year_id, \
             s.id AS subject_id, s.code AS subject_code, s.label AS subject_label \
             FROM teaching_assignments t JOIN users u ON u.id = t.teacher_id \
             JOIN class_groups g ON g.id = t.class_group_id JOIN establishments e ON e.id = g.establishment_id \
             JOIN subjects s ON s.id = t.subject_id WHERE {filter} ORDER BY e.uai, g.kind, g.code, s.code, u.sort_key"
        );
        let rows: Vec<Row> = run!(self, pool => {
            sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(a).bind(b).fetch_all(pool).await?
        });
        rows.into_iter()
            .map(|r| {
                Ok(TeachingAssignment {
                    id: r.id,
                    teacher: UserSummary {
                        id: r.teacher_id,
                        login: r.login,
                        first_name: r.first_name,
                        last_name: r.last_name,
                    },
                    class_group: ClassGroupRef::try_from(ClassGroupRefRow {
                        id: r.class_group_id,
                        uai: r.uai,
                        kind: r.kind,
                        code: r.code,
                        name: r.name,
                        school_year_id: r.school_year_id,
                    })?,
                    subject: Subject {
                        id: r.subject_id,
                        code: r.subject_code,
                        label: r.subject_label,
                    },
                })
            })
            .collect()
    }

    /// A parent's children, with where each is a student and their classes of `school_year_id`.
    pub async fn children_of(&self, parent_id: &str, school_year_id: &str) -> DbResult<Vec<Child>> {
        /// A child, with one of their student attachments (or none): one row per school.
        #[derive(FromRow)]
        struct Row {
            id: String,
            login: String,
            first_name: String,
            last_name: String,
            legal_guardian: bool,
            relationship: String,
            uai: Option<String>,
            establishment_name: Option<String>,
        }
        #[derive(FromRow)]
        struct ClassRow {
            student_id: String,
            #[sqlx(flatten)]
            class: ClassGroupRefRow,
        }
        let (rows, classes): (Vec<Row>, Vec<ClassRow>) = run!(self, pool => {
            let rows = sqlx::query_as(
                "SELECT u.id, u.login, u.first_name, u.last_name, f.legal_guardian, f.relationship, \
                 e.uai, e.name AS establishment_name \
                 FROM family_links f JOIN users u ON u.id = f.student_id \
                 LEFT JOIN attachments a ON a.user_id = f.student_id AND a.profile = 'eleve' \
                 LEFT JOIN establishments e ON e.id = a.establishment_id \
                 WHERE f.parent_id = $1 ORDER BY u.sort_key, u.id, e.uai",
            )
            .bind(parent_id)
            .fetch_all(pool).await?;
            let classes = sqlx::query_as(
                "SELECT m.user_id AS student_id, g.id, e.uai, g.kind, g.code, g.name, g.school_year_id \
                 FROM family_links f JOIN class_group_members m ON m.user_id = f.student_id \
                 JOIN class_groups g ON g.id = m.class_group_id \
                 JOIN establishments e ON e.id = g.establishment_id \
                 WHERE f.parent_id = $1 AND g.school_year_id = $2 ORDER BY e.uai, g.kind, g.code",
            )
            .bind(parent_id).bind(school_year_id)
            .fetch_all(pool).await?;
            (rows, classes)
        });
        let classes = classes
            .into_iter()
            .map(|r| Ok((r.student_id, ClassGroupRef::try_from(r.class)?)))
            .collect::<DbResult<Vec<_>>>()?;
        let mut out: Vec<Child> = Vec::new();
        for r in rows {
            let school = match (r.uai, r.establishment_name) {
                (Some(uai), Some(name)) => {
                    let uai = Uai::parse(&uai).map_err(invalid)?;
                    Some(ChildAttachment {
                        classes: classes
                            .iter()
                            .filter(|(student, g)| *student == r.id && g.uai == uai)
                            .map(|(_, g)| g.clone())
                            .collect(),
                        uai,
                        establishment_name: name,
                    })
                }
                _ => None,
            };
            if let Some(last) = out.last_mut().filter(|c| c.user.id == r.id) {
                last.attachments.extend(school);
                continue;
            }
            out.push(Child {
                user: UserSummary {
                    id: r.id,
                    login: r.login,
                    first_name: r.first_name,
                    last_name: r.last_name,
                },
                legal_guardian: r.legal_guardian,
                relationship: Relationship::try_from(r.relationship)?,
                attachments: school.into_iter().collect(),
            });
        }
        Ok(out)
    }

    /// The parents of a student.
    pub async fn parents_of(&self, student_id: &str) -> DbResult<Vec<UserSummary>> {
        Ok(run!(self, pool => {
            sqlx::query_as(
                "SELECT u.id, u.login, u.first_name, u.last_name FROM family_links f \
                 JOIN users u ON u.id = f.parent_id WHERE f.student_id = $1 ORDER BY u.sort_key, u.id",
            )
            .bind(student_id)
            .fetch_all(pool).await?
        }))
    }

    /// The periods of an establishment's school year.
    pub async fn periods(
        &self,
        establishment_id: &str,
        school_year_id: &str,
    ) -> DbResult<Vec<Period>> {
        Ok(run!(self, pool => {
            sqlx::query_as(
                "SELECT kind, number, starts_on, ends_on FROM periods \
                 WHERE establishment_id = $1 AND school_year_id = $2 ORDER BY number",
            )
            .bind(establishment_id).bind(school_year_id)
            .fetch_all(pool).await?
        }))
    }

    /// The subjects of an establishment.
    pub async fn subjects(&self, establishment_id: &str) -> DbResult<Vec<Subject>> {
        Ok(run!(self, pool => {
            sqlx::query_as("SELECT id, code, label FROM subjects WHERE establishment_id = $1 ORDER BY code")
                .bind(establishment_id)
                .fetch_all(pool).await?
        }))
    }

    /// The establishment's directory of adults (teachers, direction, personnel, local admins),
    /// by name, one page at a time: at most `limit` entries after the person `after`.
    pub async fn staff_directory(
        &self,
        establishment_id: &str,
        filter: StaffFilter,
        after: Option<&str>,
        limit: u32,
    ) -> DbResult<Vec<StaffEntry>> {
        let who = match filter {
            StaffFilter::Profile(p) if p.sees_staff_directory() => format!(
                "EXISTS (SELECT 1 FROM attachments a WHERE a.user_id = u.id AND a.establishment_id = $1 AND a.profile = '{}')",
                p.as_str()
            ),
            StaffFilter::Profile(p) => {
                return Err(DbError::Invalid(format!(
                    "l'annuaire des adultes ne liste pas le profil {p} / the staff directory does not list profile {p}"
                )));
            }
            StaffFilter::LocalAdmins => "EXISTS (SELECT 1 FROM role_assignments r WHERE r.user_id = u.id AND r.establishment_id = $1 AND r.role = 'admin_local')".to_string(),
            StaffFilter::All => "(EXISTS (SELECT 1 FROM attachments a WHERE a.user_id = u.id AND a.establishment_id = $1 \
                AND a.profile IN ('enseignant', 'personnel', 'direction')) \
                OR EXISTS (SELECT 1 FROM role_assignments r WHERE r.user_id = u.id AND r.establishment_id = $1 AND r.role = 'admin_local'))".to_string(),
        };
        let sql = format!(
            "SELECT u.id, u.login, u.first_name, u.last_name FROM users u WHERE {who} AND u.state = 'active' \
             AND ($2 = '' OR (u.sort_key, u.id) > (SELECT c.sort_key, c.id FROM users c WHERE c.id = $2)) \
             ORDER BY u.sort_key, u.id LIMIT $3"
        );
        let after = after.unwrap_or("");
        let (people, details, admins): (Vec<UserSummary>, Vec<StaffDetailRow>, Vec<String>) = run!(self, pool => {
            let people: Vec<UserSummary> = sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(establishment_id).bind(after).bind(i64::from(limit))
                .fetch_all(pool).await?;
            let details = sqlx::query_as(
                "SELECT a.user_id, a.profile, f.code, f.label FROM attachments a \
                 LEFT JOIN attachment_functions f ON f.attachment_id = a.id \
                 WHERE a.establishment_id = $1 AND a.profile IN ('enseignant', 'personnel', 'direction')",
            )
            .bind(establishment_id)
            .fetch_all(pool).await?;
            let admins = sqlx::query_scalar(
                "SELECT user_id FROM role_assignments WHERE establishment_id = $1 AND role = 'admin_local'",
            )
            .bind(establishment_id)
            .fetch_all(pool).await?;
            (people, details, admins)
        });
        people
            .into_iter()
            .map(|user| {
                let mine = details.iter().filter(|(u, ..)| *u == user.id);
                let mut profiles: Vec<Profile> = mine
                    .clone()
                    .map(|(_, p, ..)| p.parse().map_err(invalid))
                    .collect::<DbResult<_>>()?;
                profiles.sort();
                profiles.dedup();
                let functions = mine
                    .filter_map(|(_, _, code, label)| {
                        Some(Function {
                            code: code.clone()?,
                            label: label.clone()?,
                        })
                    })
                    .collect();
                Ok(StaffEntry {
                    admin_local: admins.contains(&user.id),
                    user,
                    profiles,
                    functions,
                })
            })
            .collect()
    }
}
