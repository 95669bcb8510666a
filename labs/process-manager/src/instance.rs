//! Starting one instance of an app: its descriptors, its environment, its logs, its readiness.
//!
//! What the instance receives, systemd-style, so a service written for systemd runs here unchanged:
//!
//! - **cluster mode**: the supervisor's listening socket at fd 3 and `LISTEN_FDS=1`. Every instance accepts from
//!   the same kernel queue; the socket belongs to the supervisor, so no restart ever closes the port. (systemd also
//!   sets `LISTEN_PID`, the child's own pid; a `Command` cannot know that before it forks, so it is left out, and
//!   the demo app does not ask for it.)
//! - **readiness**: `NOTIFY_SOCKET`, a datagram socket of its own; the instance sends `READY=1` when it can serve
//!   (systemd's `sd_notify`, PM2's `process.send('ready')` with `wait_ready`).
//! - `WORKBENCH_PM_APP`, `WORKBENCH_PM_ID` (PM2's `NODE_APP_INSTANCE`) and `WORKBENCH_PM_SOCKET` (the control socket).
//!
//! Every instance is put in a process group of its own, so the Ctrl-C that a terminal sends to the supervisor's
//! group does not reach the instances directly: the supervisor stops them itself, gracefully, in order. And each
//! asks the kernel for SIGKILL when its parent dies (`PR_SET_PDEATHSIG`), so a supervisor killed with `kill -9`
//! leaves no orphans. (That signal fires when the *thread* that forked exits: the supervisor forks from its one
//! runtime thread, which lives as long as the process.)

use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use command_fds::{CommandFdExt, FdMapping};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt as _, BufReader};
use tokio::net::UnixDatagram;

use crate::ecosystem::{AppSpec, Ready};
use crate::logs::{log_path, RotatingFile, Stream};

/// The fd a cluster-mode instance finds its listening socket at (systemd's `SD_LISTEN_FDS_START`); lab-kit's
/// servers, the demo app among them, take it from there.
pub use lab_kit::supervised::LISTEN_FD;

/// A started instance, not yet known to be ready.
pub struct Started {
    /// The process.
    pub child: tokio::process::Child,
    /// Its pid.
    pub pid: u32,
    /// When it started.
    pub at: Instant,
    notify: Option<(UnixDatagram, PathBuf)>,
}

/// Where the supervisor keeps its files.
#[derive(Debug, Clone)]
pub struct Paths {
    /// Log files.
    pub logs: PathBuf,
    /// Notify sockets.
    pub run: PathBuf,
    /// The control socket (given to instances).
    pub control: PathBuf,
}

/// Starts instance `id` (generation `generation`: each start of a slot is a new one) of `app`.
pub fn start(
    app: &AppSpec,
    id: usize,
    generation: u64,
    listener: Option<&Arc<std::net::TcpListener>>,
    paths: &Paths,
) -> anyhow::Result<Started> {
    let mut command = tokio::process::Command::new(&app.command);
    command
        .args(&app.args)
        .envs(&app.env)
        .env("WORKBENCH_PM_APP", &app.name)
        .env("WORKBENCH_PM_ID", id.to_string())
        .env("WORKBENCH_PM_SOCKET", &paths.control)
        .env_remove("LISTEN_FDS")
        .env_remove("NOTIFY_SOCKET")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    own_group_and_die_with_parent(&mut command);
    if let Some(listener) = listener {
        command.env("LISTEN_FDS", "1");
        command.fd_mappings(vec![FdMapping {
            parent_fd: OwnedFd::from(listener.try_clone().context("sharing the listening socket")?),
            child_fd: LISTEN_FD,
        }])?;
    }
    let notify = match app.ready {
        Ready::Notify => {
            std::fs::create_dir_all(&paths.run)?;
            let path = paths.run.join(format!("{}-{id}-{generation}.sock", app.name));
            let _ = std::fs::remove_file(&path);
            let socket = UnixDatagram::bind(&path).with_context(|| format!("binding {}", path.display()))?;
            command.env("NOTIFY_SOCKET", &path);
            Some((socket, path))
        }
        Ready::Spawn => None,
    };
    let mut child = command
        .spawn()
        .with_context(|| format!("starting {}", app.command.display()))?;
    let pid = child.id().context("the instance exited at once")?;
    for (stream, pipe) in [
        (
            Stream::Out,
            child
                .stdout
                .take()
                .map(|p| Box::new(p) as Box<dyn AsyncRead + Send + Unpin>),
        ),
        (
            Stream::Err,
            child
                .stderr
                .take()
                .map(|p| Box::new(p) as Box<dyn AsyncRead + Send + Unpin>),
        ),
    ] {
        let file = RotatingFile::open(
            log_path(&paths.logs, &app.name, id, stream),
            app.log_max_size,
            app.log_retain,
        )?;
        if let Some(pipe) = pipe {
            tokio::spawn(copy_lines(pipe, file));
        }
    }
    Ok(Started {
        child,
        pid,
        at: Instant::now(),
        notify,
    })
}

