//! `log-sink`: the consumer at the other end of the logging lab's pipe — a log shipper, reduced to what matters.
//!
//! It reads lines from stdin and appends them to a file, until stdin closes. With `--stall-at 3s --stall-for 2s`
//! it stops reading for two seconds, three seconds after it started: a full disk, a shipper stuck on a slow
//! network. The pipe's buffer (64 KiB on Linux) fills in milliseconds, and then every `write()` into it blocks —
//! which is what the lab's variants are measured against.

use std::io::{BufWriter, Read, Write};
use std::time::{Duration, Instant};

fn main() -> std::process::ExitCode {
    match run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("log-sink: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), String> {
    let mut args = std::env::args().skip(1);
    let (mut into, mut stall_at, mut stall_for) = (None, None, Duration::ZERO);
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--into" => into = Some(value()?),
            "--stall-at" => stall_at = Some(parse(&value()?)?),
            "--stall-for" => stall_for = parse(&value()?)?,
            _ => {
                return Err(format!(
                    "unknown flag {flag}; usage: log-sink --into FILE [--stall-at 3s --stall-for 2s]"
                ))
            }
        }
    }
    let into = into.ok_or("--into FILE is required")?;
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&into)
        .map_err(|e| format!("{into}: {e}"))?;
    let mut out = BufWriter::with_capacity(256 << 10, file);
    let started = Instant::now();
    let mut stalled = false;
    let mut stdin = std::io::stdin().lock();
    let mut buf = vec![0u8; 64 << 10];
    loop {
        if let (Some(at), false) = (stall_at, stalled) {
            if started.elapsed() >= at {
                stalled = true;
                // The stall itself: nothing reads the pipe for this long.
                std::thread::sleep(stall_for);
            }
        }
        let n = stdin.read(&mut buf).map_err(|e| format!("reading stdin: {e}"))?;
        if n == 0 {
            break;
        }
        out.write_all(&buf[..n]).map_err(|e| format!("{into}: {e}"))?;
    }
    out.flush().map_err(|e| format!("{into}: {e}"))
}

fn parse(text: &str) -> Result<Duration, String> {
    humantime::parse_duration(text).map_err(|e| format!("{text:?} is not a duration ({e}); e.g. 500ms, 2s"))
}
