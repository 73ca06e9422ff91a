//! Packages end to end: a plugin directory packed deterministically, unpacked and checked,
//! signed and verified; every malformed manifest or archive refused with a message naming the
//! field or file; tampering detected.

use preau_package::manifest::{LimitOverrides, Limits, Manifest};
use preau_package::signing::{self, SecretKey};
use preau_package::{PackageError, pack, unpack};

const MANIFEST: &str = r#"
id = "ville-paris:cahier-de-textes"
version = "1.2.0"
licence = "AGPL-3.0-or-later"
component = "cahier.wasm"
host_api = "^1.0"
assets = ["images/logo.png"]

[name]
fr = "Cahier de textes"
en = "Homework diary"

[description]
fr = "Le travail à faire, par classe et par jour."
en = "Homework, by class and by day."

[translations]
fr = "locales/fr.ftl"
en = "locales/en.ftl"

[capabilities]
files_quota_mib = 500
outbound_hosts = ["api.example.org"]

[limits]
call_ms = 1000

[[permissions]]
id = "devoirs.consulter"
family = "consultation"
label = { fr = "Consulter le cahier de textes", en = "Read the homework diary" }
defaults = ["eleve", "parent", "enseignant"]

[[permissions]]
id = "devoirs.saisir"
family = "publication"
label = { fr = "Saisir le travail à faire", en = "Write homework" }
defaults = ["enseignant"]

[[routes]]
path = "/"
permission = "devoirs.consulter"
auth = "user"

[[routes]]
path = "/devoirs/{id}"
methods = ["GET", "POST"]
permission = "devoirs.saisir"
auth = "user"

[[collections]]
name = "homework"
[[collections.indexes]]
name = "by-class-due"
fields = [{ field = "class", type = "string" }, { field = "due", type = "datetime" }]

[[widgets]]
id = "a-faire"
title = { fr = "À faire", en = "To do" }
permission = "devoirs.consulter"
"#;

/// A component header (magic, version 0x0d, layer 1) and some bytes.
const COMPONENT: &[u8] = b"\0asm\x0d\x00\x01\x00rest-of-the-component";

fn manifest_text() -> String {
    MANIFEST.to_owned()
}

fn plugin_dir(manifest: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("dir");
    let write = |rel: &str, bytes: &[u8]| {
        let path = dir.path().join(rel);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, bytes).expect("write");
    };
    write("plugin.toml", manifest.as_bytes());
    write("cahier.wasm", COMPONENT);
    write("locales/fr.ftl", "titre = Cahier de textes\n".as_bytes());
    write("locales/en.ftl", b"titre = Homework diary\n");
    write("images/logo.png", b"\x89PNG\r\n\x1a\nimage");
    write("README.md", b"not packed: the manifest does not name it");
    dir
}

fn field_of(e: PackageError) -> String {
    match e {
        PackageError::Manifest { field, .. } => field,
        PackageError::Archive { path, .. } => path,
        PackageError::Signature(m) => m,
    }
}

#[test]
fn packing_is_deterministic_and_unpacks_to_the_same_plugin() {
    let dir = plugin_dir(&manifest_text());
    let a = pack(dir.path()).expect("pack");
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let b = pack(dir.path()).expect("pack again");
    assert_eq!(a, b, "same directory, same bytes");
    let package = unpack(&a).expect("unpack");
    assert_eq!(package.manifest.id, "ville-paris:cahier-de-textes");
    assert_eq!(package.manifest.publisher(), "ville-paris");
    assert_eq!(package.component(), COMPONENT);
    let names: Vec<&str> = package.files.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            "cahier.wasm",
            "images/logo.png",
            "locales/en.ftl",
            "locales/fr.ftl",
            "plugin.toml"
        ]
    );
    assert_eq!(package.size, a.len() as u64);
    assert_eq!(package.sha256, preau_package::sha256_hex(&a));
    // plugin.toml is the first entry of the archive.
    let gz = flate2::read::GzDecoder::new(a.as_slice());
    let mut archive = tar::Archive::new(gz);
    let first = archive
        .entries()
        .expect("entries")
        .next()
        .expect("one")
        .expect("entry");
    assert_eq!(first.path().expect("path").to_str(), Some("plugin.toml"));
}