impl Started {
    /// Waits until the instance says `READY=1` (or at once, for `ready = "spawn"`). Fails if it exits first or
    /// stays silent past `timeout`.
    pub async fn ready(&mut self, timeout: Duration) -> anyhow::Result<()> {
        let Some((socket, _)) = &self.notify else {
            return Ok(());
        };
        let wait = async {
            let mut buf = [0u8; 4096];
            loop {
                let n = socket.recv(&mut buf).await?;
                // A message is newline-separated assignments; READY=1 may share it with STATUS=… and others.
                if buf[..n].split(|b| *b == b'\n').any(|line| line == b"READY=1") {
                    return Ok::<(), std::io::Error>(());
                }
            }
        };
        tokio::select! {
            ready = tokio::time::timeout(timeout, wait) => match ready {
                Ok(r) => r.context("reading the notify socket"),
                Err(_) => anyhow::bail!("not ready after {} (no READY=1 on $NOTIFY_SOCKET)", humantime::format_duration(timeout)),
            },
            status = self.child.wait() => anyhow::bail!("exited before it was ready ({})", describe(status.ok())),
        }
    }
}

impl Drop for Started {
    fn drop(&mut self) {
        if let Some((_, path)) = &self.notify {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// `exit status 1`, `killed by SIGKILL`.
pub fn describe(status: Option<std::process::ExitStatus>) -> String {
    use std::os::unix::process::ExitStatusExt;
    match status {
        Some(s) => match (s.code(), s.signal()) {
            (Some(code), _) => format!("exit status {code}"),
            (None, Some(signal)) => format!("killed by {}", signal_name(signal)),
            _ => s.to_string(),
        },
        None => "status unknown".into(),
    }
}

fn signal_name(signal: i32) -> String {
    match signal {
        libc::SIGKILL => "SIGKILL".into(),
        libc::SIGTERM => "SIGTERM".into(),
        libc::SIGINT => "SIGINT".into(),
        libc::SIGSEGV => "SIGSEGV".into(),
        libc::SIGABRT => "SIGABRT".into(),
        n => format!("signal {n}"),
    }
}

/// Copies a pipe into a log file, line by line; a line longer than 64 KiB is cut into pieces.
async fn copy_lines(pipe: Box<dyn AsyncRead + Send + Unpin>, mut file: RotatingFile) {
    let mut reader = BufReader::with_capacity(64 * 1024, pipe);
    let mut line = Vec::new();
    loop {
        line.clear();
        match (&mut reader).take(64 * 1024).read_until(b'\n', &mut line).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {
                let text = line.strip_suffix(b"\n").unwrap_or(&line);
                // A full disk must not stop the instance: its pipe is still drained, the line is lost.
                let _ = file.write_line(text);
            }
        }
    }
}

/// Sends `signal` to `pid`.
#[allow(unsafe_code)]
pub fn signal(pid: u32, signal: libc::c_int) {
    // SAFETY: kill(2) has no memory-safety preconditions.
    unsafe {
        libc::kill(pid as libc::pid_t, signal);
    }
}

#[allow(unsafe_code)]
fn own_group_and_die_with_parent(command: &mut tokio::process::Command) {
    // SAFETY: runs in the forked child before exec and calls only setpgid(2) and prctl(2), both async-signal-safe;
    // it allocates nothing and takes no lock.
    unsafe {
        command.pre_exec(|| {
            if libc::setpgid(0, 0) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            #[cfg(target_os = "linux")]
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

/// The logs folder's files for `app` (all instances, both streams), sorted.
pub fn app_logs(dir: &Path, app: Option<&str>) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "log"))
                .filter(|p| {
                    let name = p.file_name().unwrap_or_default().to_string_lossy().into_owned();
                    // `<app>-<id>-out.log`: the app's name, then a number (so "web" is not "web-api").
                    app.is_none_or(|a| {
                        name.strip_prefix(a)
                            .and_then(|rest| rest.strip_prefix('-'))
                            .is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_digit()))
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}
