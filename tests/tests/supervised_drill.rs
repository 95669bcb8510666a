//! A lab server as workbench-pm's supervised app: the process-manager lab's `leak-*` variants run the memory-leak
//! drill's server (labs/incidents) in cluster mode with a 32 MB limit. The server takes the inherited socket and
//! says it is ready (lab-kit's `supervised`), its `/stats` carries the supervisor's counters, and the supervisor's
//! memory restart fires for the shipped session store and not for the fixed one. Counters only: how many sign-ins
//! a session store keeps is exact, and 6,000 of them at 8 KiB each are well past the limit while 500 are far under.

use std::process::Command;

use lab_kit::testing::{eventually, ServerProcess};
use workbench_tests::lab_server_binary;

/// Sign-ins, each by a different user: 6,000 × 8 KiB = 47 MiB of sessions if all are kept.
const SIGN_INS: u32 = 6_000;

fn supervised(variant: &str) -> (ServerProcess, tempfile::TempDir) {
    // Both in release, in the same target folder: the supervisor finds `lab-incidents` beside itself.
    lab_server_binary("lab-incidents");
    let supervisor = lab_server_binary("lab-process-manager");
    let home = tempfile::tempdir().unwrap();
    let mut command = Command::new(supervisor);
    command
        .args(["--variant", variant, "--port", "0", "--home"])
        .arg(home.path());
    (ServerProcess::start(command), home)
}

/// Signs in every user, each on a new connection; returns how many had to be sent again because their connection
/// was closed unanswered. That happens only while an instance is being replaced: lab-kit's graceful stop (axum's)
/// closes a connection it accepted but has not read a request from yet, where the demo app's `drain.rs` answers it.
/// The harness's runs (kept-alive connections) lost no request to it; a test opening 6,000 connections as fast as
/// it can sometimes does, and a client would retry such a request as this one does.
fn sign_in_everyone(server: &ServerProcess) -> u32 {
    let mut sent_again = 0;
    for user in 0..SIGN_INS {
        let path = format!("/login?user=user{user}");
        let (mut status, mut body) = server.get(&path);
        if status == 0 {
            sent_again += 1;
            (status, body) = server.get(&path);
        }
        assert_eq!(status, 200, "sign-in {user}: {body}");
    }
    sent_again
}

#[test]
fn the_supervisor_replaces_the_shipped_session_store_over_its_memory_limit_and_never_the_fixed_one() {
    let (shipped, _home) = supervised("leak-shipped");
    let stats = shipped.stats();
    assert_eq!(
        stats["memory_restarts"], 0,
        "the supervisor's counters are in the drill server's /stats: {stats}"
    );
    let sent_again = sign_in_everyone(&shipped);
    assert!(
        sent_again <= 2,
        "{sent_again} sign-ins closed unanswered: more than the replacement explains"
    );
    // 47 MiB of sessions against a 32 MB limit read every 100 ms: replaced as soon as the new instance is ready.
    eventually("the shipped session store's memory restart", || {
        shipped.stats()["memory_restarts"].as_u64() >= Some(1)
    });
    let stats = shipped.stats();
    assert_eq!(stats["restarts"], 0, "a memory restart is not a crash: {stats}");
    shipped.terminate();

    let (fixed, _home) = supervised("leak-fixed");
    assert_eq!(
        sign_in_everyone(&fixed),
        0,
        "no replacement, so no connection closed unanswered"
    );
    let stats = fixed.stats();
    assert_eq!(stats["sessions_kept"], 500, "{stats}");
    assert_eq!(stats["memory_restarts"], 0, "500 sessions are 4 MiB: {stats}");
    fixed.terminate();
}
