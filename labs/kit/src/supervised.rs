//! Running under a process manager: any lab server can be an instance of `workbench-pm` (the process-manager lab) in
//! cluster mode, as any Node.js app can be one of PM2's.
//!
//! The contract is systemd's, which `workbench-pm` follows:
//!
//! - **the socket**: with `LISTEN_FDS=1` the supervisor has bound the listening socket and placed it at fd 3
//!   ([`LISTEN_FD`]); every instance accepts from it, so a replacement can start while the old instance still
//!   serves, and no connection is refused in between;
//! - **readiness**: with `NOTIFY_SOCKET` set, the server sends `READY=1` there once it is listening
//!   (`sd_notify`; PM2's `wait_ready` and `process.send('ready')`): a rolling restart waits for it;
//! - **the supervisor's counters**: with `WORKBENCH_PM_SOCKET` set, [`supervisor_stats`] asks the supervisor for
//!   its counters (restarts, memory restarts…) over its control socket, one JSON line each way, so a lab's `/stats`
//!   can report what the supervisor did to it.
//!
//! Without those variables (the harness starting a server itself) none of this happens.

use std::net::TcpListener;
use std::os::unix::net::UnixDatagram;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

/// The fd a supervisor places the listening socket at (systemd's `SD_LISTEN_FDS_START`).
pub const LISTEN_FD: i32 = 3;

/// The listening socket the supervisor passed down, when `LISTEN_FDS=1` says there is one.
pub fn inherited_listener() -> Option<std::io::Result<TcpListener>> {
    if std::env::var("LISTEN_FDS").ok()?.trim() != "1" {
        return None;
    }
    // systemd also names the process the sockets are for; a process manager that does not (workbench-pm forks and
    // execs one instance at a time) leaves it out.
    if let Ok(pid) = std::env::var("LISTEN_PID") {
        if pid.trim() != std::process::id().to_string() {
            return None;
        }
    }
    use std::os::fd::FromRawFd;
    // SAFETY: LISTEN_FDS=1 (for this process) says the supervisor placed a listening TCP socket at fd 3 before
    // exec, and nothing in this process opened fd 3 before this call: it is ours to own.
    #[allow(unsafe_code)]
    let listener = unsafe { TcpListener::from_raw_fd(LISTEN_FD) };
    Some(listener.set_nonblocking(true).map(|()| listener))
}

/// Sends `READY=1` to `$NOTIFY_SOCKET`, when there is one (systemd's `sd_notify`).
pub fn notify_ready() -> std::io::Result<()> {
    let Some(path) = std::env::var_os("NOTIFY_SOCKET") else {
        return Ok(());
    };
    UnixDatagram::unbound()?.send_to(b"READY=1", path)?;
    Ok(())
}

/// The counters of the supervisor this server runs under, when `WORKBENCH_PM_SOCKET` names its control socket;
/// `None` when there is none or it does not answer.
pub async fn supervisor_stats() -> Option<serde_json::Map<String, serde_json::Value>> {
    stats_from(std::env::var_os("WORKBENCH_PM_SOCKET")?.as_ref()).await
}

/// Asks the control socket at `socket` for the supervisor's counters (`{"cmd":"stats"}`).
async fn stats_from(socket: &std::path::Path) -> Option<serde_json::Map<String, serde_json::Value>> {
    let stream = tokio::net::UnixStream::connect(socket).await.ok()?;
    let (read, mut write) = stream.into_split();
    write.write_all(b"{\"cmd\":\"stats\"}\n").await.ok()?;
    let mut line = String::new();
    BufReader::new(read).read_line(&mut line).await.ok()?;
    let answer: serde_json::Value = serde_json::from_str(&line).ok()?;
    answer.get("stats")?.as_object().cloned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_supervisor_s_counters_are_read_over_its_control_socket() {
        let dir = std::env::temp_dir().join(format!("lab-kit-supervised-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("pm.sock");
        let _ = std::fs::remove_file(&path);
        let listener = tokio::net::UnixListener::bind(&path).unwrap();
        let supervisor = tokio::spawn(async move {
            let (stream, _) = listener.accept().await.unwrap();
            let (read, mut write) = stream.into_split();
            let mut request = String::new();
            BufReader::new(read).read_line(&mut request).await.unwrap();
            assert_eq!(request, "{\"cmd\":\"stats\"}\n");
            write
                .write_all(b"{\"ok\":true,\"message\":\"\",\"stats\":{\"memory_restarts\":2}}\n")
                .await
                .unwrap();
        });
        let stats = stats_from(&path).await.expect("the supervisor answered");
        assert_eq!(stats["memory_restarts"], 2);
        supervisor.await.unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn without_the_variables_nothing_is_inherited_or_notified() {
        if std::env::var_os("LISTEN_FDS").is_none() {
            assert!(inherited_listener().is_none());
        }
        if std::env::var_os("NOTIFY_SOCKET").is_none() {
            notify_ready().unwrap();
        }
    }
}
