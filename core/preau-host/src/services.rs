//! What the embedding core supplies to plugins: the [`Services`] trait (clock, calendar,
//! directory, rights, notifications, SSO, documents, files and the network of outbound HTTP),
//! the [`CallContext`] every method receives, the plugin's [`Grants`], and [`ServiceError`].
//!
//! The host checks what a plugin asks before it reaches a service: dates are parsed, strings are
//! bounded, an outbound URL must name a granted host (`outbound.rs`). A service therefore sees
//! only well-formed questions, and decides the rest (rights, communication rules, quotas). Its
//! answer goes back to the plugin as the WIT error of the interface; an internal error
//! ([`ServiceError::Internal`]) is logged here with the call's ids and reaches the plugin as a
//! bare "unavailable", without its detail.
//!
//! [`Unavailable`] answers "unavailable" to everything (the clock is the system's, in
//! Europe/Paris): for benchmarks and tests that need no service.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use chrono::{DateTime, FixedOffset, NaiveDate};

pub use crate::bindings::preau::plugin::directory::{
    ClassGroup, GroupKind, Person, Profile, Subject, Teaching,
};
pub use crate::bindings::preau::plugin::documents::{
    Bound, Conflict, DeleteOp, Document, ExistsConflict, IndexValue, Outcome, Page, Precondition,
    PutOp, RequireOp, RevisionConflict, Selection, UniqueConflict, WriteOp,
};
pub use crate::bindings::preau::plugin::files::{FileMeta, FileUsage};

/// A boxed, sendable future: what the async methods of [`Services`] return.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The answer of a service.
pub type ServiceResult<T> = Result<T, ServiceError>;

/// An opened file's content, read by the host in chunks of at most 64 KiB.
pub type FileReader = Pin<Box<dyn tokio::io::AsyncRead + Send>>;

/// Who is calling, on whose behalf, where: built by the host's caller (the core, from the
/// route, the session and the plugin's installation), never by the plugin, and handed to every
/// [`Services`] method of the call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallContext {
    plugin: String,
    establishment: String,
    user: Option<String>,
    request_id: String,
    language: Language,
}

/// The language a person reads the portal in: the plugin answers in it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Language {
    #[default]
    Fr,
    En,
}

impl Language {
    /// `fr` or `en`, as the plugin receives it.
    pub fn code(self) -> &'static str {
        match self {
            Language::Fr => "fr",
            Language::En => "en",
        }
    }
}

impl CallContext {
    /// `plugin` is the id `publisher:name`, `establishment` the UAI, `user` the signed-in
    /// account (none for public routes, events and RGPD calls), `request_id` the id logs and
    /// error pages show.
    pub fn new(
        plugin: impl Into<String>,
        establishment: impl Into<String>,
        user: Option<String>,
        request_id: impl Into<String>,
    ) -> CallContext {
        CallContext {
            plugin: plugin.into(),
            establishment: establishment.into(),
            user,
            request_id: request_id.into(),
            language: Language::Fr,
        }
    }

    /// The same context for a person reading in `language` (French by default).
    pub fn with_language(mut self, language: Language) -> CallContext {
        self.language = language;
        self
    }

    /// The language the person reads in.
    pub fn language(&self) -> Language {
        self.language
    }

    /// The plugin's id, `publisher:name`.
    pub fn plugin(&self) -> &str {
        &self.plugin
    }

    /// The establishment's UAI.
    pub fn establishment(&self) -> &str {
        &self.establishment
    }

    /// The signed-in account, if any.
    pub fn user(&self) -> Option<&str> {
        self.user.as_deref()
    }

    /// The call's id in logs and error pages.
    pub fn request_id(&self) -> &str {
        &self.request_id
    }
}

/// What the establishment approved for the plugin (its manifest's capabilities) that the host
/// itself enforces.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Grants {
    /// Host names the plugin may reach over HTTPS (`capabilities.outbound_hosts`): a URL's host
    /// must be exactly one of them (compared without regard to ASCII case).
    pub outbound_hosts: Vec<String>,
    /// Whether the plugin may register CAS services (`capabilities.sso`).
    pub sso: bool,
}

