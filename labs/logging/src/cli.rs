//! The server's flags and how a variant is put together: what `lab_kit::run` starts.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use lab_kit::{App, Counters, LabServer, RuntimeFlavor};

use crate::line::Redact;
use crate::pipeline::{Pipeline, Variant};
use crate::server::{app, AppState, COUNTERS};
use crate::sink::{Sink, SinkKind};

/// Where the lines go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SinkFlag {
    /// Appended to the log file.
    File,
    /// Through a pipe to the `log-sink` process, which appends them to the log file (and can stall).
    Pipe,
}

/// The logging lab's own flags.
#[derive(clap::Args)]
pub struct Cli {
    /// Where the lines go.
    #[arg(long, value_enum, default_value_t = SinkFlag::File)]
    sink: SinkFlag,
    /// The log file (default: a temporary file, removed when the server stops).
    #[arg(long)]
    log_file: Option<PathBuf>,
    /// With --sink pipe: the consumer stops reading this long after it starts (e.g. 3s)…
    #[arg(long, value_parser = parse_duration, requires = "stall_for")]
    stall_at: Option<Duration>,
    /// …for this long (e.g. 2s): a full disk, a stuck log shipper.
    #[arg(long, value_parser = parse_duration, requires = "stall_at")]
    stall_for: Option<Duration>,
    /// Lines the non-blocking variants' queue holds before it drops (lossy) or makes loggers wait. tracing-appender's
    /// default is 128,000: a 2 s stall at this lab's 5,000 lines a second would fit in it, so the lab uses a queue
    /// that a stall outlasts, as a longer stall would outlast the default.
    #[arg(long, default_value_t = 1024)]
    queue_lines: usize,
}

fn parse_duration(text: &str) -> Result<Duration, String> {
    humantime_like(text).ok_or_else(|| format!("{text:?} is not a duration (e.g. 500ms, 2s)"))
}

fn humantime_like(text: &str) -> Option<Duration> {
    match text.strip_suffix("ms") {
        Some(n) => n.parse::<u64>().ok().map(Duration::from_millis),
        None => text
            .strip_suffix('s')?
            .parse::<f64>()
            .ok()
            .filter(|s| *s >= 0.0)
            .map(Duration::from_secs_f64),
    }
}

impl LabServer for Cli {
    type Variant = Variant;
    type Error = anyhow::Error;
    const ABOUT: &'static str = "An order service that logs five JSON lines per request, each variant its own way.";

    fn runtime(_: Variant) -> RuntimeFlavor {
        RuntimeFlavor::MultiThread
    }

    async fn app(self, variant: Variant) -> anyhow::Result<App> {
        let (log_file, temporary) = match self.log_file {
            Some(path) => (path, None),
            None => {
                let temp = tempfile::Builder::new()
                    .prefix("lab-logging-")
                    .suffix(".log")
                    .tempfile()
                    .context("creating a temporary log file")?
                    .into_temp_path();
                (temp.to_path_buf(), Some(temp))
            }
        };
        let kind = match self.sink {
            SinkFlag::File => SinkKind::File(log_file),
            SinkFlag::Pipe => SinkKind::Pipe {
                into: log_file,
                stall: self.stall_at.zip(self.stall_for),
            },
        };
        let counters = Counters::new(COUNTERS);
        let sink = Sink::open(&kind, counters.clone())?;
        // The learner's redactor only in the exercise variant; the reference everywhere else.
        let redactor: Arc<dyn Redact> = match variant {
            Variant::Exercise => Arc::new(exercise_logging::Redactor::default()),
            _ => Arc::new(crate::redact::Redactor::default()),
        };
        let pipeline = Pipeline::build(variant, sink, redactor, counters.clone(), self.queue_lines);
        let state = AppState::new(pipeline, counters).with_temporary_log(temporary);
        Ok(app(Arc::new(state)).into())
    }
}
