//! Running a supervisor: in the foreground (`start --foreground`, the lab), or as the background daemon that
//! `workbench-pm start` launches when none is running (PM2's "God daemon").

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Context;

use crate::control;
use crate::ecosystem::Ecosystem;
use crate::instance::Paths;
use crate::supervisor::Supervisor;

/// The supervisor's files under `home`.
pub fn paths(home: &Path) -> Paths {
    Paths {
        logs: home.join("logs"),
        run: home.join("run"),
        control: control::socket_path(home),
    }
}

/// `--home`, else `$WORKBENCH_PM_HOME`, else `~/.workbench-pm` (PM2 keeps `~/.pm2`).
pub fn home(flag: Option<PathBuf>) -> PathBuf {
    flag.or_else(|| std::env::var_os("WORKBENCH_PM_HOME").map(PathBuf::from))
        .unwrap_or_else(|| {
            let user_home = std::env::var_os("HOME").map_or_else(|| PathBuf::from("."), PathBuf::from);
            user_home.join(".workbench-pm")
        })
}

/// Runs a supervisor until `kill`, SIGTERM or Ctrl-C; then stops every app gracefully and removes its socket.
/// `first` is started before the control socket answers anyone; `started` is called once it has.
pub async fn supervise(
    supervisor: Supervisor,
    first: Option<Ecosystem>,
    started: impl FnOnce(&Supervisor, String),
) -> anyhow::Result<()> {
    let socket = supervisor.paths().control.clone();
    let listener = control::bind(&socket).await?;
    let message = match &first {
        Some(ecosystem) => match supervisor.start(ecosystem).await {
            Ok(message) => message,
            Err(e) => {
                supervisor.shutdown().await;
                let _ = std::fs::remove_file(&socket);
                return Err(e);
            }
        },
        None => String::new(),
    };
    started(&supervisor, message);
    tokio::select! {
        () = control::serve(listener, supervisor.clone()) => {}
        () = lab_kit::shutdown_signal() => {}
    }
    supervisor.shutdown().await;
    let _ = std::fs::remove_file(&socket);
    Ok(())
}

/// Starts the background daemon for `home` (this executable, `daemon`), detached from the terminal, and waits
/// until its control socket answers.
pub fn spawn_daemon(home: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(home).with_context(|| format!("creating {}", home.display()))?;
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(home.join("daemon.log"))
        .context("opening daemon.log")?;
    let mut command = std::process::Command::new(std::env::current_exe()?);
    command
        .arg("--home")
        .arg(home)
        .arg("daemon")
        .stdin(std::process::Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log);
    new_session(&mut command);
    command.spawn().context("starting the supervisor daemon")?;
    let socket = control::socket_path(home);
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if std::os::unix::net::UnixStream::connect(&socket).is_ok() {
            return Ok(());
        }
        // Waiting for another process to bind a socket: nothing to be woken by, so poll.
        std::thread::sleep(Duration::from_millis(20));
    }
    anyhow::bail!(
        "the daemon did not answer within 10 s; see {}",
        home.join("daemon.log").display()
    )
}

#[allow(unsafe_code)]
fn new_session(command: &mut std::process::Command) {
    use std::os::unix::process::CommandExt;
    // SAFETY: setsid(2) is async-signal-safe; nothing else runs in the child before exec. A new session: the
    // daemon has no controlling terminal, so closing the terminal (SIGHUP) or its Ctrl-C does not reach it.
    unsafe {
        command.pre_exec(|| {
            if libc::setsid() < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}
