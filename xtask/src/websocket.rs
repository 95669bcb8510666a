//! `cargo xtask load ws://…`: WebSocket connections held open, messages at a rate, delivery latency (see
//! `lab_load_generator::websocket`).

use std::process::ExitCode;
use std::time::Duration;

use lab_load_generator::websocket::{self, WsPlan};
use lab_load_generator::{LoadError, Target};

use crate::UsageError;

/// What the command line asked for.
pub struct Flags<'a> {
    pub url: &'a str,
    pub allow_remote: bool,
    pub connections: usize,
    pub hold: Duration,
    pub rate: Option<f64>,
    pub message_size: usize,
    pub timeout: Duration,
    pub pacing: Option<Duration>,
    pub json: bool,
}

/// Runs the WebSocket load and prints what it measured; exit 1 when messages were lost, connections failed, or the
/// run is not a valid measurement.
pub fn run(flags: Flags) -> anyhow::Result<ExitCode> {
    let rest = flags.url.strip_prefix("ws://").expect("called for ws:// URLs");
    let target = Target::parse(&format!("http://{rest}"), flags.allow_remote).map_err(|e| UsageError(e.to_string()))?;
    let plan = WsPlan {
        target,
        connections: flags.connections,
        hold: flags.hold,
        rate: flags.rate,
        message_size: flags.message_size,
        timeout: flags.timeout,
        pacing: flags.pacing.unwrap_or(lab_load_generator::pacer::DEFAULT_PACING),
    };
    let report = websocket::run(&plan).map_err(|e| match e {
        LoadError::Plan(m) => anyhow::Error::new(UsageError(m)),
        other => anyhow::Error::new(other),
    })?;
    if flags.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!("{}", report.summary());
    }
    let clean = report.valid && report.failed == 0 && report.lost == 0 && report.closed_early == 0;
    Ok(if clean { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}
