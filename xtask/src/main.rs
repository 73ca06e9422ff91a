//! Préau's build and test commands, reached through the `cargo xtask` alias:
//!
//! - `cargo xtask demo [ARGS…]`: installs the `wasm32-wasip2` target when missing, builds the
//!   first-party plugins (once there are any), the example plugin (`examples/hello-plugin`) and
//!   the release `preau` binary, then runs `preau demo ARGS…`: the first-party plugins installed
//!   and enabled everywhere, the example installed only, for a head to enable in the services
//!   console.
//! - `cargo xtask test`: `cargo fmt --check`, `cargo clippy -D warnings`, the whole suite on
//!   SQLite, the example plugin's own tests (its own workspace), the suite again on PostgreSQL
//!   when `PREAU_TEST_DATABASE_URL` is set, then the browser tests — installing what is missing
//!   (as root), or stopping with the exact command to run.

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

const WASM_TARGET: &str = "wasm32-wasip2";
/// The example plugin of `docs/writing-a-plugin.md`: its own workspace, built in its own
/// `target/` (where its `plugin.toml` finds the component).
const EXAMPLE_PLUGIN: &str = "examples/hello-plugin";
const TEST_DB_ENV: &str = "PREAU_TEST_DATABASE_URL";
const TEST_PYTHON_ENV: &str = "PREAU_TEST_PYTHON";
/// The Python test peers, pinned: aiosmtpd is the SMTP server the mail tests deliver to.
const PYTHON_PEERS: &[&str] = &["aiosmtpd==1.4.6"];

fn main() -> Result<()> {
    let mut args = env::args().skip(1);
    let root = workspace_root()?;
    env::set_current_dir(&root)?;
    match args.next().as_deref() {
        Some("demo") => demo(args.collect()),
        Some("test") => test(),
        _ => {
            eprintln!("usage: cargo xtask demo [ARGS…] | cargo xtask test");
            bail!("unknown or missing command");
        }
    }
}

fn workspace_root() -> Result<PathBuf> {
    let manifest = env::var("CARGO_MANIFEST_DIR").context("run through `cargo xtask`")?;
    Path::new(&manifest)
        .parent()
        .map(Path::to_path_buf)
        .context("xtask lives in the workspace root")
}

/// Runs a command, echoing it; fails with its exit status.
fn run(cmd: &mut Command) -> Result<()> {
    eprintln!("$ {}", describe(cmd));
    let status = cmd
        .status()
        .with_context(|| format!("cannot start {}", describe(cmd)))?;
    if !status.success() {
        bail!("{} failed ({status})", describe(cmd));
    }
    Ok(())
}

fn describe(cmd: &Command) -> String {
    std::iter::once(cmd.get_program().to_string_lossy().into_owned())
        .chain(cmd.get_args().map(|a| a.to_string_lossy().into_owned()))
        .collect::<Vec<_>>()
        .join(" ")
}

