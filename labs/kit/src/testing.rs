//! For labs' tests: a lab server run as the real binary, as the harness runs it — started, read for its address,
//! asked over plain HTTP/1.1, stopped with SIGTERM or killed when the test ends, whatever happens.
//!
//! Each lab's integration tests that need a socket (a client that goes away mid-export, a cluster of processes, a
//! graceful stop) use this one helper rather than their own copy.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// A lab server process, killed when dropped (unless [`ServerProcess::terminate`] stopped it first).
pub struct ServerProcess {
    child: Child,
    /// Where it listens.
    pub addr: SocketAddr,
}

impl ServerProcess {
    /// Starts `command` (the lab's binary with its arguments; stdout is taken here) and waits for its
    /// `listening on ADDR` line.
    pub fn start(mut command: Command) -> ServerProcess {
        let mut child = command
            .stdout(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {command:?}: {e}"));
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout is piped"))
            .read_line(&mut line)
            .expect("read the server's first line");
        let addr = line
            .trim()
            .strip_prefix("listening on ")
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| panic!("{command:?} should announce `listening on ADDR`, not {line:?}"));
        ServerProcess { child, addr }
    }

    /// Its process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// `GET path` on a new connection: (status, body).
    pub fn get(&self, path: &str) -> (u16, String) {
        get(self.addr, path)
    }

    /// Its `/stats`.
    pub fn stats(&self) -> serde_json::Value {
        stats(self.addr)
    }

    /// Stops it as the harness does — SIGTERM, then waits — and returns how it exited.
    pub fn terminate(mut self) -> ExitStatus {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill").args(["-TERM", &pid]).status();
        assert!(sent.is_ok_and(|s| s.success()), "kill -TERM {pid}");
        self.child.wait().expect("wait for the server")
    }
}

impl ServerProcess {
    /// Kills it with SIGKILL (no chance to clean up, as the OOM killer does) and waits.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// One request to `addr` on a new connection: (status, body); status 0 when the connection failed.
pub fn request(addr: SocketAddr, method: &str, path: &str) -> (u16, String) {
    let Ok(mut stream) = TcpStream::connect(addr) else {
        return (0, String::new());
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(20)));
    let _ = write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: lab\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    );
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    let status = response.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = response.split_once("\r\n\r\n").map_or("", |(_, b)| b).to_string();
    (status, body)
}

/// `GET path` from `addr` on a new connection.
pub fn get(addr: SocketAddr, path: &str) -> (u16, String) {
    request(addr, "GET", path)
}

/// `/stats` of the server at `addr`.
pub fn stats(addr: SocketAddr) -> serde_json::Value {
    let (status, body) = get(addr, "/stats");
    serde_json::from_str(&body).unwrap_or_else(|_| panic!("/stats answered {status}: {body:?}"))
}

/// Polls `condition` every 20 ms until it holds or `within` passes; returns whether it held. The one probe loop
/// of the workspace's tests (`workbench_tests::eventually` is this function).
pub fn poll_until(within: Duration, mut condition: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + within;
    loop {
        if condition() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20)); // the probe's interval, not a wait for a result
    }
}

/// Polls `ok` until it holds (probing, not sleeping for a guessed time); panics after 10 s naming `what`.
pub fn eventually(what: &str, ok: impl FnMut() -> bool) {
    assert!(poll_until(Duration::from_secs(10), ok), "waited 10 s for {what}");
}
