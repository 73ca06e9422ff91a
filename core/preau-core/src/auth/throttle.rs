//! Throttling of failed logins, per account and per address. The counters live in the database
//! (`crate::db::auth`), so every node of a cluster sees the same ones.

/// Failures of one account within [`WINDOW_MS`] before it is locked.
pub const ACCOUNT_MAX_FAILURES: i64 = 5;
/// Failures from one address within [`WINDOW_MS`] before it is locked (higher than an
/// account's: a household shares an address). The establishments' NAT addresses, which hide
/// hundreds of people, have their own bound (`login.school_networks`,
/// [`crate::config::LoginConfig::address_max_failures`]).
pub const ADDRESS_MAX_FAILURES: i64 = 50;
/// The counting window.
pub const WINDOW_MS: i64 = 15 * 60 * 1000;
/// How long a lock lasts.
pub const LOCK_MS: i64 = 15 * 60 * 1000;

/// Archives of one person's data ("Mes données") within [`WINDOW_MS`]: building one reads
/// everything the person has and asks every plugin, so the count is bounded like failures.
pub const EXPORTS_MAX: i64 = 3;

/// The counter key of a person's data exports.
pub fn export_key(user_id: &str) -> String {
    format!("export:{user_id}")
}

/// The counter key of an account.
pub fn account_key(login: &str) -> String {
    format!("account:{}", login.trim().to_lowercase())
}

/// The counter key of an address.
pub fn address_key(ip: &str) -> String {
    format!("ip:{ip}")
}