fn cargo() -> Command {
    Command::new(env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
}

fn demo(args: Vec<String>) -> Result<()> {
    ensure_wasm_target()?;
    build_plugins()?;
    build_example()?;
    run(cargo().args([
        "build",
        "--release",
        "--package",
        "preau-core",
        "--bin",
        "preau",
    ]))?;
    let mut cmd = Command::new(Path::new("target/release/preau"));
    cmd.arg("demo").args(args);
    if has_plugins() {
        // The demo signs them with a key it generates in its data directory, and trusts it.
        cmd.args(["--plugins", "plugins"]);
    }
    // Installed, not enabled: the head enables it in the services console.
    cmd.args(["--install-only", EXAMPLE_PLUGIN]);
    run(&mut cmd)
}

fn test() -> Result<()> {
    ensure_wasm_target()?;
    build_plugins()?;
    // The browser tests start the demo with it installed (`--install-only`).
    build_example()?;
    run(cargo().args(["fmt", "--all", "--", "--check"]))?;
    run(cargo().args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]))?;
    // The end-to-end tests start the debug binary.
    run(cargo().args(["build", "--package", "preau-core", "--bin", "preau"]))?;

    let python = ensure_python_venv()?;
    eprintln!("== suite on SQLite ==");
    let mut total = run_tests(
        cargo()
            .args(["test", "--workspace"])
            .env_remove(TEST_DB_ENV)
            .env(TEST_PYTHON_ENV, &python),
    )?;
    eprintln!("== the example plugin's tests ({EXAMPLE_PLUGIN}) ==");
    let example = run_tests(
        cargo()
            .args(["test", "--manifest-path"])
            .arg(Path::new(EXAMPLE_PLUGIN).join("Cargo.toml"))
            // The workspace's target directory: its harness, core and wasmtime builds are
            // reused instead of compiled a second time.
            .args(["--target-dir", "target"])
            .env_remove(TEST_DB_ENV),
    )?;
    total = (total.0 + example.0, total.1 + example.1);
    match env::var(TEST_DB_ENV) {
        Ok(url) if !url.trim().is_empty() => {
            eprintln!("== suite on PostgreSQL ({TEST_DB_ENV}) ==");
            let pg = run_tests(
                cargo()
                    .args(["test", "--workspace"])
                    .env(TEST_DB_ENV, url)
                    .env(TEST_PYTHON_ENV, &python),
            )?;
            total = (total.0 + pg.0, total.1 + pg.1);
        }
        _ => eprintln!("{TEST_DB_ENV} is not set: PostgreSQL run skipped"),
    }
    let browser = browser_tests()?;
    total = (total.0 + browser.0, total.1 + browser.1);
    println!("total: {} passed, {} failed", total.0, total.1);
    Ok(())
}

/// Runs `cargo test`, echoing its output, and adds up its `test result:` lines: (passed, failed).
fn run_tests(cmd: &mut Command) -> Result<(u64, u64)> {
    use std::io::{BufRead, BufReader};
    eprintln!("$ {}", describe(cmd));
    let mut child = cmd
        .stdout(std::process::Stdio::piped())
        .spawn()
        .with_context(|| format!("cannot start {}", describe(cmd)))?;
    let (mut passed, mut failed) = (0, 0);
    if let Some(out) = child.stdout.take() {
        for line in BufReader::new(out).lines() {
            let line = line?;
            println!("{line}");
            // Node's test runner (TAP): `# pass 3`, `# fail 0`.
            if let Some(n) = line.strip_prefix("# pass ") {
                passed += n.trim().parse::<u64>().unwrap_or(0);
            } else if let Some(n) = line.strip_prefix("# fail ") {
                failed += n.trim().parse::<u64>().unwrap_or(0);
            }
            let Some(rest) = line.strip_prefix("test result: ") else {
                continue;
            };
            for part in rest.split(';') {
                let mut words = part.split_whitespace().rev();
                let (Some(what), Some(n)) = (words.next(), words.next()) else {
                    continue;
                };
                let n: u64 = n.parse().unwrap_or(0);
                match what {
                    "passed" => passed += n,
                    "failed" => failed += n,
                    _ => {}
                }
            }
        }
    }
    let status = child.wait()?;
    if !status.success() {
        bail!("{} failed ({status})", describe(cmd));
    }
    Ok((passed, failed))
}

/// Creates `target/test-venv` with the Python test peers when missing; returns its interpreter.
fn ensure_python_venv() -> Result<PathBuf> {
    let venv = Path::new("target/test-venv");
    let python = venv.join("bin/python");
    let ready = venv.join(".peers");
    let wanted = PYTHON_PEERS.join("\n");
    // Absolute, but not canonical: resolving the symlink would leave the virtual environment.
    let absolute = env::current_dir()?.join(&python);
    if std::fs::read_to_string(&ready).is_ok_and(|have| have == wanted) && python.exists() {
        return Ok(absolute);
    }
    if !on_path("python3") {
        ensure_debian_packages(&[("python3", "python3")])?;
    }
    let created = Command::new("python3")
        .args(["-m", "venv"])
        .arg(venv)
        .status();
    if !created.is_ok_and(|s| s.success()) {
        ensure_debian_packages(&[("python3", "python3-venv")])?;
        run(Command::new("python3")
            .args(["-m", "venv", "--clear"])
            .arg(venv))?;
    }
    run(Command::new(&python)
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
        ])
        .args(PYTHON_PEERS))?;
    std::fs::write(&ready, wanted)?;
    Ok(absolute)
}

