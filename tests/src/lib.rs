//! Helpers for the end-to-end tests: where the workspace is, how to run `cargo xtask` as a user would, and lab
//! servers that are killed when a test ends, passes or panics.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output};
use std::sync::OnceLock;

pub use lab_harness::process::LabProcess;

/// The workspace root.
pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ is inside the workspace")
}

/// The xtask binary, built once per test process (debug: these tests check behaviour, not speed).
pub fn xtask_binary() -> &'static Path {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY.get_or_init(|| {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let output = Command::new(cargo)
            .current_dir(root())
            .args(["build", "--quiet", "--package", "xtask", "--message-format=json"])
            .output()
            .expect("run cargo build");
        assert!(
            output.status.success(),
            "building xtask failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout)
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .find_map(|m| {
                (m["target"]["name"] == "xtask")
                    .then(|| m["executable"].as_str().map(PathBuf::from))
                    .flatten()
            })
            .expect("cargo reported the xtask executable")
    })
}

/// `cargo xtask ARGS…` as a command, run from the workspace root.
pub fn xtask(args: &[&str]) -> Command {
    let mut command = Command::new(xtask_binary());
    command.current_dir(root()).args(args);
    command
}

/// `cargo test --quiet --package PACKAGE --test TARGET`, run to completion from the workspace root: how the dev
/// checks grade an exercise starter or a drill's shipped code with its grader.
pub fn cargo_test(package: &str, target: &str) -> Output {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    Command::new(cargo)
        .current_dir(root())
        .args(["test", "--quiet", "--package", package, "--test", target])
        .output()
        .expect("run cargo test")
}

/// `cargo xtask incident ARGS…` to completion with its own progress file and report folder under `scratch`: exit
/// status, stdout, stderr.
pub fn incident(args: &[&str], scratch: &Path) -> (Option<i32>, String, String) {
    let mut all = vec!["incident"];
    all.extend_from_slice(args);
    let output = xtask(&all)
        .env("WORKBENCH_PROGRESS", scratch.join("progress.toml"))
        .env("WORKBENCH_REPORTS", scratch.join("reports"))
        .output()
        .expect("run xtask");
    let (stdout, stderr) = texts(&output);
    (output.status.code(), stdout, stderr)
}

/// Runs `cargo xtask ARGS…` to completion.
pub fn run_xtask(args: &[&str]) -> Output {
    xtask(args).output().expect("run xtask")
}

/// Runs `cargo xtask lab …` with `args` and `--json`, and returns the run report and stderr. The exit status must
/// be 0 (every lesson held) or 3 (one did not): timing verdicts are not judged by tests, machines are noisy.
pub fn lab_report(args: &[&str]) -> (serde_json::Value, String) {
    let mut all = vec!["lab"];
    all.extend_from_slice(args);
    all.push("--json");
    let output = run_xtask(&all);
    let (stdout, stderr) = texts(&output);
    assert!(matches!(output.status.code(), Some(0 | 3)), "{all:?}: {stderr}");
    let report = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{stdout}"));
    (report, stderr)
}

/// A lab's server binary, built in release by the harness as `cargo xtask lab` would.
pub fn lab_server_binary(package: &str) -> PathBuf {
    lab_harness::process::build_server(root(), package, package).expect("build the lab server")
}

/// Text of stdout and stderr, for assertion messages.
pub fn texts(output: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// A child process that is killed when dropped, so a failing test leaves nothing behind.
pub struct KillOnDrop(pub Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// PIDs of live processes whose environment holds `marker` (a unique `NAME=value` the test set).
pub fn processes_with_marker(marker: &str) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            let Ok(environ) = std::fs::read(format!("/proc/{pid}/environ")) else {
                return false;
            };
            // A zombie has an empty environment: it is dead, only not yet reaped.
            environ.split(|b| *b == 0).any(|var| var == marker.as_bytes())
        })
        .collect()
}

/// Polls `condition` every 20 ms until it holds or `within` passes; returns whether it held (lab-kit's probe loop,
/// shared with the labs' own tests).
pub use lab_kit::testing::poll_until as eventually;

/// Every file under `book/src` whose name ends in `.extension`, sorted (chapters, committed run reports).
pub fn book_files(extension: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![root().join("book/src")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == extension) {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

/// Serves `serve(listener)` on a loopback port from its own thread (a current-thread tokio runtime), for a test's
/// in-process server; returns the address. The thread ends with the test process.
pub fn serve_on_loopback<F, Fut>(serve: F) -> std::net::SocketAddr
where
    F: FnOnce(tokio::net::TcpListener) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()>,
{
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    listener.set_nonblocking(true).unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move { serve(tokio::net::TcpListener::from_std(listener).unwrap()).await });
    });
    addr
}
