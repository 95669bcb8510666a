//! Ctrl-C in the middle of `cargo xtask lab` (or `incident start`) must leave no lab server behind — nor, for a cluster, any of its
//! worker processes.

use std::process::Stdio;
use std::time::Duration;

use workbench_tests::{eventually, processes_with_marker, xtask, KillOnDrop};

#[test]
fn interrupting_a_lab_run_leaves_no_lab_process() {
    interrupt("lab-baseline", &["lab", "baseline", "--quick"], 1);
}

#[test]
fn interrupting_a_cluster_leaves_no_worker_behind() {
    // The primary and its two workers.
    interrupt("lab-clustering", &["lab", "clustering", "--variant", "round-robin"], 3);
}

#[test]
fn interrupting_an_incident_drill_leaves_no_lab_process() {
    interrupt("lab-incidents", &["incident", "start", "lock-across-await"], 1);
}

/// One interrupted run at a time: two at once would wait on each other's cargo build lock.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Runs `args`, waits until `servers` processes of the lab's binary are up, sends SIGINT to xtask, and checks that
/// every process it started is gone.
fn interrupt(binary: &str, args: &[&str], servers: usize) {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    // Build first, so the wait below is for the run and not the compiler.
    workbench_tests::lab_server_binary(binary);
    let marker = format!("WORKBENCH_TEST_MARK=interrupt-{}-{binary}", std::process::id());
    let (key, value) = marker.split_once('=').unwrap();
    let child = xtask(args)
        .env(key, value)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start xtask");
    let xtask_pid = child.id();
    let mut guard = KillOnDrop(child);

    // Wait until the lab's servers (children carrying the marker that are not xtask itself) are running.
    let is_server = |pid: &u32| {
        std::fs::read_link(format!("/proc/{pid}/exe")).is_ok_and(|exe| exe.file_name().is_some_and(|n| n == binary))
    };
    let lab_running = eventually(Duration::from_secs(120), || {
        processes_with_marker(&marker)
            .iter()
            .filter(|p| **p != xtask_pid && is_server(p))
            .count()
            >= servers
    });
    assert!(lab_running, "no lab server started");

    let status = std::process::Command::new("kill")
        .args(["-INT", &xtask_pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exited = eventually(Duration::from_secs(10), || matches!(guard.0.try_wait(), Ok(Some(_))));
    assert!(exited, "xtask did not exit on SIGINT");
    assert_eq!(guard.0.try_wait().unwrap().and_then(|s| s.code()), Some(130));

    let all_gone = eventually(Duration::from_secs(5), || processes_with_marker(&marker).is_empty());
    assert!(all_gone, "left behind: {:?}", processes_with_marker(&marker));
}
