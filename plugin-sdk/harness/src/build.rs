//! Building a plugin's crate into a component: `cargo build --release --target wasm32-wasip2`
//! in its directory, as the project builds its own plugins.

use std::path::Path;
use std::process::Command;

use crate::HarnessError;

/// The target plugins are built for; a crate built for it is a component directly.
pub const TARGET: &str = "wasm32-wasip2";

/// Builds the plugin crate in `plugin_dir` (release, `wasm32-wasip2`, into `target_dir`) and
/// returns the component's bytes. The target must be installed (`rustup target add
/// wasm32-wasip2`).
pub fn build_component(plugin_dir: &Path, target_dir: &Path) -> Result<Vec<u8>, HarnessError> {
    let manifest_path = plugin_dir.join("Cargo.toml");
    let name = library_name(&manifest_path)?;
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let output = Command::new(cargo)
        .args([
            "build",
            "--quiet",
            "--release",
            "--target",
            TARGET,
            "--manifest-path",
        ])
        .arg(&manifest_path)
        .arg("--target-dir")
        .arg(target_dir)
        // The outer build's flags and target directory are for the host, not for the plugin.
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("CARGO_BUILD_TARGET")
        .output()
        .map_err(|e| HarnessError::Build(format!("cargo: {e}")))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let tail: Vec<&str> = stderr.lines().rev().take(40).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        return Err(HarnessError::Build(format!(
            "{} ({}; la cible {TARGET} est-elle installée ? / is the {TARGET} target installed?)\n{}",
            plugin_dir.display(),
            output.status,
            tail.join("\n")
        )));
    }
    let wasm = target_dir
        .join(TARGET)
        .join("release")
        .join(format!("{name}.wasm"));
    std::fs::read(&wasm).map_err(|e| HarnessError::Build(format!("{}: {e}", wasm.display())))
}

/// The file name cargo gives the crate's library: `[lib] name`, or the package's name with
/// `-` turned into `_`.
fn library_name(manifest_path: &Path) -> Result<String, HarnessError> {
    let text = std::fs::read_to_string(manifest_path)
        .map_err(|e| HarnessError::Build(format!("{}: {e}", manifest_path.display())))?;
    let value: toml::Value = toml::from_str(&text)
        .map_err(|e| HarnessError::Build(format!("{}: {e}", manifest_path.display())))?;
    let name = value
        .get("lib")
        .and_then(|l| l.get("name"))
        .or_else(|| value.get("package").and_then(|p| p.get("name")))
        .and_then(toml::Value::as_str)
        .ok_or_else(|| {
            HarnessError::Build(format!(
                "{} : pas de nom de paquet / no package name",
                manifest_path.display()
            ))
        })?;
    Ok(name.replace('-', "_"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_library_name_follows_cargo() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("Cargo.toml");
        std::fs::write(&path, "[package]\nname = \"cahier-de-textes\"\n").expect("write");
        assert_eq!(library_name(&path).expect("name"), "cahier_de_textes");
        std::fs::write(
            &path,
            "[package]\nname = \"cahier\"\n[lib]\nname = \"devoirs\"\n",
        )
        .expect("write");
        assert_eq!(library_name(&path).expect("name"), "devoirs");
        assert!(library_name(&dir.path().join("absent.toml")).is_err());
    }
}
