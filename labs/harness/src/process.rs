//! Building lab servers and running them as child processes that never outlive the harness.
//!
//! Three lines of defence, because a lab server left behind keeps its port and its CPU and spoils the next run:
//!
//! 1. [`LabProcess`] stops its child on drop — after success, on an error return, and while a panic unwinds;
//! 2. every live child is in a registry that [`kill_all`] empties; `cargo xtask` calls it from its Ctrl-C
//!    (SIGINT/SIGTERM/SIGHUP) handler;
//! 3. each child asks the kernel to kill it when its parent dies (`PR_SET_PDEATHSIG`), which covers even a
//!    `kill -9` of the harness.
//!
//! Lab servers also run at `nice 19`: when a variant saturates every core, the load generator still gets the CPU
//! it needs to keep its schedule, so the run measures the server rather than a starved instrument (the generator
//! raises its own priority too, where permitted: see `lab_load_generator::pacer`).
//!
//! Why not the `SCHED_IDLE` class, which any process may enter and which gives way to the generator at once? It was
//! tried and measured: in that class a thread that wakes never preempts another (the kernel only preempts on
//! wake-up for ordinary threads), so a server's event loop, woken by a request, waited for its own hashing thread's
//! time slice to end — the worker-pools lab's `/ping` p99 went from under 1 ms to 3.5 ms with the work *off* the
//! loop. It distorted the very behaviour the labs measure.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::error::{Context, RunError};

/// PIDs of lab servers currently running.
static LIVE: Mutex<Vec<u32>> = Mutex::new(Vec::new());

/// Builds every binary of `package` in release mode (labs measure optimised code) and returns the path of `bin`.
/// All of them, because a lab server may start a helper of its own package (the logging lab's `log-sink`, the
/// process-manager lab's demo app) and lab.toml actions run one. Cargo's progress goes to stderr, so `--json`
/// output on stdout stays clean.
pub fn build_server(root: &Path, package: &str, bin: &str) -> Result<PathBuf, RunError> {
    build(root, &[package], bin, &[])
}

/// Builds a lab's server as [`build_server`] does, with the packages its server starts as processes of their own
/// (`also_build`: the process-manager lab supervises another lab's server), in the same cargo run and target
/// folder, so the server finds their binaries beside its own.
pub fn build_lab_server(root: &Path, manifest: &crate::manifest::Manifest) -> Result<PathBuf, RunError> {
    let packages: Vec<&str> = std::iter::once(manifest.package.as_str())
        .chain(manifest.also_build.iter().map(String::as_str))
        .collect();
    build(root, &packages, &manifest.server, &[])
}

/// Builds `bin` of `package` with lab-kit's `heap-profile` feature (dhat as its allocator), into a target folder of
/// its own so the measured build is not rebuilt ([`crate::heap_profile`]).
pub fn build_heap_profiling_server(root: &Path, package: &str, bin: &str) -> Result<PathBuf, RunError> {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| root.join("target"), PathBuf::from)
        .join(crate::heap_profile::TARGET_SUBDIR);
    let target = target.display().to_string();
    build(
        root,
        &[package],
        bin,
        &["--features", crate::heap_profile::FEATURE, "--target-dir", &target],
    )
}

fn build(root: &Path, packages: &[&str], bin: &str, extra: &[&str]) -> Result<PathBuf, RunError> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let package = packages.join(" and ");
    let output = Command::new(cargo)
        .current_dir(root)
        .args([
            "build",
            "--release",
            "--bins",
            "--message-format=json-render-diagnostics",
        ])
        .args(packages.iter().flat_map(|p| ["--package", p]))
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .output()
        .context("running cargo build")?;
    if !output.status.success() {
        return Err(RunError::environment(format!(
            "building {package} failed (the compiler's messages are above)"
        )));
    }
    for line in output.stdout.split(|b| *b == b'\n') {
        let Ok(message) = serde_json::from_slice::<serde_json::Value>(line) else {
            continue;
        };
        if message["reason"] == "compiler-artifact" && message["target"]["name"] == bin {
            if let Some(exe) = message["executable"].as_str() {
                return Ok(PathBuf::from(exe));
            }
        }
    }
    Err(RunError::environment(format!(
        "cargo built {package} but reported no executable named {bin}"
    )))
}

/// A child process the harness owns: registered for [`kill_all`], killed with its parent, and killed and reaped
/// when dropped. Lab servers are one; the private Prometheus of `--prometheus` is another.
#[derive(Debug)]
pub struct OwnedChild {
    child: Child,
}

