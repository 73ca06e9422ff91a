//! The plugin storage, on both engines (SQLite by default, PostgreSQL when
//! `PREAU_TEST_DATABASE_URL` is set): scoping, index queries with French names, unique indexes,
//! transactions with preconditions, files (quota, traversal, planted symlinks), the privacy
//! support, index rebuilds, and the two concurrency stories of the issue.

use std::ops::Bound;
use std::sync::Arc;

use preau_core::clock::Clock;
use preau_core::db::identity::NewUser;
use preau_core::store::documents::{Outcome, Precondition, Query, WriteOp};
use preau_core::store::encoding::IndexValue;
use preau_core::store::spec::{CollectionSpec, FieldType, IndexField, IndexSpec, StoreSpec};
use preau_core::store::{Conflict, Limits, PluginId, PluginStorage, Revision, Scope, StoreError};
use preau_core::testing::{TestDb, college};
use serde_json::json;
use tokio::io::AsyncReadExt;

struct World {
    t: TestDb,
    storage: PluginStorage,
    _files: tempfile::TempDir,
    schools: [String; 2],
    users: Vec<String>,
}

async fn world_with(connections: u32) -> World {
    let t = TestDb::with_connections(connections).await;
    let mut tx = t.db.begin(0).await.expect("begin");
    let a = tx
        .create_establishment(&college(750_652, "Collège A"))
        .await
        .expect("school a");
    let b = tx
        .create_establishment(&college(750_700, "Collège B"))
        .await
        .expect("school b");
    let mut users = Vec::new();
    for n in 0..3 {
        let u = tx
            .create_user(&NewUser {
                first_name: format!("Élève{n}"),
                last_name: "Test".into(),
                ..NewUser::default()
            })
            .await
            .expect("user");
        users.push(u.id);
    }
    tx.commit().await.expect("commit");
    let files = tempfile::tempdir().expect("files dir");
    let storage = PluginStorage::new(
        t.db.clone(),
        Clock::system(chrono_tz::Europe::Paris),
        files.path(),
    );
    World {
        t,
        storage,
        _files: files,
        schools: [a.id, b.id],
        users,
    }
}

async fn world() -> World {
    world_with(4).await
}

fn plugin(id: &str) -> PluginId {
    PluginId::parse(id).expect("plugin id")
}

/// Students with French names, their class, birth date, year and whether they board.
fn students_spec() -> StoreSpec {
    StoreSpec::new(vec![
        CollectionSpec {
            name: "students".into(),
            indexes: vec![
                IndexSpec {
                    name: "by-name".into(),
                    fields: vec![IndexField::french("name")],
                    unique: false,
                },
                IndexSpec {
                    name: "by-class".into(),
                    fields: vec![
                        IndexField::new("class", FieldType::String),
                        IndexField::french("name"),
                    ],
                    unique: false,
                },
                IndexSpec {
                    name: "by-birth".into(),
                    fields: vec![IndexField::new("born", FieldType::Datetime)],
                    unique: false,
                },
                IndexSpec {
                    name: "by-year".into(),
                    fields: vec![
                        IndexField::new("boarder", FieldType::Boolean),
                        IndexField::new("year", FieldType::Integer),
                    ],
                    unique: false,
                },
                IndexSpec {
                    name: "by-ine".into(),
                    fields: vec![IndexField::new("ine", FieldType::String)],
                    unique: true,
                },
            ],
        },
        CollectionSpec {
            name: "notes".into(),
            indexes: vec![],
        },
    ])
    .expect("spec")
}

fn put(
    collection: &str,
    key: &str,
    body: serde_json::Value,
    precondition: Option<Precondition>,
) -> WriteOp {
    WriteOp::Put {
        collection: collection.into(),
        key: key.into(),
        body: body.to_string(),
        subjects: vec![],
        precondition,
    }
}

fn conflict(r: Result<Vec<Outcome>, StoreError>) -> Conflict {
    match r {
        Err(StoreError::Conflict(c)) => c,
        other => panic!("expected a conflict, got {other:?}"),
    }
}

fn keys(page: &preau_core::store::documents::Page) -> Vec<String> {
    page.documents.iter().map(|d| d.key.clone()).collect()
}

#[tokio::test]
async fn scoping_keeps_plugins_and_establishments_apart() {
    let w = world().await;
    let spec = students_spec();
    let limits = Limits::default();
    let scopes: Vec<Scope> = ["ville-a:carnet", "ville-b:carnet"]
        .iter()
        .flat_map(|p| {
            w.schools
                .iter()
                .map(move |s| Scope::new(plugin(p), s.clone()))
        })
        .collect();
    // Same collection, same keys, same index values everywhere; only the body says whose it is.
    for (n, scope) in scopes.iter().enumerate() {
        let docs = w.storage.documents(scope, &spec, limits);
        for key in ["k1", "k2"] {
            let ine = format!("X{}", &key[1..]);
            docs.put(
                "students",
                key,
                &json!({"name": "Zoé", "owner": n, "ine": ine}).to_string(),
                &[],
            )
            .await
            .expect("put");
        }
        let files = w.storage.files(scope, limits);
        files
            .put(
                "a/b.txt",
                "text/plain",
                &[],
                format!("scope {n}").as_bytes(),
            )
            .await
            .expect("file");
    }
    for (n, scope) in scopes.iter().enumerate() {
        let docs = w.storage.documents(scope, &spec, limits);
        let doc = docs
            .get("students", "k1")
            .await
            .expect("get")
            .expect("present");
        assert_eq!(
            doc.json()["owner"],
            json!(n),
            "each scope reads its own document"
        );
        for query in [
            Query::all("students"),
            Query::index("students", "by-name"),
            Query::index("students", "by-ine"),
        ] {
            let page = docs.query(&query).await.expect("query");
            assert_eq!(page.documents.len(), 2, "{query:?}");
            assert!(page.documents.iter().all(|d| d.json()["owner"] == json!(n)));
        }
        let (meta, mut file) = w
            .storage
            .files(scope, limits)
            .open("a/b.txt")
            .await
            .expect("open");
        let mut text = String::new();
        file.read_to_string(&mut text).await.expect("read");
        assert_eq!(
            (text.as_str(), meta.size),
            (format!("scope {n}").as_str(), text.len() as u64)
        );
        assert_eq!(
            w.storage
                .files(scope, limits)
                .usage()
                .await
                .expect("usage")
                .files,
            1
        );
    }
    // A cursor made in one scope only pages within the scope that uses it.
    let first = w.storage.documents(&scopes[0], &spec, limits);
    let page = first
        .query(&Query {
            limit: Some(1),
            ..Query::all("students")
        })
        .await
        .expect("page");
    let other = w.storage.documents(&scopes[3], &spec, limits);
    let rest = other
        .query(&Query {
            cursor: page.next_cursor.clone(),
            ..Query::all("students")
        })
        .await
        .expect("rest");
    assert!(rest.documents.iter().all(|d| d.json()["owner"] == json!(3)));
    // Deleting in one scope leaves the others whole; undeclared collections are refused.
    assert!(first.delete("students", "k1").await.expect("delete"));
    for scope in &scopes[1..] {
        assert!(
            w.storage
                .documents(scope, &spec, limits)
                .get("students", "k1")
                .await
                .expect("get")
                .is_some()
        );
    }
    let e = first
        .get("secrets", "k1")
        .await
        .expect_err("undeclared")
        .to_string();
    assert!(e.starts_with("collection:"), "{e}");
    // The unique index is per scope too: "X2" is held once in each.
    let e = first
        .put(
            "students",
            "k3",
            &json!({"name": "A", "ine": "X2"}).to_string(),
            &[],
        )
        .await;
    assert!(
        matches!(e, Err(StoreError::Conflict(Conflict::Unique { ref holder, .. })) if holder == "k2"),
        "{e:?}"
    );
}

