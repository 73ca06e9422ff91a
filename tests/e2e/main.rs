//! End-to-end tests: the real `preau` binary (built by `cargo xtask test` before the suite runs),
//! started as a person would start it, against SQLite or — when `PREAU_TEST_DATABASE_URL` is set —
//! a scratch PostgreSQL database; test plugins built from `tests/plugins/` (`plugins.rs`). One
//! binary, one module per topic.

mod apps;
mod attacks_apps;
mod cache;
mod cli;
mod demo;
mod events;
mod guide;
mod hostile;
mod imports;
mod lifecycle;
mod plugins;
mod privacy;
mod services;
mod setup;
mod support;
