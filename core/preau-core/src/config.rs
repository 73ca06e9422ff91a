//! Configuration: one typed struct, read from `preau.toml` (`--config FILE` or `PREAU_CONFIG`) and
//! overridden by `PREAU_*` environment variables, then by command-line flags. Unknown keys, unknown
//! `PREAU_*` variables and invalid values stop the start with the key, where it came from and why.
//! Secrets (database password, SMTP password) never appear in `Debug` output or logs.
//!
//! Every key has exactly one environment variable: `PREAU_` followed by the key's path in upper
//! case, joined by `_` (`database.url` → `PREAU_DATABASE_URL`). `examples/preau.toml` documents them
//! all; a test keeps it in step with this file.

use std::collections::BTreeSet;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono_tz::Tz;
use ipnet::IpNet;
use serde::{Deserialize, Deserializer};

use crate::clock::{Clock, ClockOverride};

/// Longest retention of connection traces allowed (CNIL: one year).
pub const MAX_TRACE_RETENTION: Duration = Duration::from_secs(366 * 86_400);
/// Longest delay before a departed user's data is purged (CNIL: three months).
pub const MAX_DEPARTED_RETENTION: Duration = Duration::from_secs(92 * 86_400);

/// The whole configuration of an instance.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Address and port the HTTP server listens on.
    #[serde(default = "default_listen")]
    pub listen: SocketAddr,
    /// The URL people use to reach this instance (links in e-mails, CAS service URLs).
    /// Defaults to `http://{listen}`.
    #[serde(default)]
    pub public_url: Option<url::Url>,
    /// Reverse proxies whose `X-Forwarded-For` / `X-Forwarded-Proto` headers are believed.
    #[serde(default)]
    pub trusted_proxies: Vec<IpNet>,
    /// Where the instance keeps its files (the SQLite database by default, plugin files).
    #[serde(default = "default_data_dir")]
    pub data_dir: PathBuf,
    /// The collectivité's time zone (IANA name).
    #[serde(default)]
    pub time_zone: TimeZone,
    /// Shifts the clock to this day (`2026-11-30`) or instant (RFC 3339), for demos and tests.
    #[serde(default, deserialize_with = "de_clock_override")]
    pub today: Option<ClockOverride>,
    /// Log filter (`info`, `preau_core=debug,sqlx=warn`…).
    #[serde(default = "default_log")]
    pub log: String,
    #[serde(default)]
    pub database: DatabaseConfig,
    /// Outgoing mail; without it, nothing is sent and features that need mail say so.
    #[serde(default)]
    pub smtp: Option<SmtpConfig>,
    #[serde(default)]
    pub sessions: SessionsConfig,
    #[serde(default)]
    pub login: LoginConfig,
    #[serde(default)]
    pub retention: RetentionConfig,
    #[serde(default)]
    pub legal: LegalConfig,
    #[serde(default)]
    pub plugins: PluginsConfig,
}

/// Plugins: whose packages this instance installs, and the limits they run within.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PluginsConfig {
    /// Publisher public keys (`ed25519:…`, from `preau plugin keygen`) whose signed packages
    /// `preau plugin install` accepts.
    #[serde(default)]
    pub trusted_keys: Vec<String>,
    /// The limits every plugin gets, replacing the defaults of the limits table
    /// (`docs/plugin-manifest.md`); a manifest may only lower them.
    #[serde(default)]
    pub limits: preau_package::manifest::LimitOverrides,
    /// Per plugin id (`publisher:name`), limits replacing those of `limits` (file only).
    #[serde(default)]
    pub limits_for: std::collections::BTreeMap<String, preau_package::manifest::LimitOverrides>,
}

/// The largest memory an operator may give a plugin instance, in MiB.
pub const MAX_PLUGIN_MEMORY_MIB: u64 = 4096;

impl PluginsConfig {
    /// The limits the operator gives `plugin`: the table's defaults, then `limits`, then
    /// `limits_for[plugin]` (before the manifest lowers them).
    pub fn operator_limits(&self, plugin: &str) -> preau_package::manifest::Limits {
        let base = preau_package::manifest::Limits::default().with(&self.limits);
        match self.limits_for.get(plugin) {
            Some(set) => base.with(set),
            None => base,
        }
    }

