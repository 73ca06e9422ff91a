//! The Préau plugin SDK: what a plugin author depends on.
//!
//! The plugin API itself is the WIT package in `wit/` (`preau:plugin`); `docs/plugin-api.md`
//! lists its interfaces and rules. The bindings and the author-facing helpers arrive with the
//! plugin runtime; for now the SDK offers:
//!
//! - [`collate`]: French collation keys, the same the core computes for index fields declared
//!   with `collation = "fr"`, to sort names in a plugin exactly as the storage does.

pub use preau_collate as collate;
