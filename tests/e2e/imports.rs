//! Install-time import checks on real components: the test plugins built from Rust pass with the
//! capabilities their imports need (`hello` with none); components synthesized from WIT
//! (wit-component's dummy modules) that import an undeclared capability (`files`, `http`), a
//! newer API than the host's, or WASI networking are refused, naming the import.

use preau_package::Manifest;
use preau_package::imports::{check_imports, component_imports};

use crate::plugins;

/// The host under test: `preau:plugin` at the host's version, with the interfaces it links.
const HOST_API: semver::Version = semver::Version::new(1, 0, 0);
const HOST_INTERFACES: &[&str] = preau_host::INTERFACES;

fn manifest(extra: &str) -> Manifest {
    manifest_for("^1.0", extra)
}

fn manifest_for(host_api: &str, extra: &str) -> Manifest {
    let text = format!(
        r#"id = "essai:composant"
version = "0.1.0"
licence = "MIT"
component = "c.wasm"
host_api = "{host_api}"
[name]
fr = "Essai"
en = "Test"
[description]
fr = "Un essai."
en = "A test."
{extra}"#
    );
    Manifest::parse(&text).expect("manifest")
}

/// A component whose world is `world` in the WIT packages `packages` (the last one holds it).
pub(crate) fn synthesize(packages: &[&str], world: &str) -> Vec<u8> {
    let mut resolve = wit_parser::Resolve::default();
    let mut last = None;
    for (n, text) in packages.iter().enumerate() {
        last = Some(resolve.push_str(format!("p{n}.wit"), text).expect("WIT"));
    }
    let package = last.expect("a package");
    let world = resolve
        .select_world(&[package], Some(world))
        .expect("world");
    let mut module =
        wit_component::dummy_module(&resolve, world, wit_parser::ManglingAndAbi::Standard32);
    wit_component::embed_component_metadata(
        &mut module,
        &resolve,
        world,
        wit_component::StringEncoding::UTF8,
    )
    .expect("metadata");
    wit_component::ComponentEncoder::default()
        .module(&module)
        .expect("module")
        .validate(true)
        .encode()
        .expect("encode")
}

fn refusal(result: preau_package::PackageResult<()>) -> String {
    result.expect_err("refused").to_string()
}

#[test]
fn the_host_api_version_is_the_one_checked_here() {
    assert_eq!(HOST_API.to_string(), preau_host::API_VERSION);
}

#[test]
fn a_rust_plugin_imports_only_what_the_host_offers() {
    let hello = plugins::component("hello");
    let imports = component_imports(&hello).expect("imports");
    for interface in ["clock", "calendar", "directory", "rights", "notifications"] {
        assert!(
            imports
                .iter()
                .any(|i| *i == format!("preau:plugin/{interface}@1.0.0")),
            "{interface} in {imports:?}"
        );
    }
    assert!(
        imports.iter().any(|i| i.starts_with("wasi:cli/")),
        "{imports:?}"
    );
    check_imports(&manifest(""), &hello, &HOST_API, HOST_INTERFACES)
        .expect("hello needs no capability");

    // The hostile plugin reaches the network, files and SSO: it needs the three capabilities.
    let hostile = plugins::component("hostile");
    let imports = component_imports(&hostile).expect("imports");
    for interface in ["log", "http", "files", "sso", "notifications"] {
        assert!(
            imports
                .iter()
                .any(|i| *i == format!("preau:plugin/{interface}@1.0.0")),
            "{interface} in {imports:?}"
        );
    }
    let e = refusal(check_imports(
        &manifest(""),
        &hostile,
        &HOST_API,
        HOST_INTERFACES,
    ));
    assert!(e.contains("needs the undeclared capability"), "{e}");
    let declared = manifest(
        "[capabilities]\noutbound_hosts = [\"api.example.org\"]\nfiles_quota_mib = 1\nsso = true\n",
    );
    check_imports(&declared, &hostile, &HOST_API, HOST_INTERFACES)
        .expect("accepted with its capabilities");
}