    /// The trusted keys, parsed (checked when the configuration is loaded).
    pub fn trusted(&self) -> Vec<preau_package::signing::PublicKey> {
        self.trusted_keys
            .iter()
            .filter_map(|k| preau_package::signing::PublicKey::from_text(k).ok())
            .collect()
    }
}

/// What the legal pages say about the publisher (empty: a generic wording naming the collectivité).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LegalConfig {
    /// Postal address of the publisher.
    #[serde(default)]
    pub address: String,
    /// Director of publication.
    #[serde(default)]
    pub director: String,
    /// Who hosts the service, and where.
    #[serde(default)]
    pub host: String,
    /// How to reach the data protection officer (address, e-mail or form URL).
    #[serde(default)]
    pub dpo_contact: String,
}

/// The database connection.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseConfig {
    /// `sqlite://PATH` or `postgres://USER:PASSWORD@HOST:PORT/DB`; defaults to
    /// `sqlite://{data_dir}/preau.db`.
    #[serde(default)]
    pub url: Option<DatabaseUrl>,
    /// Upper bound of the connection pool.
    #[serde(default = "default_max_connections")]
    pub max_connections: u32,
}

/// Outgoing mail server.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpConfig {
    pub host: String,
    #[serde(default = "default_smtp_port")]
    pub port: u16,
    #[serde(default)]
    pub security: SmtpSecurity,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub password: Option<Secret>,
    /// The sender address, e.g. `Préau <ne-pas-repondre@ent.example.fr>`.
    pub from: String,
}

/// How the SMTP connection is protected.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpSecurity {
    #[default]
    Starttls,
    Tls,
    /// Plain text: only for a relay on the same machine.
    None,
}

/// Session lifetimes.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionsConfig {
    /// A session unused for this long ends.
    #[serde(default = "default_idle", deserialize_with = "de_duration")]
    pub idle_timeout: Duration,
    /// A session ends this long after login, used or not.
    #[serde(default = "default_absolute", deserialize_with = "de_duration")]
    pub absolute_lifetime: Duration,
}

/// Throttling of failed logins by address.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginConfig {
    /// The public addresses of the establishments' networks (CIDR): a collège's pupils and staff
    /// sign in through one NAT address, which the ordinary bound of failures per address
    /// ([`crate::auth::throttle::ADDRESS_MAX_FAILURES`]) would lock for everyone after a few
    /// mistyped passwords at the start of a lesson.
    #[serde(default)]
    pub school_networks: Vec<IpNet>,
    /// Failed logins from one address of `school_networks` within 15 minutes before it is
    /// locked (each account keeps its own bound of 5).
    #[serde(default = "default_school_network_max_failures")]
    pub school_network_max_failures: i64,
}

/// The bounds `login.school_network_max_failures` must stay within.
pub const SCHOOL_NETWORK_MAX_FAILURES: std::ops::RangeInclusive<i64> =
    crate::auth::throttle::ADDRESS_MAX_FAILURES..=100_000;

impl LoginConfig {
    /// How many failed logins from `ip` within the window lock it.
    pub fn address_max_failures(&self, ip: &str) -> i64 {
        match ip.parse::<std::net::IpAddr>() {
            Ok(ip) if self.school_networks.iter().any(|n| n.contains(&ip)) => {
                self.school_network_max_failures
            }
            _ => crate::auth::throttle::ADDRESS_MAX_FAILURES,
        }
    }
}

impl Default for LoginConfig {
    fn default() -> Self {
        LoginConfig {
            school_networks: Vec::new(),
            school_network_max_failures: default_school_network_max_failures(),
        }
    }
}

fn default_school_network_max_failures() -> i64 {
    1000
}

/// How long personal data is kept (CNIL arrêté of 2006 on ENT, RU-003).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetentionConfig {
    /// Connection traces (user, time, address, user agent); at most one year.
    #[serde(default = "default_traces", deserialize_with = "de_duration")]
    pub connection_traces: Duration,
    /// Delay between a person leaving (missing from a full import) and the purge of their data;
    /// at most three months.
    #[serde(default = "default_departed", deserialize_with = "de_duration")]
    pub departed_users: Duration,
}

