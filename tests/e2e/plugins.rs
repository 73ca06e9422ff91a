//! Test plugins: the crates under `tests/plugins/`, built by `preau_host::testing` for
//! `wasm32-wasip2` once per test run, and the shared cache of precompiled components.

use std::path::PathBuf;

/// The bytes of the component built from `tests/plugins/{name}`.
pub fn component(name: &str) -> Vec<u8> {
    preau_host::testing::test_plugin(name)
}

/// The directory of precompiled components shared by the tests.
pub fn cache_dir() -> PathBuf {
    preau_host::testing::cache_dir()
}
