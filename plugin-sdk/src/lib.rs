//! The Préau plugin SDK: what a plugin author depends on.
//!
//! The plugin API itself is the WIT package in `wit/` (`preau:plugin`); `docs/plugin-api.md`
//! lists its interfaces and rules. A plugin generates its bindings from it with `wit-bindgen`
//! (`wit_bindgen::generate!({ path: ".../plugin-sdk/wit", world: "plugin" })`, as the test plugins
//! in `tests/plugins/` do). The author-facing helpers (routing, view builders, forms, a test
//! harness) come with the portal integration; for now the SDK offers:
//!
//! - [`collate`]: French collation keys, the same the core computes for index fields declared
//!   with `collation = "fr"`, to sort names in a plugin exactly as the storage does.

pub use preau_collate as collate;
