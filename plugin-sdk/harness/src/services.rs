//! [`Recording`]: the core's services (`CoreServices`) as the plugin sees them in production;
//! `notify` goes to the core too (members of the establishment, communication rules, stored in
//! the scratch database's notification centre), and what the core accepted is also recorded for
//! the test to read.

use std::sync::{Arc, Mutex};

use preau_host::chrono::{DateTime, FixedOffset, NaiveDate};
use preau_host::{
    BoxFuture, CallContext, CasService, ClassGroup, Document, FileMeta, FileReader, FileUsage,
    Holiday, NewFile, Notification, OutboundRequest, OutboundResponse, Outcome, Page, Period,
    Person, SchoolYear, Selection, ServiceResult, Services, Teaching, WriteOp,
};

/// A notification the plugin sent, as the host checked it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentNotification {
    /// The account that was signed in when the plugin sent it (none for an event).
    pub sender: Option<String>,
    /// The accounts notified, in the plugin's order.
    pub recipients: Vec<String>,
    /// Its title.
    pub title: String,
    /// Its body.
    pub body: String,
    /// The path inside the plugin it leads to.
    pub link: Option<String>,
}

/// Delegates every service to `inner`, and records the notifications it accepted.
pub(crate) struct Recording {
    pub(crate) inner: Arc<dyn Services>,
    pub(crate) sent: Mutex<Vec<SentNotification>>,
}

impl Recording {
    pub(crate) fn new(inner: Arc<dyn Services>) -> Recording {
        Recording {
            inner,
            sent: Mutex::new(Vec::new()),
        }
    }

    pub(crate) fn notifications(&self) -> Vec<SentNotification> {
        self.sent.lock().map(|s| s.clone()).unwrap_or_default()
    }
}

impl Services for Recording {
    fn now(&self, ctx: &CallContext) -> DateTime<FixedOffset> {
        self.inner.now(ctx)
    }