fn default_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 8080))
}
fn default_data_dir() -> PathBuf {
    PathBuf::from("data")
}
fn default_log() -> String {
    "info,sqlx=warn".to_string()
}
fn default_max_connections() -> u32 {
    16
}
fn default_smtp_port() -> u16 {
    587
}
fn default_idle() -> Duration {
    Duration::from_secs(2 * 3600)
}
fn default_absolute() -> Duration {
    Duration::from_secs(12 * 3600)
}
fn default_traces() -> Duration {
    Duration::from_secs(365 * 86_400)
}
fn default_departed() -> Duration {
    Duration::from_secs(90 * 86_400)
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        DatabaseConfig {
            url: None,
            max_connections: default_max_connections(),
        }
    }
}
impl SessionsConfig {
    /// The idle timeout in milliseconds, as sessions store their instants.
    pub fn idle_ms(&self) -> i64 {
        i64::try_from(self.idle_timeout.as_millis()).unwrap_or(i64::MAX / 2)
    }

    /// The absolute lifetime in milliseconds.
    pub fn absolute_ms(&self) -> i64 {
        i64::try_from(self.absolute_lifetime.as_millis()).unwrap_or(i64::MAX / 2)
    }
}

impl Default for SessionsConfig {
    fn default() -> Self {
        SessionsConfig {
            idle_timeout: default_idle(),
            absolute_lifetime: default_absolute(),
        }
    }
}
impl Default for RetentionConfig {
    fn default() -> Self {
        RetentionConfig {
            connection_traces: default_traces(),
            departed_users: default_departed(),
        }
    }
}

/// An IANA time zone, `Europe/Paris` by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeZone(pub Tz);

impl Default for TimeZone {
    fn default() -> Self {
        TimeZone(chrono_tz::Europe::Paris)
    }
}

impl<'de> Deserialize<'de> for TimeZone {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse::<Tz>().map(TimeZone).map_err(|_| {
            serde::de::Error::custom(format!(
                "fuseau horaire inconnu « {s} » (exemples : Europe/Paris, Indian/Reunion, America/Cayenne) / unknown time zone `{s}`"
            ))
        })
    }
}

/// A secret string: shown as `***` by `Debug`.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// The secret itself, for the one place that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// Which engine a database URL names; the password part is hidden from `Debug` and `Display`.
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    Sqlite(String),
    Postgres(String),
}

impl DatabaseUrl {
    /// Recognises `sqlite:` and `postgres://` / `postgresql://` URLs; anything else is refused
    /// rather than guessed (a bare path could silently create an empty database).
    pub fn parse(s: &str) -> Result<DatabaseUrl, String> {
        let s = s.trim();
        if s.starts_with("sqlite:") {
            Ok(DatabaseUrl::Sqlite(s.to_string()))
        } else if s.starts_with("postgres://") || s.starts_with("postgresql://") {
            Ok(DatabaseUrl::Postgres(s.to_string()))
        } else {
            Err(format!(
                "l'URL de base de données doit commencer par sqlite: ou postgres:// (reçu « {} ») / the database URL must start with sqlite: or postgres:// (got `{}`)",
                redact_url(s),
                redact_url(s)
            ))
        }
    }

    /// The SQLite database of a data directory.
    pub fn sqlite_in(data_dir: &Path) -> DatabaseUrl {
        DatabaseUrl::Sqlite(format!("sqlite://{}", data_dir.join("preau.db").display()))
    }

    /// The full URL, password included: for the connection only.
    pub fn expose(&self) -> &str {
        match self {
            DatabaseUrl::Sqlite(s) | DatabaseUrl::Postgres(s) => s,
        }
    }

    /// The engine's name, for messages.
    pub fn engine(&self) -> &'static str {
        match self {
            DatabaseUrl::Sqlite(_) => "SQLite",
            DatabaseUrl::Postgres(_) => "PostgreSQL",
        }
    }
}

/// Replaces the password of `scheme://user:password@host` by `***`.
fn redact_url(s: &str) -> String {
    let Some((scheme, rest)) = s.split_once("://") else {
        return s.to_string();
    };
    let Some((userinfo, host)) = rest.rsplit_once('@') else {
        return s.to_string();
    };
    match userinfo.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => s.to_string(),
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&redact_url(self.expose()))
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DatabaseUrl({self})")
    }
}

