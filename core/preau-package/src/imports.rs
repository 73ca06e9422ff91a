//! What a component imports, checked against what its manifest declares and what the host
//! offers, at install. A component may import:
//!
//! - `preau:plugin/{interface}@1.y` for an interface the host offers, with `y` no newer than the
//!   host's API and no newer than the minimum of the manifest's `host_api` (a plugin claiming to
//!   run on 1.0 while importing 1.2 would fail on a 1.0 host), and with the capability the
//!   interface needs declared (the table of `docs/plugin-manifest.md`);
//! - the WASI p2 interfaces a Rust std guest always imports, which the host links with nothing
//!   granted ([`WASI_ALLOWED`]);
//!
//! and nothing else: `wasi:http`, `wasi:sockets` or an unknown package is refused, naming it.

use crate::manifest::Manifest;
use crate::{PackageError, PackageResult};

/// WASI p2 interfaces (`wasi:{package}/{interface}`) a component may import: linked with no
/// directory, no environment, no network and no stdio granted.
pub const WASI_ALLOWED: &[&str] = &[
    "wasi:cli/environment",
    "wasi:cli/exit",
    "wasi:cli/stdin",
    "wasi:cli/stdout",
    "wasi:cli/stderr",
    "wasi:cli/terminal-input",
    "wasi:cli/terminal-output",
    "wasi:cli/terminal-stdin",
    "wasi:cli/terminal-stdout",
    "wasi:cli/terminal-stderr",
    "wasi:clocks/wall-clock",
    "wasi:clocks/monotonic-clock",
    "wasi:filesystem/types",
    "wasi:filesystem/preopens",
    "wasi:io/error",
    "wasi:io/poll",
    "wasi:io/streams",
    "wasi:random/random",
    "wasi:random/insecure",
    "wasi:random/insecure-seed",
];

/// The capability a `preau:plugin` interface needs, if any (`docs/plugin-manifest.md`).
pub fn capability_needed(interface: &str) -> Option<&'static str> {
    match interface {
        "files" => Some("files_quota_mib"),
        "http" => Some("outbound_hosts"),
        "sso" => Some("sso"),
        _ => None,
    }
}

/// The names of the component's own imports (not those of nested components or modules).
pub fn component_imports(component: &[u8]) -> PackageResult<Vec<String>> {
    let invalid = |e: wasmparser::BinaryReaderError| {
        PackageError::manifest(
            "component",
            format!("composant illisible / unreadable component: {e}"),
        )
    };
    let mut depth = 0usize;
    let mut names = Vec::new();
    for payload in wasmparser::Parser::new(0).parse_all(component) {
        match payload.map_err(invalid)? {
            wasmparser::Payload::Version { .. } => depth += 1,
            wasmparser::Payload::End(_) => depth = depth.saturating_sub(1),
            wasmparser::Payload::ComponentImportSection(section) if depth == 1 => {
                for import in section {
                    let name = import.map_err(invalid)?.name;
                    // An import labelled otherwise but implementing an interface is that interface.
                    let interface = name.full_implements().unwrap_or_else(|| name.full_name());
                    names.push(interface.into_owned());
                }
            }
            _ => {}
        }
    }
    Ok(names)
}

/// Checks the component's imports against `manifest` and a host offering `host_interfaces` of
/// `preau:plugin` at version `host_api`.
pub fn check_imports(
    manifest: &Manifest,
    component: &[u8],
    host_api: &semver::Version,
    host_interfaces: &[&str],
) -> PackageResult<()> {
    let refuse = |name: &str, why: String| {
        PackageError::manifest("component", format!("import « {name} » : {why}"))
    };
    let min_claimed = manifest.min_host_api();
    for name in component_imports(component)? {
        let (path, version) = match name.split_once('@') {
            Some((p, v)) => (p, Some(v)),
            None => (name.as_str(), None),
        };
        if let Some(interface) = path.strip_prefix("preau:plugin/") {
            let version = version
                .and_then(|v| semver::Version::parse(v).ok())
                .ok_or_else(|| refuse(&name, "version illisible / unreadable version".into()))?;
            if version.major != host_api.major || version > *host_api {
                return Err(refuse(
                    &name,
                    format!(
                        "API {version} plus récente que celle de l'hôte ({host_api}) / \
                         API {version} newer than the host's ({host_api})"
                    ),
                ));
            }
            if min_claimed.as_ref().is_some_and(|min| *min < version) {
                return Err(PackageError::manifest(
                    "host_api",
                    format!(
                        "« {} » accepte une API plus ancienne que {version}, que le composant importe ({name}) / \
                         accepts an API older than {version}, which the component imports ({name})",
                        manifest.host_api
                    ),
                ));
            }
            if !host_interfaces.contains(&interface) {
                return Err(refuse(
                    &name,
                    "interface inconnue de l'hôte / interface unknown to the host".into(),
                ));
            }
            let granted = match capability_needed(interface) {
                None => true,
                Some("files_quota_mib") => manifest.capabilities.files_quota_mib > 0,
                Some("outbound_hosts") => !manifest.capabilities.outbound_hosts.is_empty(),
                Some("sso") => manifest.capabilities.sso,
                Some(_) => false,
            };
            if !granted {
                let capability = capability_needed(interface).unwrap_or_default();
                return Err(refuse(
                    &name,
                    format!(
                        "demande la capacité « {capability} », non déclarée / needs the undeclared capability '{capability}'"
                    ),
                ));
            }
        } else if path.starts_with("wasi:") {
            if !WASI_ALLOWED.contains(&path) || !version.is_some_and(|v| v.starts_with("0.2.")) {
                return Err(refuse(
                    &name,
                    "interface WASI non offerte (ni réseau, ni HTTP) / WASI interface not offered (no network, no HTTP)".into(),
                ));
            }
        } else {
            return Err(refuse(
                &name,
                "import non offert par l'hôte / import not offered by the host".into(),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_files_http_and_sso_need_a_capability() {
        assert_eq!(capability_needed("files"), Some("files_quota_mib"));
        assert_eq!(capability_needed("http"), Some("outbound_hosts"));
        assert_eq!(capability_needed("sso"), Some("sso"));
        for free in [
            "log",
            "clock",
            "calendar",
            "directory",
            "rights",
            "notifications",
            "documents",
            "http-types",
        ] {
            assert_eq!(capability_needed(free), None, "{free}");
        }
    }
}