#[tokio::test]
async fn index_queries_order_and_paginate_french_names() {
    let w = world().await;
    let spec = students_spec();
    let scope = Scope::new(plugin("ville-a:carnet"), w.schools[0].clone());
    let docs = w.storage.documents(&scope, &spec, Limits::default());
    let names = [
        "Zoé",
        "émile",
        "Émilie",
        "Durand",
        "Dupont",
        "Éloïse",
        "Eloise",
        "Cédric",
        "Cecile",
        "Œdipe",
        "Oscar",
        "Ode",
        "Lefèvre",
        "Lefebvre",
        "Anaïs",
        "Ana",
        "Benoît",
        "Bérénice",
        "Yannick",
        "Ève",
        "Eve",
        "Çava",
        "Noël",
        "Noé",
    ];
    for (n, name) in names.iter().enumerate() {
        let body = json!({
            "name": name,
            "class": if n % 2 == 0 { "4A" } else { "4B" },
            "born": format!("2012-{:02}-{:02}T08:00:00+02:00", n % 12 + 1, n + 1),
            "year": 2012 + (n as i64 % 3),
            "boarder": n % 3 == 0,
        });
        docs.put("students", &format!("s{n:02}"), &body.to_string(), &[])
            .await
            .expect("put");
    }
    let mut expected: Vec<&str> = names.to_vec();
    expected.sort_by(|a, b| preau_collate::compare(a, b).then(a.cmp(b)));
    let name_of = |key: &str| names[key[1..].parse::<usize>().expect("n")];

    // Every page of 5, ascending then descending, in French order.
    for descending in [false, true] {
        let mut got = Vec::new();
        let mut cursor = None;
        loop {
            let q = Query {
                descending,
                limit: Some(5),
                cursor,
                ..Query::index("students", "by-name")
            };
            let page = docs.query(&q).await.expect("page");
            assert!(page.documents.len() <= 5);
            got.extend(keys(&page).iter().map(|k| name_of(k)));
            cursor = page.next_cursor;
            if cursor.is_none() {
                break;
            }
        }
        let mut want = expected.clone();
        if descending {
            want.reverse();
        }
        // Exact ties at every level cannot occur here: every name differs.
        assert_eq!(got, want, "descending={descending}");
    }
    let pos = |n: &str| expected.iter().position(|x| *x == n).expect("present");
    assert!(
        pos("Dupont") < pos("Durand")
            && pos("Durand") < pos("Éloïse")
            && pos("Ève") < pos("Lefebvre")
    );

    // Equality on the class, a range on the name: 4A from "D" (included) to "M" (excluded).
    let q = Query {
        equals: vec![IndexValue::String("4A".into())],
        lower: Bound::Included(IndexValue::String("D".into())),
        upper: Bound::Excluded(IndexValue::String("M".into())),
        ..Query::index("students", "by-class")
    };
    let got: Vec<&str> = keys(&docs.query(&q).await.expect("query"))
        .iter()
        .map(|k| name_of(k))
        .collect();
    let want: Vec<&str> = expected
        .iter()
        .copied()
        .filter(|n| {
            let i = names.iter().position(|x| x == n).expect("n");
            i % 2 == 0
                && preau_collate::compare(n, "D").is_ge()
                && preau_collate::compare(n, "M").is_lt()
        })
        .collect();
    assert!(!want.is_empty());
    assert_eq!(got, want);

    // Integers under an equality on a boolean, bounds included and excluded.
    let q = Query {
        equals: vec![IndexValue::Boolean(true)],
        lower: Bound::Excluded(IndexValue::Integer(2012)),
        upper: Bound::Included(IndexValue::Integer(2014)),
        ..Query::index("students", "by-year")
    };
    let page = docs.query(&q).await.expect("query");
    let want: Vec<String> = (0..names.len())
        .filter(|n| n % 3 == 0 && 2012 + (*n as i64 % 3) > 2012)
        .map(|n| format!("s{n:02}"))
        .collect();
    let mut got = keys(&page);
    got.sort();
    assert_eq!(got, want);
    assert!(
        page.documents
            .windows(2)
            .all(|w| w[0].json()["year"].as_i64() <= w[1].json()["year"].as_i64())
    );

    // Datetimes compare as instants; the first three months of births, in order.
    let q = Query {
        lower: Bound::Included(IndexValue::Datetime("2012-01-01T00:00:00Z".into())),
        upper: Bound::Excluded(IndexValue::Datetime("2012-04-01T00:00:00+02:00".into())),
        ..Query::index("students", "by-birth")
    };
    let page = docs.query(&q).await.expect("query");
    let borns: Vec<String> = page
        .documents
        .iter()
        .map(|d| d.json()["born"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(
        borns.len(),
        names.iter().enumerate().filter(|(n, _)| n % 12 < 3).count()
    );
    let mut sorted = borns.clone();
    sorted.sort();
    assert_eq!(borns, sorted);

    // By key: bounds and pagination, bytewise.
    let q = Query {
        lower: Bound::Included(IndexValue::String("s05".into())),
        upper: Bound::Excluded(IndexValue::String("s10".into())),
        limit: Some(3),
        ..Query::all("students")
    };
    let first = docs.query(&q).await.expect("keys");
    assert_eq!(keys(&first), ["s05", "s06", "s07"]);
    let second = docs
        .query(&Query {
            cursor: first.next_cursor.clone(),
            ..q.clone()
        })
        .await
        .expect("keys");
    assert_eq!(
        (keys(&second), second.next_cursor),
        (vec!["s08".to_owned(), "s09".to_owned()], None)
    );

    // Named refusals: a wrong type, too many values, a foreign cursor, a bad limit.
    let bad = Query {
        equals: vec![IndexValue::Integer(4)],
        ..Query::index("students", "by-class")
    };
    assert!(
        docs.query(&bad)
            .await
            .expect_err("type")
            .to_string()
            .starts_with("query.equals.class")
    );
    let bad = Query {
        equals: vec![IndexValue::String("x".into()); 2],
        ..Query::index("students", "by-name")
    };
    assert!(
        docs.query(&bad)
            .await
            .expect_err("too many")
            .to_string()
            .starts_with("query.equals")
    );
    let bad = Query {
        cursor: first.next_cursor,
        ..Query::index("students", "by-name")
    };
    assert!(
        docs.query(&bad)
            .await
            .expect_err("cursor")
            .to_string()
            .starts_with("query.cursor")
    );
    let bad = Query {
        limit: Some(501),
        ..Query::all("students")
    };
    assert!(
        docs.query(&bad)
            .await
            .expect_err("limit")
            .to_string()
            .starts_with("query.limit")
    );
    let bad = Query::index("students", "by-nothing");
    assert!(
        docs.query(&bad)
            .await
            .expect_err("index")
            .to_string()
            .starts_with("index:")
    );
}

#[tokio::test]
async fn unique_indexes_refuse_a_second_holder_and_write_nothing() {
    let w = world().await;
    let spec = students_spec();
    let scope = Scope::new(plugin("ville-a:carnet"), w.schools[0].clone());
    let docs = w.storage.documents(&scope, &spec, Limits::default());
    docs.put(
        "students",
        "a",
        &json!({"name": "Ana", "ine": "123"}).to_string(),
        &[],
    )
    .await
    .expect("a");
    // Another document with the same value: refused, and the whole transaction with it.
    let r = docs
        .commit(vec![
            put(
                "notes",
                "n1",
                json!({"text": "written only if all is"}),
                None,
            ),
            put("students", "b", json!({"name": "Bob", "ine": "123"}), None),
        ])
        .await;
    assert_eq!(
        conflict(r),
        Conflict::Unique {
            op: 1,
            collection: "students".into(),
            index: "by-ine".into(),
            holder: "a".into()
        }
    );
    assert!(
        docs.get("notes", "n1").await.expect("get").is_none(),
        "nothing of the transaction was written"
    );
    assert!(docs.get("students", "b").await.expect("get").is_none());
    // The holder may rewrite itself; documents without the field never collide.
    docs.put(
        "students",
        "a",
        &json!({"name": "Ana B.", "ine": "123"}).to_string(),
        &[],
    )
    .await
    .expect("rewrite");
    docs.put("students", "c", &json!({"name": "Chloé"}).to_string(), &[])
        .await
        .expect("no ine");
    docs.put(
        "students",
        "d",
        &json!({"name": "Dan", "ine": null}).to_string(),
        &[],
    )
    .await
    .expect("null ine");
    // Moving the value within one transaction works: free it, then take it.
    docs.commit(vec![
        put("students", "a", json!({"name": "Ana", "ine": "999"}), None),
        put(
            "students",
            "b",
            json!({"name": "Bob", "ine": "123"}),
            Some(Precondition::Absent),
        ),
    ])
    .await
    .expect("swap");
    let page = docs
        .query(&Query {
            equals: vec![IndexValue::String("123".into())],
            ..Query::index("students", "by-ine")
        })
        .await
        .expect("query");
    assert_eq!(keys(&page), ["b"]);
}

#[tokio::test]
async fn transactions_apply_all_or_nothing_under_their_preconditions() {
    let w = world().await;
    let spec = students_spec();
    let scope = Scope::new(plugin("ville-a:carnet"), w.schools[0].clone());
    let docs = w.storage.documents(
        &scope,
        &spec,
        Limits {
            document_bytes: 1024,
            ..Limits::default()
        },
    );

    // "Absent": the first creation wins, the second is a typed conflict carrying the revision.
    let created = docs
        .commit(vec![put(
            "notes",
            "n",
            json!({"v": 1}),
            Some(Precondition::Absent),
        )])
        .await
        .expect("create");
    let Outcome::Written(r1) = created[0] else {
        panic!("written")
    };
    let c = conflict(
        docs.commit(vec![put(
            "notes",
            "n",
            json!({"v": 2}),
            Some(Precondition::Absent),
        )])
        .await,
    );
    assert_eq!(
        c,
        Conflict::Exists {
            op: 0,
            collection: "notes".into(),
            key: "n".into(),
            actual: r1
        }
    );

    // "At revision": an update from the current revision wins; a stale one loses.
    let updated = docs
        .commit(vec![put(
            "notes",
            "n",
            json!({"v": 2}),
            Some(Precondition::Revision(r1)),
        )])
        .await
        .expect("update");
    let Outcome::Written(r2) = updated[0] else {
        panic!("written")
    };
    assert_ne!(r1, r2);
    let c = conflict(
        docs.commit(vec![put(
            "notes",
            "n",
            json!({"v": 3}),
            Some(Precondition::Revision(r1)),
        )])
        .await,
    );
    assert_eq!(
        c,
        Conflict::Revision {
            op: 0,
            collection: "notes".into(),
            key: "n".into(),
            expected: r1,
            actual: Some(r2)
        }
    );
    let c = conflict(
        docs.commit(vec![put(
            "notes",
            "absent",
            json!({}),
            Some(Precondition::Revision(r1)),
        )])
        .await,
    );
    assert!(
        matches!(c, Conflict::Revision { actual: None, .. }),
        "{c:?}"
    );

    // Several documents: one failing operation (here the last) leaves every other untouched.
    let r = docs
        .commit(vec![
            put("notes", "m1", json!({"v": 1}), Some(Precondition::Absent)),
            WriteOp::Delete {
                collection: "notes".into(),
                key: "n".into(),
                revision: Some(r2),
            },
            WriteOp::Require {
                collection: "notes".into(),
                key: "n".into(),
                revision: r1,
            }
            .clone(),
        ])
        .await;
    assert!(
        matches!(r, Err(StoreError::Invalid { ref field, .. }) if field == "ops[2]"),
        "the same document twice: {r:?}"
    );
    let r = docs
        .commit(vec![
            put("notes", "m1", json!({"v": 1}), Some(Precondition::Absent)),
            WriteOp::Delete {
                collection: "notes".into(),
                key: "n".into(),
                revision: Some(r2),
            },
            put(
                "notes",
                "m2",
                json!({"v": 1}),
                Some(Precondition::Revision(Revision(42))),
            ),
        ])
        .await;
    assert_eq!(conflict(r).op(), 2);
    assert!(docs.get("notes", "m1").await.expect("get").is_none());
    assert_eq!(
        docs.get("notes", "n")
            .await
            .expect("get")
            .expect("still there")
            .revision,
        r2
    );

    // Require holds a document still; delete at a revision; delete of nothing says so.
    let done = docs
        .commit(vec![
            WriteOp::Require {
                collection: "notes".into(),
                key: "n".into(),
                revision: r2,
            },
            put("notes", "m1", json!({"v": 1}), Some(Precondition::Absent)),
        ])
        .await
        .expect("require");
    assert_eq!(done[0], Outcome::Checked);
    let c = conflict(
        docs.commit(vec![WriteOp::Require {
            collection: "notes".into(),
            key: "n".into(),
            revision: r1,
        }])
        .await,
    );
    assert_eq!(c.op(), 0);
    let c = conflict(
        docs.commit(vec![WriteOp::Delete {
            collection: "notes".into(),
            key: "n".into(),
            revision: Some(r1),
        }])
        .await,
    );
    assert!(matches!(c, Conflict::Revision { actual: Some(a), .. } if a == r2));
    let done = docs
        .commit(vec![WriteOp::Delete {
            collection: "notes".into(),
            key: "n".into(),
            revision: Some(r2),
        }])
        .await;
    assert_eq!(done.expect("delete"), vec![Outcome::Deleted(true)]);
    assert!(!docs.delete("notes", "n").await.expect("nothing to delete"));

    // Limits and malformed input, each named.
    let refused = |r: Result<Vec<Outcome>, StoreError>| match r {
        Err(StoreError::Invalid { field, .. } | StoreError::TooLarge { field, .. }) => field,
        other => panic!("expected a refusal, got {other:?}"),
    };
    let big = json!({"text": "x".repeat(2000)});
    assert_eq!(
        refused(docs.commit(vec![put("notes", "big", big, None)]).await),
        "ops[0].body"
    );
    let op = WriteOp::Put {
        collection: "notes".into(),
        key: "x".into(),
        body: "[1, 2]".into(),
        subjects: vec![],
        precondition: None,
    };
    assert_eq!(refused(docs.commit(vec![op]).await), "ops[0].body");
    let op = WriteOp::Put {
        collection: "notes".into(),
        key: "x".into(),
        body: "{}".into(),
        subjects: vec!["nobody".into()],
        precondition: None,
    };
    assert_eq!(refused(docs.commit(vec![op]).await), "ops[0].subjects");
    assert_eq!(
        refused(docs.commit(vec![put("notes", "", json!({}), None)]).await),
        "ops[0].key"
    );
    assert_eq!(
        refused(
            docs.commit(vec![put("notes", "a\nb", json!({}), None)])
                .await
        ),
        "ops[0].key"
    );
    assert_eq!(
        refused(docs.commit(vec![put("nope", "a", json!({}), None)]).await),
        "ops[0].collection"
    );
    let bad_type = put("students", "s", json!({"name": 12}), None);
    assert_eq!(
        refused(docs.commit(vec![bad_type]).await),
        "ops[0].body.name"
    );
    let many: Vec<WriteOp> = (0..257)
        .map(|n| put("notes", &format!("k{n}"), json!({}), None))
        .collect();
    assert_eq!(refused(docs.commit(many).await), "ops");
    assert_eq!(refused(docs.commit(vec![]).await), "ops");
    let roomy = w.storage.documents(&scope, &spec, Limits::default());
    // An index entry too long for PostgreSQL's B-tree is refused on both engines, by name.
    let long = put(
        "students",
        "long",
        json!({"class": "x".repeat(900), "name": "é".repeat(450)}),
        None,
    );
    assert_eq!(refused(roomy.commit(vec![long]).await), "ops[0].body.name");
    let bad = Query {
        lower: Bound::Included(IndexValue::String("a\u{0}b".into())),
        ..Query::all("students")
    };
    assert!(
        docs.query(&bad).await.is_err(),
        "control characters in key bounds"
    );
}

/// An index built while documents are being written ends with every document exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_index_rebuild_never_interleaves_with_writes() {
    let w = world_with(8).await;
    let p = plugin("ville-a:carnet");
    let scope = Arc::new(Scope::new(p.clone(), w.schools[0].clone()));
    let bare = Arc::new(
        StoreSpec::new(vec![CollectionSpec {
            name: "students".into(),
            indexes: vec![],
        }])
        .expect("spec"),
    );
    let storage = Arc::new(w.storage.clone());
    for n in 0..100 {
        let body = json!({"name": format!("Élève {n:03}")}).to_string();
        storage
            .documents(&scope, &bare, Limits::default())
            .put("students", &format!("s{n:03}"), &body, &[])
            .await
            .expect("put");
    }
    let indexed = StoreSpec::new(vec![CollectionSpec {
        name: "students".into(),
        indexes: vec![IndexSpec {
            name: "by-name".into(),
            fields: vec![IndexField::french("name")],
            unique: false,
        }],
    }])
    .expect("spec");
    let mut writers = Vec::new();
    for t in 0..4 {
        let (storage, scope, bare) = (storage.clone(), scope.clone(), bare.clone());
        writers.push(tokio::spawn(async move {
            for n in 0..25 {
                let k = t * 25 + n;
                // Rename existing documents and add new ones while the rebuild runs.
                let docs = storage.documents(&scope, &bare, Limits::default());
                let body = json!({"name": format!("Renommé {k:03}")}).to_string();
                docs.put("students", &format!("s{k:03}"), &body, &[])
                    .await
                    .expect("rename");
                docs.put("students", &format!("n{k:03}"), &body, &[])
                    .await
                    .expect("add");
            }
        }));
    }
    storage.sync_indexes(&p, &indexed).await.expect("build");
    for w in writers {
        w.await.expect("writer");
    }
    // Writes after the build used the old declaration: a second sync is a no-op for the
    // definition, so rebuild explicitly by dropping and building again, as enabling does.
    storage.sync_indexes(&p, &bare).await.expect("drop");
    storage.sync_indexes(&p, &indexed).await.expect("rebuild");
    let docs = storage.documents(&scope, &indexed, Limits::default());
    let page = docs
        .query(&Query {
            limit: Some(500),
            ..Query::index("students", "by-name")
        })
        .await
        .expect("query");
    let mut keys: Vec<String> = keys(&page);
    assert_eq!(keys.len(), 200, "every document once");
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), 200, "no document twice");
    assert!(page.documents.iter().all(|d| {
        d.json()["name"]
            .as_str()
            .is_some_and(|n| n.starts_with("Renommé"))
    }));
}