/// Why a service did not answer. The variants a WIT interface has are passed on as they are;
/// the others become that interface's "unavailable" (and are logged: a service answering
/// `Conflict` to a directory question is a bug of the core).
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// Not allowed (the plugin's permissions, the communication rules, a capability).
    #[error("refusé / denied: {0}")]
    Denied(String),
    /// No such thing (a class-group, a file, calendar data).
    #[error("introuvable / not found: {0}")]
    NotFound(String),
    /// Malformed: `field` names what is wrong, `message` says why (French, then English).
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    /// Over a limit: `field` names it.
    #[error("{field}: {message}")]
    TooLarge { field: String, message: String },
    /// A precondition or unique index refused a transaction; nothing was written.
    #[error("conflit / conflict")]
    Conflict(Conflict),
    /// The file quota would be exceeded.
    #[error("quota dépassé / quota exceeded: {used} + {needed} > {quota}")]
    QuotaExceeded { quota: u64, used: u64, needed: u64 },
    /// An outbound request got no answer in time.
    #[error("délai dépassé / timed out")]
    Timeout,
    /// The service is not available (not configured, or down); the plugin may retry later.
    #[error("service indisponible / service unavailable")]
    Unavailable,
    /// Anything internal (database, I/O): logged by the host, never shown to the plugin.
    #[error("erreur interne / internal error: {0}")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// A school year (`2026-2027`, 1 August to 31 July).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchoolYear {
    pub label: String,
    pub start: NaiveDate,
    pub end: NaiveDate,
}

/// A trimestre or semestre; `end` is included.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Period {
    pub name: String,
    pub name_en: String,
    pub start: NaiveDate,
    pub end: NaiveDate,
}

/// School holidays; both ends are days off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holiday {
    pub name: String,
    pub name_en: String,
    pub start: NaiveDate,
    pub end: NaiveDate,
}

/// A notification the host checked: 1 to [`crate::limits::MAX_RECIPIENTS`] distinct recipients
/// (in the plugin's order), bounded title and body, a local link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    pub recipients: Vec<String>,
    pub title: String,
    pub body: String,
    /// A path inside the plugin (`/devoirs/42`).
    pub link: Option<String>,
}

/// A CAS service the host checked (kebab-case id, `https` prefix without user information).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CasService {
    pub id: String,
    pub name: String,
    pub service_prefix: url::Url,
    pub attributes: Vec<String>,
}

/// A file to store: the whole content, gathered by the host from the plugin's chunks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewFile {
    pub path: String,
    pub content_type: String,
    pub subjects: Vec<String>,
    pub content: Vec<u8>,
}

/// The methods the host lets through (`Method::as_str` gives the HTTP name).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
    Put,
    Patch,
    Delete,
    Head,
}

impl Method {
    /// The method named `name` (exactly, in upper case), if the host lets it through.
    pub fn parse(name: &str) -> Option<Method> {
        Some(match name {
            "GET" => Method::Get,
            "POST" => Method::Post,
            "PUT" => Method::Put,
            "PATCH" => Method::Patch,
            "DELETE" => Method::Delete,
            "HEAD" => Method::Head,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
            Method::Head => "HEAD",
        }
    }
}

/// An outbound request the host allowed: `https`, a granted host, port 443, bounded headers and
/// body. The core sends it as it is: no redirect followed, no cookie kept, and it should refuse
/// a host that resolves to a private or local address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboundRequest {
    pub method: Method,
    pub url: url::Url,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Stop waiting after this long (the host also stops after it): [`ServiceError::Timeout`].
    pub timeout: Duration,
    /// Stop reading a body longer than this: [`ServiceError::TooLarge`] (the host checks again).
    pub max_response_bytes: usize,
}

/// The remote server's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboundResponse {
    pub status: u16,
    /// Names in lower case.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// What the embedding core supplies to plugins. Each method receives the [`CallContext`] of the
