//! Test plugins: the crates under `tests/plugins/`, built by `preau_host::testing` for
//! `wasm32-wasip2` once per test run, and the shared cache of precompiled components; plus
//! [`FixedServices`], the core's services as the plugin API tests see them: fixed directory
//! and calendar data, rights from a list, and a record of what reached the network,
//! notifications and files.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use preau_host::chrono::{self, DateTime, FixedOffset, NaiveDate};
use preau_host::{
    BoxFuture, CallContext, CasService, ClassGroup, Document, FileMeta, FileReader, FileUsage,
    Grants, GroupKind, Holiday, NewFile, Notification, OutboundRequest, OutboundResponse, Outcome,
    Page, Period, Person, Profile, SchoolYear, Selection, ServiceError, ServiceResult, Services,
    Subject, Teaching, WriteOp,
};

/// The bytes of the component built from `tests/plugins/{name}`.
pub fn component(name: &str) -> Vec<u8> {
    preau_host::testing::test_plugin(name)
}

/// The directory of precompiled components shared by the tests.
pub fn cache_dir() -> PathBuf {
    preau_host::testing::cache_dir()
}

/// The grants of the test plugins: one outbound host, no SSO.
pub fn grants() -> Arc<Grants> {
    Arc::new(Grants {
        outbound_hosts: vec!["api.example.org".into()],
        sso: false,
    })
}

/// What [`FixedServices`] saw.
#[derive(Debug, Default)]
pub struct Record {
    /// URLs fetched, as the core received them.
    pub fetched: Vec<String>,
    /// Notifications sent: (recipients, title, body).
    pub notified: Vec<(Vec<String>, String, String)>,
    /// Paths of files stored.
    pub files_put: Vec<String>,
    /// Contexts seen: (plugin, establishment, user, request id).
    pub contexts: Vec<(String, String, Option<String>, String)>,
}

/// Fixed answers, recorded calls.
#[derive(Debug, Default)]
pub struct FixedServices {
    pub record: Mutex<Record>,
}

fn day(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("test date")
}

fn person(id: &str, name: &str, profile: Profile) -> Person {
    Person {
        id: id.into(),
        display_name: name.into(),
        profiles: vec![profile],
    }
}

fn class_4b() -> ClassGroup {
    ClassGroup {
        id: "c-4b".into(),
        kind: GroupKind::Class,
        code: "4B".into(),
        name: "4e B".into(),
    }
}

fn ok<'a, T: Send + 'a>(value: T) -> BoxFuture<'a, ServiceResult<T>> {
    Box::pin(std::future::ready(Ok(value)))
}

fn unavailable<'a, T: Send + 'a>() -> BoxFuture<'a, ServiceResult<T>> {
    Box::pin(std::future::ready(Err(ServiceError::Unavailable)))
}

impl FixedServices {
    pub fn new() -> Arc<FixedServices> {
        Arc::new(FixedServices::default())
    }

    fn saw(&self, ctx: &CallContext) {
        let mut record = self.record.lock().expect("record");
        record.contexts.push((
            ctx.plugin().to_owned(),
            ctx.establishment().to_owned(),
            ctx.user().map(str::to_owned),
            ctx.request_id().to_owned(),
        ));
    }

    pub fn fetched(&self) -> Vec<String> {
        self.record.lock().expect("record").fetched.clone()
    }
}