impl<'de> Deserialize<'de> for DatabaseUrl {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        DatabaseUrl::parse(&s).map_err(serde::de::Error::custom)
    }
}

fn de_duration<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    let s = String::deserialize(d)?;
    humantime::parse_duration(&s).map_err(|e| {
        serde::de::Error::custom(format!(
            "durée illisible « {s} » (exemples : 30min, 2h, 90days) / unreadable duration `{s}`: {e}"
        ))
    })
}

fn de_clock_override<'de, D: Deserializer<'de>>(d: D) -> Result<Option<ClockOverride>, D::Error> {
    let s = String::deserialize(d)?;
    if s.trim().is_empty() {
        return Ok(None);
    }
    ClockOverride::parse(&s)
        .map(Some)
        .map_err(serde::de::Error::custom)
}

/// How an environment variable's text becomes a TOML value.
#[derive(Clone, Copy)]
enum EnvKind {
    Text,
    Integer,
    /// Comma-separated.
    List,
}

/// Every key that can be set, with the kind of its environment variable. The variable's name is
/// derived from the path (`PREAU_` + path in upper case joined by `_`).
const KEYS: &[(&str, EnvKind)] = &[
    ("listen", EnvKind::Text),
    ("public_url", EnvKind::Text),
    ("trusted_proxies", EnvKind::List),
    ("data_dir", EnvKind::Text),
    ("time_zone", EnvKind::Text),
    ("today", EnvKind::Text),
    ("log", EnvKind::Text),
    ("database.url", EnvKind::Text),
    ("database.max_connections", EnvKind::Integer),
    ("smtp.host", EnvKind::Text),
    ("smtp.port", EnvKind::Integer),
    ("smtp.security", EnvKind::Text),
    ("smtp.username", EnvKind::Text),
    ("smtp.password", EnvKind::Text),
    ("smtp.from", EnvKind::Text),
    ("sessions.idle_timeout", EnvKind::Text),
    ("sessions.absolute_lifetime", EnvKind::Text),
    ("login.school_networks", EnvKind::List),
    ("login.school_network_max_failures", EnvKind::Integer),
    ("retention.connection_traces", EnvKind::Text),
    ("retention.departed_users", EnvKind::Text),
    ("legal.address", EnvKind::Text),
    ("legal.director", EnvKind::Text),
    ("legal.host", EnvKind::Text),
    ("legal.dpo_contact", EnvKind::Text),
    ("plugins.trusted_keys", EnvKind::List),
    ("plugins.limits.call_ms", EnvKind::Integer),
    ("plugins.limits.widget_ms", EnvKind::Integer),
    ("plugins.limits.memory_mib", EnvKind::Integer),
    ("plugins.limits.view_kib", EnvKind::Integer),
    ("plugins.limits.upload_mib", EnvKind::Integer),
    ("plugins.limits.document_kib", EnvKind::Integer),
    ("plugins.limits.outbound_timeout_ms", EnvKind::Integer),
];

/// Environment variables with the `PREAU_` prefix that are not settings.
const NON_SETTING_VARS: &[&str] = &["PREAU_CONFIG"];
const NON_SETTING_PREFIXES: &[&str] = &["PREAU_TEST_"];

/// The environment variable of a key path.
pub fn env_var_of(path: &str) -> String {
    format!("PREAU_{}", path.replace('.', "_").to_ascii_uppercase())
}

/// Every settable key path, for documentation and tests.
pub fn key_paths() -> impl Iterator<Item = &'static str> {
    KEYS.iter().map(|(path, _)| *path)
}

/// Why the configuration cannot be used. Each variant names the setting and where it came from.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error(
        "lecture impossible du fichier de configuration / cannot read configuration file {path}: {source}"
    )]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("fichier de configuration illisible / malformed configuration file {path}: {message}")]
    Syntax { path: PathBuf, message: String },
    #[error(
        "variable d'environnement inconnue / unknown environment variable {name} (known: {known})"
    )]
    UnknownEnv { name: String, known: String },
    #[error("réglage invalide / invalid setting `{key}` ({origin}): {reason}")]
    Invalid {
        key: String,
        origin: String,
        reason: String,
    },
}

