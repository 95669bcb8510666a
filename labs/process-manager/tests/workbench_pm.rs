//! workbench-pm as a PM2 user drives it: `start` (daemon), `list`, `reload`, `logs`, `stop`, `kill` from "another
//! terminal"; a broken ecosystem file; a command that does not exist; a supervisor killed with SIGKILL or stopped
//! with Ctrl-C. Every test has its own home folder and port, and stops what it started.

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use lab_kit::testing::{eventually, poll_until};

const PM: &str = env!("CARGO_BIN_EXE_workbench-pm");

struct Home {
    dir: tempfile::TempDir,
}

impl Home {
    fn new() -> Home {
        Home {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn pm(&self, args: &[&str]) -> Output {
        Command::new(PM)
            .arg("--home")
            .arg(self.path())
            .args(args)
            .output()
            .unwrap()
    }

    fn ecosystem(&self, body: &str) -> PathBuf {
        let file = self.path().join("eco.toml");
        std::fs::write(&file, body).unwrap();
        file
    }

    fn rows(&self) -> Vec<serde_json::Value> {
        let out = self.pm(&["list", "--json"]);
        assert!(out.status.success(), "{}", text(&out));
        serde_json::from_slice::<Vec<serde_json::Value>>(&out.stdout).unwrap()
    }

    fn pids(&self) -> Vec<u32> {
        self.rows()
            .iter()
            .filter_map(|r| r["pid"].as_u64().map(|p| p as u32))
            .collect()
    }
}

impl Drop for Home {
    fn drop(&mut self) {
        // Whatever a failed test left running.
        let _ = self.pm(&["kill"]);
    }
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn free_addr() -> SocketAddr {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap()
}

fn web(addr: SocketAddr, instances: usize) -> String {
    format!(
        "[[app]]\nname = \"web\"\ncommand = \"pm-demo-app\"\nargs = [\"--boot-time\", \"200ms\"]\ninstances = {instances}\nlisten = \"{addr}\"\n"
    )
}

fn alive(pid: u32) -> bool {
    // A zombie is not alive: it has exited and only waits to be reaped.
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| !s.contains(") Z "))
}

#[test]
fn start_list_reload_logs_stop_and_kill_work_from_another_terminal() {
    let home = Home::new();
    let addr = free_addr();
    let file = home.ecosystem(&web(addr, 2));
    let out = home.pm(&["start", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("started web"), "{}", text(&out));

    let rows = home.rows();
    assert_eq!(rows.len(), 2);
    assert!(rows.iter().all(|r| r["status"] == "online"), "{rows:?}");
    let before = home.pids();
    let (status, answer) = lab_kit::testing::get(addr, "/");
    assert!(status == 200 && answer.contains("hello from pid"), "{status} {answer}");

    // Requests on new connections all through a reload: not one may fail.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let load = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let (mut ok, mut failed) = (0, 0);
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                match lab_kit::testing::get(addr, "/work?ms=20") {
                    (200, _) => ok += 1,
                    _ => failed += 1,
                }
            }
            (ok, failed)
        })
    };
    let out = home.pm(&["reload", "web"]);
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let (ok, failed) = load.join().unwrap();
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(failed, 0, "{failed} requests failed during the reload ({ok} succeeded)");
    assert!(ok > 10, "the load ran through the reload: {ok}");
    let after = home.pids();
    assert_eq!(after.len(), 2);
    assert!(after.iter().all(|p| !before.contains(p)), "{before:?} → {after:?}");
    assert!(before.iter().all(|p| !alive(*p)), "the old instances are gone");

    let out = home.pm(&["logs", "web", "--lines", "50"]);
    let logs = text(&out);
    assert!(
        logs.contains("draining on SIGTERM") && logs.contains("drained, exiting"),
        "{logs}"
    );
    assert!(logs.contains(&format!("pid {} ready", after[0])), "{logs}");

    let out = home.pm(&["stop", "web"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(home.rows().iter().all(|r| r["status"] == "stopped"));
    assert!(
        std::net::TcpStream::connect(addr).is_err(),
        "a stopped app's port is closed"
    );

    let out = home.pm(&["kill"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(!home.path().join("pm.sock").exists());
    assert!(after.iter().all(|p| !alive(*p)));
    let out = home.pm(&["list"]);
    assert!(
        !out.status.success() && text(&out).contains("no supervisor is running"),
        "{}",
        text(&out)
    );
}

#[test]
fn a_broken_ecosystem_file_is_named_with_its_line_and_starts_nothing() {
    let home = Home::new();
    let file = home.ecosystem("[[app]]\nname = \"web\"\ncommand = \"pm-demo-app\"\nkill_timeout = \"soon\"\n");
    let out = home.pm(&["start", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out).contains(&format!("{}:4:", file.display())), "{}", text(&out));
    assert!(
        !home.path().join("pm.sock").exists(),
        "no daemon was started for a broken file"
    );
}

#[test]
fn a_command_that_does_not_exist_is_errored_with_the_reason() {
    let home = Home::new();
    let file = home.ecosystem("[[app]]\nname = \"ghost\"\ncommand = \"/no/such/program\"\n");
    let out = home.pm(&["start", file.to_str().unwrap()]);
    assert!(!out.status.success(), "{}", text(&out));
    let rows = home.rows();
    assert_eq!(rows[0]["status"], "errored", "{rows:?}");
    let why = rows[0]["last_error"].as_str().unwrap();
    assert!(
        why.contains("/no/such/program") && why.contains("No such file"),
        "{why}"
    );
    assert_eq!(rows[0]["restarts"], 0, "a program that cannot start is not restarted");
}

fn foreground(home: &Home, file: &Path) -> std::process::Child {
    let child = Command::new(PM)
        .arg("--home")
        .arg(home.path())
        .args(["start", "--foreground"])
        .arg(file)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    eventually("the foreground supervisor to run two instances", || {
        home.path().join("pm.sock").exists() && home.pids().len() == 2
    });
    child
}

#[test]
fn a_supervisor_killed_with_sigkill_leaves_no_orphans() {
    let home = Home::new();
    let file = home.ecosystem(&web(free_addr(), 2));
    let mut supervisor = foreground(&home, &file);
    let pids = home.pids();
    supervisor.kill().unwrap(); // SIGKILL: no chance to clean up.
    supervisor.wait().unwrap();
    assert!(
        poll_until(Duration::from_secs(10), || pids.iter().all(|p| !alive(*p))),
        "instances {pids:?} outlived their supervisor"
    );
}

#[test]
fn ctrl_c_stops_every_instance_gracefully_and_the_supervisor() {
    let home = Home::new();
    let file = home.ecosystem(&web(free_addr(), 2));
    let mut supervisor = foreground(&home, &file);
    let pids = home.pids();
    // What a terminal's Ctrl-C sends to the foreground process (the instances are in their own group).
    #[allow(unsafe_code)]
    // SAFETY: kill(2) on our own child.
    unsafe {
        libc::kill(supervisor.id() as i32, libc::SIGINT);
    }
    let status = supervisor.wait().unwrap();
    assert!(status.success(), "{status}");
    assert!(pids.iter().all(|p| !alive(*p)));
    let logs = text(&home.pm(&["logs", "web"]));
    assert_eq!(logs.matches("drained, exiting").count(), 2, "{logs}");
}

#[test]
fn a_crash_loop_backs_off_and_goes_errored_after_max_restarts() {
    let home = Home::new();
    let file = home.ecosystem(
        &format!("[[app]]\nname = \"crasher\"\ncommand = \"pm-demo-app\"\nargs = [\"--crash-after\", \"10ms\"]\nlisten = \"{}\"\nexp_backoff_restart_delay = \"20ms\"\nmax_restarts = 3\n", free_addr()),
    );
    let _ = home.pm(&["start", file.to_str().unwrap()]);
    eventually("the crasher to be errored", || home.rows()[0]["status"] == "errored");
    let row = &home.rows()[0];
    // Three restarts (20, 30, 45 ms after each crash); the fourth crash in a row gives up.
    assert_eq!(row["restarts"], 3, "{row}");
    assert!(
        row["last_error"].as_str().unwrap().contains("4 crashes in a row"),
        "{row}"
    );
    // Fixed (or not): `restart` starts it afresh, with its three restarts again (its socket kept open meanwhile).
    let _ = home.pm(&["restart", "crasher"]);
    eventually("the crasher to be errored again", || {
        let row = &home.rows()[0];
        row["status"] == "errored" && row["restarts"] == 6
    });
}

#[test]
fn an_instance_over_its_memory_limit_is_replaced_without_failing_a_request() {
    let home = Home::new();
    let addr = free_addr();
    let file = home.ecosystem(&format!(
        "[[app]]\nname = \"web\"\ncommand = \"pm-demo-app\"\nlisten = \"{addr}\"\nmax_memory = \"40MB\"\nmemory_poll = \"50ms\"\n"
    ));
    let out = home.pm(&["start", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));
    let before = home.pids();
    let (status, _) = lab_kit::testing::get(addr, "/leak?kb=51200"); // 50 MiB, every page written
    assert_eq!(status, 200);
    // Counted once the old instance has exited, a moment after the new one took its place.
    eventually("the leaking instance to be replaced", || {
        lab_kit::testing::stats(addr)["memory_restarts"] == 1
    });
    let pids = home.pids();
    assert!(pids.len() == 1 && pids != before && home.rows()[0]["status"] == "online");
    let stats = lab_kit::testing::stats(addr);
    assert_eq!(stats["memory_restarts"], 1, "{stats}");
    assert_eq!(stats["restarts"], 0, "a replacement is not a crash: {stats}");
    // The old instance's peak was about 50 MiB + its own ~6 MiB against a 40 MB limit.
    let overshoot = stats["memory_overshoot_max_bytes"].as_u64().unwrap();
    assert!(
        (10_000_000..30_000_000).contains(&overshoot),
        "overshoot {overshoot}: {stats}"
    );
}

#[test]
fn kill_9_of_one_instance_is_a_crash_the_supervisor_restarts_while_the_other_serves() {
    let home = Home::new();
    let addr = free_addr();
    let file = home.ecosystem(&web(addr, 2));
    assert!(home.pm(&["start", file.to_str().unwrap()]).status.success());
    let before = home.pids();
    let out = home.pm(&["signal", "SIGKILL", "web", "--id", "0"]);
    assert!(
        out.status.success() && text(&out).contains(&format!("web[0] (pid {})", before[0])),
        "{}",
        text(&out)
    );
    eventually("instance 0 to be restarted", || {
        let rows = home.rows();
        rows[0]["restarts"] == 1 && rows[0]["status"] == "online"
    });
    let after = home.pids();
    assert!(after[0] != before[0] && after[1] == before[1], "{before:?} → {after:?}");
    assert!(home.rows()[0]["last_error"]
        .as_str()
        .unwrap()
        .contains("killed by SIGKILL"));
    let out = home.pm(&["signal", "SIGBOGUS", "web"]);
    assert!(
        !out.status.success() && text(&out).contains("unknown signal"),
        "{}",
        text(&out)
    );
}
