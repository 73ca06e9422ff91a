//! The event outbox (`preau_core::events`, `db/outbox.rs`) with real components installed and
//! enabled by the lifecycle on the demo data: events are written with the change that causes
//! them (and not at all where no plugin is enabled: the demo writes none), survive a crash
//! between commit and delivery, reach each plugin enabled in their establishment exactly as
//! needed, and a failing plugin (`hostile`, whose event handler panics) is retried with backoff
//! until the cap, while a plugin disabled meanwhile is skipped.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use preau_core::clock::{Clock, ClockOverride};
use preau_core::config::Config;
use preau_core::db::Db;
use preau_core::db::identity::NewUser;
use preau_core::db::outbox::DeliveryRow;
use preau_core::events::{EventWorker, RunReport, Settings};
use preau_core::identity::{Profile, Uai};
use preau_core::maintenance::run_purges;
use preau_core::plugins::Lifecycle;
use preau_core::plugins::host::PluginHost;
use preau_core::testing::TestDb;

use crate::plugins;

pub(crate) const PASSWORD: &str = "Marelle-42!";

/// A manifest for a test component: `extra` holds capabilities and the rest.
fn manifest(id: &str, wasm: &str, capabilities: &str, extra: &str) -> String {
    format!(
        r#"id = "{id}"
version = "1.0.0"
licence = "MIT"
component = "{wasm}"
host_api = "^1.0"
[name]
fr = "Service {id}"
en = "Service {id}"
[description]
fr = "Un service d'essai."
en = "A test service."
[capabilities]
{capabilities}
{extra}"#
    )
}

const NOTES: &str = r#"
[[permissions]]
id = "notes.ecrire"
family = "publication"
label = { fr = "Écrire des notes", en = "Write notes" }
defaults = ["enseignant"]
[[routes]]
path = "/notes/ecrire"
methods = ["GET", "POST"]
permission = "notes.ecrire"
auth = "user"
[[collections]]
name = "notes"
[[collections.indexes]]
name = "par-titre"
fields = [{ field = "titre", type = "string", collation = "fr" }]
"#;

const HELLO: &str = r#"
[[permissions]]
id = "bonjour.voir"
family = "consultation"
label = { fr = "Voir", en = "See" }
defaults = ["eleve", "enseignant", "parent"]
[[routes]]
path = "/"
permission = "bonjour.voir"
auth = "user"
"#;

const HOSTILE: &str = r#"
[[permissions]]
id = "piege.voir"
family = "consultation"
label = { fr = "Voir", en = "See" }
defaults = ["eleve"]
[[routes]]
path = "/"
permission = "piege.voir"
auth = "user"
"#;

/// The test plugins: (id, component, capabilities, rest of the manifest).
const PLUGINS: [(&str, &str, &str, &str); 3] = [
    ("essai:notes", "notes", "files_quota_mib = 1", NOTES),
    ("essai:bonjour", "hello", "", HELLO),
    (
        "essai:piege",
        "hostile",
        "files_quota_mib = 1\noutbound_hosts = [\"api.example.org\"]\nsso = true",
        HOSTILE,
    ),
];

/// The demo, with the three test plugins installed and enabled in the showcase student's
/// collège.
pub(crate) struct World {
    pub t: TestDb,
    pub data: tempfile::TempDir,
    pub clock: Clock,
    pub config: Arc<Config>,
    pub lifecycle: Lifecycle,
    pub uai: Uai,
    pub establishment_id: String,
    pub other_establishment_id: String,
    pub student: String,
    pub student_login: String,
    pub teacher_login: String,
    /// Events in the outbox right after the demo, before any plugin was enabled.
    pub events_after_demo: i64,
}

