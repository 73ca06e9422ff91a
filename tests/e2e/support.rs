//! Starting and stopping the `preau` binary for a test.

use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The debug `preau` binary of this workspace.
pub fn preau_binary() -> PathBuf {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/debug/preau");
    assert!(
        path.exists(),
        "{} is missing: run `cargo xtask test` (it builds the binary first)",
        path.display()
    );
    path
}

/// A `preau` command with a clean `PREAU_*` environment.
pub fn preau() -> Command {
    let mut cmd = Command::new(preau_binary());
    for (name, _) in std::env::vars() {
        if name.starts_with("PREAU_") {
            cmd.env_remove(name);
        }
    }
    cmd.env("PREAU_TODAY", "2026-11-30")
        .env("RUST_BACKTRACE", "0");
    cmd
}

/// Runs a command to completion.
pub fn output(cmd: &mut Command) -> Output {
    cmd.stdin(Stdio::null()).output().expect("run preau")
}

/// Runs a command that must succeed; its stderr is the failure message otherwise.
#[track_caller]
pub fn succeeded(cmd: &mut Command) -> Output {
    let out = output(cmd);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// A free TCP port on loopback.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// A running server, killed when dropped.
pub struct Server {
    child: Child,
    pub base: String,
}

impl Server {
    /// Starts `cmd` (which must listen on `port`) and waits until `/healthz` answers.
    pub async fn start(mut cmd: Command, port: u16) -> Server {
        let child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start preau");
        let server = Server {
            child,
            base: format!("http://127.0.0.1:{port}"),
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        let client = reqwest::Client::new();
        loop {
            if let Ok(r) = client.get(format!("{}/healthz", server.base)).send().await
                && r.status().is_success()
            {
                return server;
            }
            assert!(
                Instant::now() < deadline,
                "preau did not answer on {}",
                server.base
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
