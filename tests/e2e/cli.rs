//! The `preau` command line: configuration errors name the key, `migrate` works on a new
//! database.

use crate::support::{output, preau};

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
    let out = output(preau().arg("migrate").arg("--data").arg(&data));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(data.join("preau.db").exists());
    // Running it again is a no-op.
    let out = output(preau().arg("migrate").arg("--data").arg(&data));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_new_charter_is_published_from_the_command_line() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("instance");
    let fr = dir.path().join("charte.fr.txt");
    let en = dir.path().join("charte.en.txt");
    std::fs::write(&fr, "Charte, version 2.\n\nDeuxième paragraphe.").expect("write");
    std::fs::write(&en, "Terms, version 2.").expect("write");
    let out = output(
        preau()
            .args(["admin", "publish-charter", "--fr"])
            .arg(&fr)
            .arg("--en")
            .arg(&en)
            .arg("--data")
            .arg(&data),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
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