impl Config {
    /// Reads the configuration: defaults, then `file` if given, then the `PREAU_*` variables of
    /// `env`, then validation.
    pub fn load(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Config, ConfigError> {
        let mut table = match file {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                    path: path.to_path_buf(),
                    source,
                })?;
                text.parse::<toml::Table>()
                    .map_err(|e| ConfigError::Syntax {
                        path: path.to_path_buf(),
                        message: e.to_string(),
                    })?
            }
            None => toml::Table::new(),
        };
        let origin_file = file.map_or_else(
            || "valeur par défaut / default".to_string(),
            |p| p.display().to_string(),
        );

        let mut from_env = BTreeSet::new();
        for (name, value) in env {
            if !name.starts_with("PREAU_")
                || NON_SETTING_VARS.contains(&name.as_str())
                || NON_SETTING_PREFIXES.iter().any(|p| name.starts_with(p))
            {
                continue;
            }
            let Some((path, kind)) = KEYS.iter().find(|(path, _)| env_var_of(path) == name) else {
                return Err(ConfigError::UnknownEnv {
                    name,
                    known: key_paths().map(env_var_of).collect::<Vec<_>>().join(", "),
                });
            };
            let value = match kind {
                EnvKind::Text => toml::Value::String(value),
                EnvKind::Integer => toml::Value::Integer(value.trim().parse().map_err(|_| {
                    ConfigError::Invalid {
                        key: path.to_string(),
                        origin: name.clone(),
                        reason: format!(
                            "« {value} » n'est pas un nombre entier / `{value}` is not an integer"
                        ),
                    }
                })?),
                EnvKind::List => toml::Value::Array(
                    value
                        .split(',')
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                        .map(|s| toml::Value::String(s.to_string()))
                        .collect(),
                ),
            };
            set_path(&mut table, path, value);
            from_env.insert(*path);
        }

        let origin_of = |key: &str| -> String {
            from_env
                .iter()
                .find(|p| {
                    key == **p
                        || key.starts_with(&format!("{p}."))
                        || key.starts_with(&format!("{p}["))
                })
                .map_or_else(|| origin_file.clone(), |p| env_var_of(p))
        };

        let config: Config =
            serde_path_to_error::deserialize(toml::Value::Table(table)).map_err(|e| {
                let key = e.path().to_string();
                let reason = e.inner().to_string();
                ConfigError::Invalid {
                    origin: origin_of(&key),
                    key,
                    reason,
                }
            })?;
        config.validate(&origin_of)?;
        Ok(config)
    }

    fn validate(&self, origin_of: &dyn Fn(&str) -> String) -> Result<(), ConfigError> {
        let invalid = |key: &str, reason: String| ConfigError::Invalid {
            key: key.to_string(),
            origin: origin_of(key),
            reason,
        };
        if let Some(url) = &self.public_url
            && !matches!(url.scheme(), "http" | "https")
        {
            return Err(invalid(
                "public_url",
                "l'adresse publique doit être en http:// ou https:// / the public URL must use http:// or https://".into(),
            ));
        }
        if self.retention.connection_traces > MAX_TRACE_RETENTION {
            return Err(invalid(
                "retention.connection_traces",
                "les traces de connexion se gardent au plus un an (CNIL) / connection traces are kept one year at most (CNIL)".into(),
            ));
        }
        if self.retention.departed_users > MAX_DEPARTED_RETENTION {
            return Err(invalid(
                "retention.departed_users",
                "les comptes partis sont purgés au plus tard après trois mois (CNIL) / departed accounts are purged within three months (CNIL)".into(),
            ));
        }
        if self.sessions.idle_timeout.is_zero() || self.sessions.absolute_lifetime.is_zero() {
            return Err(invalid(
                "sessions",
                "une durée de session ne peut pas être nulle / a session lifetime cannot be zero"
                    .into(),
            ));
        }
        if self.sessions.idle_timeout > self.sessions.absolute_lifetime {
            return Err(invalid(
                "sessions.idle_timeout",
                "le délai d'inactivité dépasse la durée maximale de session / the idle timeout exceeds the absolute lifetime".into(),
            ));
        }
        if !SCHOOL_NETWORK_MAX_FAILURES.contains(&self.login.school_network_max_failures) {
            return Err(invalid(
                "login.school_network_max_failures",
                format!(
                    "entre {} et {} échecs / between {} and {} failures",
                    SCHOOL_NETWORK_MAX_FAILURES.start(),
                    SCHOOL_NETWORK_MAX_FAILURES.end(),
                    SCHOOL_NETWORK_MAX_FAILURES.start(),
                    SCHOOL_NETWORK_MAX_FAILURES.end()
                ),
            ));
        }
        if self.database.max_connections == 0 {
            return Err(invalid(
                "database.max_connections",
                "il faut au moins une connexion / at least one connection is needed".into(),
            ));
        }
        if let Some(smtp) = &self.smtp
            && smtp.host.trim().is_empty()
        {
            return Err(invalid(
                "smtp.host",
                "le serveur SMTP est vide / the SMTP host is empty".into(),
            ));
        }
        for id in self.plugins.limits_for.keys() {
            if !preau_package::names::is_plugin_id(id) {
                return Err(invalid(
                    &format!("plugins.limits_for.\"{id}\""),
                    "un identifiant d'extension « éditeur:nom » est attendu / a plugin id `publisher:name` is expected".into(),
                ));
            }
        }
        let limit_sets = std::iter::once(("plugins.limits".to_owned(), &self.plugins.limits))
            .chain(
                self.plugins
                    .limits_for
                    .iter()
                    .map(|(id, set)| (format!("plugins.limits_for.\"{id}\""), set)),
            );
        for (at, set) in limit_sets {
            for (name, value) in set.entries() {
                let key = format!("{at}.{name}");
                if value == Some(0) {
                    return Err(invalid(
                        &key,
                        "une limite est positive / a limit is positive".into(),
                    ));
                }
                if name == "memory_mib" && value.is_some_and(|v| v > MAX_PLUGIN_MEMORY_MIB) {
                    return Err(invalid(
                        &key,
                        format!(
                            "au plus {MAX_PLUGIN_MEMORY_MIB} Mio / at most {MAX_PLUGIN_MEMORY_MIB} MiB"
                        ),
                    ));
                }
            }
        }
        for (n, key) in self.plugins.trusted_keys.iter().enumerate() {
            if let Err(e) = preau_package::signing::PublicKey::from_text(key) {
                return Err(invalid(
                    &format!("plugins.trusted_keys[{n}]"),
                    e.to_string(),
                ));
            }
        }
        Ok(())
    }

    /// Where the key activation codes are digested with is kept (created at the first start):
    /// outside the database, so back it up with the data directory, not only the database.
    pub fn activation_key_path(&self) -> PathBuf {
        self.data_dir.join("secrets").join("activation-codes.key")
    }

    /// The database to use: the configured URL, or SQLite in the data directory.
    pub fn database_url(&self) -> DatabaseUrl {
        self.database
            .url
            .clone()
            .unwrap_or_else(|| DatabaseUrl::sqlite_in(&self.data_dir))
    }

    /// The URL people use to reach the instance, without a trailing slash.
    pub fn public_base_url(&self) -> String {
        match &self.public_url {
            Some(url) => url.as_str().trim_end_matches('/').to_string(),
            None => format!("http://{}", self.listen),
        }
    }

    /// The system clock, shifted by `today` when set.
    pub fn clock(&self) -> Clock {
        Clock::new(self.time_zone.0, self.today)
    }
}

/// Sets `a.b.c` in a TOML table, creating the intermediate tables.
fn set_path(table: &mut toml::Table, path: &str, value: toml::Value) {
    let mut parts = path.split('.').peekable();
    let mut current = table;
    while let Some(part) = parts.next() {
        if parts.peek().is_none() {
            current.insert(part.to_string(), value);
            return;
        }
        let entry = current
            .entry(part.to_string())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        if !entry.is_table() {
            *entry = toml::Value::Table(toml::Table::new());
        }
        let toml::Value::Table(next) = entry else {
            return;
        };
        current = next;
    }
}

#[cfg(test)]
mod tests;