/// 50 transactions book overlapping slots of one room on one day through the guard pattern:
/// every booking also rewrites the guard document of (room, day) at the revision it read. All 50
/// read the empty guard before any commits, so every one but the first meets a typed conflict;
/// each then reads again and retries while its slot is free. Exactly one booking per slot wins.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_concurrent_bookings_of_one_room_one_winner_per_slot() {
    let w = world_with(16).await;
    let spec = StoreSpec::new(vec![
        CollectionSpec {
            name: "bookings".into(),
            indexes: vec![IndexSpec {
                name: "by-room".into(),
                fields: vec![
                    IndexField::new("room", FieldType::String),
                    IndexField::new("slot", FieldType::Integer),
                ],
                unique: false,
            }],
        },
        CollectionSpec {
            name: "guards".into(),
            indexes: vec![],
        },
    ])
    .expect("spec");
    let storage = Arc::new(w.storage.clone());
    let spec = Arc::new(spec);
    let scope = Arc::new(Scope::new(
        plugin("ville-a:reservations"),
        w.schools[0].clone(),
    ));
    const SLOTS: usize = 10;
    let guard_key = "salle-101/2026-11-30";
    let barrier = Arc::new(tokio::sync::Barrier::new(50));
    let mut tasks = Vec::new();
    for n in 0..50usize {
        let (storage, spec, scope, barrier) = (
            storage.clone(),
            spec.clone(),
            scope.clone(),
            barrier.clone(),
        );
        // Task n wants slot n % 10 (hours 8 to 17); a slot is a one-hour interval.
        tasks.push(tokio::spawn(async move {
            let docs = storage.documents(&scope, &spec, Limits::default());
            let slot = n % SLOTS;
            let mut conflicts = 0;
            let mut first = true;
            loop {
                let guard = docs.get("guards", guard_key).await.expect("guard");
                if first {
                    barrier.wait().await;
                    first = false;
                }
                let mut taken: Vec<usize> = guard
                    .as_ref()
                    .and_then(|g| serde_json::from_value(g.json()["slots"].clone()).ok())
                    .unwrap_or_default();
                if taken.contains(&slot) {
                    return (n, false, conflicts);
                }
                taken.push(slot);
                let precondition = match &guard {
                    Some(g) => Precondition::Revision(g.revision),
                    None => Precondition::Absent,
                };
                let booking = json!({"room": "salle-101", "slot": slot, "by": n});
                let ops = vec![
                    WriteOp::Put {
                        collection: "bookings".into(),
                        key: format!("salle-101/2026-11-30/{slot}"),
                        body: booking.to_string(),
                        subjects: vec![],
                        precondition: Some(Precondition::Absent),
                    },
                    put(
                        "guards",
                        guard_key,
                        json!({"slots": taken}),
                        Some(precondition),
                    ),
                ];
                match docs.commit(ops).await {
                    Ok(_) => return (n, true, conflicts),
                    Err(StoreError::Conflict(_)) => conflicts += 1,
                    Err(e) => panic!("task {n}: not a conflict: {e}"),
                }
            }
        }));
    }
    let mut winners = vec![Vec::new(); SLOTS];
    for task in tasks {
        let (n, won, conflicts) = task.await.expect("task");
        if won {
            winners[n % SLOTS].push(n);
        } else {
            assert!(
                conflicts >= 1,
                "task {n} lost without meeting the typed conflict"
            );
        }
    }
    for (slot, w) in winners.iter().enumerate() {
        assert_eq!(w.len(), 1, "slot {slot}: exactly one winner, got {w:?}");
    }
    // Nothing lost: every winner's booking is stored, and the guard lists every slot once.
    let docs = storage.documents(&scope, &spec, Limits::default());
    let page = docs
        .query(&Query {
            equals: vec![IndexValue::String("salle-101".into())],
            ..Query::index("bookings", "by-room")
        })
        .await
        .expect("bookings");
    let booked: Vec<(i64, i64)> = page
        .documents
        .iter()
        .map(|d| {
            (
                d.json()["slot"].as_i64().unwrap_or(-1),
                d.json()["by"].as_i64().unwrap_or(-1),
            )
        })
        .collect();
    let want: Vec<(i64, i64)> = winners
        .iter()
        .enumerate()
        .map(|(s, w)| (s as i64, w[0] as i64))
        .collect();
    assert_eq!(booked, want);
    let guard = docs
        .get("guards", guard_key)
        .await
        .expect("guard")
        .expect("present");
    let mut slots: Vec<usize> =
        serde_json::from_value(guard.json()["slots"].clone()).expect("slots");
    slots.sort();
    assert_eq!(slots, (0..SLOTS).collect::<Vec<_>>());
}

