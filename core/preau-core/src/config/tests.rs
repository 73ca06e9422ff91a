//! Behaviour of configuration loading: defaults, overrides, and errors that name the key.

use super::*;

fn env(vars: &[(&str, &str)]) -> Vec<(String, String)> {
    vars.iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn file(text: &str) -> tempfile::NamedTempFile {
    let f = tempfile::NamedTempFile::new().expect("temp file");
    std::fs::write(f.path(), text).expect("write");
    f
}

#[track_caller]
fn check_invalid(result: Result<Config, ConfigError>, key: &str, origin: &str, reason_part: &str) {
    match result {
        Err(ConfigError::Invalid {
            key: k,
            origin: o,
            reason,
        }) => {
            assert_eq!(k, key);
            assert!(o.contains(origin), "origin {o:?} should name {origin:?}");
            assert!(
                reason.contains(reason_part),
                "reason {reason:?} should contain {reason_part:?}"
            );
        }
        other => panic!("expected an invalid `{key}`, got {other:?}"),
    }
}

#[test]
fn starts_on_defaults_with_nothing_configured() {
    let config = Config::load(
        None,
        env(&[("PATH", "/bin"), ("PREAU_TEST_DATABASE_URL", "x")]),
    )
    .expect("defaults are valid");
    assert_eq!(config.listen.to_string(), "127.0.0.1:8080");
    assert_eq!(config.time_zone.0, chrono_tz::Europe::Paris);
    assert_eq!(
        config.database_url(),
        DatabaseUrl::sqlite_in(Path::new("data"))
    );
    assert_eq!(config.public_base_url(), "http://127.0.0.1:8080");
    assert_eq!(
        config.retention.departed_users,
        Duration::from_secs(90 * 86_400)
    );
    assert!(config.smtp.is_none());
}

#[test]
fn environment_overrides_the_file() {
    let f = file("listen = \"127.0.0.1:9000\"\n[database]\nmax_connections = 4\n");
    let config = Config::load(
        Some(f.path()),
        env(&[
            ("PREAU_LISTEN", "0.0.0.0:8081"),
            ("PREAU_DATABASE_URL", "postgres://preau:s3cret@db/preau"),
            ("PREAU_TRUSTED_PROXIES", "10.0.0.0/8, 192.168.1.1/32"),
            ("PREAU_TIME_ZONE", "Indian/Reunion"),
            ("PREAU_TODAY", "2026-11-30"),
        ]),
    )
    .expect("valid");
    assert_eq!(config.listen.to_string(), "0.0.0.0:8081");
    assert_eq!(config.database.max_connections, 4);
    assert_eq!(config.trusted_proxies.len(), 2);
    assert_eq!(config.time_zone.0, chrono_tz::Indian::Reunion);
    assert_eq!(
        config.clock().today(),
        chrono::NaiveDate::from_ymd_opt(2026, 11, 30).expect("date")
    );
    assert_eq!(config.database_url().engine(), "PostgreSQL");
}

#[test]
fn unknown_key_in_the_file_is_named() {
    let f = file("lsiten = \"127.0.0.1:9000\"\n");
    let err = Config::load(Some(f.path()), env(&[])).expect_err("typo");
    let msg = err.to_string();
    assert!(msg.contains("lsiten"), "{msg}");
    let f = file("[sessions]\nidle = \"2h\"\n");
    let msg = Config::load(Some(f.path()), env(&[]))
        .expect_err("typo")
        .to_string();
    assert!(msg.contains("sessions") && msg.contains("idle"), "{msg}");
}

#[test]
fn unknown_environment_variable_is_named() {
    let err = Config::load(None, env(&[("PREAU_LISTEN_ADDR", "x")])).expect_err("unknown");
    let msg = err.to_string();
    assert!(msg.contains("PREAU_LISTEN_ADDR"), "{msg}");
    assert!(msg.contains("PREAU_LISTEN,"), "{msg}");
}

#[test]
fn invalid_values_name_the_key_and_their_origin() {
    let f = file("time_zone = \"Europe/Pari\"\n");
    check_invalid(
        Config::load(Some(f.path()), env(&[])),
        "time_zone",
        &f.path().display().to_string(),
        "Europe/Pari",
    );
    check_invalid(
        Config::load(None, env(&[("PREAU_SMTP_PORT", "vingt-cinq")])),
        "smtp.port",
        "PREAU_SMTP_PORT",
        "vingt-cinq",
    );
    check_invalid(
        Config::load(None, env(&[("PREAU_LISTEN", "localhost")])),
        "listen",
        "PREAU_LISTEN",
        "",
    );
    check_invalid(
        Config::load(None, env(&[("PREAU_DATABASE_URL", "/var/lib/preau.db")])),
        "database.url",
        "PREAU_DATABASE_URL",
        "sqlite:",
    );
    check_invalid(
        Config::load(None, env(&[("PREAU_SESSIONS_IDLE_TIMEOUT", "deux heures")])),
        "sessions.idle_timeout",
        "PREAU_SESSIONS_IDLE_TIMEOUT",
        "deux heures",
    );
    check_invalid(
        Config::load(None, env(&[("PREAU_TODAY", "demain")])),
        "today",
        "PREAU_TODAY",
        "demain",
    );
}

#[test]
fn school_networks_get_their_own_bound_of_failed_logins() {
    let config = Config::load(
        None,
        env(&[
            (
                "PREAU_LOGIN_SCHOOL_NETWORKS",
                "203.0.113.0/24, 2001:db8:42::/48",
            ),
            ("PREAU_LOGIN_SCHOOL_NETWORK_MAX_FAILURES", "800"),
        ]),
    )
    .expect("valid");
    assert_eq!(config.login.address_max_failures("203.0.113.77"), 800);
    assert_eq!(config.login.address_max_failures("2001:db8:42::9"), 800);
    assert_eq!(
        config.login.address_max_failures("198.51.100.7"),
        crate::auth::throttle::ADDRESS_MAX_FAILURES
    );
    assert_eq!(
        config.login.address_max_failures("inconnue"),
        crate::auth::throttle::ADDRESS_MAX_FAILURES
    );
    let f = file("[login]\nschool_network_max_failures = 10\n");
    check_invalid(
        Config::load(Some(f.path()), env(&[])),
        "login.school_network_max_failures",
        "",
        "between 50 and 100000 failures",
    );
    check_invalid(
        Config::load(None, env(&[("PREAU_LOGIN_SCHOOL_NETWORKS", "lycée")])),
        "login.school_networks[0]",
        "PREAU_LOGIN_SCHOOL_NETWORKS",
        "",
    );
}

#[test]
fn retention_limits_follow_the_cnil() {
    check_invalid(
        Config::load(
            None,
            env(&[("PREAU_RETENTION_CONNECTION_TRACES", "400days")]),
        ),
        "retention.connection_traces",
        "PREAU_RETENTION_CONNECTION_TRACES",
        "CNIL",
    );
    check_invalid(
        Config::load(None, env(&[("PREAU_RETENTION_DEPARTED_USERS", "6months")])),
        "retention.departed_users",
        "PREAU_RETENTION_DEPARTED_USERS",
        "CNIL",
    );
    let ok = Config::load(None, env(&[("PREAU_RETENTION_CONNECTION_TRACES", "1year")]));
    assert!(ok.is_ok(), "{ok:?}");
}

#[test]
fn secrets_are_never_printed() {
    let f = file(
        "[database]\nurl = \"postgres://preau:hunter2@db:5432/preau\"\n\
         [smtp]\nhost = \"smtp.example.fr\"\nusername = \"ent\"\npassword = \"tr0ub4dor\"\nfrom = \"ent@example.fr\"\n",
    );
    let config = Config::load(Some(f.path()), env(&[])).expect("valid");
    let shown = format!("{config:?} {}", config.database_url());
    assert!(!shown.contains("hunter2"), "{shown}");
    assert!(!shown.contains("tr0ub4dor"), "{shown}");
    assert!(
        shown.contains("postgres://preau:***@db:5432/preau"),
        "{shown}"
    );
    let err = Config::load(
        None,
        env(&[("PREAU_DATABASE_URL", "mysql://root:hunter2@db/x")]),
    )
    .expect_err("unsupported engine");
    assert!(!err.to_string().contains("hunter2"), "{err}");
}

#[test]
fn sample_file_is_valid_and_lists_every_key() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/preau.toml");
    let config = Config::load(Some(&path), env(&[])).expect("the sample configuration is valid");
    assert!(config.smtp.is_some());
    let table: toml::Table = std::fs::read_to_string(&path)
        .expect("read sample")
        .parse()
        .expect("toml");
    for key in key_paths() {
        let mut node = Some(&table);
        let mut found = None;
        for part in key.split('.') {
            found = node.and_then(|t| t.get(part));
            node = found.and_then(toml::Value::as_table);
        }
        assert!(found.is_some(), "examples/preau.toml does not show `{key}`");
    }
}