impl OwnedChild {
    /// Spawns `command` (at `nice 19`, dying with the harness) and registers it.
    pub fn spawn(command: &mut Command) -> std::io::Result<OwnedChild> {
        die_with_parent(command);
        let child = command.spawn()?;
        register(child.id());
        Ok(OwnedChild { child })
    }

    /// Its stderr, when it was piped (once).
    pub fn take_stderr(&mut self) -> Option<std::process::ChildStderr> {
        self.child.stderr.take()
    }

    /// Its process id.
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// Its exit status, if it has exited.
    pub fn try_wait(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// SIGTERM, then SIGKILL (by drop) if it has not exited within `grace`.
    pub fn stop(mut self, grace: Duration) {
        signal(self.id(), libc::SIGTERM);
        let deadline = Instant::now() + grace;
        while Instant::now() < deadline {
            if self.try_wait().is_some() {
                return; // Drop unregisters it.
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        // Drop kills it.
    }
}

impl Drop for OwnedChild {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
        unregister(self.child.id());
    }
}

/// A running lab server.
#[derive(Debug)]
pub struct LabProcess {
    child: OwnedChild,
    /// Where it listens.
    pub addr: SocketAddr,
}

impl LabProcess {
    /// Starts `binary args… --port 0`, waits for its `listening on ADDR` line, then for `/healthz`.
    pub fn start(binary: &Path, args: &[String], env: &[(String, String)]) -> Result<LabProcess, RunError> {
        let mut command = Command::new(binary);
        command
            .args(args)
            .args(["--port", "0"])
            .envs(env.iter().cloned())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        let mut child = OwnedChild::spawn(&mut command).with_context(|| format!("starting {}", binary.display()))?;
        // Read stdout on a thread: the first line gives the address, later lines are drained so the pipe never fills.
        let stdout = child.child.stdout.take().expect("stdout is piped");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut first = true;
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if std::mem::take(&mut first) {
                    let _ = tx.send(line);
                }
            }
        });
        let mut process = LabProcess {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
        };
        let line = match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(line) => line,
            Err(_) => {
                let status = process.child.try_wait();
                return Err(RunError::environment(format!(
                    "{} printed no `listening on ADDR` line (exit status: {status:?}; its error is above)",
                    binary.display()
                )));
            }
        };
        let addr = line
            .strip_prefix("listening on ")
            .and_then(|a| a.trim().parse().ok())
            .ok_or_else(|| {
                RunError::environment(format!("expected `listening on ADDR` as the first line, got {line:?}"))
            })?;
        process.addr = addr;
        crate::probe::wait_healthy(addr, Duration::from_secs(10))?;
        Ok(process)
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// How the server exited, if it has.
    pub fn exit_status(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait()
    }

    /// CPU seconds the server has used so far: its process tree's (a clustered server's workers included, and
    /// the ones it has replaced).
    pub fn cpu_seconds(&self) -> Option<f64> {
        lab_load_generator::proc_stat::tree_cpu_time(self.pid()).map(|d| d.as_secs_f64())
    }

    /// The server's peak resident memory so far, summed over its process tree.
    pub fn rss_peak_bytes(&self) -> Option<u64> {
        lab_load_generator::proc_stat::tree_peak_rss_bytes(self.pid())
    }

    /// Asks the server to stop (SIGTERM: graceful), and kills it if it has not exited within `grace`.
    pub fn stop(self, grace: Duration) {
        self.child.stop(grace);
    }
}

fn register(pid: u32) {
    LIVE.lock().unwrap_or_else(|e| e.into_inner()).push(pid);
}

fn unregister(pid: u32) {
    LIVE.lock().unwrap_or_else(|e| e.into_inner()).retain(|p| *p != pid);
}

/// Kills every lab server still running. Safe to call from a signal-handling thread.
pub fn kill_all() {
    let pids = std::mem::take(&mut *LIVE.lock().unwrap_or_else(|e| e.into_inner()));
    for pid in pids {
        signal(pid, libc::SIGKILL);
    }
}

#[allow(unsafe_code)]
fn signal(pid: u32, signal: libc::c_int) {
    // SAFETY: kill(2) has no memory-safety preconditions; the pid is one of our own children.
    unsafe {
        libc::kill(pid as libc::pid_t, signal);
    }
}

#[allow(unsafe_code)]
fn die_with_parent(command: &mut Command) {
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::process::CommandExt;
        // SAFETY: the closure runs in the forked child before exec and calls only prctl(2), which is
        // async-signal-safe; it allocates nothing and touches no lock.
        unsafe {
            command.pre_exec(|| {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                // Lower priority than the load generator: on a 2-core machine a server that saturates the CPU would
                // otherwise starve the instrument, and the run would measure the generator's lag, not the server.
                libc::nice(19);
                Ok(())
            });
        }
    }
}
