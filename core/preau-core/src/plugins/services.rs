//! The core's side of the plugin API: [`CoreServices`] implements `preau_host::Services` for one
//! plugin version — its clock, the establishment's calendar, the directory and rights as the
//! calling user may see them, and the plugin's documents and files scoped to (plugin,
//! establishment). The host has checked the shape of every argument; this module decides
//! everything else (who may see what, which permissions exist) and maps the storage's errors to
//! the plugin API's.
//!
//! Directory rule: a plugin sees the calling user, their own classes, groups, children and
//! teaching assignments in the call's establishment; the members of a class or group only when
//! the user belongs to it, teaches it, or is staff, direction or admin of the establishment.
//! Nothing of another establishment is ever returned.

use std::collections::{HashMap, HashSet};
use std::sync::RwLock;

use chrono::{DateTime, FixedOffset, NaiveDate};
use preau_host::{
    self as host, BoxFuture, CallContext, CasService, FileReader, NewFile, Notification,
    OutboundRequest, OutboundResponse, ServiceError, ServiceResult,
};

use crate::access::{Access, EstablishmentAccess};
use crate::calendar::{SchoolCalendar, school_year_bounds, school_year_id};
use crate::clock::Clock;
use crate::db::identity::{ClassGroupRef, GroupKind, UserSummary};
use crate::db::{Db, DbError};
use crate::identity::{Profile, Uai};
use crate::store::documents::{Precondition, Query, WriteOp};
use crate::store::encoding::IndexValue;
use crate::store::spec::StoreSpec;
use crate::store::{self, Limits, PluginId, PluginStorage, Revision, Scope, StoreError};

/// What a plugin version gets from the core.
pub struct CoreServices {
    db: Db,
    clock: Clock,
    storage: PluginStorage,
    plugin: PluginId,
    spec: StoreSpec,
    limits: Limits,
    /// The permissions the manifest declares: `holds` answers only for these.
    permissions: Vec<String>,
    /// UAI → establishment id, filled as calls come.
    establishments: RwLock<HashMap<String, String>>,
}

impl std::fmt::Debug for CoreServices {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CoreServices")
            .field("plugin", &self.plugin)
            .finish()
    }
}

fn internal(e: impl std::error::Error + Send + Sync + 'static) -> ServiceError {
    ServiceError::Internal(Box::new(e))
}

fn db_error(e: DbError) -> ServiceError {
    match e {
        DbError::NotFound(what) => ServiceError::NotFound(what),
        other => internal(other),
    }
}

fn store_error(e: StoreError) -> ServiceError {
    match e {
        StoreError::Conflict(c) => ServiceError::Conflict(conflict(c)),
        StoreError::Invalid { field, message } => ServiceError::Invalid { field, message },
        StoreError::TooLarge { field, message } => ServiceError::TooLarge { field, message },
        StoreError::QuotaExceeded {
            quota,
            used,
            needed,
        } => ServiceError::QuotaExceeded {
            quota,
            used,
            needed,
        },
        StoreError::NotFound(what) => ServiceError::NotFound(what),
        other => internal(other),
    }
}

fn op_index(op: usize) -> u32 {
    u32::try_from(op).unwrap_or(u32::MAX)
}

fn conflict(c: store::Conflict) -> host::Conflict {
    match c {
        store::Conflict::Exists {
            op,
            collection,
            key,
            actual,
        } => host::Conflict::Exists(host::ExistsConflict {
            op: op_index(op),
            collection,
            key,
            actual: actual.0,
        }),
        store::Conflict::Revision {
            op,
            collection,
            key,
            expected,
            actual,
        } => host::Conflict::Revision(host::RevisionConflict {
            op: op_index(op),
            collection,
            key,
            expected: expected.0,
            actual: actual.map(|r| r.0),
        }),
        store::Conflict::Unique {
            op,
            collection,
            index,
            holder,
        } => host::Conflict::Unique(host::UniqueConflict {
            op: op_index(op),
            collection,
            index,
            holder,
        }),
    }
}