#[test]
fn every_manifest_error_names_its_field() {
    let cases: &[(&str, &str, &str)] = &[
        (
            "id = \"ville-paris:cahier-de-textes\"",
            "id = \"Ville:Cahier\"",
            "id",
        ),
        (
            "id = \"ville-paris:cahier-de-textes\"",
            "id = \"cahier\"",
            "id",
        ),
        (
            "licence = \"AGPL-3.0-or-later\"",
            "licence = \"libre\"",
            "licence",
        ),
        (
            "component = \"cahier.wasm\"",
            "component = \"../cahier.wasm\"",
            "component",
        ),
        (
            "component = \"cahier.wasm\"",
            "component = \"cahier.exe\"",
            "component",
        ),
        ("host_api = \"^1.0\"", "host_api = \"^2.0\"", "host_api"),
        ("host_api = \"^1.0\"", "host_api = \">=1.0\"", "host_api"),
        (
            "outbound_hosts = [\"api.example.org\"]",
            "outbound_hosts = [\"10.0.0.1\"]",
            "capabilities.outbound_hosts",
        ),
        (
            "methods = [\"GET\", \"POST\"]",
            "methods = []",
            "routes[1].methods",
        ),
        ("path = \"/devoirs/{id}\"", "path = \"/\"", "routes[1]"),
        (
            "{ field = \"due\", type = \"datetime\" }",
            "{ field = \"class\", type = \"string\" }",
            "collections[0].indexes[0].fields",
        ),
        ("fr = \"Cahier de textes\"\n", "fr = \"\"\n", "name.fr"),
        (
            "en = \"locales/en.ftl\"",
            "de = \"locales/de.ftl\"",
            "translations.de",
        ),
        (
            "outbound_hosts = [\"api.example.org\"]",
            "outbound_hosts = [\"*.example.org\"]",
            "capabilities.outbound_hosts",
        ),
        ("call_ms = 1000", "call_ms = 0", "limits.call_ms"),
        (
            "family = \"consultation\"",
            "family = \"lecture\"",
            "permissions[0].family",
        ),
        (
            "defaults = [\"enseignant\"]",
            "defaults = [\"professeur\"]",
            "permissions[1].defaults",
        ),
        (
            "permission = \"devoirs.saisir\"",
            "permission = \"devoirs.effacer\"",
            "routes[1].permission",
        ),
        (
            "path = \"/devoirs/{id}\"",
            "path = \"devoirs\"",
            "routes[1].path",
        ),
        (
            "methods = [\"GET\", \"POST\"]",
            "methods = [\"GET\", \"TRACE\"]",
            "routes[1].methods",
        ),
        (
            "auth = \"user\"\n\n[[collections]]",
            "auth = \"public\"\n\n[[collections]]",
            "routes[1].permission",
        ),
        (
            "type = \"datetime\"",
            "type = \"date\"",
            "collections[0].indexes[0].fields[1].type",
        ),
        (
            "type = \"datetime\"",
            "type = \"datetime\", collation = \"fr\"",
            "collections[0].indexes[0].fields[1].collation",
        ),
        ("id = \"a-faire\"", "id = \"À faire\"", "widgets[0].id"),
        (
            "assets = [\"images/logo.png\"]",
            "assets = [\"images/logo.svg\"]",
            "assets[0]",
        ),
        ("version = \"1.2.0\"", "version = \"un\"", "plugin.toml"),
        ("[limits]", "[limites]", "plugin.toml"),
    ];
    let base = manifest_text();
    Manifest::parse(&base).expect("the base manifest is valid");
    for (from, to, field) in cases {
        assert!(
            base.contains(from),
            "case {field}: `{from}` not in the manifest"
        );
        let text = base.replacen(from, to, 1);
        let e = Manifest::parse(&text).expect_err(field);
        let shown = e.to_string();
        if let PackageError::Manifest { message, .. } = &e {
            assert!(
                message.contains(" / ") || message.contains("line"),
                "French then English: {shown}"
            );
        }
        assert_eq!(field_of(e), *field, "{to}: {shown}");
    }
    // A public route needs the capability.
    let text = base
        .replacen(
            "auth = \"user\"\n\n[[routes]]",
            "auth = \"public\"\n\n[[routes]]",
            1,
        )
        .replacen(
            "path = \"/\"\npermission = \"devoirs.consulter\"\n",
            "path = \"/\"\n",
            1,
        );
    assert_eq!(
        field_of(Manifest::parse(&text).expect_err("capability")),
        "routes[0].auth"
    );
}

