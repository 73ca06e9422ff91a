//! Plugin storage over 100,000 documents in one (plugin, establishment): point reads, index range
//! queries (equality + datetime range; French-collated names), and transactional writes (a
//! booking with its guard document, as the réservations pattern does). SQLite by default;
//! PostgreSQL when `PREAU_TEST_DATABASE_URL` is set.
//! Run: `cargo bench -p preau-core --bench plugin_storage`.

use std::ops::Bound;
use std::sync::atomic::{AtomicU64, Ordering};

use criterion::{Criterion, criterion_group, criterion_main};
use preau_core::clock::Clock;
use preau_core::store::documents::{Precondition, Query, WriteOp};
use preau_core::store::encoding::IndexValue;
use preau_core::store::spec::{CollectionSpec, FieldType, IndexField, IndexSpec, StoreSpec};
use preau_core::store::{Limits, PluginId, PluginStorage, Scope};
use preau_core::testing::{TestDb, college};

const DOCUMENTS: usize = 100_000;
const ROOMS: usize = 50;
const SLOTS: usize = 10;
const FIRST_NAMES: [&str; 10] = [
    "Anaïs", "Émile", "Zoé", "Noël", "Chloé", "Jérôme", "Loïc", "Hélène", "Ève", "Inès",
];
const LAST_NAMES: [&str; 10] = [
    "Dupont", "Lefèvre", "Œuvrard", "Durand", "Éluard", "Martin", "Bénard", "Çelik", "Nguyen",
    "Roux",
];

fn spec() -> StoreSpec {
    StoreSpec::new(vec![
        CollectionSpec {
            name: "bookings".into(),
            indexes: vec![
                IndexSpec {
                    name: "by-room".into(),
                    fields: vec![
                        IndexField::new("room", FieldType::String),
                        IndexField::new("start", FieldType::Datetime),
                    ],
                    unique: false,
                },
                IndexSpec {
                    name: "by-name".into(),
                    fields: vec![IndexField::french("by")],
                    unique: false,
                },
            ],
        },
        CollectionSpec {
            name: "guards".into(),
            indexes: vec![],
        },
    ])
    .expect("spec")
}

fn booking(n: usize) -> (String, String) {
    let room = n % ROOMS;
    let day = n / (ROOMS * SLOTS);
    let slot = (n / ROOMS) % SLOTS;
    let date =
        chrono::NaiveDate::from_ymd_opt(2026, 9, 1).expect("date") + chrono::Days::new(day as u64);
    let body = serde_json::json!({
        "room": format!("salle-{room:02}"),
        "start": format!("{date}T{:02}:00:00+02:00", 8 + slot),
        "by": format!("{} {}", FIRST_NAMES[n % 10], LAST_NAMES[(n / 10) % 10]),
        "note": "cours de sciences, groupe B",
    });
    (format!("salle-{room:02}/{date}/{slot}"), body.to_string())
}

fn plugin_storage(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let files = tempfile::tempdir().expect("dir");
    let spec = spec();
    let (t, storage, scope) = rt.block_on(async {
        let t = TestDb::with_connections(8).await;
        let mut tx = t.db.begin(0).await.expect("begin");
        let school = tx
            .create_establishment(&college(750_652, "Collège"))
            .await
            .expect("school");
        tx.commit().await.expect("commit");
        let storage = PluginStorage::new(
            t.db.clone(),
            Clock::system(chrono_tz::Europe::Paris),
            files.path(),
        );
        let scope = Scope::new(
            PluginId::parse("bench:reservations").expect("id"),
            school.id,
        );
        let docs = storage.documents(&scope, &spec, Limits::default());
        let started = std::time::Instant::now();
        for chunk in (0..DOCUMENTS).collect::<Vec<_>>().chunks(250) {
            let ops = chunk
                .iter()
                .map(|n| {
                    let (key, body) = booking(*n);
                    WriteOp::Put {
                        collection: "bookings".into(),
                        key,
                        body,
                        subjects: vec![],
                        precondition: None,
                    }
                })
                .collect();
            docs.commit(ops).await.expect("load");
        }
        eprintln!(
            "loaded {DOCUMENTS} documents in {:.1} s",
            started.elapsed().as_secs_f64()
        );
        t.db.analyze().await.expect("analyze");
        (t, storage, scope)
    });
    let docs = storage.documents(&scope, &spec, Limits::default());
    let engine = format!("{:?}", t.db.engine()).to_lowercase();
    let mut group = c.benchmark_group(format!("plugin_storage/{engine}"));
    let counter = AtomicU64::new(0);

    group.bench_function("get_point_read", |b| {
        b.to_async(&rt).iter(|| async {
            let n = counter.fetch_add(7919, Ordering::Relaxed) as usize % DOCUMENTS;
            docs.get("bookings", &booking(n).0)
                .await
                .expect("get")
                .expect("present")
        })
    });
    group.bench_function("index_range_room_week_page_50", |b| {
        b.to_async(&rt).iter(|| async {
            let room = counter.fetch_add(1, Ordering::Relaxed) as usize % ROOMS;
            let q = Query {
                equals: vec![IndexValue::String(format!("salle-{room:02}"))],
                lower: Bound::Included(IndexValue::Datetime("2026-10-05T00:00:00+02:00".into())),
                upper: Bound::Excluded(IndexValue::Datetime("2026-10-12T00:00:00+02:00".into())),
                limit: Some(50),
                ..Query::index("bookings", "by-room")
            };
            let page = docs.query(&q).await.expect("query");
            assert_eq!(page.documents.len(), 50);
        })
    });
    group.bench_function("index_french_names_page_50", |b| {
        b.to_async(&rt).iter(|| async {
            let q = Query {
                lower: Bound::Included(IndexValue::String("Hélène".into())),
                limit: Some(50),
                ..Query::index("bookings", "by-name")
            };
            docs.query(&q).await.expect("query")
        })
    });
    group.bench_function("commit_booking_with_guard", |b| {
        b.to_async(&rt).iter(|| async {
            let n = counter.fetch_add(1, Ordering::Relaxed);
            let body =
                r#"{"room":"salle-99","start":"2027-01-04T08:00:00+01:00","by":"Zoé Martin"}"#;
            let ops = vec![
                WriteOp::Put {
                    collection: "bookings".into(),
                    key: format!("salle-99/new/{n}"),
                    body: body.into(),
                    subjects: vec![],
                    precondition: Some(Precondition::Absent),
                },
                WriteOp::Put {
                    collection: "guards".into(),
                    key: format!("salle-99/{}", n % 200),
                    body: format!(r#"{{"last":{n}}}"#),
                    subjects: vec![],
                    precondition: None,
                },
            ];
            docs.commit(ops).await.expect("commit")
        })
    });
    group.finish();
    drop(t);
}

criterion_group!(benches, plugin_storage);
criterion_main!(benches);