fn index_value(v: host::IndexValue) -> IndexValue {
    match v {
        host::IndexValue::Text(s) => IndexValue::String(s),
        host::IndexValue::Integer(i) => IndexValue::Integer(i),
        host::IndexValue::Datetime(s) => IndexValue::Datetime(s),
        host::IndexValue::Boolean(b) => IndexValue::Boolean(b),
    }
}

fn bound(b: host::Bound) -> std::ops::Bound<IndexValue> {
    match b {
        host::Bound::Unbounded => std::ops::Bound::Unbounded,
        host::Bound::Included(v) => std::ops::Bound::Included(index_value(v)),
        host::Bound::Excluded(v) => std::ops::Bound::Excluded(index_value(v)),
    }
}

fn document(d: store::documents::Document) -> host::Document {
    host::Document {
        collection: d.collection,
        key: d.key,
        revision: d.revision.0,
        body: d.body,
        updated_at: d.updated_at,
    }
}

fn write_op(op: host::WriteOp) -> WriteOp {
    match op {
        host::WriteOp::Put(p) => WriteOp::Put {
            collection: p.collection,
            key: p.key,
            body: p.body,
            subjects: p.subjects,
            precondition: p.precondition.map(|pre| match pre {
                host::Precondition::Absent => Precondition::Absent,
                host::Precondition::AtRevision(r) => Precondition::Revision(Revision(r)),
            }),
        },
        host::WriteOp::Delete(d) => WriteOp::Delete {
            collection: d.collection,
            key: d.key,
            revision: d.revision.map(Revision),
        },
        host::WriteOp::Require(r) => WriteOp::Require {
            collection: r.collection,
            key: r.key,
            revision: Revision(r.revision),
        },
    }
}

fn file_meta(m: store::files::FileMeta) -> host::FileMeta {
    host::FileMeta {
        path: m.path,
        size: m.size,
        content_type: m.content_type,
        sha256: m.sha256,
        created_at: m.created_at,
        updated_at: m.updated_at,
    }
}

fn person(u: &UserSummary, profiles: Vec<host::Profile>) -> host::Person {
    host::Person {
        id: u.id.clone(),
        display_name: format!("{} {}", u.first_name, u.last_name),
        profiles,
    }
}

fn profile(p: Profile) -> host::Profile {
    match p {
        Profile::Eleve => host::Profile::Eleve,
        Profile::Parent => host::Profile::Parent,
        Profile::Enseignant => host::Profile::Enseignant,
        Profile::Personnel => host::Profile::Personnel,
        Profile::Direction => host::Profile::Direction,
        Profile::Invite => host::Profile::Invite,
    }
}

fn class_group(g: &ClassGroupRef) -> host::ClassGroup {
    host::ClassGroup {
        id: g.id.clone(),
        kind: match g.kind {
            GroupKind::Class => host::GroupKind::Class,
            GroupKind::Group => host::GroupKind::Group,
        },
        code: g.code.clone(),
        name: g.name.clone(),
    }
}

/// Runs an async block as a boxed future (the shape the `Services` trait asks for).
fn boxed<'a, T>(
    f: impl Future<Output = ServiceResult<T>> + Send + 'a,
) -> BoxFuture<'a, ServiceResult<T>> {
    Box::pin(f)
}

impl CoreServices {
    /// The services of `plugin` as declared by its manifest, within `limits`.
    pub fn new(
        storage: PluginStorage,
        manifest: &preau_package::Manifest,
        limits: Limits,
    ) -> Result<CoreServices, StoreError> {
        Ok(CoreServices {
            db: storage.db().clone(),
            clock: storage.clock(),
            plugin: PluginId::parse(&manifest.id)?,
            spec: StoreSpec::from_manifest(manifest)?,
            permissions: manifest.permissions.iter().map(|p| p.id.clone()).collect(),
            storage,
            limits,
            establishments: RwLock::new(HashMap::new()),
        })
    }

