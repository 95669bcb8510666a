//! Actions during a run: `during = [{ at = "2s", run = "workbench-pm reload all --home {run_dir}" }]` in lab.toml.
//!
//! Some lessons are about what happens to a service *while* it is under load: a reload, a worker killed with
//! `kill -9`, a deploy. The action runs at its time, measured from the start of the load (warm-up included), while
//! the generator keeps its schedule; its outcome goes into the variant's notes, so the report says what was done
//! and when, beside the requests it cost.
//!
//! An action runs a binary of the lab's own package (cargo builds them all beside the server), never a shell: the
//! words of `run` are its arguments, with `{run_dir}`, `{pid}` and `{addr}` replaced by the variant's scratch
//! folder, the server's process id and its address.

use std::io::Read;
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::manifest::Action;
use crate::process::OwnedChild;

/// How long one action may take before it is killed and reported as such.
pub const ACTION_TIMEOUT: Duration = Duration::from_secs(30);

/// What the placeholders stand for in one variant's run.
#[derive(Debug, Clone)]
pub struct Placeholders {
    /// `{run_dir}`.
    pub run_dir: String,
    /// `{pid}`.
    pub pid: u32,
    /// `{addr}`.
    pub addr: SocketAddr,
}

impl Placeholders {
    /// `word` with every placeholder replaced.
    pub fn fill(&self, word: &str) -> String {
        word.replace("{run_dir}", &self.run_dir)
            .replace("{pid}", &self.pid.to_string())
            .replace("{addr}", &self.addr.to_string())
    }
}

/// Runs `actions` in order, each at its time after `began`; returns one note per action, in order, e.g.
/// `at 2.00s: workbench-pm reload all → exit 0 after 812ms`.
pub fn run_actions(
    actions: &[Action],
    server_binary: &Path,
    placeholders: &Placeholders,
    began: Instant,
) -> Vec<String> {
    let folder = server_binary.parent().unwrap_or(Path::new("."));
    let mut notes = Vec::new();
    for action in actions {
        // The schedule of actions is coarse (seconds apart): sleeping until the moment is the right tool here.
        if let Some(wait) = (began + action.at).checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        let started = Instant::now();
        let outcome = run_one(&folder.join(&action.program), action, placeholders);
        let took = humantime::format_duration(Duration::from_millis(started.elapsed().as_millis() as u64));
        let line = format!("{} {}", action.program, action.args.join(" "));
        notes.push(format!(
            "at {:.2}s: {} → {outcome} after {took}",
            (started - began).as_secs_f64(),
            placeholders.fill(line.trim())
        ));
    }
    notes
}

/// Runs one action to its end (or its timeout); `exit 0`, or what went wrong with its last line of stderr.
fn run_one(program: &Path, action: &Action, placeholders: &Placeholders) -> String {
    let mut command = Command::new(program);
    command
        .args(action.args.iter().map(|a| placeholders.fill(a)))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let mut child = match OwnedChild::spawn(&mut command) {
        Ok(child) => child,
        Err(e) => return format!("could not start {}: {e}", program.display()),
    };
    // Drain stderr on a thread, so a chatty action cannot fill the pipe and stall.
    let stderr = child.take_stderr();
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        if let Some(mut stderr) = stderr {
            let _ = stderr.read_to_string(&mut text);
        }
        text
    });
    let deadline = Instant::now() + ACTION_TIMEOUT;
    let status = loop {
        if let Some(status) = child.try_wait() {
            break Some(status);
        }
        if Instant::now() >= deadline {
            break None;
        }
        // Polling a child we own for its exit; 10 ms is far below the second-scale timing of actions.
        std::thread::sleep(Duration::from_millis(10));
    };
    drop(child); // Kills it if it is still running, and reaps it.
    let stderr = reader.join().unwrap_or_default();
    let last = stderr.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("");
    match status {
        Some(s) if s.success() => "exit 0".into(),
        Some(s) => format!("FAILED ({s}): {last}"),
        None => format!("FAILED: still running after {}s, killed", ACTION_TIMEOUT.as_secs()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn placeholders() -> Placeholders {
        Placeholders {
            run_dir: "/tmp/run-1".into(),
            pid: 42,
            addr: "127.0.0.1:8080".parse().unwrap(),
        }
    }

    #[test]
    fn placeholders_are_filled_anywhere_in_a_word() {
        assert_eq!(placeholders().fill("--home={run_dir}/pm"), "--home=/tmp/run-1/pm");
        assert_eq!(placeholders().fill("{pid}@{addr}"), "42@127.0.0.1:8080");
    }

    #[test]
    fn actions_run_in_order_at_their_time_and_report_failures() {
        let folder = tempfile::tempdir().unwrap();
        // `true` and `false` from the system, linked beside a pretend server binary.
        for name in ["true", "false"] {
            let found = ["/usr/bin", "/bin"]
                .iter()
                .map(|d| Path::new(d).join(name))
                .find(|p| p.exists())
                .unwrap();
            std::os::unix::fs::symlink(found, folder.path().join(name)).unwrap();
        }
        let action = |ms: u64, program: &str| Action {
            at: Duration::from_millis(ms),
            program: program.into(),
            args: vec!["{pid}".into()],
        };
        let began = Instant::now();
        let notes = run_actions(
            &[action(100, "true"), action(200, "false"), action(200, "missing")],
            &folder.path().join("server"),
            &placeholders(),
            began,
        );
        assert!(began.elapsed() >= Duration::from_millis(200));
        assert!(
            notes[0].starts_with("at 0.1") && notes[0].contains("true 42 → exit 0"),
            "{notes:?}"
        );
        assert!(notes[1].contains("false 42 → FAILED"), "{notes:?}");
        assert!(notes[2].contains("could not start"), "{notes:?}");
    }
}
