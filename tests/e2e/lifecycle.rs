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
    let e = refused(&mut i.plugin(&["enable", "essai:bonjour", "--establishment", "0000000A"]));
    assert!(e.contains("UAI") || e.contains("inconnu"), "{e}");
    let out = stdout(&mut i.plugin(&["enable", "essai:bonjour", "--establishment", &uai]));
    assert!(out.contains("0.2.0") && out.contains("notes.lire"), "{out}");
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
    let out = stdout(&mut i.plugin(&["enable", "essai:bonjour", "--establishment", &uai]));
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
    assert!(
        !i.data
            .path()
            .join("plugins/essai/bonjour/0.3.0.preau")
            .exists()
    );
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