    fn school_year<'a>(
        &'a self,
        ctx: &'a CallContext,
        day: NaiveDate,
    ) -> BoxFuture<'a, ServiceResult<SchoolYear>> {
        self.inner.school_year(ctx, day)
    }

    fn periods<'a>(
        &'a self,
        ctx: &'a CallContext,
        day: NaiveDate,
    ) -> BoxFuture<'a, ServiceResult<Vec<Period>>> {
        self.inner.periods(ctx, day)
    }

    fn holidays<'a>(
        &'a self,
        ctx: &'a CallContext,
        day: NaiveDate,
    ) -> BoxFuture<'a, ServiceResult<Vec<Holiday>>> {
        self.inner.holidays(ctx, day)
    }

    fn next_school_day<'a>(
        &'a self,
        ctx: &'a CallContext,
        day: NaiveDate,
    ) -> BoxFuture<'a, ServiceResult<NaiveDate>> {
        self.inner.next_school_day(ctx, day)
    }

    fn is_school_day<'a>(
        &'a self,
        ctx: &'a CallContext,
        day: NaiveDate,
    ) -> BoxFuture<'a, ServiceResult<bool>> {
        self.inner.is_school_day(ctx, day)
    }

    fn current_user<'a>(&'a self, ctx: &'a CallContext) -> BoxFuture<'a, ServiceResult<Person>> {
        self.inner.current_user(ctx)
    }

    fn classes<'a>(
        &'a self,
        ctx: &'a CallContext,
    ) -> BoxFuture<'a, ServiceResult<Vec<ClassGroup>>> {
        self.inner.classes(ctx)
    }

    fn groups<'a>(&'a self, ctx: &'a CallContext) -> BoxFuture<'a, ServiceResult<Vec<ClassGroup>>> {
        self.inner.groups(ctx)
    }

    fn children<'a>(&'a self, ctx: &'a CallContext) -> BoxFuture<'a, ServiceResult<Vec<Person>>> {
        self.inner.children(ctx)
    }

    fn teachings<'a>(
        &'a self,
        ctx: &'a CallContext,
    ) -> BoxFuture<'a, ServiceResult<Vec<Teaching>>> {
        self.inner.teachings(ctx)
    }

    fn members<'a>(
        &'a self,
        ctx: &'a CallContext,
        class_group: String,
    ) -> BoxFuture<'a, ServiceResult<Vec<Person>>> {
        self.inner.members(ctx, class_group)
    }

    fn holds<'a>(
        &'a self,
        ctx: &'a CallContext,
        permission: String,
    ) -> BoxFuture<'a, ServiceResult<bool>> {
        self.inner.holds(ctx, permission)
    }

    fn may_write_to<'a>(
        &'a self,
        ctx: &'a CallContext,
        user: String,
    ) -> BoxFuture<'a, ServiceResult<bool>> {
        self.inner.may_write_to(ctx, user)
    }

    fn notify<'a>(
        &'a self,
        ctx: &'a CallContext,
        notification: Notification,
    ) -> BoxFuture<'a, ServiceResult<()>> {
        let sent = SentNotification {
            sender: ctx.user().map(str::to_owned),
            recipients: notification.recipients.clone(),
            title: notification.title.clone(),
            body: notification.body.clone(),
            link: notification.link.clone(),
        };
        Box::pin(async move {
            self.inner.notify(ctx, notification).await?;
            if let Ok(mut all) = self.sent.lock() {
                all.push(sent);
            }
            Ok(())
        })
    }

    fn register_cas_service<'a>(
        &'a self,
        ctx: &'a CallContext,
        service: CasService,
    ) -> BoxFuture<'a, ServiceResult<()>> {
        self.inner.register_cas_service(ctx, service)
    }

    fn document_get<'a>(
        &'a self,
        ctx: &'a CallContext,
        collection: String,
        key: String,
    ) -> BoxFuture<'a, ServiceResult<Option<Document>>> {
        self.inner.document_get(ctx, collection, key)
    }

    fn document_query<'a>(
        &'a self,
        ctx: &'a CallContext,
        selection: Selection,
    ) -> BoxFuture<'a, ServiceResult<Page>> {
        self.inner.document_query(ctx, selection)
    }

    fn document_commit<'a>(
        &'a self,
        ctx: &'a CallContext,
        ops: Vec<WriteOp>,
    ) -> BoxFuture<'a, ServiceResult<Vec<Outcome>>> {
        self.inner.document_commit(ctx, ops)
    }

    fn file_put<'a>(
        &'a self,
        ctx: &'a CallContext,
        file: NewFile,
    ) -> BoxFuture<'a, ServiceResult<FileMeta>> {
        self.inner.file_put(ctx, file)
    }

    fn file_open<'a>(
        &'a self,
        ctx: &'a CallContext,
        path: String,
    ) -> BoxFuture<'a, ServiceResult<(FileMeta, FileReader)>> {
        self.inner.file_open(ctx, path)
    }

    fn file_stat<'a>(
        &'a self,
        ctx: &'a CallContext,
        path: String,
    ) -> BoxFuture<'a, ServiceResult<Option<FileMeta>>> {
        self.inner.file_stat(ctx, path)
    }

    fn file_delete<'a>(
        &'a self,
        ctx: &'a CallContext,
        path: String,
    ) -> BoxFuture<'a, ServiceResult<bool>> {
        self.inner.file_delete(ctx, path)
    }

    fn file_list<'a>(
        &'a self,
        ctx: &'a CallContext,
        prefix: String,
        after: Option<String>,
        limit: u32,
    ) -> BoxFuture<'a, ServiceResult<Vec<FileMeta>>> {
        self.inner.file_list(ctx, prefix, after, limit)
    }

    fn file_usage<'a>(&'a self, ctx: &'a CallContext) -> BoxFuture<'a, ServiceResult<FileUsage>> {
        self.inner.file_usage(ctx)
    }

    fn fetch<'a>(
        &'a self,
        ctx: &'a CallContext,
        request: OutboundRequest,
    ) -> BoxFuture<'a, ServiceResult<OutboundResponse>> {
        self.inner.fetch(ctx, request)
    }
}
