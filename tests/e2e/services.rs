//! The core's side of the plugin API (`preau_core::plugins::CoreServices`) with real components
//! (`tests/plugins/hello` for clock, calendar, directory and rights; `tests/plugins/notes` for
//! documents, files and a class's members) on a real database holding the demo establishments: the clock and
//! calendar of the establishment, the directory as the calling user may see it, the plugin's
//! permissions through the grants, and documents and files scoped to (plugin, establishment).

use std::sync::Arc;

use preau_core::clock::{Clock, ClockOverride};
use preau_core::plugins::CoreServices;
use preau_core::store::{Limits, PluginStorage};
use preau_core::testing::TestDb;
use preau_host::{
    CallContext, CallLimits, Grants, HostConfig, Plugin, RouteRequest, Runtime, Services,
};

use crate::plugins;

const MANIFEST: &str = r#"id = "essai:bonjour"
version = "1.0.0"
licence = "MIT"
component = "hello.wasm"
host_api = "^1.0"
[name]
fr = "Bonjour"
en = "Hello"
[description]
fr = "Un service d'essai."
en = "A test service."
[capabilities]
files_quota_mib = 1
[[permissions]]
id = "devoirs.saisir"
family = "publication"
label = { fr = "Saisir", en = "Write" }
defaults = ["enseignant"]
[[collections]]
name = "notes"
[[collections.indexes]]
name = "par-titre"
fields = [{ field = "titre", type = "string", collation = "fr" }]
"#;

struct World {
    t: TestDb,
    _data: tempfile::TempDir,
    runtime: Runtime,
    hello: Plugin,
    notes: Plugin,
    services: Arc<dyn Services>,
    /// (UAI, student id, teacher id) in the first establishment.
    uai: String,
    other_uai: String,
    student: String,
    teacher: String,
}

impl World {
    async fn new() -> World {
        let t = TestDb::new().await;
        let data = tempfile::tempdir().expect("temp dir");
        let clock = Clock::new(
            chrono_tz::Europe::Paris,
            Some(ClockOverride::parse("2026-11-30").expect("day")),
        );
        let demo = preau_core::demo::generate(&t.db, clock.now_ms(), clock.today(), "x")
            .await
            .expect("demo");
        let showcase = demo.showcase();
        let account = |profile: &str| {
            showcase
                .iter()
                .find(|(p, _)| *p == profile)
                .map(|(_, a)| (*a).clone())
                .expect("showcase account")
        };
        let (student, teacher) = (account("eleve"), account("enseignant"));
        let uai = student.attachments[0].uai.to_string();
        assert_eq!(teacher.attachments[0].uai.to_string(), uai, "same school");
        let id = |login: String| {
            let db = t.db.clone();
            async move {
                db.user_by_login(&login)
                    .await
                    .expect("user")
                    .expect("exists")
                    .id
            }
        };
        let (student, teacher) = (id(student.login).await, id(teacher.login).await);
        let establishments = t.db.establishments().await.expect("establishments");
        let here = establishments
            .iter()
            .find(|e| e.uai.to_string() == uai)
            .expect("here");
        let other_uai = establishments
            .iter()
            .find(|e| e.uai.to_string() != uai)
            .expect("another establishment")
            .uai
            .to_string();
        let manifest = preau_package::Manifest::parse(MANIFEST).expect("manifest");
        let mut tx = t.db.begin(clock.now_ms()).await.expect("tx");
        tx.apply_plugin_default_grants(
            &here.id,
            "essai:bonjour",
            &[(
                "devoirs.saisir",
                &[preau_core::identity::Profile::Enseignant],
            )],
        )
        .await
        .expect("grants");
        tx.commit().await.expect("commit");
        let storage = PluginStorage::new(t.db.clone(), clock, data.path());
        storage
            .sync_indexes(
                &preau_core::store::PluginId::parse("essai:bonjour").expect("id"),
                &preau_core::store::spec::StoreSpec::from_manifest(&manifest).expect("spec"),
            )
            .await
            .expect("indexes");
        let limits = Limits {
            file_quota_bytes: 1 << 20,
            ..Limits::default()
        };
        let services: Arc<dyn Services> =
            Arc::new(CoreServices::new(storage, &manifest, limits).expect("services"));
        let runtime = Runtime::new(&HostConfig {
            cache_dir: Some(plugins::cache_dir()),
            ..HostConfig::default()
        })
        .expect("runtime");
        let hello = runtime
            .load(&plugins::component("hello"))
            .await
            .expect("load");
        let notes = runtime
            .load(&plugins::component("notes"))
            .await
            .expect("load");
        World {
            t,
            _data: data,
            runtime,
            hello,
            notes,
            services,
            uai,
            other_uai,
            student,
            teacher,
        }
    }