/// call the plugin is in, and answers for that plugin, establishment and user: the core applies
/// the plugin's permissions, the communication rules and the storage scope. The host has
/// already checked the arguments' shape (see each method).
pub trait Services: Send + Sync + 'static {
    // --- clock ---

    /// Now, in the instance's time zone (the core's `Clock`, shifted for demos and tests).
    fn now(&self, ctx: &CallContext) -> DateTime<FixedOffset>;

    // --- calendar (days already parsed) ---

    /// The school year holding `day`.
    fn school_year<'a>(
        &'a self,
        ctx: &'a CallContext,
        day: NaiveDate,
    ) -> BoxFuture<'a, ServiceResult<SchoolYear>>;

    /// The periods of the establishment's school year holding `day`, in order.
    fn periods<'a>(
        &'a self,
        ctx: &'a CallContext,
        day: NaiveDate,
    ) -> BoxFuture<'a, ServiceResult<Vec<Period>>>;

    /// The school holidays of the establishment's school year holding `day`, in order.
    fn holidays<'a>(
        &'a self,
        ctx: &'a CallContext,
        day: NaiveDate,
    ) -> BoxFuture<'a, ServiceResult<Vec<Holiday>>>;

    /// The first day with classes strictly after `day` (`NotFound` past the calendar's data).
    fn next_school_day<'a>(
        &'a self,
        ctx: &'a CallContext,
        day: NaiveDate,
    ) -> BoxFuture<'a, ServiceResult<NaiveDate>>;

    /// Whether `day` has classes in the establishment.
    fn is_school_day<'a>(
        &'a self,
        ctx: &'a CallContext,
        day: NaiveDate,
    ) -> BoxFuture<'a, ServiceResult<bool>>;

    // --- directory (what the plugin's grants allow; `Denied` otherwise) ---

    /// The signed-in user (the host answers `not-found` itself when the call has none).
    fn current_user<'a>(&'a self, ctx: &'a CallContext) -> BoxFuture<'a, ServiceResult<Person>>;

    /// The current user's classes.
    fn classes<'a>(&'a self, ctx: &'a CallContext)
    -> BoxFuture<'a, ServiceResult<Vec<ClassGroup>>>;

    /// The current user's groups.
    fn groups<'a>(&'a self, ctx: &'a CallContext) -> BoxFuture<'a, ServiceResult<Vec<ClassGroup>>>;

    /// The current user's children in the establishment.
    fn children<'a>(&'a self, ctx: &'a CallContext) -> BoxFuture<'a, ServiceResult<Vec<Person>>>;

    /// The current user's teaching assignments.
    fn teachings<'a>(&'a self, ctx: &'a CallContext)
    -> BoxFuture<'a, ServiceResult<Vec<Teaching>>>;

    /// The members of the class or group `class_group` (an id of at most 64 bytes).
    fn members<'a>(
        &'a self,
        ctx: &'a CallContext,
        class_group: String,
    ) -> BoxFuture<'a, ServiceResult<Vec<Person>>>;

    // --- rights (asked only when the call has a user) ---

    /// Whether the current user holds the plugin's permission `permission` (at most 64 bytes).
    fn holds<'a>(
        &'a self,
        ctx: &'a CallContext,
        permission: String,
    ) -> BoxFuture<'a, ServiceResult<bool>>;

    /// Whether the communication rules let the current user write to `user` (at most 64 bytes).
    fn may_write_to<'a>(
        &'a self,
        ctx: &'a CallContext,
        user: String,
    ) -> BoxFuture<'a, ServiceResult<bool>>;

    // --- notifications, sso ---

    /// Sends a checked notification to all its recipients, or to none.
    fn notify<'a>(
        &'a self,
        ctx: &'a CallContext,
        notification: Notification,
    ) -> BoxFuture<'a, ServiceResult<()>>;

    /// Registers (or replaces) a checked CAS service (only when [`Grants::sso`]).
    fn register_cas_service<'a>(
        &'a self,
        ctx: &'a CallContext,
        service: CasService,
    ) -> BoxFuture<'a, ServiceResult<()>>;

    // --- documents (scoped by the core to the plugin and the establishment) ---

    /// One document.
    fn document_get<'a>(
        &'a self,
        ctx: &'a CallContext,
        collection: String,
        key: String,
    ) -> BoxFuture<'a, ServiceResult<Option<Document>>>;

    /// One page of documents.
    fn document_query<'a>(
        &'a self,
        ctx: &'a CallContext,
        selection: Selection,
    ) -> BoxFuture<'a, ServiceResult<Page>>;

    /// Applies every operation, or none.
    fn document_commit<'a>(
        &'a self,
        ctx: &'a CallContext,
        ops: Vec<WriteOp>,
    ) -> BoxFuture<'a, ServiceResult<Vec<Outcome>>>;

    // --- files (scoped likewise) ---

    /// Stores a finished upload (its content at most the call's `upload_bytes`), replacing the
    /// file at its path. An upload the plugin dropped unfinished never gets here.
    fn file_put<'a>(
        &'a self,
        ctx: &'a CallContext,
        file: NewFile,
    ) -> BoxFuture<'a, ServiceResult<FileMeta>>;

    /// Opens a file for reading.
    fn file_open<'a>(
        &'a self,
        ctx: &'a CallContext,
        path: String,
    ) -> BoxFuture<'a, ServiceResult<(FileMeta, FileReader)>>;

    /// The file at `path`, if any.
    fn file_stat<'a>(
        &'a self,
        ctx: &'a CallContext,
        path: String,
    ) -> BoxFuture<'a, ServiceResult<Option<FileMeta>>>;

    /// Deletes the file at `path`; whether there was one.
    fn file_delete<'a>(
        &'a self,
        ctx: &'a CallContext,
        path: String,
    ) -> BoxFuture<'a, ServiceResult<bool>>;

    /// Files whose path starts with `prefix`, by path, after `after`, at most `limit`.
    fn file_list<'a>(
        &'a self,
        ctx: &'a CallContext,
        prefix: String,
        after: Option<String>,
        limit: u32,
    ) -> BoxFuture<'a, ServiceResult<Vec<FileMeta>>>;

    /// Bytes and files held, and the quota.
    fn file_usage<'a>(&'a self, ctx: &'a CallContext) -> BoxFuture<'a, ServiceResult<FileUsage>>;

    // --- outbound HTTP ---

    /// Sends a request the host allowed (see [`OutboundRequest`]).
    fn fetch<'a>(
        &'a self,
        ctx: &'a CallContext,
        request: OutboundRequest,
    ) -> BoxFuture<'a, ServiceResult<OutboundResponse>>;
}

