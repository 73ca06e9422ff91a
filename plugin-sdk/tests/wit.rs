//! The WIT package parses, under the name and version the host and the documentation use, and
//! declares the storage interfaces with the functions `docs/plugin-api.md` lists.

use std::path::Path;

#[test]
fn the_plugin_api_package_parses() {
    let mut resolve = wit_parser::Resolve::default();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("wit");
    let (package, _) = resolve.push_dir(&dir).expect("the WIT package parses");
    let package = &resolve.packages[package];
    assert_eq!(package.name.to_string(), "preau:plugin@1.0.0");
    let functions = |interface: &str| -> Vec<String> {
        let id = package.interfaces[interface];
        let mut names: Vec<String> = resolve.interfaces[id].functions.keys().cloned().collect();
        names.sort();
        names
    };
    assert_eq!(functions("documents"), ["commit", "get", "query"]);
    assert_eq!(
        functions("files"),
        [
            "[method]download.read",
            "[method]upload.write",
            "[static]upload.finish",
            "create",
            "delete",
            "list",
            "open",
            "stat",
            "usage",
        ]
    );
}