    /// The text lines of the view `path` answers for `user` in `uai`.
    async fn lines(
        &self,
        uai: &str,
        user: &str,
        path: &str,
        query: &[(&str, &str)],
    ) -> Vec<String> {
        let ctx = CallContext::new("essai:bonjour", uai, Some(user.to_owned()), "req-services");
        let plugin = if path.starts_with("/api/members")
            || path.starts_with("/notes")
            || path.starts_with("/fichiers")
        {
            &self.notes
        } else {
            &self.hello
        };
        let response = plugin
            .handle(
                &self.runtime,
                ctx,
                self.services.clone(),
                Arc::new(Grants::default()),
                CallLimits::default(),
                RouteRequest {
                    method: "GET".into(),
                    path: path.into(),
                    query: query
                        .iter()
                        .map(|(k, v)| ((*k).into(), (*v).into()))
                        .collect(),
                    form: vec![],
                    uploads: vec![],
                },
            )
            .await
            .expect("answer");
        let preau_host::Response::View(json) = response else {
            panic!("a view was expected");
        };
        let view: serde_json::Value = serde_json::from_str(&json).expect("json");
        view["body"]
            .as_array()
            .expect("body")
            .iter()
            .filter_map(|n| n["text"].as_str().map(str::to_owned))
            .collect()
    }
}

#[track_caller]
fn has(lines: &[String], part: &str) {
    assert!(
        lines.iter().any(|l| l.contains(part)),
        "no line with {part:?} in {lines:#?}"
    );
}

#[tokio::test]
async fn clock_calendar_directory_and_rights_come_from_the_core() {
    let w = World::new().await;
    let clock = w.lines(&w.uai, &w.student, "/api/clock", &[]).await;
    has(&clock, "aujourd'hui 2026-11-30");
    let calendar = w.lines(&w.uai, &w.student, "/api/calendar", &[]).await;
    has(&calendar, "année 2026-2027 du 2026-08-01 au 2027-07-31");
    has(&calendar, "le 2026-11-28 : Ok(false)"); // a Saturday
    has(&calendar, "après le 2026-11-27 : Ok(\"2026-11-30\")");

    let me = w.lines(&w.uai, &w.student, "/api/directory", &[]).await;
    has(&me, &format!("moi : {}", w.student));
    has(&me, "Eleve");
    has(&me, "classe ");
    has(&me, "membre "); // a student sees their own class
    has(&me, "inconnu : Err(Error::NotFound(");

    // The teacher's classes; a student asking for a class they are not in is refused, and a
    // class of another establishment does not exist from here.
    let teacher = w.lines(&w.uai, &w.teacher, "/api/directory", &[]).await;
    has(&teacher, "enseigne ");
    // A teacher's classes and groups are the ones they teach, each once, and they may list
    // their pupils.
    let taught: std::collections::BTreeSet<&str> = teacher
        .iter()
        .filter_map(|l| l.strip_prefix("enseigne ")?.split(" en ").nth(1))
        .collect();
    let classes_and_groups: Vec<&str> = teacher
        .iter()
        .filter_map(|l| {
            l.strip_prefix("classe ")
                .and_then(|c| c.split(" (").next())
                .or_else(|| l.strip_prefix("groupe "))
        })
        .collect();
    assert!(
        teacher.iter().any(|l| l.starts_with("classe ")),
        "{teacher:?}"
    );
    let listed: std::collections::BTreeSet<&str> = classes_and_groups.iter().copied().collect();
    assert_eq!(listed, taught, "{teacher:?}");
    assert_eq!(
        classes_and_groups.len(),
        taught.len(),
        "each once: {teacher:?}"
    );
    has(&teacher, "membre ");
    let class_ids =
        w.t.db
            .class_groups_in(
                &w.t.db
                    .establishments()
                    .await
                    .expect("e")
                    .iter()
                    .find(|e| e.uai.to_string() == w.uai)
                    .expect("here")
                    .id,
                "2026-2027",
            )
            .await
            .expect("classes");
    let mine =
        w.t.db
            .class_groups_of(&w.student, "2026-2027")
            .await
            .expect("mine");
    let not_mine = class_ids
        .iter()
        .find(|c| mine.iter().all(|m| m.id != c.id))
        .expect("a class the student is not in");
    let refused = w
        .lines(&w.uai, &w.student, "/api/members", &[("id", &not_mine.id)])
        .await;
    has(&refused, "Err(Error::Denied(");
    let elsewhere = w
        .lines(
            &w.other_uai,
            &w.student,
            "/api/members",
            &[("id", &mine[0].id)],
        )
        .await;
    has(&elsewhere, "Err(Error::NotFound(");

    // devoirs.saisir is granted to teachers by default.
    let rights = w.lines(&w.uai, &w.teacher, "/api/rights", &[]).await;
    has(&rights, "saisir true");
    has(&rights, "supprimer false"); // not declared by the manifest
    let rights = w.lines(&w.uai, &w.student, "/api/rights", &[]).await;
    has(&rights, "saisir false");
}