/// Services that answer "unavailable" to everything, with the system clock in Europe/Paris: for
/// benchmarks and tests that need no service.
#[derive(Debug, Clone, Copy, Default)]
pub struct Unavailable;

fn unavailable<'a, T: Send + 'a>() -> BoxFuture<'a, ServiceResult<T>> {
    Box::pin(std::future::ready(Err(ServiceError::Unavailable)))
}

impl Services for Unavailable {
    fn now(&self, _: &CallContext) -> DateTime<FixedOffset> {
        chrono::Utc::now()
            .with_timezone(&chrono_tz::Europe::Paris)
            .fixed_offset()
    }
    fn school_year<'a>(
        &'a self,
        _: &'a CallContext,
        _: NaiveDate,
    ) -> BoxFuture<'a, ServiceResult<SchoolYear>> {
        unavailable()
    }
    fn periods<'a>(
        &'a self,
        _: &'a CallContext,
        _: NaiveDate,
    ) -> BoxFuture<'a, ServiceResult<Vec<Period>>> {
        unavailable()
    }
    fn holidays<'a>(
        &'a self,
        _: &'a CallContext,
        _: NaiveDate,
    ) -> BoxFuture<'a, ServiceResult<Vec<Holiday>>> {
        unavailable()
    }
    fn next_school_day<'a>(
        &'a self,
        _: &'a CallContext,
        _: NaiveDate,
    ) -> BoxFuture<'a, ServiceResult<NaiveDate>> {
        unavailable()
    }
    fn is_school_day<'a>(
        &'a self,
        _: &'a CallContext,
        _: NaiveDate,
    ) -> BoxFuture<'a, ServiceResult<bool>> {
        unavailable()
    }
    fn current_user<'a>(&'a self, _: &'a CallContext) -> BoxFuture<'a, ServiceResult<Person>> {
        unavailable()
    }
    fn classes<'a>(&'a self, _: &'a CallContext) -> BoxFuture<'a, ServiceResult<Vec<ClassGroup>>> {
        unavailable()
    }
    fn groups<'a>(&'a self, _: &'a CallContext) -> BoxFuture<'a, ServiceResult<Vec<ClassGroup>>> {
        unavailable()
    }
    fn children<'a>(&'a self, _: &'a CallContext) -> BoxFuture<'a, ServiceResult<Vec<Person>>> {
        unavailable()
    }
    fn teachings<'a>(&'a self, _: &'a CallContext) -> BoxFuture<'a, ServiceResult<Vec<Teaching>>> {
        unavailable()
    }
    fn members<'a>(
        &'a self,
        _: &'a CallContext,
        _: String,
    ) -> BoxFuture<'a, ServiceResult<Vec<Person>>> {
        unavailable()
    }
    fn holds<'a>(&'a self, _: &'a CallContext, _: String) -> BoxFuture<'a, ServiceResult<bool>> {
        unavailable()
    }
    fn may_write_to<'a>(
        &'a self,
        _: &'a CallContext,
        _: String,
    ) -> BoxFuture<'a, ServiceResult<bool>> {
        unavailable()
    }
    fn notify<'a>(
        &'a self,
        _: &'a CallContext,
        _: Notification,
    ) -> BoxFuture<'a, ServiceResult<()>> {
        unavailable()
    }
    fn register_cas_service<'a>(
        &'a self,
        _: &'a CallContext,
        _: CasService,
    ) -> BoxFuture<'a, ServiceResult<()>> {
        unavailable()
    }
    fn document_get<'a>(
        &'a self,
        _: &'a CallContext,
        _: String,
        _: String,
    ) -> BoxFuture<'a, ServiceResult<Option<Document>>> {
        unavailable()
    }
    fn document_query<'a>(
        &'a self,
        _: &'a CallContext,
        _: Selection,
    ) -> BoxFuture<'a, ServiceResult<Page>> {
        unavailable()
    }
    fn document_commit<'a>(
        &'a self,
        _: &'a CallContext,
        _: Vec<WriteOp>,
    ) -> BoxFuture<'a, ServiceResult<Vec<Outcome>>> {
        unavailable()
    }
    fn file_put<'a>(
        &'a self,
        _: &'a CallContext,
        _: NewFile,
    ) -> BoxFuture<'a, ServiceResult<FileMeta>> {
        unavailable()
    }
    fn file_open<'a>(
        &'a self,
        _: &'a CallContext,
        _: String,
    ) -> BoxFuture<'a, ServiceResult<(FileMeta, FileReader)>> {
        unavailable()
    }
    fn file_stat<'a>(
        &'a self,
        _: &'a CallContext,
        _: String,
    ) -> BoxFuture<'a, ServiceResult<Option<FileMeta>>> {
        unavailable()
    }
    fn file_delete<'a>(
        &'a self,
        _: &'a CallContext,
        _: String,
    ) -> BoxFuture<'a, ServiceResult<bool>> {
        unavailable()
    }
    fn file_list<'a>(
        &'a self,
        _: &'a CallContext,
        _: String,
        _: Option<String>,
        _: u32,
    ) -> BoxFuture<'a, ServiceResult<Vec<FileMeta>>> {
        unavailable()
    }
    fn file_usage<'a>(&'a self, _: &'a CallContext) -> BoxFuture<'a, ServiceResult<FileUsage>> {
        unavailable()
    }
    fn fetch<'a>(
        &'a self,
        _: &'a CallContext,
        _: OutboundRequest,
    ) -> BoxFuture<'a, ServiceResult<OutboundResponse>> {
        unavailable()
    }
}
