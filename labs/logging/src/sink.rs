//! The sink: where log lines end up — a file, or a pipe to the `log-sink` process — behind a writer that counts
//! what it is asked to do: `write()` calls (each one a system call: neither a `File` nor a pipe buffers), bytes,
//! and whole lines.
//!
//! Counting at the sink is what makes the accounting honest: a line is *written* when the sink took its last byte,
//! not when a logging call returned.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::Duration;

use anyhow::Context;
use lab_kit::Counters;

/// Where the lines go.
#[derive(Debug, Clone)]
pub enum SinkKind {
    /// Appended to this file.
    File(PathBuf),
    /// Through a pipe to `log-sink`, which appends them to this file and may stall.
    Pipe {
        /// The file `log-sink` writes.
        into: PathBuf,
        /// When, after it starts, it stops reading, and for how long.
        stall: Option<(Duration, Duration)>,
    },
}

/// A writer into the sink that counts `write_calls`, `bytes_written` and `lines_written`.
pub struct CountingSink {
    inner: Box<dyn Write + Send + Sync>,
    counters: Counters,
}

impl Write for CountingSink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.counters.incr("write_calls");
        self.counters.add("bytes_written", n as u64);
        let lines = buf[..n].iter().filter(|b| **b == b'\n').count();
        self.counters.add("lines_written", lines as u64);
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// The open sink, and the consumer process when it is a pipe.
pub struct Sink {
    /// The counting writer (taken by the pipeline that writes into it).
    pub writer: Option<CountingSink>,
    consumer: Option<Child>,
}

impl Sink {
    /// Opens the sink.
    pub fn open(kind: &SinkKind, counters: Counters) -> anyhow::Result<Sink> {
        let (inner, consumer): (Box<dyn Write + Send + Sync>, Option<Child>) = match kind {
            SinkKind::File(path) => {
                let file = std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                    .with_context(|| format!("opening the log file {}", path.display()))?;
                (Box::new(file), None)
            }
            SinkKind::Pipe { into, stall } => {
                let (child, stdin) = spawn_consumer(into, *stall)?;
                (Box::new(stdin), Some(child))
            }
        };
        Ok(Sink {
            writer: Some(CountingSink { inner, counters }),
            consumer,
        })
    }

    /// Waits (at most `grace`) for the consumer to write what it read and exit; the pipe must be closed first (every
    /// writer dropped). A consumer that does not exit in time is killed.
    pub fn close(&mut self, grace: Duration) {
        self.writer = None;
        let Some(mut child) = self.consumer.take() else { return };
        let deadline = std::time::Instant::now() + grace;
        while std::time::Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(10)); // the probe's interval while the consumer drains
        }
        let _ = child.kill();
        let _ = child.wait();
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        self.close(Duration::from_secs(5));
    }
}

/// The `log-sink` binary: beside this one (cargo builds a package's binaries into one folder).
fn consumer_binary() -> anyhow::Result<PathBuf> {
    let exe = std::env::current_exe().context("finding this binary")?;
    let dir = exe.parent().context("this binary's folder")?;
    // Test binaries live one level deeper, in deps/.
    for candidate in [dir.join("log-sink"), dir.join("../log-sink")] {
        if candidate.is_file() {
            return Ok(candidate);
        }
    }
    anyhow::bail!(
        "log-sink is not built beside {} (cargo build -p lab-logging builds it)",
        exe.display()
    )
}

fn spawn_consumer(into: &Path, stall: Option<(Duration, Duration)>) -> anyhow::Result<(Child, ChildStdin)> {
    let mut command = Command::new(consumer_binary()?);
    command.arg("--into").arg(into).stdin(Stdio::piped());
    if let Some((at, length)) = stall {
        command
            .arg("--stall-at")
            .arg(format!("{}ms", at.as_millis()))
            .arg("--stall-for")
            .arg(format!("{}ms", length.as_millis()));
    }
    let mut child = command.spawn().context("starting log-sink")?;
    let stdin = child.stdin.take().context("log-sink's stdin")?;
    Ok((child, stdin))
}