impl World {
    pub async fn new() -> World {
        let t = TestDb::new().await;
        let data = tempfile::tempdir().expect("temp dir");
        let clock = Clock::new(
            chrono_tz::Europe::Paris,
            Some(ClockOverride::parse("2026-11-30").expect("day")),
        );
        let hash = preau_core::auth::password::hash(PASSWORD).expect("hash");
        let demo = preau_core::demo::generate(&t.db, clock.now_ms(), clock.today(), &hash)
            .await
            .expect("demo");
        let events_after_demo = t.db.outbox_len().await.expect("outbox");
        let showcase = demo.showcase();
        let account = |profile: &str| {
            showcase
                .iter()
                .find(|(p, _)| *p == profile)
                .map(|(_, a)| (*a).clone())
                .expect("showcase account")
        };
        let (student, teacher) = (account("eleve"), account("enseignant"));
        let uai = student.attachments[0].uai.clone();
        let student_id =
            t.db.user_by_login(&student.login)
                .await
                .expect("read")
                .expect("student")
                .id;
        let establishments = t.db.establishments().await.expect("establishments");
        let establishment_id = establishments
            .iter()
            .find(|e| e.uai == uai)
            .expect("here")
            .id
            .clone();
        let other_establishment_id = establishments
            .iter()
            .find(|e| e.uai != uai)
            .expect("other")
            .id
            .clone();
        let lifecycle = Lifecycle::new(t.db.clone(), clock, data.path(), Vec::new(), "test");
        for (id, component, capabilities, extra) in PLUGINS {
            let package = package(
                data.path(),
                component,
                &manifest(id, &format!("{component}.wasm"), capabilities, extra),
            );
            lifecycle.install(&package, true).await.expect("install");
            lifecycle.enable(id, &uai, None).await.expect("enable");
        }
        let mut config = Config::load(None, Vec::new()).expect("defaults");
        config.data_dir = data.path().to_path_buf();
        World {
            t,
            data,
            clock,
            config: Arc::new(config),
            lifecycle,
            uai,
            establishment_id,
            other_establishment_id,
            student: student_id,
            student_login: student.login,
            teacher_login: teacher.login,
            events_after_demo,
        }
    }

    /// A fresh host, as a restarted server has.
    pub fn host(&self) -> Arc<PluginHost> {
        Arc::new(PluginHost::new(
            self.t.db.clone(),
            self.clock,
            self.data.path(),
            self.config.plugins.clone(),
        ))
    }

    /// A worker on a fresh host retrying at once, giving up after 3 attempts.
    fn worker(&self) -> EventWorker {
        EventWorker::new(self.t.db.clone(), self.clock, self.host()).with_settings(Settings {
            backoff_base: Duration::ZERO,
            max_attempts: 3,
            ..Settings::default()
        })
    }

    fn db(&self) -> &Db {
        &self.t.db
    }

    /// Whether the other establishment's outbox is empty.
    async fn other_establishment_has_no_events(&self) -> bool {
        self.db()
            .outbox_events(&self.other_establishment_id)
            .await
            .expect("events")
            .is_empty()
    }

    /// The events of the collège, as (kind, target plugin, subject).
    async fn events(&self) -> Vec<(String, Option<String>, Option<String>, String)> {
        self.db()
            .outbox_events(&self.establishment_id)
            .await
            .expect("events")
            .into_iter()
            .map(|e| (e.kind, e.plugin, e.subject, e.id))
            .collect()
    }
}

