//! The WIT package parses, under the name and version the host and the documentation use; the
//! world `plugin` imports and exports exactly the interfaces `docs/plugin-api.md` lists, each
//! with the functions it lists; and every item carries a doc comment.

use std::path::Path;

fn resolve() -> (wit_parser::Resolve, wit_parser::PackageId) {
    let mut resolve = wit_parser::Resolve::default();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("wit");
    let (package, _) = resolve.push_dir(&dir).expect("the WIT package parses");
    (resolve, package)
}

#[test]
fn the_plugin_api_package_parses() {
    let (resolve, package) = resolve();
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
    assert_eq!(functions("log"), ["log"]);
    assert_eq!(functions("clock"), ["now", "today"]);
    assert_eq!(
        functions("calendar"),
        [
            "holidays",
            "is-school-day",
            "next-school-day",
            "periods",
            "school-year-of"
        ]
    );
    assert_eq!(
        functions("directory"),
        [
            "children",
            "classes",
            "current-user",
            "groups",
            "members",
            "teachings"
        ]
    );
    assert_eq!(functions("rights"), ["holds", "may-write-to"]);
    assert_eq!(functions("notifications"), ["notify"]);
    assert_eq!(functions("sso"), ["register-cas-service"]);
    assert_eq!(functions("http"), ["fetch"]);
    assert_eq!(functions("handler"), ["handle"]);
    assert_eq!(functions("widgets"), ["render"]);
    assert_eq!(functions("events"), ["handle"]);
    assert_eq!(functions("user-data"), ["delete", "export"]);
    assert!(functions("http-types").is_empty());
}

#[test]
fn the_world_imports_and_exports_the_listed_interfaces() {
    let (resolve, package) = resolve();
    let world = resolve
        .select_world(&[package], Some("plugin"))
        .expect("world plugin");
    let names = |items: &dyn Fn() -> Vec<String>| {
        let mut names = items();
        names.sort();
        names
    };
    let name_of = |key: &wit_parser::WorldKey| resolve.name_world_key(key);
    let imports = names(&|| resolve.worlds[world].imports.keys().map(name_of).collect());
    let exports = names(&|| resolve.worlds[world].exports.keys().map(name_of).collect());
    let v = |names: &[&str]| -> Vec<String> {
        let mut names: Vec<String> = names
            .iter()
            .map(|n| format!("preau:plugin/{n}@1.0.0"))
            .collect();
        names.sort();
        names
    };
    // `http-types` comes in through the `use` of the exports; it only defines types.
    assert_eq!(
        imports,
        v(&[
            "calendar",
            "clock",
            "directory",
            "documents",
            "files",
            "http",
            "http-types",
            "log",
            "notifications",
            "rights",
            "sso",
        ])
    );
    assert_eq!(exports, v(&["events", "handler", "user-data", "widgets"]));
}

#[test]
fn every_item_has_a_doc_comment() {
    let (resolve, package) = resolve();
    let package = &resolve.packages[package];
    let mut missing = Vec::new();
    for (name, id) in &package.interfaces {
        let interface = &resolve.interfaces[*id];
        if interface.docs.contents.is_none() {
            missing.push(format!("interface {name}"));
        }
        for (f, func) in &interface.functions {
            if func.docs.contents.is_none() {
                missing.push(format!("{name}.{f}"));
            }
        }
        for (t, ty) in &interface.types {
            let def = &resolve.types[*ty];
            // A type brought in by `use` is documented where it is defined.
            let used = matches!(
                def.kind,
                wit_parser::TypeDefKind::Type(wit_parser::Type::Id(_))
            );
            if !used && def.docs.contents.is_none() {
                missing.push(format!("{name}.{t}"));
            }
        }
    }
    assert!(missing.is_empty(), "undocumented: {missing:?}");
}
