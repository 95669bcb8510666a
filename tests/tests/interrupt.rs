//! Ctrl-C in the middle of `cargo xtask lab` must leave no lab server behind.

use std::process::Stdio;
use std::time::Duration;

use workbench_tests::{eventually, processes_with_marker, xtask, KillOnDrop};

#[test]
fn interrupting_a_lab_run_leaves_no_lab_process() {
    // Build first, so the wait below is for the run and not the compiler.
    workbench_tests::lab_server_binary("lab-baseline");
    let marker = format!("WORKBENCH_TEST_MARK=interrupt-{}", std::process::id());
    let (key, value) = marker.split_once('=').unwrap();
    let child = xtask(&["lab", "baseline", "--quick"])
        .env(key, value)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start xtask");
    let xtask_pid = child.id();
    let mut guard = KillOnDrop(child);

    // Wait until a lab server (a child carrying the marker that is not xtask itself) is running.
    let lab_running = eventually(Duration::from_secs(120), || {
        processes_with_marker(&marker).iter().any(|p| *p != xtask_pid)
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