    /// The call's establishment, parsed (`NotFound` when it is not a UAI).
    fn uai(&self, ctx: &CallContext) -> ServiceResult<Uai> {
        ctx.establishment().parse().map_err(|_| {
            ServiceError::NotFound(format!(
                "établissement / establishment {}",
                ctx.establishment()
            ))
        })
    }

    /// The establishment id of the call's UAI. Also where every scoped method checks that the
    /// call is this plugin's: a context built for another plugin is refused.
    async fn establishment_id(&self, ctx: &CallContext) -> ServiceResult<String> {
        if ctx.plugin() != self.plugin.as_str() {
            tracing::error!(
                plugin = self.plugin.as_str(),
                context = ctx.plugin(),
                "services called with another plugin's context"
            );
            return Err(ServiceError::Denied(
                "contexte d'une autre extension / another plugin's context".into(),
            ));
        }
        let uai = ctx.establishment();
        if let Ok(known) = self.establishments.read()
            && let Some(id) = known.get(uai)
        {
            return Ok(id.clone());
        }
        let parsed = self.uai(ctx)?;
        let establishment = self
            .db
            .establishment(&parsed)
            .await
            .map_err(db_error)?
            .ok_or_else(|| {
                ServiceError::NotFound(format!("établissement / establishment {uai}"))
            })?;
        if let Ok(mut known) = self.establishments.write() {
            known.insert(uai.to_owned(), establishment.id.clone());
        }
        Ok(establishment.id)
    }

    async fn scope(&self, ctx: &CallContext) -> ServiceResult<Scope> {
        Ok(Scope::new(
            self.plugin.clone(),
            self.establishment_id(ctx).await?,
        ))
    }

    /// The calling user, or `NotFound` for a call without one.
    fn user<'c>(&self, ctx: &'c CallContext) -> ServiceResult<&'c str> {
        ctx.user()
            .ok_or_else(|| ServiceError::NotFound("utilisateur / user".into()))
    }

    async fn calendar(&self, ctx: &CallContext) -> ServiceResult<SchoolCalendar> {
        let uai = self.uai(ctx)?;
        self.db.school_calendar(&uai).await.map_err(db_error)
    }

    /// The school year of today.
    fn this_year(&self) -> String {
        school_year_id(self.clock.today())
    }

    /// The user's classes (or groups) of this year in the call's establishment: those they
    /// belong to and those they teach, each once, by code.
    async fn my_class_groups(
        &self,
        ctx: &CallContext,
        kind: GroupKind,
    ) -> ServiceResult<Vec<host::ClassGroup>> {
        let user = self.user(ctx)?;
        let uai = self.uai(ctx)?;
        let year = self.this_year();
        let memberships = self
            .db
            .class_groups_of(user, &year)
            .await
            .map_err(db_error)?;
        let taught = self
            .db
            .teaching_assignments_of(user, &year)
            .await
            .map_err(db_error)?;
        let mut seen = HashSet::new();
        let mut mine: Vec<&ClassGroupRef> = memberships
            .iter()
            .chain(taught.iter().map(|t| &t.class_group))
            .filter(|g| g.uai == uai && g.kind == kind && seen.insert(g.id.as_str()))
            .collect();
        mine.sort_by(|a, b| a.code.cmp(&b.code));
        Ok(mine.into_iter().map(class_group).collect())
    }

    /// The user's profiles in the call's establishment.
    async fn profiles(&self, ctx: &CallContext, user: &str) -> ServiceResult<Vec<Profile>> {
        let establishment = self.establishment_id(ctx).await?;
        let access = Access::load(&self.db, user).await.map_err(db_error)?;
        Ok(match access.in_establishment(&establishment) {
            EstablishmentAccess::Member { profiles, .. } => profiles,
            _ => Vec::new(),
        })
    }
}

impl host::Services for CoreServices {
    fn now(&self, _: &CallContext) -> DateTime<FixedOffset> {
        self.clock.now_local().fixed_offset()
    }