#[test]
fn trusted_plugin_keys_are_checked_when_loading() {
    let key = preau_package::signing::SecretKey::generate()
        .expect("key")
        .public()
        .to_text();
    let config = Config::load(None, env(&[("PREAU_PLUGINS_TRUSTED_KEYS", &key)])).expect("valid");
    assert_eq!(config.plugins.trusted().len(), 1);
    let f = file("[plugins]\ntrusted_keys = [\"ed25519:pas-une-clé\"]\n");
    let err = Config::load(Some(f.path()), env(&[])).expect_err("bad key");
    match err {
        ConfigError::Invalid { key, .. } => assert_eq!(key, "plugins.trusted_keys[0]"),
        other => panic!("expected an invalid key, got {other:?}"),
    }
}

#[test]
fn plugin_limits_are_positive_bounded_and_keyed_by_plugin_id() {
    let config =
        Config::load(None, env(&[("PREAU_PLUGINS_LIMITS_CALL_MS", "1500")])).expect("valid");
    assert_eq!(
        config.plugins.operator_limits("ville:cantine").call_ms,
        1500
    );
    let f = file("[plugins.limits_for.\"ville:cantine\"]\nwidget_ms = 800\n");
    let config = Config::load(Some(f.path()), env(&[])).expect("valid");
    assert_eq!(
        config.plugins.operator_limits("ville:cantine").widget_ms,
        800
    );
    assert_eq!(config.plugins.operator_limits("ville:autre").widget_ms, 300);

    check_invalid(
        Config::load(None, env(&[("PREAU_PLUGINS_LIMITS_VIEW_KIB", "0")])),
        "plugins.limits.view_kib",
        "PREAU_PLUGINS_LIMITS_VIEW_KIB",
        "positive",
    );
    let f = file("[plugins.limits]\nmemory_mib = 100000\n");
    check_invalid(
        Config::load(Some(f.path()), env(&[])),
        "plugins.limits.memory_mib",
        &f.path().display().to_string(),
        "4096",
    );
    let f = file("[plugins.limits_for.cantine]\ncall_ms = 10\n");
    let err = Config::load(Some(f.path()), env(&[])).expect_err("not a plugin id");
    assert!(err.to_string().contains("éditeur:nom"), "{err}");
}
