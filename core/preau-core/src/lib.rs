//! Préau core: identity, rights and storage for the whole collectivité, the HTTP server and the
//! `preau` command line. `docs/ARCHITECTURE.md` is the map; start from `main.rs` (commands),
//! `server.rs` (the router) and `db/mod.rs` (storage).

pub mod access;
pub mod api;
pub mod apps;
pub mod auth;
pub mod calendar;
pub mod clock;
pub mod config;
pub mod db;
pub mod demo;
pub mod establishments;
pub mod events;
pub mod identity;
pub mod mail;
pub mod maintenance;
pub mod notifications;
pub mod plugins;

pub mod portal;
pub mod privacy;
pub mod recent;
pub mod rights;
pub mod server;
pub mod store;
#[doc(hidden)]
pub mod testing;