    fn school_year<'a>(
        &'a self,
        _: &'a CallContext,
        day: NaiveDate,
    ) -> BoxFuture<'a, ServiceResult<host::SchoolYear>> {
        boxed(async move {
            let label = school_year_id(day);
            let (start, end) = school_year_bounds(&label)
                .ok_or_else(|| ServiceError::NotFound(format!("année / year {label}")))?;
            Ok(host::SchoolYear { label, start, end })
        })
    }

    fn periods<'a>(
        &'a self,
        ctx: &'a CallContext,
        day: NaiveDate,
    ) -> BoxFuture<'a, ServiceResult<Vec<host::Period>>> {
        boxed(async move {
            let establishment = self.establishment_id(ctx).await?;
            let periods = self
                .db
                .periods(&establishment, &school_year_id(day))
                .await
                .map_err(db_error)?;
            let parse = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(internal);
            periods
                .into_iter()
                .map(|p| {
                    let (fr, en) = match p.kind {
                        crate::db::identity::PeriodKind::Trimestre => ("trimestre", "term"),
                        crate::db::identity::PeriodKind::Semestre => ("semestre", "semester"),
                    };
                    Ok(host::Period {
                        name: format!(
                            "{}{} {fr}",
                            p.number,
                            if p.number == 1 { "er" } else { "e" }
                        ),
                        name_en: format!("{en} {}", p.number),
                        start: parse(&p.starts_on)?,
                        end: parse(&p.ends_on)?,
                    })
                })
                .collect()
        })
    }

    fn holidays<'a>(
        &'a self,
        ctx: &'a CallContext,
        day: NaiveDate,
    ) -> BoxFuture<'a, ServiceResult<Vec<host::Holiday>>> {
        boxed(async move {
            let year = school_year_id(day);
            let calendar = self.calendar(ctx).await?;
            Ok(calendar
                .holidays()
                .iter()
                .filter(|h| h.school_year == year)
                .map(|h| host::Holiday {
                    name: h.label_fr.clone(),
                    name_en: h.label_en.clone(),
                    start: h.first_day_off,
                    end: h.last_day_off,
                })
                .collect())
        })
    }

    fn next_school_day<'a>(
        &'a self,
        ctx: &'a CallContext,
        day: NaiveDate,
    ) -> BoxFuture<'a, ServiceResult<NaiveDate>> {
        boxed(async move {
            self.calendar(ctx)
                .await?
                .next_school_day(day)
                .ok_or_else(|| {
                    ServiceError::NotFound(
                        "pas de calendrier au-delà / no calendar data beyond that day".into(),
                    )
                })
        })
    }

    fn is_school_day<'a>(
        &'a self,
        ctx: &'a CallContext,
        day: NaiveDate,
    ) -> BoxFuture<'a, ServiceResult<bool>> {
        boxed(async move { Ok(self.calendar(ctx).await?.is_school_day(day)) })
    }

    fn current_user<'a>(
        &'a self,
        ctx: &'a CallContext,
    ) -> BoxFuture<'a, ServiceResult<host::Person>> {
        boxed(async move {
            let id = self.user(ctx)?;
            let user = self
                .db
                .user(id)
                .await
                .map_err(db_error)?
                .ok_or_else(|| ServiceError::NotFound("utilisateur / user".into()))?;
            let profiles = self.profiles(ctx, id).await?;
            Ok(host::Person {
                id: user.id.clone(),
                display_name: user.display_name(),
                profiles: profiles.into_iter().map(profile).collect(),
            })
        })
    }

    fn classes<'a>(
        &'a self,
        ctx: &'a CallContext,
    ) -> BoxFuture<'a, ServiceResult<Vec<host::ClassGroup>>> {
        boxed(self.my_class_groups(ctx, GroupKind::Class))
    }

    fn groups<'a>(
        &'a self,
        ctx: &'a CallContext,
    ) -> BoxFuture<'a, ServiceResult<Vec<host::ClassGroup>>> {
        boxed(self.my_class_groups(ctx, GroupKind::Group))
    }

    fn children<'a>(
        &'a self,
        ctx: &'a CallContext,
    ) -> BoxFuture<'a, ServiceResult<Vec<host::Person>>> {
        boxed(async move {
            let user = self.user(ctx)?;
            let uai = self.uai(ctx)?;
            let children = self
                .db
                .children_of(user, &self.this_year())
                .await
                .map_err(db_error)?;
            Ok(children
                .iter()
                .filter(|c| c.attachments.iter().any(|a| a.uai == uai))
                .map(|c| person(&c.user, vec![host::Profile::Eleve]))
                .collect())
        })
    }

    fn teachings<'a>(
        &'a self,
        ctx: &'a CallContext,
    ) -> BoxFuture<'a, ServiceResult<Vec<host::Teaching>>> {
        boxed(async move {
            let user = self.user(ctx)?;
            let uai = self.uai(ctx)?;
            let teachings = self
                .db
                .teaching_assignments_of(user, &self.this_year())
                .await
                .map_err(db_error)?;
            Ok(teachings
                .iter()
                .filter(|t| t.class_group.uai == uai)
                .map(|t| host::Teaching {
                    class_group: class_group(&t.class_group),
                    subject: host::Subject {
                        code: t.subject.code.clone(),
                        name: t.subject.label.clone(),
                    },
                })
                .collect())
        })
    }

    fn members<'a>(
        &'a self,
        ctx: &'a CallContext,
        id: String,
    ) -> BoxFuture<'a, ServiceResult<Vec<host::Person>>> {
        boxed(async move {
            let user = self.user(ctx)?;
            let establishment = self.establishment_id(ctx).await?;
            let not_found =
                || ServiceError::NotFound(format!("classe ou groupe / class or group {id}"));
            let group = self
                .db
                .class_group(&id)
                .await
                .map_err(db_error)?
                .filter(|g| g.establishment_id == establishment)
                .ok_or_else(not_found)?;
            let access = Access::load(&self.db, user).await.map_err(db_error)?;
            let staff = match access.in_establishment(&establishment) {
                EstablishmentAccess::Admin => true,
                EstablishmentAccess::Member { profiles, admin } => {
                    admin || profiles.iter().any(|p| p.is_staff())
                }
                EstablishmentAccess::None => false,
            };
            let allowed = staff
                || self
                    .db
                    .class_groups_of(user, &group.school_year_id)
                    .await
                    .map_err(db_error)?
                    .iter()
                    .any(|g| g.id == group.id)
                || self
                    .db
                    .teaching_assignments_for(&group.id)
                    .await
                    .map_err(db_error)?
                    .iter()
                    .any(|t| t.teacher.id == user);
            if !allowed {
                return Err(ServiceError::Denied(
                    "vous n'êtes ni membre, ni enseignant de ce groupe / you neither belong to nor teach this group"
                        .into(),
                ));
            }
            Ok(self
                .db
                .members_of(&group.id)
                .await
                .map_err(db_error)?
                .iter()
                .map(|m| person(m, vec![host::Profile::Eleve]))
                .collect())
        })
    }

    fn holds<'a>(
        &'a self,
        ctx: &'a CallContext,
        permission: String,
    ) -> BoxFuture<'a, ServiceResult<bool>> {
        boxed(async move {
            if !self.permissions.contains(&permission) {
                return Err(ServiceError::Invalid {
                    field: "permission".into(),
                    message: format!(
                        "« {permission} » n'est pas déclarée dans le manifeste / '{permission}' is not declared in the manifest"
                    ),
                });
            }
            let user = self.user(ctx)?;
            let establishment = self.establishment_id(ctx).await?;
            let access = Access::load(&self.db, user).await.map_err(db_error)?;
            crate::rights::authorize_named(
                &self.db,
                &access,
                &establishment,
                self.plugin.as_str(),
                &permission,
            )
            .await
            .map_err(db_error)
        })
    }

    fn may_write_to<'a>(
        &'a self,
        ctx: &'a CallContext,
        to: String,
    ) -> BoxFuture<'a, ServiceResult<bool>> {
        boxed(async move {
            let user = self.user(ctx)?;
            let establishment = self.establishment_id(ctx).await?;
            self.db
                .may_write(user, &to, &establishment)
                .await
                .map_err(db_error)
        })
    }

    /// Stores the notification for every recipient, in one transaction, or for none: each must
    /// be an active member of the establishment, and the calling user (when there is one: a
    /// route or widget; none for events) must be allowed to write to each by the communication
    /// rules. The link becomes a portal path under the plugin. The e-mail goes out as each
    /// recipient chose (`crate::notifications`).
    fn notify<'a>(
        &'a self,
        ctx: &'a CallContext,
        notification: Notification,
    ) -> BoxFuture<'a, ServiceResult<()>> {
        boxed(async move {
            let establishment = self.establishment_id(ctx).await?;
            let mut recipients = notification.recipients.clone();
            recipients.sort();
            recipients.dedup();
            for to in &recipients {
                let allowed = match ctx.user() {
                    Some(from) => self
                        .db
                        .may_write(from, to, &establishment)
                        .await
                        .map_err(db_error)?,
                    None => {
                        let member = self
                            .db
                            .attachments_of(to)
                            .await
                            .map_err(db_error)?
                            .iter()
                            .any(|a| a.establishment_id == establishment);
                        let active = self
                            .db
                            .user(to)
                            .await
                            .map_err(db_error)?
                            .is_some_and(|u| u.state.as_str() == "active");
                        member && active
                    }
                };
                if !allowed {
                    return Err(ServiceError::Denied(to.clone()));
                }
            }
            let (publisher, name) = (self.plugin.publisher(), self.plugin.name());
            let link = notification
                .link
                .as_deref()
                .map(|l| format!("/e/{}/apps/{publisher}/{name}{l}", ctx.establishment()));
            let mut tx = self.db.begin(self.clock.now_ms()).await.map_err(db_error)?;
            let new = crate::db::notifications::NewNotification {
                establishment_id: &establishment,
                plugin: self.plugin.as_str(),
                title: &notification.title,
                body: &notification.body,
                link: link.as_deref(),
            };
            for to in &recipients {
                tx.insert_notification(to, &new).await.map_err(db_error)?;
            }
            tx.commit().await.map_err(db_error)?;
            Ok(())
        })
    }

    fn register_cas_service<'a>(
        &'a self,
        _: &'a CallContext,
        _: CasService,
    ) -> BoxFuture<'a, ServiceResult<()>> {
        // The core has no CAS server yet.
        boxed(async { Err(ServiceError::Unavailable) })
    }

    fn document_get<'a>(
        &'a self,
        ctx: &'a CallContext,
        collection: String,
        key: String,
    ) -> BoxFuture<'a, ServiceResult<Option<host::Document>>> {
        boxed(async move {
            let scope = self.scope(ctx).await?;
            let found = self
                .storage
                .documents(&scope, &self.spec, self.limits)
                .get(&collection, &key)
                .await
                .map_err(store_error)?;
            Ok(found.map(document))
        })
    }

    fn document_query<'a>(
        &'a self,
        ctx: &'a CallContext,
        s: host::Selection,
    ) -> BoxFuture<'a, ServiceResult<host::Page>> {
        boxed(async move {
            let scope = self.scope(ctx).await?;
            let query = Query {
                collection: s.collection,
                index: s.index,
                equals: s.equals.into_iter().map(index_value).collect(),
                lower: bound(s.lower),
                upper: bound(s.upper),
                descending: s.descending,
                limit: s.limit,
                cursor: s.cursor,
            };
            let page = self
                .storage
                .documents(&scope, &self.spec, self.limits)
                .query(&query)
                .await
                .map_err(store_error)?;
            Ok(host::Page {
                documents: page.documents.into_iter().map(document).collect(),
                next_cursor: page.next_cursor,
            })
        })
    }

    fn document_commit<'a>(
        &'a self,
        ctx: &'a CallContext,
        ops: Vec<host::WriteOp>,
    ) -> BoxFuture<'a, ServiceResult<Vec<host::Outcome>>> {
        boxed(async move {
            let scope = self.scope(ctx).await?;
            let outcomes = self
                .storage
                .documents(&scope, &self.spec, self.limits)
                .commit(ops.into_iter().map(write_op).collect())
                .await
                .map_err(store_error)?;
            Ok(outcomes
                .into_iter()
                .map(|o| match o {
                    store::documents::Outcome::Written(r) => host::Outcome::Written(r.0),
                    store::documents::Outcome::Deleted(d) => host::Outcome::Deleted(d),
                    store::documents::Outcome::Checked => host::Outcome::Checked,
                })
                .collect())
        })
    }

    fn file_put<'a>(
        &'a self,
        ctx: &'a CallContext,
        file: NewFile,
    ) -> BoxFuture<'a, ServiceResult<host::FileMeta>> {
        boxed(async move {
            let scope = self.scope(ctx).await?;
            let meta = self
                .storage
                .files(&scope, self.limits)
                .put(
                    &file.path,
                    &file.content_type,
                    &file.subjects,
                    std::io::Cursor::new(file.content),
                )
                .await
                .map_err(store_error)?;
            Ok(file_meta(meta))
        })
    }

    fn file_open<'a>(
        &'a self,
        ctx: &'a CallContext,
        path: String,
    ) -> BoxFuture<'a, ServiceResult<(host::FileMeta, FileReader)>> {
        boxed(async move {
            let scope = self.scope(ctx).await?;
            let (meta, file) = self
                .storage
                .files(&scope, self.limits)
                .open(&path)
                .await
                .map_err(store_error)?;
            let reader: FileReader = Box::pin(file);
            Ok((file_meta(meta), reader))
        })
    }

    fn file_stat<'a>(
        &'a self,
        ctx: &'a CallContext,
        path: String,
    ) -> BoxFuture<'a, ServiceResult<Option<host::FileMeta>>> {
        boxed(async move {
            let scope = self.scope(ctx).await?;
            let found = self
                .storage
                .files(&scope, self.limits)
                .stat(&path)
                .await
                .map_err(store_error)?;
            Ok(found.map(file_meta))
        })
    }

    fn file_delete<'a>(
        &'a self,
        ctx: &'a CallContext,
        path: String,
    ) -> BoxFuture<'a, ServiceResult<bool>> {
        boxed(async move {
            let scope = self.scope(ctx).await?;
            self.storage
                .files(&scope, self.limits)
                .delete(&path)
                .await
                .map_err(store_error)
        })
    }

    fn file_list<'a>(
        &'a self,
        ctx: &'a CallContext,
        prefix: String,
        after: Option<String>,
        limit: u32,
    ) -> BoxFuture<'a, ServiceResult<Vec<host::FileMeta>>> {
        boxed(async move {
            let scope = self.scope(ctx).await?;
            let files = self
                .storage
                .files(&scope, self.limits)
                .list(&prefix, after.as_deref(), limit)
                .await
                .map_err(store_error)?;
            Ok(files.into_iter().map(file_meta).collect())
        })
    }

    fn file_usage<'a>(
        &'a self,
        ctx: &'a CallContext,
    ) -> BoxFuture<'a, ServiceResult<host::FileUsage>> {
        boxed(async move {
            let scope = self.scope(ctx).await?;
            let usage = self
                .storage
                .files(&scope, self.limits)
                .usage()
                .await
                .map_err(store_error)?;
            Ok(host::FileUsage {
                bytes: usage.bytes,
                files: usage.files,
                quota_bytes: usage.quota_bytes,
            })
        })
    }

    fn fetch<'a>(
        &'a self,
        ctx: &'a CallContext,
        request: OutboundRequest,
    ) -> BoxFuture<'a, ServiceResult<OutboundResponse>> {
        boxed(crate::plugins::outbound::fetch(ctx, request))
    }
}