/// Packs `component` with `manifest` into a `.preau` under `root`.
pub(crate) fn package(root: &Path, component: &str, manifest: &str) -> std::path::PathBuf {
    let dir = root.join(format!("src-{component}-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).expect("dir");
    std::fs::write(
        dir.join(format!("{component}.wasm")),
        plugins::component(component),
    )
    .expect("component");
    std::fs::write(dir.join("plugin.toml"), manifest).expect("manifest");
    let bytes = preau_package::pack(&dir).expect("pack");
    let out = dir.with_extension("preau");
    std::fs::write(&out, bytes).expect("package");
    out
}

/// (plugin, attempts, outcome) of each delivery of `event_id`.
async fn deliveries(db: &Db, event_id: &str) -> Vec<(String, i32, Option<String>)> {
    db.event_deliveries(event_id)
        .await
        .expect("deliveries")
        .into_iter()
        .map(|d: DeliveryRow| (d.plugin, d.attempts, d.outcome))
        .collect()
}

fn row(plugin: &str, attempts: i32, outcome: Option<&str>) -> (String, i32, Option<String>) {
    (plugin.to_owned(), attempts, outcome.map(str::to_owned))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outbox_delivery_after_a_crash_between_commit_and_delivery() {
    let w = World::new().await;
    assert_eq!(
        w.events_after_demo, 0,
        "nothing was enabled: the demo wrote no event"
    );

    // Each enable committed its `plugin.enabled` event, for that plugin only. No worker ran:
    // the server "crashed" right after the commits.
    let events = w.events().await;
    let kinds: Vec<_> = events
        .iter()
        .map(|(k, p, s, _)| (k.as_str(), p.as_deref(), s.clone()))
        .collect();
    assert_eq!(
        kinds,
        [
            ("plugin.enabled", Some("essai:notes"), None),
            ("plugin.enabled", Some("essai:bonjour"), None),
            ("plugin.enabled", Some("essai:piege"), None),
        ]
    );
    for (_, _, _, id) in &events {
        assert!(deliveries(w.db(), id).await.is_empty(), "not listed yet");
    }

    // A departure commits with its event, to every plugin enabled where the student is attached.
    w.db()
        .set_user_state(&w.student, "departed", w.clock.now_ms())
        .await
        .expect("depart");
    let events = w.events().await;
    let (kind, target, subject, departed) = events.last().expect("event").clone();
    assert_eq!(
        (kind.as_str(), target, subject.as_deref()),
        ("account.deleted", None, Some(w.student.as_str()))
    );
    // Departing twice announces nothing more.
    w.db()
        .set_user_state(&w.student, "departed", w.clock.now_ms())
        .await
        .expect("depart again");
    assert_eq!(w.events().await.len(), 4);

    // A new server: a fresh host and worker deliver everything, once to each plugin that
    // accepts it; the panicking plugin is retried.
    let report = w.worker().run_once().await.expect("run");
    assert_eq!(
        report,
        RunReport {
            events: 4,
            listed: 6,
            delivered: 4,
            retried: 2,
            ..RunReport::default()
        }
    );
    let enabled_notes = &events[0].3;
    let enabled_hostile = &events[2].3;
    assert_eq!(
        deliveries(w.db(), enabled_notes).await,
        [row("essai:notes", 1, Some("delivered"))]
    );
    assert_eq!(
        deliveries(w.db(), enabled_hostile).await,
        [row("essai:piege", 1, None)]
    );
    assert_eq!(
        deliveries(w.db(), &departed).await,
        [
            row("essai:bonjour", 1, Some("delivered")),
            row("essai:notes", 1, Some("delivered")),
            row("essai:piege", 1, None),
        ]
    );
    let failure = w
        .db()
        .event_deliveries(&departed)
        .await
        .expect("read")
        .into_iter()
        .find(|d| d.plugin == "essai:piege")
        .and_then(|d| d.last_error)
        .expect("the failure is recorded");
    assert!(!failure.is_empty());

    // Another restart: only the failing deliveries run again, until the cap (3 attempts).
    let report = w.worker().run_once().await.expect("run");
    assert_eq!((report.delivered, report.retried), (0, 2));
    let report = w.worker().run_once().await.expect("run");
    assert_eq!((report.delivered, report.gave_up), (0, 2));
    assert_eq!(
        deliveries(w.db(), &departed).await,
        [
            row("essai:bonjour", 1, Some("delivered")),
            row("essai:notes", 1, Some("delivered")),
            row("essai:piege", 3, Some("gave-up")),
        ]
    );
    assert_eq!(
        w.worker().run_once().await.expect("run"),
        RunReport::default(),
        "nothing is left to do"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_claim_lost_with_its_worker_is_delivered_again_and_disabled_plugins_are_skipped() {
    let w = World::new().await;
    // Deliver the `plugin.enabled` events first.
    w.worker().run_once().await.expect("run");

    // A newcomer in the collège, and one in a school without plugins (no event there).
    let mut tx = w.db().begin(w.clock.now_ms()).await.expect("begin");
    let pupil = tx
        .create_user(&NewUser {
            first_name: "Nour".into(),
            last_name: "Arrivée".into(),
            ..NewUser::default()
        })
        .await
        .expect("user");
    tx.attach(&pupil.id, &w.establishment_id, Profile::Eleve, None, &[])
        .await
        .expect("attach");
    tx.attach(
        &pupil.id,
        &w.other_establishment_id,
        Profile::Eleve,
        None,
        &[],
    )
    .await
    .expect("attach elsewhere");
    // And a new school year (no rollover runs it yet: the enqueue function does).
    let years = tx
        .enqueue_school_year_started("2027-2028")
        .await
        .expect("school year");
    assert_eq!(years, 1, "one establishment has plugins");
    tx.commit().await.expect("commit");
    assert!(w.other_establishment_has_no_events().await);
    let events = w.events().await;
    let created = events
        .iter()
        .find(|(k, ..)| k == "account.created")
        .expect("account.created");
    assert_eq!(created.2.as_deref(), Some(pupil.id.as_str()));
    let payload = w
        .db()
        .outbox_events(&w.establishment_id)
        .await
        .expect("events")
        .into_iter()
        .find(|e| e.id == created.3)
        .expect("event")
        .payload;
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&payload).expect("json"),
        serde_json::json!({"profiles": ["eleve"]})
    );
    let year = events
        .iter()
        .find(|(k, ..)| k == "school-year.started")
        .expect("school-year.started")
        .3
        .clone();

    // A worker lists and claims the school-year deliveries, then dies before delivering; its
    // lease has run out when the next worker comes.
    let now = w.clock.now_ms();
    let mut tx = w.db().begin(now).await.expect("begin");
    for event in tx.outbox_pending_events(64).await.expect("pending") {
        tx.outbox_fan_out(&event).await.expect("fan out");
    }
    let claimed = tx.outbox_claim(64, now - 1).await.expect("claim");
    tx.commit().await.expect("commit");
    assert_eq!(
        claimed.len(),
        7,
        "two events, three plugins each, and the hostile plugin's retry of `plugin.enabled`"
    );
    // Meanwhile the hostile plugin is disabled here.
    w.lifecycle
        .disable("essai:piege", &w.uai)
        .await
        .expect("disable");

    let report = w.worker().run_once().await.expect("run");
    assert_eq!(
        report.skipped, 3,
        "the disabled plugin is skipped: {report:?}"
    );
    assert_eq!(
        deliveries(w.db(), &year).await,
        [
            row("essai:bonjour", 2, Some("delivered")),
            row("essai:notes", 2, Some("delivered")),
            row("essai:piege", 2, Some("skipped")),
        ]
    );
    // `account.created` reached the notes plugin; the greeting plugin's notification is up
    // to the notification centre, so its outcome is not asserted here.
    let created = deliveries(w.db(), &created.3).await;
    assert!(created.contains(&row("essai:notes", 2, Some("delivered"))));
    assert!(created.contains(&row("essai:piege", 2, Some("skipped"))));

    // Old finished events are purged; pending ones stay.
    let later = w.clock.now_ms() + 8 * 24 * 3600 * 1000;
    let purged = w.db().purge_events(later).await.expect("purge");
    let left = w.db().outbox_len().await.expect("len");
    assert!(purged >= 4, "purged {purged}");
    for e in w
        .db()
        .outbox_events(&w.establishment_id)
        .await
        .expect("events")
    {
        assert!(
            w.db()
                .event_deliveries(&e.id)
                .await
                .expect("deliveries")
                .iter()
                .any(|d| d.outcome.is_none()),
            "only events still awaited are left ({left})"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_nodes_delivering_at_once_deliver_each_event_once() {
    let w = World::new().await;
    let mut tx = w.db().begin(w.clock.now_ms()).await.expect("begin");
    for year in 2027..2037 {
        tx.enqueue_school_year_started(&format!("{year}-{}", year + 1))
            .await
            .expect("enqueue");
    }
    tx.commit().await.expect("commit");
    // Two servers, small batches, no retry within the test.
    let node = || {
        EventWorker::new(w.t.db.clone(), w.clock, w.host()).with_settings(Settings {
            batch: 4,
            parallelism: 4,
            backoff_base: Duration::from_secs(3600),
            ..Settings::default()
        })
    };
    let (a, b) = (node(), node());
    let (ra, rb) = tokio::join!(a.run_once(), b.run_once());
    let (ra, rb) = (ra.expect("node a"), rb.expect("node b"));
    // 13 events (3 `plugin.enabled`, 10 school years); 2 + 20 accepted, 1 + 10 failures.
    assert_eq!(ra.events + rb.events, 13);
    assert_eq!(ra.delivered + rb.delivered, 22, "{ra:?} {rb:?}");
    assert_eq!(ra.retried + rb.retried, 11, "{ra:?} {rb:?}");
    assert_eq!(ra.lost + rb.lost, 0);
    for (_, _, _, id) in w.events().await {
        for (plugin, attempts, _) in deliveries(w.db(), &id).await {
            assert_eq!(attempts, 1, "{plugin} got event {id} once");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_maintenance_announces_a_new_school_year_once_and_only_a_new_one() {
    let w = World::new().await;
    let at = |day: &str| {
        Clock::new(
            chrono_tz::Europe::Paris,
            Some(ClockOverride::parse(day).expect("day")),
        )
    };
    let started = |w: &World| {
        let db = w.db().clone();
        let id = w.establishment_id.clone();
        async move {
            db.outbox_events(&id)
                .await
                .expect("events")
                .into_iter()
                .filter(|e| e.kind == "school-year.started")
                .map(|e| e.payload)
                .collect::<Vec<_>>()
        }
    };
    // The year running when Préau first runs is only recorded: nothing to archive yet.
    let report = run_purges(w.db(), &at("2026-11-30"), &w.config)
        .await
        .expect("first run");
    assert_eq!(report.school_year_events, 0);
    assert!(started(&w).await.is_empty());
    // Later in the same year: nothing either.
    let report = run_purges(w.db(), &at("2027-07-31"), &w.config)
        .await
        .expect("summer");
    assert_eq!(report.school_year_events, 0);
    // The first run on 1 August announces 2027-2028 where plugins are enabled (the collège),
    // and only there.
    let report = run_purges(w.db(), &at("2027-08-01"), &w.config)
        .await
        .expect("rollover");
    assert_eq!(report.school_year_events, 1);
    let payloads = started(&w).await;
    assert_eq!(payloads.len(), 1);
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&payloads[0]).expect("json"),
        serde_json::json!({"school-year": "2027-2028"})
    );
    assert!(w.other_establishment_has_no_events().await);
    // Two nodes' next runs, and a clock set back to the previous year, announce nothing more.
    let (first, second) = (at("2027-08-01"), at("2027-08-02"));
    let (a, b) = tokio::join!(
        run_purges(w.db(), &first, &w.config),
        run_purges(w.db(), &second, &w.config)
    );
    assert_eq!(a.expect("node a").school_year_events, 0);
    assert_eq!(b.expect("node b").school_year_events, 0);
    let report = run_purges(w.db(), &at("2027-06-01"), &w.config)
        .await
        .expect("clock set back");
    assert_eq!(report.school_year_events, 0);
    assert_eq!(started(&w).await.len(), 1);
    // The event reaches the enabled plugins like any other.
    let run = w.worker().run_once().await.expect("deliver");
    assert!(run.delivered >= 1, "{run:?}");
}