/// 50 revision-checked updates of one document, three rounds: in each, everyone read the same
/// revision, exactly one update wins and the 49 others get the typed conflict.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_concurrent_updates_of_one_document_one_winner_per_round() {
    let w = world_with(16).await;
    let spec = Arc::new(students_spec());
    let storage = Arc::new(w.storage.clone());
    let scope = Arc::new(Scope::new(plugin("ville-a:compteur"), w.schools[0].clone()));
    storage
        .documents(&scope, &spec, Limits::default())
        .put("notes", "counter", r#"{"n":0}"#, &[])
        .await
        .expect("seed");
    for round in 0..3 {
        let current = storage
            .documents(&scope, &spec, Limits::default())
            .get("notes", "counter")
            .await
            .expect("get")
            .expect("doc");
        let barrier = Arc::new(tokio::sync::Barrier::new(50));
        let mut tasks = Vec::new();
        for n in 0..50 {
            let (storage, spec, scope, barrier, current) = (
                storage.clone(),
                spec.clone(),
                scope.clone(),
                barrier.clone(),
                current.clone(),
            );
            tasks.push(tokio::spawn(async move {
                let docs = storage.documents(&scope, &spec, Limits::default());
                barrier.wait().await;
                let next = current.json()["n"].as_i64().unwrap_or(0) + 1;
                docs.commit(vec![put(
                    "notes",
                    "counter",
                    json!({"n": next, "by": n}),
                    Some(Precondition::Revision(current.revision)),
                )])
                .await
            }));
        }
        let (mut won, mut lost) = (0, 0);
        for task in tasks {
            match task.await.expect("task") {
                Ok(_) => won += 1,
                Err(StoreError::Conflict(Conflict::Revision { expected, .. }))
                    if expected == current.revision =>
                {
                    lost += 1
                }
                Err(e) => panic!("round {round}: not the typed conflict: {e}"),
            }
        }
        assert_eq!((won, lost), (1, 49), "round {round}");
        let after = storage
            .documents(&scope, &spec, Limits::default())
            .get("notes", "counter")
            .await
            .expect("get")
            .expect("doc");
        assert_eq!(after.json()["n"], json!(round + 1));
    }
}

