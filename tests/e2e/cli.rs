//! The `preau` command line: configuration errors name the key, `migrate` works on a new
//! database, `plugin keygen/pack/sign` make packages the host can verify.

use crate::support::{output, preau, succeeded};

#[test]
fn invalid_settings_stop_the_start_and_name_the_key() {
    let out = output(preau().arg("migrate").env("PREAU_SMTP_PORT", "vingt-cinq"));
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("smtp.port") && err.contains("PREAU_SMTP_PORT"),
        "{err}"
    );

    let out = output(preau().arg("migrate").env("PREAU_LISTEN_ADRESS", "x"));
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("PREAU_LISTEN_ADRESS"));

    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("preau.toml");
    std::fs::write(&file, "time_zone = \"Europe/Pari\"\n").expect("write");
    let out = output(preau().arg("migrate").arg("--config").arg(&file));
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("time_zone") && err.contains("Europe/Pari"),
        "{err}"
    );
}

#[test]
fn migrate_creates_the_sqlite_database_in_the_data_directory() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("instance");
    succeeded(preau().arg("migrate").arg("--data").arg(&data));
    assert!(data.join("preau.db").exists());
    // Running it again is a no-op.
    succeeded(preau().arg("migrate").arg("--data").arg(&data));
}

#[test]
fn a_new_charter_is_published_from_the_command_line() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("instance");
    let fr = dir.path().join("charte.fr.txt");
    let en = dir.path().join("charte.en.txt");
    std::fs::write(&fr, "Charte, version 2.\n\nDeuxième paragraphe.").expect("write");
    std::fs::write(&en, "Terms, version 2.").expect("write");
    let out = succeeded(
        preau()
            .args(["admin", "publish-charter", "--fr"])
            .arg(&fr)
            .arg("--en")
            .arg(&en)
            .arg("--data")
            .arg(&data),
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("version 2"));
    // An empty text is refused, with the file named.
    std::fs::write(&en, "  \n").expect("write");
    let out = output(
        preau()
            .args(["admin", "publish-charter", "--fr"])
            .arg(&fr)
            .arg("--en")
            .arg(&en)
            .arg("--data")
            .arg(&data),
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("charte.en.txt"));
}

/// `preau plugin keygen`, then `pack --key`: a package and a signature that verify with the
/// public key, a secret key readable by its owner only, and a clear refusal of a bad manifest.
#[test]
fn plugin_keygen_pack_and_sign_make_a_verifiable_package() {
    let dir = tempfile::tempdir().expect("temp dir");
    let key = dir.path().join("ville.key");
    succeeded(preau().arg("plugin").arg("keygen").arg(&key));
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key).expect("key").permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "the secret key is private");
    }
    let public = std::fs::read_to_string(dir.path().join("ville.key.pub")).expect("public key");
    let public = preau_package::signing::PublicKey::from_text(&public).expect("public key text");
    // A second keygen never overwrites a key.
    assert!(
        !output(preau().arg("plugin").arg("keygen").arg(&key))
            .status
            .success()
    );

    let plugin = dir.path().join("plugin");
    std::fs::create_dir_all(&plugin).expect("dir");
    let manifest = r#"id = "demo:bonjour"
version = "0.1.0"
licence = "MIT"
component = "bonjour.wasm"
host_api = "^1.0"

[name]
fr = "Bonjour"
en = "Hello"

[description]
fr = "Un service d'exemple."
en = "An example service."
"#;
    std::fs::write(plugin.join("plugin.toml"), manifest).expect("manifest");
    std::fs::write(
        plugin.join("bonjour.wasm"),
        b"\0asm\x0d\x00\x01\x00component",
    )
    .expect("component");
    let package = dir.path().join("bonjour.preau");
    succeeded(
        preau()
            .arg("plugin")
            .arg("pack")
            .arg(&plugin)
            .arg("--out")
            .arg(&package)
            .arg("--key")
            .arg(&key),
    );
    let bytes = std::fs::read(&package).expect("package");
    let unpacked = preau_package::unpack(&bytes).expect("unpack");
    let sig = std::fs::read_to_string(dir.path().join("bonjour.preau.sig")).expect("signature");
    preau_package::signing::verify(&unpacked, &sig, &[public]).expect("the signature verifies");

    // `sign` alone gives a signature that verifies too.
    std::fs::remove_file(dir.path().join("bonjour.preau.sig")).expect("rm");
    succeeded(
        preau()
            .arg("plugin")
            .arg("sign")
            .arg(&package)
            .arg("--key")
            .arg(&key),
    );
    let sig = std::fs::read_to_string(dir.path().join("bonjour.preau.sig")).expect("signature");
    preau_package::signing::verify(&unpacked, &sig, &[public]).expect("the signature verifies");

    // A bad manifest: the error names the field, in French and English.
    std::fs::write(plugin.join("plugin.toml"), manifest.replace("MIT", "libre")).expect("manifest");
    let out = output(
        preau()
            .arg("plugin")
            .arg("pack")
            .arg(&plugin)
            .arg("--out")
            .arg(&package),
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("licence") && err.contains("SPDX"), "{err}");
}
