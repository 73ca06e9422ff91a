//! Test plugins: the crates under `tests/plugins/`, built for `wasm32-wasip2` by the suite itself
//! (release, in `target/plugins`, once per test run), and a shared cache of precompiled
//! components so that each test does not pay for compilation again.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, OnceLock};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

/// The bytes of the component built from `tests/plugins/{name}`.
pub fn component(name: &str) -> Vec<u8> {
    static BUILT: OnceLock<Mutex<()>> = OnceLock::new();
    let _guard = BUILT
        .get_or_init(|| Mutex::new(()))
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    let root = workspace();
    let target = root.join("target/plugins");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .args([
            "build",
            "--quiet",
            "--release",
            "--target",
            "wasm32-wasip2",
            "--manifest-path",
        ])
        .arg(root.join("tests/plugins").join(name).join("Cargo.toml"))
        .arg("--target-dir")
        .arg(&target)
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_TARGET_DIR")
        .status()
        .expect("run cargo for the test plugin");
    assert!(
        status.success(),
        "building tests/plugins/{name} failed (rustup target add wasm32-wasip2?)"
    );
    std::fs::read(
        target
            .join("wasm32-wasip2/release")
            .join(format!("{name}.wasm")),
    )
    .expect("the built component")
}

/// The directory of precompiled components shared by the tests.
pub fn cache_dir() -> PathBuf {
    workspace().join("target/test-component-cache")
}