/// Contents nothing references (a blob whose commit never came, an interrupted upload's
/// `.part`) are swept once they were last written an hour ago; referenced blobs, fresh orphans,
/// names the core does not give and symlinks are left.
#[tokio::test]
async fn orphan_contents_are_swept_and_nothing_else() {
    let w = world().await;
    let scope = Scope::new(plugin("ville-a:espace"), w.schools[0].clone());
    let files = w.storage.files(&scope, Limits::default());
    files
        .put("cours/sujet.pdf", "application/pdf", &[], &[7u8; 800][..])
        .await
        .expect("put");
    let dir = w
        ._files
        .path()
        .join("plugin-files/ville-a/espace")
        .join(&w.schools[0]);
    let two_hours_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(7200);
    let age = |name: &str| {
        std::fs::File::options()
            .write(true)
            .open(dir.join(name))
            .expect("open")
            .set_modified(two_hours_ago)
            .expect("age");
    };
    let referenced: Vec<String> = std::fs::read_dir(&dir)
        .expect("dir")
        .map(|e| e.expect("entry").file_name().into_string().expect("utf-8"))
        .collect();
    assert_eq!(referenced.len(), 1);
    age(&referenced[0]);
    let (orphan, part, fresh) = (
        preau_core::db::new_id(),
        format!("{}.part", preau_core::db::new_id()),
        preau_core::db::new_id(),
    );
    for (name, bytes) in [
        (&orphan, 300),
        (&part, 200),
        (&fresh, 100),
        (&"notes.txt".to_owned(), 50),
    ] {
        std::fs::write(dir.join(name), vec![1u8; bytes]).expect("write");
    }
    for name in [&orphan, &part, &"notes.txt".to_owned()] {
        age(name);
    }
    // A symlink with a content's name, old and leading to an old file, is neither followed nor
    // removed.
    let outside = w._files.path().join("outside.txt");
    std::fs::write(&outside, "à garder").expect("outside");
    let link = preau_core::db::new_id();
    std::os::unix::fs::symlink(&outside, dir.join(&link)).expect("symlink");
    for (path, no_dereference) in [(outside.clone(), false), (dir.join(&link), true)] {
        let mut touch = std::process::Command::new("touch");
        if no_dereference {
            touch.arg("-h");
        }
        let status = touch
            .args(["-d", "3 hours ago"])
            .arg(&path)
            .status()
            .expect("touch");
        assert!(status.success());
    }
    assert!(
        std::fs::symlink_metadata(dir.join(&link))
            .expect("link")
            .modified()
            .expect("mtime")
            < two_hours_ago,
        "the link itself is old"
    );

    let swept = w
        .storage
        .sweep_orphans(std::time::Duration::from_secs(3600))
        .await
        .expect("sweep");
    assert_eq!((swept.files, swept.bytes), (2, 500));
    let mut left: Vec<String> = std::fs::read_dir(&dir)
        .expect("dir")
        .map(|e| e.expect("entry").file_name().into_string().expect("utf-8"))
        .collect();
    left.sort();
    let mut expected = vec![referenced[0].clone(), fresh, "notes.txt".to_owned(), link];
    expected.sort();
    assert_eq!(left, expected);
    assert!(outside.exists(), "a symlink's target is never touched");
    let (_, mut file) = files.open("cours/sujet.pdf").await.expect("still there");
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes).await.expect("read");
    assert_eq!(bytes, vec![7u8; 800]);
    // A second sweep finds nothing more.
    let again = w
        .storage
        .sweep_orphans(std::time::Duration::from_secs(3600))
        .await
        .expect("sweep");
    assert_eq!(again.files, 0);
}