#[test]
fn outbound_http_without_granted_hosts_is_refused() {
    let http_v1 = "package preau:plugin@1.0.0;\n\
                   interface http { fetch: func(url: string) -> result<list<u8>, string>; }\n\
                   world w { import http; }";
    let component = synthesize(&[http_v1], "w");
    let e = refusal(check_imports(
        &manifest(""),
        &component,
        &HOST_API,
        HOST_INTERFACES,
    ));
    assert!(
        e.contains("preau:plugin/http@1.0.0") && e.contains("outbound_hosts"),
        "{e}"
    );
    let granted = manifest("[capabilities]\noutbound_hosts = [\"api.example.org\"]\n");
    check_imports(&granted, &component, &HOST_API, HOST_INTERFACES).expect("declared");
}

#[test]
fn undeclared_capabilities_newer_apis_and_networking_are_refused() {
    let files_v1 = "package preau:plugin@1.0.0;\ninterface files { stat: func(path: string) -> option<u64>; }\n\
                    world w { import files; }";
    // Files without a quota: refused, naming the capability; with one, accepted.
    let component = synthesize(&[files_v1], "w");
    let e = refusal(check_imports(
        &manifest(""),
        &component,
        &HOST_API,
        HOST_INTERFACES,
    ));
    assert!(
        e.contains("preau:plugin/files@1.0.0") && e.contains("files_quota_mib"),
        "{e}"
    );
    let quota = manifest("[capabilities]\nfiles_quota_mib = 10\n");
    check_imports(&quota, &component, &HOST_API, HOST_INTERFACES).expect("declared");

    // Built against 1.1 on a 1.0 host: refused.
    let log_v11 = "package preau:plugin@1.1.0;\ninterface log { log: func(message: string); }\nworld w { import log; }";
    let component = synthesize(&[log_v11], "w");
    let e = refusal(check_imports(
        &manifest(""),
        &component,
        &HOST_API,
        HOST_INTERFACES,
    ));
    assert!(e.contains("1.1.0") && e.contains("newer"), "{e}");
    // On a 1.1 host it loads, but a manifest claiming ^1.0 is refused: it would break on 1.0.
    let host_11 = semver::Version::new(1, 1, 0);
    let e = refusal(check_imports(
        &manifest(""),
        &component,
        &host_11,
        HOST_INTERFACES,
    ));
    assert!(e.contains("host_api"), "{e}");
    let honest = manifest_for("^1.1", "");
    check_imports(&honest, &component, &host_11, HOST_INTERFACES).expect("^1.1 on a 1.1 host");

    // An interface the host does not have, WASI sockets, and a foreign package.
    let unknown = "package preau:plugin@1.0.0;\ninterface telepathy { f: func(); }\nworld w { import telepathy; }";
    let e = refusal(check_imports(
        &manifest(""),
        &synthesize(&[unknown], "w"),
        &HOST_API,
        HOST_INTERFACES,
    ));
    assert!(e.contains("telepathy"), "{e}");
    let sockets = "package wasi:sockets@0.2.0;\ninterface tcp { connect: func(); }";
    let world = "package essai:net;\nworld w { import wasi:sockets/tcp@0.2.0; }";
    let e = refusal(check_imports(
        &manifest(""),
        &synthesize(&[sockets, world], "w"),
        &HOST_API,
        HOST_INTERFACES,
    ));
    assert!(e.contains("wasi:sockets/tcp@0.2.0"), "{e}");
    let foreign = "package evil:corp@1.0.0;\ninterface spy { f: func(); }";
    let world = "package essai:spy;\nworld w { import evil:corp/spy@1.0.0; }";
    let e = refusal(check_imports(
        &manifest(""),
        &synthesize(&[foreign, world], "w"),
        &HOST_API,
        HOST_INTERFACES,
    ));
    assert!(e.contains("evil:corp/spy"), "{e}");
}
