//! Test and benchmark support: the plugins under `tests/plugins/`, built for `wasm32-wasip2`
//! (release, in `target/plugins`) on first use, and the shared cache of precompiled components.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

/// The bytes of the component built from `tests/plugins/{name}`; panics with the reason when the
/// build fails (a test helper).
pub fn test_plugin(name: &str) -> Vec<u8> {
    static BUILDING: Mutex<()> = Mutex::new(());
    let _guard = BUILDING.lock().unwrap_or_else(|e| e.into_inner());
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
        .status();
    match status {
        Ok(s) if s.success() => {}
        other => panic!(
            "building tests/plugins/{name} failed ({other:?}); is the wasm32-wasip2 target installed?"
        ),
    }
    let path = target
        .join("wasm32-wasip2/release")
        .join(format!("{name}.wasm"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The directory of precompiled components shared by tests and benchmarks.
pub fn cache_dir() -> PathBuf {
    workspace().join("target/test-component-cache")
}