#[tokio::test]
async fn files_stream_under_quota_and_never_leave_their_directory() {
    let w = world().await;
    let scope = Scope::new(plugin("ville-a:espace"), w.schools[0].clone());
    let limits = Limits {
        file_bytes: 1000,
        file_quota_bytes: 2500,
        ..Limits::default()
    };
    let files = w.storage.files(&scope, limits);
    let meta = files
        .put("cours/sujet.pdf", "application/pdf", &[], &[7u8; 800][..])
        .await
        .expect("put");
    assert_eq!(
        (meta.size, meta.content_type.as_str()),
        (800, "application/pdf")
    );
    assert_eq!(meta.sha256.len(), 64);
    assert_eq!(
        files.stat("cours/sujet.pdf").await.expect("stat"),
        Some(meta.clone())
    );
    assert_eq!(files.stat("cours/absent.pdf").await.expect("stat"), None);
    assert!(
        files.stat("../etc/passwd").await.is_err(),
        "paths are checked"
    );
    let (_, mut f) = files.open("cours/sujet.pdf").await.expect("open");
    let mut back = Vec::new();
    f.read_to_end(&mut back).await.expect("read");
    assert_eq!(back, vec![7u8; 800]);
    // Replacing counts the difference only.
    files
        .put("cours/sujet.pdf", "application/pdf", &[], &[8u8; 900][..])
        .await
        .expect("replace");
    files
        .put("cours/corrigé.pdf", "application/pdf", &[], &[9u8; 900][..])
        .await
        .expect("second");
    let usage = files.usage().await.expect("usage");
    assert_eq!((usage.bytes, usage.files), (1800, 2));

    // Past the quota: refused with the figures, nothing stored, nothing left on disk.
    let e = files
        .put("cours/trop.pdf", "application/pdf", &[], &[1u8; 800][..])
        .await
        .expect_err("quota");
    assert!(
        matches!(
            e,
            StoreError::QuotaExceeded {
                quota: 2500,
                used: 1800,
                ..
            }
        ),
        "{e:?}"
    );
    assert!(e.to_string().contains("quota"), "{e}");
    // Past the file size limit, whatever the quota.
    let e = files
        .put("cours/gros.pdf", "application/pdf", &[], &[1u8; 1001][..])
        .await
        .expect_err("size");
    assert!(
        matches!(e, StoreError::TooLarge { ref field, .. } if field == "file"),
        "{e:?}"
    );
    assert_eq!(files.usage().await.expect("usage").bytes, 1800);
    assert!(files.open("cours/trop.pdf").await.is_err());
    let dir = w
        ._files
        .path()
        .join("plugin-files/ville-a/espace")
        .join(&w.schools[0]);
    let on_disk: Vec<String> = std::fs::read_dir(&dir)
        .expect("dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        on_disk.len(),
        2,
        "only the two stored blobs remain: {on_disk:?}"
    );
    assert!(
        on_disk.iter().all(|n| uuid::Uuid::try_parse(n).is_ok()),
        "{on_disk:?}"
    );

    // Paths that try to leave: refused before anything is read or written.
    for bad in [
        "../../etc/passwd",
        "/etc/passwd",
        "a/../../b",
        "..",
        ".",
        "a//b",
        "cours/.htaccess",
        "a\\..\\b",
    ] {
        let e = files
            .put(bad, "text/plain", &[], &b"x"[..])
            .await
            .expect_err(bad);
        assert!(
            matches!(e, StoreError::Invalid { ref field, .. } if field == "path"),
            "{bad}: {e:?}"
        );
        assert!(files.open(bad).await.is_err());
    }

    // A symlink planted in place of a blob is not followed.
    let secret = w._files.path().join("secret.txt");
    std::fs::write(&secret, "mot de passe").expect("secret");
    let blob = on_disk[0].clone();
    std::fs::remove_file(dir.join(&blob)).expect("remove blob");
    std::os::unix::fs::symlink(&secret, dir.join(&blob)).expect("plant");
    let listed = files.list("", None, 10).await.expect("list");
    let mut opened = Vec::new();
    for f in &listed {
        if let Ok((_, mut file)) = files.open(&f.path).await {
            let mut text = String::new();
            let _ = file.read_to_string(&mut text).await;
            opened.push(text);
        }
    }
    assert_eq!(
        opened.len(),
        1,
        "the file whose blob became a symlink does not open"
    );
    assert!(opened.iter().all(|t| !t.contains("mot de passe")));

    // A symlink planted in place of the scope's directory, leading out of the files root.
    let other = Scope::new(plugin("ville-a:espace"), w.schools[1].clone());
    let outside = tempfile::tempdir().expect("outside");
    std::os::unix::fs::symlink(
        outside.path(),
        w._files
            .path()
            .join("plugin-files/ville-a/espace")
            .join(&w.schools[1]),
    )
    .expect("plant dir");
    let e = w
        .storage
        .files(&other, limits)
        .put("x.txt", "text/plain", &[], &b"x"[..])
        .await
        .expect_err("escape");
    assert!(matches!(e, StoreError::Io(_)), "{e:?}");
    assert_eq!(
        std::fs::read_dir(outside.path()).expect("outside").count(),
        0,
        "nothing written outside"
    );

    assert!(files.list("cours/\u{0}", None, 10).await.is_err());
    // A quota lowered below what is held: growing is refused, shrinking still works.
    let tight = w.storage.files(
        &scope,
        Limits {
            file_quota_bytes: 1000,
            ..limits
        },
    );
    assert!(
        tight
            .put("cours/sujet.pdf", "application/pdf", &[], &[1u8; 950][..])
            .await
            .is_err()
    );
    tight
        .put("cours/sujet.pdf", "application/pdf", &[], &[1u8; 100][..])
        .await
        .expect("shrink");
    tight
        .put("cours/sujet.pdf", "application/pdf", &[], &[8u8; 900][..])
        .await
        .expect_err("grow again");
    files
        .put("cours/sujet.pdf", "application/pdf", &[], &[8u8; 900][..])
        .await
        .expect("restore");
    // Listing by prefix with pagination, and deleting.
    let page = files.list("cours/", None, 1).await.expect("list");
    assert_eq!(page.len(), 1);
    let rest = files
        .list("cours/", Some(&page[0].path), 10)
        .await
        .expect("list");
    assert_eq!(rest.len(), 1);
    assert!(files.delete("cours/corrigé.pdf").await.expect("delete"));
    assert!(
        !files
            .delete("cours/corrigé.pdf")
            .await
            .expect("delete again")
    );
    assert_eq!(
        files.usage().await.expect("usage"),
        preau_core::store::files::Usage {
            bytes: 900,
            files: 1,
            quota_bytes: 2500
        }
    );
    let e = files
        .put("x.txt", "not a type", &[], &b"x"[..])
        .await
        .expect_err("content type");
    assert!(
        matches!(e, StoreError::Invalid { ref field, .. } if field == "content_type"),
        "{e:?}"
    );
}