#[test]
fn effective_limits_are_the_smaller_of_operator_and_manifest() {
    let operator = Limits {
        call_ms: 1500,
        ..Limits::default()
    };
    let asked = LimitOverrides {
        call_ms: Some(5000),
        memory_mib: Some(32),
        ..LimitOverrides::default()
    };
    let effective = Limits::effective(operator, &asked);
    assert_eq!(effective.call_ms, 1500, "a manifest cannot raise a limit");
    assert_eq!(effective.memory_mib, 32, "it may lower one");
    assert_eq!(effective.widget_ms, 300);
    assert_eq!(Limits::default().view_kib, 1024);
}

#[test]
fn the_capabilities_digest_ignores_order_and_follows_content() {
    let a = Manifest::parse(&manifest_text()).expect("valid");
    let mut b = a.clone();
    b.permissions.reverse();
    b.permissions[0].defaults.reverse();
    b.routes.clear();
    assert_eq!(
        a.capabilities_digest(),
        b.capabilities_digest(),
        "order and routes do not matter"
    );
    let mut c = a.clone();
    c.capabilities
        .outbound_hosts
        .insert("evil.example.org".into());
    assert_ne!(a.capabilities_digest(), c.capabilities_digest());
    let mut d = a.clone();
    d.permissions[1].defaults.push("eleve".into());
    assert_ne!(a.capabilities_digest(), d.capabilities_digest());
}

#[test]
fn packing_refuses_missing_files_links_and_non_components() {
    let dir = plugin_dir(&manifest_text());
    std::fs::remove_file(dir.path().join("locales/en.ftl")).expect("rm");
    assert_eq!(
        field_of(pack(dir.path()).expect_err("missing")),
        "locales/en.ftl"
    );

    let dir = plugin_dir(&manifest_text());
    let logo = dir.path().join("images/logo.png");
    std::fs::remove_file(&logo).expect("rm");
    std::os::unix::fs::symlink("/etc/passwd", &logo).expect("link");
    assert_eq!(
        field_of(pack(dir.path()).expect_err("symlink")),
        "images/logo.png"
    );

    let dir = plugin_dir(&manifest_text());
    std::fs::write(
        dir.path().join("cahier.wasm"),
        b"\0asm\x01\x00\x00\x00core module",
    )
    .expect("module");
    assert_eq!(
        field_of(pack(dir.path()).expect_err("core module")),
        "component"
    );

    let dir = plugin_dir(&manifest_text());
    std::fs::write(dir.path().join("images/logo.png"), b"<svg onload=alert(1)>").expect("svg");
    assert_eq!(
        field_of(pack(dir.path()).expect_err("not an image")),
        "assets[0]"
    );
}

/// Writes a tar.gz by hand, entry by entry, for the archive attacks.
fn archive(entries: &[(&str, &[u8], tar::EntryType, u32)]) -> Vec<u8> {
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let mut tar = tar::Builder::new(gz);
    for (path, bytes, kind, mode) in entries {
        let mut header = tar::Header::new_ustar();
        // Write the name field raw, so that "../x" and "/x" reach the archive as they are.
        header.as_old_mut().name[..path.len()].copy_from_slice(path.as_bytes());
        header.set_size(bytes.len() as u64);
        header.set_mode(*mode);
        header.set_mtime(0);
        header.set_uid(0);
        header.set_gid(0);
        header.set_entry_type(*kind);
        if *kind == tar::EntryType::Symlink {
            header.set_link_name("/etc/passwd").expect("link");
        }
        header.set_cksum();
        tar.append(&header, *bytes).expect("append");
    }
    tar.into_inner().expect("tar").finish().expect("gz")
}