impl Services for FixedServices {
    fn now(&self, _: &CallContext) -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339("2026-11-30T08:15:00+01:00").expect("test instant")
    }

    fn school_year<'a>(
        &'a self,
        ctx: &'a CallContext,
        _: NaiveDate,
    ) -> BoxFuture<'a, ServiceResult<SchoolYear>> {
        self.saw(ctx);
        ok(SchoolYear {
            label: "2026-2027".into(),
            start: day("2026-08-01"),
            end: day("2027-07-31"),
        })
    }

    fn periods<'a>(
        &'a self,
        _: &'a CallContext,
        _: NaiveDate,
    ) -> BoxFuture<'a, ServiceResult<Vec<Period>>> {
        ok(vec![Period {
            name: "1er trimestre".into(),
            name_en: "Term 1".into(),
            start: day("2026-09-01"),
            end: day("2026-11-30"),
        }])
    }

    fn holidays<'a>(
        &'a self,
        _: &'a CallContext,
        _: NaiveDate,
    ) -> BoxFuture<'a, ServiceResult<Vec<Holiday>>> {
        ok(vec![Holiday {
            name: "Vacances de Noël".into(),
            name_en: "Christmas holidays".into(),
            start: day("2026-12-19"),
            end: day("2027-01-03"),
        }])
    }

    fn next_school_day<'a>(
        &'a self,
        _: &'a CallContext,
        d: NaiveDate,
    ) -> BoxFuture<'a, ServiceResult<NaiveDate>> {
        ok(d + chrono::Days::new(3))
    }

    fn is_school_day<'a>(
        &'a self,
        _: &'a CallContext,
        _: NaiveDate,
    ) -> BoxFuture<'a, ServiceResult<bool>> {
        ok(false)
    }

    fn current_user<'a>(&'a self, ctx: &'a CallContext) -> BoxFuture<'a, ServiceResult<Person>> {
        self.saw(ctx);
        ok(person(
            ctx.user().unwrap_or_default(),
            "Camille Martin",
            Profile::Enseignant,
        ))
    }

    fn classes<'a>(&'a self, _: &'a CallContext) -> BoxFuture<'a, ServiceResult<Vec<ClassGroup>>> {
        ok(vec![class_4b()])
    }

    fn groups<'a>(&'a self, _: &'a CallContext) -> BoxFuture<'a, ServiceResult<Vec<ClassGroup>>> {
        ok(vec![ClassGroup {
            id: "g-latin".into(),
            kind: GroupKind::Group,
            code: "LAT4".into(),
            name: "Latin 4e".into(),
        }])
    }

    fn children<'a>(&'a self, _: &'a CallContext) -> BoxFuture<'a, ServiceResult<Vec<Person>>> {
        ok(vec![person("u-leo", "Léo Martin", Profile::Eleve)])
    }

    fn teachings<'a>(&'a self, _: &'a CallContext) -> BoxFuture<'a, ServiceResult<Vec<Teaching>>> {
        ok(vec![Teaching {
            class_group: class_4b(),
            subject: Subject {
                code: "MATHS".into(),
                name: "Mathématiques".into(),
            },
        }])
    }

    fn members<'a>(
        &'a self,
        _: &'a CallContext,
        class_group: String,
    ) -> BoxFuture<'a, ServiceResult<Vec<Person>>> {
        if class_group == "c-4b" {
            ok(vec![
                person("u-leo", "Léo Martin", Profile::Eleve),
                person("u-ines", "Inès Diallo", Profile::Eleve),
            ])
        } else {
            Box::pin(std::future::ready(Err(ServiceError::NotFound(class_group))))
        }
    }

    fn holds<'a>(
        &'a self,
        _: &'a CallContext,
        permission: String,
    ) -> BoxFuture<'a, ServiceResult<bool>> {
        ok(permission == "devoirs.saisir")
    }

    fn may_write_to<'a>(
        &'a self,
        _: &'a CallContext,
        user: String,
    ) -> BoxFuture<'a, ServiceResult<bool>> {
        ok(user == "u-parent")
    }

    fn notify<'a>(
        &'a self,
        ctx: &'a CallContext,
        n: Notification,
    ) -> BoxFuture<'a, ServiceResult<()>> {
        self.saw(ctx);
        self.record
            .lock()
            .expect("record")
            .notified
            .push((n.recipients, n.title, n.body));
        ok(())
    }

    fn register_cas_service<'a>(
        &'a self,
        _: &'a CallContext,
        _: CasService,
    ) -> BoxFuture<'a, ServiceResult<()>> {
        ok(())
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
        file: NewFile,
    ) -> BoxFuture<'a, ServiceResult<FileMeta>> {
        self.record
            .lock()
            .expect("record")
            .files_put
            .push(file.path.clone());
        ok(FileMeta {
            path: file.path,
            size: file.content.len() as u64,
            content_type: file.content_type,
            sha256: String::new(),
            created_at: 0,
            updated_at: 0,
        })
    }

    fn file_open<'a>(
        &'a self,
        _: &'a CallContext,
        path: String,
    ) -> BoxFuture<'a, ServiceResult<(FileMeta, FileReader)>> {
        Box::pin(std::future::ready(Err(ServiceError::NotFound(path))))
    }

    fn file_stat<'a>(
        &'a self,
        _: &'a CallContext,
        _: String,
    ) -> BoxFuture<'a, ServiceResult<Option<FileMeta>>> {
        ok(None)
    }

    fn file_delete<'a>(
        &'a self,
        _: &'a CallContext,
        _: String,
    ) -> BoxFuture<'a, ServiceResult<bool>> {
        ok(false)
    }

    fn file_list<'a>(
        &'a self,
        _: &'a CallContext,
        _: String,
        _: Option<String>,
        _: u32,
    ) -> BoxFuture<'a, ServiceResult<Vec<FileMeta>>> {
        ok(vec![])
    }

    fn file_usage<'a>(&'a self, _: &'a CallContext) -> BoxFuture<'a, ServiceResult<FileUsage>> {
        unavailable()
    }

    fn fetch<'a>(
        &'a self,
        ctx: &'a CallContext,
        request: OutboundRequest,
    ) -> BoxFuture<'a, ServiceResult<OutboundResponse>> {
        self.saw(ctx);
        self.record
            .lock()
            .expect("record")
            .fetched
            .push(request.url.to_string());
        let json = || ("Content-Type".to_owned(), "application/json".to_owned());
        match request.url.path() {
            // A server answering more than the host lets through.
            "/gros" => ok(OutboundResponse {
                status: 200,
                headers: vec![json()],
                body: vec![b'x'; (4 << 20) + 1],
            }),
            "/entetes" => ok(OutboundResponse {
                status: 200,
                headers: (0..101).map(|n| (format!("x-{n}"), "v".into())).collect(),
                body: vec![],
            }),
            // A server that never answers (the host's outbound timeout stops waiting).
            "/lent" => Box::pin(async {
                tokio::time::sleep(std::time::Duration::from_secs(60)).await;
                Err(ServiceError::Timeout)
            }),
            _ => ok(OutboundResponse {
                status: 200,
                headers: vec![json()],
                body: br#"{"manuels":3}"#.to_vec(),
            }),
        }
    }
}
