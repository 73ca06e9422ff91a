//! The plugin lifecycle through the `preau` command, as an operator drives it: `install` (signed
//! by a trusted key, or `--allow-unsigned`; tampered packages, undeclared imports and newer APIs
//! refused), `list`, `enable` (approving a version's capabilities), updates that wait for
//! approval, `remove` refused while a version runs or while the plugin holds data, and
//! `--purge-data`; and `preau demo --plugins`, which signs, installs and enables its plugins.

use std::path::{Path, PathBuf};
use std::process::Command;

use preau_core::store::spec::StoreSpec;
use preau_core::store::{Limits, PluginId, PluginStorage, Scope};
use preau_core::testing::TestDb;

use crate::plugins;
use crate::support::{output, preau, succeeded};

/// A demo instance (establishments, no plugin) on a scratch database, and its data directory.
struct Instance {
    t: TestDb,
    data: tempfile::TempDir,
    /// Publisher key pair made by `preau plugin keygen`: (secret key file, public key text).
    key: (PathBuf, String),
}

impl Instance {
    async fn new() -> Instance {
        let t = TestDb::new().await;
        let data = tempfile::tempdir().expect("temp dir");
        succeeded(
            preau()
                .args(["demo", "--no-serve", "--password", "correct horse"])
                .arg("--data")
                .arg(data.path())
                .env("PREAU_DATABASE_URL", t.url.expose()),
        );
        let secret = data.path().join("publisher.key");
        succeeded(preau().args(["plugin", "keygen"]).arg(&secret));
        let public = std::fs::read_to_string(data.path().join("publisher.key.pub"))
            .expect("public key")
            .trim()
            .to_owned();
        Instance {
            t,
            data,
            key: (secret, public),
        }
    }

    /// `preau plugin ARGS` on this instance, trusting the publisher key.
    fn plugin(&self, args: &[&str]) -> Command {
        let mut cmd = preau();
        cmd.arg("plugin")
            .args(args)
            .arg("--data")
            .arg(self.data.path())
            .env("PREAU_DATABASE_URL", self.t.url.expose())
            .env("PREAU_PLUGINS_TRUSTED_KEYS", &self.key.1);
        cmd
    }

    /// A package of the `hello` test plugin at `version` with `extra` manifest lines, signed by
    /// the publisher key when `signed`.
    fn package(&self, version: &str, extra: &str, signed: bool) -> PathBuf {
        package_in(
            self.data.path(),
            &plugins::component("hello"),
            version,
            extra,
            signed.then_some(&self.key.0),
        )
    }

    async fn uai(&self) -> String {
        let e = self.t.db.establishments().await.expect("establishments");
        e[0].uai.to_string()
    }
}

/// Writes a plugin directory and packs it with `preau plugin pack` (`--key` when given).
fn package_in(
    root: &Path,
    component: &[u8],
    version: &str,
    extra: &str,
    key: Option<&PathBuf>,
) -> PathBuf {
    let dir = root.join(format!("src-{version}"));
    std::fs::create_dir_all(&dir).expect("dir");
    std::fs::write(dir.join("hello.wasm"), component).expect("component");
    std::fs::write(dir.join("plugin.toml"), manifest(version, extra)).expect("manifest");
    let out = root.join(format!("bonjour-{version}.preau"));
    let mut cmd = preau();
    cmd.args(["plugin", "pack"])
        .arg(&dir)
        .arg("--out")
        .arg(&out);
    if let Some(key) = key {
        cmd.arg("--key").arg(key);
    }
    succeeded(&mut cmd);
    out
}

fn manifest(version: &str, extra: &str) -> String {
    format!(
        r#"id = "essai:bonjour"
version = "{version}"
licence = "MIT"
component = "hello.wasm"
host_api = "^1.0"

[name]
fr = "Bonjour"
en = "Hello"

[description]
fr = "Un service d'essai."
en = "A test service."

[capabilities]
files_quota_mib = 1
{extra}
[[collections]]
name = "notes"
"#
    )
}

fn stdout(cmd: &mut Command) -> String {
    String::from_utf8_lossy(&succeeded(cmd).stdout).into_owned()
}

