//! The server's flags and its one variant: what `lab_kit::run` starts.
//!
//! It runs on a current-thread runtime on purpose — one event loop, like one Node.js process — so that a freeze
//! stops everything. See [`crate::server`] for the lesson.

use std::time::Duration;

use lab_kit::{App, Counters, LabServer, RuntimeFlavor};

use crate::server::{self, COUNTERS};

/// The lab's one variant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Variant {
    /// An event loop that freezes periodically.
    Freezing,
}

/// How the server freezes.
#[derive(clap::Args)]
pub struct Cli {
    /// How long each freeze lasts, in milliseconds.
    #[arg(long, default_value_t = 500)]
    freeze_ms: u64,
    /// A freeze starts once per this many milliseconds.
    #[arg(long, default_value_t = 2000)]
    every_ms: u64,
}

/// The freeze must leave the server some time awake.
#[derive(Debug, thiserror::Error)]
#[error("--freeze-ms ({freeze_ms}) must be shorter than --every-ms ({every_ms})")]
pub struct FreezeTooLong {
    freeze_ms: u64,
    every_ms: u64,
}

impl LabServer for Cli {
    type Variant = Variant;
    type Error = FreezeTooLong;
    const ABOUT: &'static str = "A server whose event loop freezes periodically.";

    fn runtime(_: Variant) -> RuntimeFlavor {
        RuntimeFlavor::CurrentThread
    }

    async fn app(self, Variant::Freezing: Variant) -> Result<App, FreezeTooLong> {
        if self.freeze_ms >= self.every_ms {
            return Err(FreezeTooLong {
                freeze_ms: self.freeze_ms,
                every_ms: self.every_ms,
            });
        }
        let counters = Counters::new(COUNTERS);
        let every = Duration::from_millis(self.every_ms);
        let freeze = Duration::from_millis(self.freeze_ms);
        tokio::spawn(server::freeze_periodically(every, freeze, counters.clone()));
        Ok(server::app(counters).into())
    }
}
