//! Identity queries on the demo directory (about 1,850 accounts): a parent's children, a teacher's
//! assignments, a class's members. SQLite by default; PostgreSQL when `PREAU_TEST_DATABASE_URL`
//! is set. Run: `cargo bench -p preau-core --bench identity`.

use criterion::{Criterion, criterion_group, criterion_main};
use preau_core::demo;
use preau_core::identity::{Profile, Uai};
use preau_core::testing::TestDb;

const YEAR: &str = "2026-2027";

fn identity_queries(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let (t, parent, teacher, class) = rt.block_on(async {
        let t = TestDb::new().await;
        let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 30).expect("date");
        let hash = preau_core::auth::password::hash("bench").expect("hash");
        let demo = demo::generate(&t.db, 0, today, &hash).await.expect("demo");
        let login_of = |pred: &dyn Fn(&demo::DemoAccount) -> bool| {
            demo.accounts
                .iter()
                .find(|a| pred(a))
                .map(|a| a.login.clone())
                .expect("account")
        };
        let parent = login_of(&|a| {
            a.attachments
                .iter()
                .filter(|x| x.profile == Profile::Parent)
                .count()
                > 1
        });
        let teacher = login_of(&|a| {
            a.attachments
                .iter()
                .any(|x| x.profile == Profile::Enseignant)
        });
        let parent =
            t.db.user_by_login(&parent)
                .await
                .expect("read")
                .expect("parent")
                .id;
        let teacher =
            t.db.user_by_login(&teacher)
                .await
                .expect("read")
                .expect("teacher")
                .id;
        let college =
            t.db.establishment(&Uai::from_number(750_652).expect("uai"))
                .await
                .expect("read")
                .expect("college");
        let class =
            t.db.class_groups_in(&college.id, YEAR)
                .await
                .expect("classes")[0]
                .id
                .clone();
        (t, parent, teacher, class)
    });
    let engine = format!("{:?}", t.db.engine()).to_lowercase();
    let mut group = c.benchmark_group(format!("identity/{engine}"));
    group.bench_function("children_of_parent", |b| {
        b.to_async(&rt)
            .iter(|| async { t.db.children_of(&parent, YEAR).await.expect("children") })
    });
    group.bench_function("teaching_assignments_of_teacher", |b| {
        b.to_async(&rt).iter(|| async {
            t.db.teaching_assignments_of(&teacher, YEAR)
                .await
                .expect("assignments")
        })
    });
    group.bench_function("members_of_class", |b| {
        b.to_async(&rt)
            .iter(|| async { t.db.members_of(&class).await.expect("members") })
    });
    group.finish();
    drop(t);
}

criterion_group!(benches, identity_queries);
criterion_main!(benches);
