//! Authentication: passwords, secret tokens, failed-login throttling, the client of a request, and
//! the login path shared by the API and the portal. Sessions are stored by `crate::db::auth`.

pub mod client;
pub mod login;
pub mod password;
pub mod reset;
pub mod setup;
pub mod throttle;
pub mod token;