/// Installs the WebAssembly target plugins are built for, when missing.
fn ensure_wasm_target() -> Result<()> {
    let out = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .context("rustup is needed (https://rustup.rs)")?;
    if String::from_utf8_lossy(&out.stdout)
        .lines()
        .any(|l| l.trim() == WASM_TARGET)
    {
        return Ok(());
    }
    run(Command::new("rustup").args(["target", "add", WASM_TARGET]))
}

/// Whether `plugins/` holds a plugin directory (one with a `plugin.toml`).
fn has_plugins() -> bool {
    std::fs::read_dir("plugins").is_ok_and(|entries| {
        entries
            .filter_map(Result::ok)
            .any(|e| e.path().join("plugin.toml").is_file())
    })
}

/// Builds every first-party plugin (`plugins/*/Cargo.toml`) for `wasm32-wasip2`, release, in its
/// own target directory.
fn build_plugins() -> Result<()> {
    let Ok(entries) = std::fs::read_dir("plugins") else {
        return Ok(());
    };
    let mut manifests: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path().join("Cargo.toml")))
        .filter(|p| p.exists())
        .collect();
    manifests.sort();
    for manifest in manifests {
        run(cargo()
            .args([
                "build",
                "--release",
                "--target",
                WASM_TARGET,
                "--target-dir",
                "target/plugins",
                "--manifest-path",
            ])
            .arg(&manifest))?;
    }
    Ok(())
}

/// Builds the example plugin for `wasm32-wasip2`, release, in its own `target/`, where its
/// `plugin.toml` names the component.
fn build_example() -> Result<()> {
    run(cargo()
        .args([
            "build",
            "--release",
            "--target",
            WASM_TARGET,
            "--manifest-path",
        ])
        .arg(Path::new(EXAMPLE_PLUGIN).join("Cargo.toml")))
}

/// Runs the browser tests in `tests/browser` (Node's test runner driving Debian's Chromium
/// through playwright-core), once there are any.
fn browser_tests() -> Result<(u64, u64)> {
    let dir = Path::new("tests/browser");
    if !dir.join("package.json").exists() {
        eprintln!("no browser tests yet (tests/browser/package.json)");
        return Ok((0, 0));
    }
    ensure_debian_packages(&[
        ("chromium", "chromium"),
        ("node", "nodejs"),
        ("npm", "npm"),
        ("pdftotext", "poppler-utils"),
    ])?;
    run(Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund"])
        .current_dir(dir))?;
    eprintln!("== browser tests (Chromium) ==");
    run_tests(
        Command::new("npm")
            .args(["test", "--silent"])
            .current_dir(dir),
    )
}

/// Makes sure each `(command, package)` is there, installing the missing packages with apt-get
/// when running as root, or stopping with the exact command to run otherwise.
fn ensure_debian_packages(needed: &[(&str, &str)]) -> Result<()> {
    let missing: Vec<&str> = needed
        .iter()
        .filter(|(cmd, _)| !on_path(cmd))
        .map(|(_, pkg)| *pkg)
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let install = format!(
        "apt-get install -y --no-install-recommends {}",
        missing.join(" ")
    );
    if !is_root() {
        bail!("missing packages; run: sudo apt-get update && sudo {install}");
    }
    run(Command::new("apt-get")
        .arg("update")
        .env("DEBIAN_FRONTEND", "noninteractive"))?;
    run(Command::new("sh")
        .args(["-c", &install])
        .env("DEBIAN_FRONTEND", "noninteractive"))
}

fn on_path(cmd: &str) -> bool {
    env::var_os("PATH").is_some_and(|paths| env::split_paths(&paths).any(|p| p.join(cmd).is_file()))
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}