/// Runs a command that must fail; its stderr.
#[track_caller]
fn refused(cmd: &mut Command) -> String {
    let out = output(cmd);
    assert!(
        !out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn path_str(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

#[tokio::test]
async fn install_accepts_trusted_signatures_and_refuses_the_rest() {
    let i = Instance::new().await;
    let signed = i.package("0.1.0", "", true);

    // A key this instance does not trust.
    let mut untrusted = i.plugin(&["install", "--file", path_str(&signed)]);
    untrusted.env("PREAU_PLUGINS_TRUSTED_KEYS", "");
    let e = refused(&mut untrusted);
    assert!(
        e.contains("non approuvée") && e.contains("not trusted"),
        "{e}"
    );

    let out = stdout(&mut i.plugin(&["install", "--file", path_str(&signed)]));
    assert!(
        out.contains("essai:bonjour 0.1.0") && out.contains(&i.key.1),
        "{out}"
    );
    // Installing the same package again changes nothing.
    let out = stdout(&mut i.plugin(&["install", "--file", path_str(&signed)]));
    assert!(out.contains("déjà installé"), "{out}");

    // Unsigned: refused, unless --allow-unsigned, which is journaled.
    let unsigned = i.package("0.2.0", "", false);
    let e = refused(&mut i.plugin(&["install", "--file", path_str(&unsigned)]));
    assert!(
        e.contains("non signé") && e.contains("--allow-unsigned"),
        "{e}"
    );
    let out =
        stdout(&mut i.plugin(&["install", "--allow-unsigned", "--file", path_str(&unsigned)]));
    assert!(out.contains("NON SIGNÉ"), "{out}");
    let journal =
        i.t.db
            .plugin_journal("essai:bonjour")
            .await
            .expect("journal");
    assert!(
        journal
            .iter()
            .any(|j| j.action == "install_unsigned" && j.version.as_deref() == Some("0.2.0")),
        "{journal:?}"
    );

    // The same version with other content: a published version never changes.
    let other = package_in(
        &i.data.path().join("other"),
        &plugins::component("hello"),
        "0.1.0",
        "\n[limits]\ncall_ms = 500\n",
        Some(&i.key.0),
    );
    let e = refused(&mut i.plugin(&["install", "--file", path_str(&other)]));
    assert!(
        e.contains("autre contenu") && e.contains("different content"),
        "{e}"
    );

    // Tampered: the signature of one package beside another one. Refused even with
    // --allow-unsigned: a signature that does not match is not a development package.
    let tampered = i.package("0.3.0", "", true);
    let genuine = i.package("0.3.0-b", "", true);
    std::fs::copy(sig(&genuine), sig(&tampered)).expect("swap signature");
    let e = refused(&mut i.plugin(&["install", "--file", path_str(&tampered)]));
    assert!(e.contains("autre paquet") || e.contains("modifié"), "{e}");
    let e = refused(&mut i.plugin(&["install", "--allow-unsigned", "--file", path_str(&tampered)]));
    assert!(
        e.contains("another package") || e.contains("modified"),
        "{e}"
    );
    // Bytes altered after signing (one byte of the gzip stream).
    let mut bytes = std::fs::read(&genuine).expect("package");
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x01;
    std::fs::write(&genuine, &bytes).expect("alter");
    refused(&mut i.plugin(&["install", "--allow-unsigned", "--file", path_str(&genuine)]));

    let listed = stdout(&mut i.plugin(&["list"]));
    assert!(
        listed.contains("0.1.0") && listed.contains("0.2.0"),
        "{listed}"
    );
    assert!(
        !listed.contains("0.3.0"),
        "refused packages are not installed: {listed}"
    );
}

#[tokio::test]
async fn install_refuses_undeclared_imports_and_newer_apis() {
    let i = Instance::new().await;
    let root = i.data.path();
    // Imports `files` without declaring a quota.
    let files = "package preau:plugin@1.0.0;\ninterface files { stat: func(path: string) -> option<u64>; }\n\
                 world w { import files; }";
    let component = crate::imports::synthesize(&[files], "w");
    let pkg = package_in(&root.join("files"), &component, "0.1.0", "", Some(&i.key.0));
    let e = refused(&mut i.plugin(&["install", "--file", path_str(&pkg)]));
    assert!(e.contains("preau:plugin/files@1.0.0"), "{e}");

    // Built against a newer API than the host's.
    let log = "package preau:plugin@1.9.0;\ninterface log { log: func(message: string); }\nworld w { import log; }";
    let component = crate::imports::synthesize(&[log], "w");
    let pkg = package_in(&root.join("newer"), &component, "0.1.0", "", Some(&i.key.0));
    let e = refused(&mut i.plugin(&["install", "--file", path_str(&pkg)]));
    assert!(e.contains("1.9.0"), "{e}");

    assert!(stdout(&mut i.plugin(&["list"])).contains("Aucune extension"));
}

#[tokio::test]
async fn updates_wait_for_approval_and_removal_protects_data() {
    let i = Instance::new().await;
    let uai = i.uai().await;
    let read = "[[permissions]]\nid = \"notes.lire\"\nfamily = \"consultation\"\nlabel = { fr = \"Lire les notes\", en = \"Read notes\" }\ndefaults = [\"eleve\", \"enseignant\"]\n";
    let write = "[[permissions]]\nid = \"notes.ecrire\"\nfamily = \"publication\"\nlabel = { fr = \"Écrire\", en = \"Write\" }\ndefaults = [\"enseignant\"]\n";
    for (version, extra) in [("0.1.0", read), ("0.2.0", read)] {
        let pkg = i.package(version, extra, true);
        succeeded(&mut i.plugin(&["install", "--file", path_str(&pkg)]));
    }
    let e = refused(&mut i.plugin(&[
        "enable",
        "essai:bonjour",
        "--establishment",
        "0000000A",
        "--yes",
    ]));
    assert!(e.contains("UAI") || e.contains("inconnu"), "{e}");
    // Without --yes, enable shows what would be approved and approves nothing.
    let e = refused(&mut i.plugin(&["enable", "essai:bonjour", "--establishment", &uai]));
    assert!(e.contains("--yes"), "{e}");
    assert!(
        i.t.db
            .plugin_enablements()
            .await
            .expect("enablements")
            .is_empty()
    );
    let out = stdout(&mut i.plugin(&["enable", "essai:bonjour", "--establishment", &uai, "--yes"]));
    assert!(out.contains("0.2.0") && out.contains("notes.lire"), "{out}");
    assert!(
        out.contains("appel / call 2000 ms"),
        "the effective limits: {out}"
    );
    // The permissions' default grants are in place in that establishment.
    let establishment = i.t.db.establishments().await.expect("establishments")[0]
        .id
        .clone();
    let granted = |permission: &'static str| {
        let (db, establishment) = (i.t.db.clone(), establishment.clone());
        async move {
            db.granted_profiles(&establishment, "essai:bonjour", permission)
                .await
                .expect("grants")
                .iter()
                .map(|p| p.as_str())
                .collect::<Vec<_>>()
                .join(",")
        }
    };
    assert_eq!(granted("notes.lire").await, "eleve,enseignant");

    // 0.3.0 asks for the network: it waits for approval, 0.2.0 keeps running.
    let pkg = i.package(
        "0.3.0",
        &format!("outbound_hosts = [\"api.example.org\"]\n{read}{write}"),
        true,
    );
    succeeded(&mut i.plugin(&["install", "--file", path_str(&pkg)]));
    let listed = stdout(&mut i.plugin(&["list"]));
    assert!(
        listed.contains(&format!(
            "{uai}: version 0.2.0 en service ; mise à jour 0.3.0 en attente d'approbation"
        )),
        "{listed}"
    );
    // The running version cannot be removed; an unused one can.
    let e = refused(&mut i.plugin(&["remove", "essai:bonjour@0.2.0"]));
    assert!(e.contains(&uai) && e.contains("disable"), "{e}");
    succeeded(&mut i.plugin(&["remove", "essai:bonjour@0.1.0"]));
    // Approving again moves to 0.3.0 and shows what is approved.
    let out = stdout(&mut i.plugin(&["enable", "essai:bonjour", "--establishment", &uai, "--yes"]));
    assert!(
        out.contains("0.3.0") && out.contains("api.example.org"),
        "{out}"
    );
    // The permission 0.3.0 adds gets its defaults; the existing one is left as it was.
    assert_eq!(granted("notes.ecrire").await, "enseignant");
    assert_eq!(granted("notes.lire").await, "eleve,enseignant");

    // The plugin stores a document about someone in that establishment.
    let storage = PluginStorage::new(
        i.t.db.clone(),
        preau_core::clock::Clock::system(chrono_tz::Europe::Paris),
        i.data.path(),
    );
    let plugin = PluginId::parse("essai:bonjour").expect("id");
    let scope = Scope::new(plugin.clone(), establishment.clone());
    let spec = StoreSpec::from_manifest(
        &preau_package::Manifest::parse(&manifest("0.3.0", "")).expect("manifest"),
    )
    .expect("spec");
    storage
        .documents(&scope, &spec, Limits::default())
        .put("notes", "n1", r#"{"texte":"bonjour"}"#, &[])
        .await
        .expect("put");

    succeeded(&mut i.plugin(&["disable", "essai:bonjour", "--establishment", &uai]));
    let e = refused(&mut i.plugin(&["remove", "essai:bonjour"]));
    assert!(
        e.contains("--purge-data") && e.contains("1 documents"),
        "{e}"
    );
    succeeded(&mut i.plugin(&["remove", "essai:bonjour", "--purge-data"]));
    assert!(
        storage
            .holdings(&plugin)
            .await
            .expect("holdings")
            .is_empty()
    );
    assert_eq!(granted("notes.lire").await, "", "its grants went with it");
    let journal =
        i.t.db
            .plugin_journal("essai:bonjour")
            .await
            .expect("journal");
    let actions: Vec<&str> = journal.iter().map(|j| j.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "install", "install", "enable", "install", "remove", "enable", "disable", "purge",
            "remove", "remove"
        ],
    );
    assert!(
        journal.iter().all(|j| j.actor.starts_with("cli:")),
        "{journal:?}"
    );
    let kept = std::fs::read_dir(i.data.path().join("plugins/essai/bonjour"))
        .map(|d| d.count())
        .unwrap_or(0);
    assert_eq!(kept, 0, "no package file is left");
    assert!(stdout(&mut i.plugin(&["list"])).contains("Aucune extension"));
}

#[tokio::test]
async fn the_demo_signs_installs_and_enables_its_plugins() {
    let t = TestDb::new().await;
    let data = tempfile::tempdir().expect("temp dir");
    let sources = tempfile::tempdir().expect("temp dir");
    let dir = sources.path().join("bonjour");
    std::fs::create_dir_all(&dir).expect("dir");
    std::fs::write(dir.join("hello.wasm"), plugins::component("hello")).expect("component");
    std::fs::write(dir.join("plugin.toml"), manifest("1.0.0", "")).expect("manifest");
    let out = stdout(
        preau()
            .args(["demo", "--no-serve", "--password", "correct horse"])
            .arg("--data")
            .arg(data.path())
            .arg("--plugins")
            .arg(sources.path())
            .env("PREAU_DATABASE_URL", t.url.expose()),
    );
    assert!(out.contains("essai:bonjour 1.0.0"), "{out}");
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(data.path().join("demo-publisher.key"))
            .expect("the demo's key is in its data directory")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let installs = t.db.plugin_installs().await.expect("installs");
    assert_eq!(installs.len(), 1);
    assert!(installs[0].signed_by.is_some(), "signed by the demo key");
    let enabled = t.db.plugin_enablements().await.expect("enablements");
    let establishments = t.db.establishments().await.expect("establishments");
    assert_eq!(enabled.len(), establishments.len(), "enabled everywhere");
}

fn sig(package: &Path) -> PathBuf {
    let mut name = package.as_os_str().to_owned();
    name.push(".sig");
    PathBuf::from(name)
}

#[tokio::test]
async fn indexes_follow_every_running_version() {
    let i = Instance::new().await;
    let establishments = i.t.db.establishments().await.expect("establishments");
    let (a, b) = (&establishments[0], &establishments[1]);
    let by_title = "[[collections.indexes]]\nname = \"par-titre\"\nfields = [{ field = \"titre\", type = \"string\", collation = \"fr\" }]\n";
    let by_day = "[[collections.indexes]]\nname = \"par-jour\"\nfields = [{ field = \"jour\", type = \"string\" }]\n";
    // The manifest helper ends with `[[collections]] name = "notes"`: indexes are appended.
    let package = |version: &str, indexes: &str| {
        package_in(
            &i.data.path().join(format!("idx-{version}")),
            &plugins::component("hello"),
            version,
            "",
            Some(&i.key.0),
        );
        let dir = i
            .data
            .path()
            .join(format!("idx-{version}"))
            .join(format!("src-{version}"));
        let text = std::fs::read_to_string(dir.join("plugin.toml")).expect("manifest") + indexes;
        std::fs::write(dir.join("plugin.toml"), text).expect("manifest");
        let out = i.data.path().join(format!("idx-{version}.preau"));
        succeeded(
            preau()
                .args(["plugin", "pack"])
                .arg(&dir)
                .arg("--out")
                .arg(&out)
                .arg("--key")
                .arg(&i.key.0),
        );
        out
    };
    // A runs 0.1.0 (pinned) with an index by title; B runs 0.2.0, which has none.
    let v1 = package("0.1.0", by_title);
    succeeded(&mut i.plugin(&["install", "--file", path_str(&v1)]));
    let a_uai = a.uai.to_string();
    let b_uai = b.uai.to_string();
    succeeded(&mut i.plugin(&[
        "enable",
        "essai:bonjour",
        "--establishment",
        &a_uai,
        "--version",
        "0.1.0",
        "--yes",
    ]));
    let storage = PluginStorage::new(
        i.t.db.clone(),
        preau_core::clock::Clock::system(chrono_tz::Europe::Paris),
        i.data.path(),
    );
    let plugin = PluginId::parse("essai:bonjour").expect("id");
    let spec = |indexes: &str| {
        StoreSpec::from_manifest(
            &preau_package::Manifest::parse(&(manifest("0.0.0", "") + indexes)).expect("manifest"),
        )
        .expect("spec")
    };
    let (spec_a, spec_b) = (spec(by_title), spec(by_day));
    let scope_a = Scope::new(plugin.clone(), a.id.clone());
    let scope_b = Scope::new(plugin.clone(), b.id.clone());
    storage
        .documents(&scope_a, &spec_a, Limits::default())
        .put("notes", "n1", r#"{"titre":"Été"}"#, &[])
        .await
        .expect("put");
    storage
        .documents(&scope_b, &spec_b, Limits::default())
        .put("notes", "n2", r#"{"jour":"2026-11-30"}"#, &[])
        .await
        .expect("put");
    let v2 = package("0.2.0", "");
    succeeded(&mut i.plugin(&["install", "--file", path_str(&v2)]));
    succeeded(&mut i.plugin(&[
        "enable",
        "essai:bonjour",
        "--establishment",
        &b_uai,
        "--yes",
    ]));
    // A still finds its note by title: B's version did not drop A's index.
    let query = preau_core::store::documents::Query::index("notes", "par-titre");
    let page = storage
        .documents(&scope_a, &spec_a, Limits::default())
        .query(&query)
        .await
        .expect("query");
    assert_eq!(
        page.documents.len(),
        1,
        "the index of the pinned version is kept"
    );

    // 0.2.1 asks for nothing new but indexes by day: B runs it at once, so its index is built
    // at install, over the documents already there.
    let v21 = package("0.2.1", by_day);
    succeeded(&mut i.plugin(&["install", "--file", path_str(&v21)]));
    let listed = stdout(&mut i.plugin(&["list"]));
    assert!(
        listed.contains(&format!("{b_uai}: version 0.2.1 en service")),
        "{listed}"
    );
    let page = storage
        .documents(&scope_b, &spec_b, Limits::default())
        .query(&preau_core::store::documents::Query::index(
            "notes", "par-jour",
        ))
        .await
        .expect("query");
    assert_eq!(
        page.documents.len(),
        1,
        "the new index covers existing documents"
    );
}

#[tokio::test]
async fn concurrent_installs_of_one_version_leave_one_consistent_install() {
    let i = Instance::new().await;
    let pkg = i.package("0.1.0", "", true);
    let children: Vec<_> = (0..3)
        .map(|_| {
            i.plugin(&["install", "--file", path_str(&pkg)])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("spawn")
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().expect("wait");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let installs = i.t.db.plugin_installs().await.expect("installs");
    assert_eq!(installs.len(), 1);
    // The kept package is the one recorded: enabling reads it back and checks its SHA-256.
    let uai = i.uai().await;
    succeeded(&mut i.plugin(&["enable", "essai:bonjour", "--establishment", &uai, "--yes"]));
}

#[tokio::test]
async fn an_untrusted_signature_that_does_not_match_is_refused_even_with_allow_unsigned() {
    let i = Instance::new().await;
    let other = i.data.path().join("autre.key");
    succeeded(preau().args(["plugin", "keygen"]).arg(&other));
    let genuine = package_in(
        &i.data.path().join("a"),
        &plugins::component("hello"),
        "0.1.0",
        "",
        Some(&other),
    );
    let tampered = package_in(
        &i.data.path().join("b"),
        &plugins::component("hello"),
        "0.1.0",
        "\n[limits]\ncall_ms = 500\n",
        None,
    );
    std::fs::copy(sig(&genuine), sig(&tampered)).expect("signature beside another package");
    let e = refused(&mut i.plugin(&["install", "--allow-unsigned", "--file", path_str(&tampered)]));
    assert!(e.contains("modifié") || e.contains("autre paquet"), "{e}");
    // The genuine one, by a key this instance does not trust, goes in as unsigned.
    let out = stdout(&mut i.plugin(&["install", "--allow-unsigned", "--file", path_str(&genuine)]));
    assert!(out.contains("NON SIGNÉ"), "{out}");
}