#[tokio::test]
async fn a_persons_data_is_listed_and_deleted_in_every_establishment() {
    let w = world().await;
    let spec = students_spec();
    let p = plugin("ville-a:carnet");
    let (alice, bob) = (w.users[0].clone(), w.users[1].clone());
    for school in &w.schools {
        let scope = Scope::new(p.clone(), school.clone());
        let docs = w.storage.documents(&scope, &spec, Limits::default());
        docs.put(
            "students",
            "alice",
            &json!({"name": "Alice", "ine": "A"}).to_string(),
            std::slice::from_ref(&alice),
        )
        .await
        .expect("a");
        docs.put(
            "students",
            "both",
            &json!({"name": "Alice et Bob"}).to_string(),
            // Written in capitals: stored canonical, so export and deletion still find it.
            &[alice.to_uppercase(), bob.clone(), alice.clone()],
        )
        .await
        .expect("ab");
        docs.put(
            "students",
            "bob",
            &json!({"name": "Bob"}).to_string(),
            std::slice::from_ref(&bob),
        )
        .await
        .expect("b");
        let files = w.storage.files(&scope, Limits::default());
        files
            .put(
                "alice.pdf",
                "application/pdf",
                std::slice::from_ref(&alice),
                &b"%PDF"[..],
            )
            .await
            .expect("file");
    }
    // Another plugin's data about Alice is not this plugin's.
    let other = Scope::new(plugin("ville-a:autre"), w.schools[0].clone());
    w.storage
        .documents(&other, &spec, Limits::default())
        .put("notes", "x", "{}", std::slice::from_ref(&alice))
        .await
        .expect("other");

    let data = w.storage.subject_data(&p, &alice).await.expect("export");
    assert_eq!(data.documents.len(), 4);
    assert_eq!(data.files.len(), 2);
    assert!(
        data.documents
            .iter()
            .all(|(_, d)| d.key == "alice" || d.key == "both")
    );
    let held = w.storage.holdings(&p).await.expect("holdings");
    assert_eq!((held.documents, held.files, held.file_bytes), (6, 2, 8));

    let deleted = w
        .storage
        .delete_subject_data(&p, &alice)
        .await
        .expect("delete");
    assert_eq!((deleted.documents, deleted.files), (4, 2));
    let after = w.storage.subject_data(&p, &alice).await.expect("export");
    assert!(after.documents.is_empty() && after.files.is_empty());
    for school in &w.schools {
        let scope = Scope::new(p.clone(), school.clone());
        let docs = w.storage.documents(&scope, &spec, Limits::default());
        let page = docs
            .query(&Query::index("students", "by-name"))
            .await
            .expect("query");
        assert_eq!(
            keys(&page),
            ["bob"],
            "deleted documents left no index entry"
        );
        let e = docs
            .query(&Query {
                equals: vec![IndexValue::String("A".into())],
                ..Query::index("students", "by-ine")
            })
            .await;
        assert!(e.expect("query").documents.is_empty());
    }
    assert_eq!(
        w.storage
            .subject_data(&p, &bob)
            .await
            .expect("bob")
            .documents
            .len(),
        2
    );
    assert_eq!(
        w.storage
            .subject_data(&plugin("ville-a:autre"), &alice)
            .await
            .expect("other")
            .documents
            .len(),
        1
    );

    // Purging the plugin empties it entirely, files included, and leaves the other plugin alone.
    let held = w.storage.purge(&p).await.expect("purge");
    assert_eq!(held.documents, 2);
    assert!(w.storage.holdings(&p).await.expect("holdings").is_empty());
    assert!(!w._files.path().join("plugin-files/ville-a/carnet").exists());
    assert!(
        !w.storage
            .holdings(&plugin("ville-a:autre"))
            .await
            .expect("other")
            .is_empty()
    );
}

