//! Test support shared by the unit, integration and end-to-end suites: a fresh, migrated database
//! on SQLite (a temporary file) or, when `PREAU_TEST_DATABASE_URL` is set, on PostgreSQL (a new
//! database named `preau_test_<uuid>`, dropped afterwards). Tests never share data.

use crate::config::DatabaseUrl;
use crate::db::Db;
use crate::db::identity::NewEstablishment;
use crate::identity::{CodeKey, EstablishmentKind, EstablishmentState, Uai};

/// A live Parisian collège (holiday zone C, classes Monday to Friday) with the UAI of the
/// 7-digit `number`: the establishment most tests need.
pub fn college(number: u32, name: &str) -> NewEstablishment {
    NewEstablishment {
        uai: Uai::from_number(number).unwrap_or_else(|| panic!("{number} has more than 7 digits")),
        name: name.to_string(),
        kind: EstablishmentKind::College,
        city: "Paris".into(),
        state: EstablishmentState::Live,
        wave_id: None,
        holiday_calendar_id: "zone-c".into(),
        school_weekdays: "12345".into(),
    }
}

/// The environment variable that switches the suite to PostgreSQL.
pub const TEST_DATABASE_ENV: &str = "PREAU_TEST_DATABASE_URL";

/// A database that exists for one test.
pub struct TestDb {
    pub db: Db,
    pub url: DatabaseUrl,
    _dir: Option<tempfile::TempDir>,
    postgres: Option<PgScratch>,
}

struct PgScratch {
    admin_url: String,
    name: String,
}

impl TestDb {
    /// A fresh, migrated database on the engine the environment asks for.
    pub async fn new() -> TestDb {
        Self::with_connections(4).await
    }

    /// The same, with a pool of `max_connections` (concurrency tests).
    pub async fn with_connections(max_connections: u32) -> TestDb {
        match std::env::var(TEST_DATABASE_ENV) {
            Ok(admin_url) if !admin_url.trim().is_empty() => {
                Self::postgres(admin_url, max_connections).await
            }
            _ => Self::sqlite(max_connections).await,
        }
    }

    async fn sqlite(max_connections: u32) -> TestDb {
        let dir = tempfile::tempdir().expect("temporary directory");
        let url = DatabaseUrl::sqlite_in(dir.path());
        let db = Db::connect(&url, max_connections, CodeKey::generate())
            .await
            .expect("open SQLite");
        db.migrate().await.expect("migrate SQLite");
        TestDb {
            db,
            url,
            _dir: Some(dir),
            postgres: None,
        }
    }

    async fn postgres(admin_url: String, max_connections: u32) -> TestDb {
        use sqlx::Executor;
        let name = format!("preau_test_{}", uuid::Uuid::new_v4().simple());
        let admin = sqlx::PgPool::connect(&admin_url)
            .await
            .expect("connect to PREAU_TEST_DATABASE_URL");
        admin
            .execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .await
            .expect("create the test database");
        admin.close().await;
        let mut url = url::Url::parse(&admin_url).expect("PREAU_TEST_DATABASE_URL is a URL");
        url.set_path(&format!("/{name}"));
        let url = DatabaseUrl::Postgres(url.to_string());
        let db = Db::connect(&url, max_connections, CodeKey::generate())
            .await
            .expect("open PostgreSQL");
        db.migrate().await.expect("migrate PostgreSQL");
        TestDb {
            db,
            url,
            _dir: None,
            postgres: Some(PgScratch { admin_url, name }),
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some(pg) = self.postgres.take() else {
            return;
        };
        // Drop runs inside the test's runtime, which cannot block on itself: use a thread with
        // its own runtime. FORCE ends the pool's connections.
        let _ = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(async move {
                use sqlx::Executor;
                if let Ok(admin) = sqlx::PgPool::connect(&pg.admin_url).await {
                    let _ = admin
                        .execute(sqlx::AssertSqlSafe(format!(
                            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                            pg.name
                        )))
                        .await;
                    admin.close().await;
                }
            });
        })
        .join();
    }
}