#[test]
fn unpacking_refuses_every_malformed_archive() {
    let m = manifest_text();
    let m = m.as_bytes();
    let fr: &[u8] = b"a = b\n";
    let png: &[u8] = b"\x89PNG\r\n\x1a\nimage";
    let r = tar::EntryType::Regular;
    let good = |extra: Vec<(&'static str, &'static [u8], tar::EntryType, u32)>| {
        let mut v: Vec<(&str, &[u8], tar::EntryType, u32)> = vec![
            ("plugin.toml", m, r, 0o644),
            ("cahier.wasm", COMPONENT, r, 0o644),
            ("images/logo.png", png, r, 0o644),
            ("locales/en.ftl", fr, r, 0o644),
            ("locales/fr.ftl", fr, r, 0o644),
        ];
        v.extend(extra);
        v
    };
    unpack(&archive(&good(vec![]))).expect("the hand-made archive is valid");
    let refused = |entries: Vec<(&str, &[u8], tar::EntryType, u32)>| {
        field_of(unpack(&archive(&entries)).expect_err("refused"))
    };

    assert_eq!(
        refused(good(vec![("zz/../../evil", b"x", r, 0o644)])),
        "zz/../../evil"
    );
    assert_eq!(
        refused(good(vec![("/etc/cron.d/evil", b"x", r, 0o644)])),
        "/etc/cron.d/evil"
    );
    assert_eq!(
        refused(good(vec![("zz-link", b"", tar::EntryType::Symlink, 0o644)])),
        "zz-link"
    );
    assert_eq!(
        refused(good(vec![(
            "zz-dir",
            b"",
            tar::EntryType::Directory,
            0o755
        )])),
        "zz-dir"
    );
    assert_eq!(
        refused(good(vec![("zz-extra.txt", b"x", r, 0o644)])),
        "zz-extra.txt"
    );
    let mut exec = good(vec![]);
    exec[1].3 = 0o755;
    assert_eq!(refused(exec), "cahier.wasm");
    let mut late = good(vec![]);
    late.swap(0, 1);
    assert_eq!(refused(late), "plugin.toml");
    let mut unsorted = good(vec![]);
    unsorted.swap(3, 4);
    assert_eq!(refused(unsorted), "(archive)");
    let mut missing = good(vec![]);
    missing.remove(2);
    assert_eq!(refused(missing), "images/logo.png");
    let mut twice = good(vec![]);
    twice.insert(2, ("cahier.wasm", COMPONENT, r, 0o644));
    assert!(["cahier.wasm", "(archive)"].contains(&refused(twice).as_str()));

    // A bomb: small on the wire, huge once inflated.
    let zeros = vec![0u8; 40 * 1024 * 1024];
    let bomb = archive(&[
        ("plugin.toml", m, r, 0o644),
        ("cahier.wasm", &zeros, r, 0o644),
    ]);
    assert!(bomb.len() < 1024 * 1024);
    assert_eq!(refused_bytes(&bomb), "cahier.wasm");
    assert!(unpack(b"not gzip at all").is_err());
}

fn refused_bytes(bytes: &[u8]) -> String {
    field_of(unpack(bytes).expect_err("refused"))
}

#[test]
fn signatures_verify_and_tampering_is_refused() {
    let dir = plugin_dir(&manifest_text());
    let bytes = pack(dir.path()).expect("pack");
    let package = unpack(&bytes).expect("unpack");
    let key = SecretKey::generate().expect("key");
    let sig = serde_json::to_string(&key.sign(&package)).expect("json");
    let trusted = [key.public()];
    assert_eq!(
        signing::verify(&package, &sig, &trusted).expect("valid"),
        key.public()
    );
    // Keys round-trip as text; the secret never prints.
    let again = SecretKey::from_text(&key.to_text()).expect("secret");
    assert_eq!(again.public(), key.public());
    assert!(!format!("{key:?}").contains(&key.to_text()));
    assert_eq!(
        signing::PublicKey::from_text(&key.public().to_text()).expect("public"),
        key.public()
    );

    // Not trusted.
    let stranger = SecretKey::generate().expect("key");
    let e = signing::verify(&package, &sig, &[stranger.public()])
        .expect_err("untrusted")
        .to_string();
    assert!(e.contains("non approuvée"), "{e}");

    // The package changed after signing (one byte of the component).
    std::fs::write(
        dir.path().join("cahier.wasm"),
        b"\0asm\x0d\x00\x01\x00REST-of-the-component",
    )
    .expect("edit");
    let tampered = unpack(&pack(dir.path()).expect("pack")).expect("unpack");
    let e = signing::verify(&tampered, &sig, &trusted)
        .expect_err("tampered")
        .to_string();
    assert!(e.contains("modifié"), "{e}");

    // The statement edited to match: the signature no longer verifies.
    let mut forged: signing::SignatureFile = serde_json::from_str(&sig).expect("sig");
    forged.statement.sha256 = tampered.sha256.clone();
    forged.statement.size = tampered.size;
    let forged = serde_json::to_string(&forged).expect("json");
    let e = signing::verify(&tampered, &forged, &trusted)
        .expect_err("forged")
        .to_string();
    assert!(e.contains("invalide"), "{e}");

    // Garbage.
    assert!(signing::verify(&package, "{}", &trusted).is_err());
    assert!(signing::verify(&package, "not json", &trusted).is_err());
}