#[tokio::test]
async fn documents_and_files_are_scoped_to_the_plugin_and_the_establishment() {
    let w = World::new().await;
    for (key, title) in [("n1", "Éléphant"), ("n2", "abeille"), ("n3", "Zèbre")] {
        let written = w
            .lines(
                &w.uai,
                &w.teacher,
                "/notes/ecrire",
                &[("cle", key), ("titre", title), ("pour", &w.student)],
            )
            .await;
        has(&written, "écrit : Ok([Outcome::Written(");
    }
    let again = w
        .lines(
            &w.uai,
            &w.teacher,
            "/notes/ecrire",
            &[("cle", "n1"), ("titre", "x")],
        )
        .await;
    has(&again, "Err(Error::Conflict(Conflict::Exists(");
    let listed = w.lines(&w.uai, &w.student, "/notes", &[]).await;
    let notes: Vec<&String> = listed.iter().filter(|l| l.starts_with("note ")).collect();
    assert_eq!(notes.len(), 3, "{listed:#?}");
    assert!(
        notes[0].contains("abeille") && notes[1].contains("Éléphant") && notes[2].contains("Zèbre"),
        "French order: {notes:#?}"
    );
    has(&listed, "absente : Ok(None)");
    has(&listed, "non déclarée : Err(Error::Invalid(");
    // The person the notes are about can be exported and forgotten by the core.
    let storage = PluginStorage::new(
        w.t.db.clone(),
        Clock::system(chrono_tz::Europe::Paris),
        w._data.path(),
    );
    let plugin = preau_core::store::PluginId::parse("essai:bonjour").expect("id");
    assert_eq!(
        storage
            .subject_data(&plugin, &w.student)
            .await
            .expect("export")
            .documents
            .len(),
        3
    );

    // Another establishment sees none of it.
    let other = w.lines(&w.other_uai, &w.student, "/notes", &[]).await;
    assert!(other.iter().all(|l| !l.starts_with("note ")), "{other:#?}");

    let written = w
        .lines(
            &w.uai,
            &w.teacher,
            "/fichiers/ecrire",
            &[("chemin", "cours/a.txt"), ("contenu", "bonjour")],
        )
        .await;
    has(&written, "Ok((\"cours/a.txt\", 7))");
    let listed = w.lines(&w.uai, &w.teacher, "/fichiers", &[]).await;
    has(&listed, "fichier cours/a.txt 7 Ok(\"bonjour\")");
    has(&listed, "usage : Ok((7, 1))");
    has(&listed, "évasion : Err(Error::Invalid(");
    let other = w.lines(&w.other_uai, &w.teacher, "/fichiers", &[]).await;
    has(&other, "usage : Ok((0, 0))");
}

#[tokio::test]
async fn a_granted_name_that_resolves_inside_the_network_is_refused() {
    let ctx = CallContext::new("essai:bonjour", "0750652B", None, "req-outbound");
    for url in ["https://localhost/admin", "https://127.0.0.1.nip.invalid/"] {
        let request = preau_host::OutboundRequest {
            method: preau_host::Method::Get,
            url: preau_host::url::Url::parse(url).expect("url"),
            headers: vec![],
            body: vec![],
            timeout: std::time::Duration::from_secs(5),
            max_response_bytes: 1024,
        };
        let refused = preau_core::plugins::outbound::fetch(&ctx, request)
            .await
            .expect_err("refused");
        assert!(
            matches!(
                refused,
                preau_host::ServiceError::Denied(_) | preau_host::ServiceError::NotFound(_)
            ),
            "{url}: {refused:?}"
        );
        if url.contains("localhost") {
            assert!(
                matches!(refused, preau_host::ServiceError::Denied(ref m) if m.contains("non publique")),
                "{refused:?}"
            );
        }
    }
}