#[tokio::test]
async fn indexes_are_built_rebuilt_and_dropped_with_the_declaration() {
    let w = world().await;
    let p = plugin("ville-a:carnet");
    let bare = StoreSpec::new(vec![CollectionSpec {
        name: "students".into(),
        indexes: vec![],
    }])
    .expect("spec");
    for (n, school) in w.schools.iter().enumerate() {
        let scope = Scope::new(p.clone(), school.clone());
        let docs = w.storage.documents(&scope, &bare, Limits::default());
        for (k, name) in ["Émile", "Ana", "Zoé"].iter().enumerate() {
            let body = json!({"name": name, "code": if k == 2 { "same".to_owned() } else { format!("c{n}{k}") }});
            docs.put("students", &format!("s{k}"), &body.to_string(), &[])
                .await
                .expect("put");
        }
        docs.put(
            "students",
            "s3",
            &json!({"name": "Bruno", "code": "same"}).to_string(),
            &[],
        )
        .await
        .expect("dup");
    }
    // A new index: built for the documents already there, in every establishment.
    let by_name = IndexSpec {
        name: "by-name".into(),
        fields: vec![IndexField::french("name")],
        unique: false,
    };
    let indexed = StoreSpec::new(vec![CollectionSpec {
        name: "students".into(),
        indexes: vec![by_name.clone()],
    }])
    .expect("spec");
    w.storage.sync_indexes(&p, &indexed).await.expect("build");
    for school in &w.schools {
        let scope = Scope::new(p.clone(), school.clone());
        let page = w
            .storage
            .documents(&scope, &indexed, Limits::default())
            .query(&Query::index("students", "by-name"))
            .await
            .expect("q");
        assert_eq!(keys(&page), ["s1", "s3", "s0", "s2"]);
    }
    // A unique index the documents violate: refused, naming both, and nothing changes.
    let unique = IndexSpec {
        name: "by-code".into(),
        fields: vec![IndexField::new("code", FieldType::String)],
        unique: true,
    };
    let strict = StoreSpec::new(vec![CollectionSpec {
        name: "students".into(),
        indexes: vec![by_name.clone(), unique],
    }])
    .expect("spec");
    let e = w
        .storage
        .sync_indexes(&p, &strict)
        .await
        .expect_err("violated")
        .to_string();
    assert!(
        e.starts_with("collections.students.indexes.by-code")
            && e.contains("s2")
            && e.contains("s3"),
        "{e}"
    );
    // Dropping the index: queries through it are refused by the declaration, entries are gone.
    w.storage.sync_indexes(&p, &bare).await.expect("drop");
    w.storage.sync_indexes(&p, &indexed).await.expect("rebuild");
    let scope = Scope::new(p.clone(), w.schools[0].clone());
    let page = w
        .storage
        .documents(&scope, &indexed, Limits::default())
        .query(&Query::index("students", "by-name"))
        .await
        .expect("q");
    assert_eq!(
        page.documents.len(),
        4,
        "rebuilt once, no duplicate entries"
    );
    drop(w.t);
}
