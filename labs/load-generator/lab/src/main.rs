//! The load-generator lab's server binary:
//! `lab-coordinated-omission --variant freezing [--freeze-ms 500] [--every-ms 2000]`.
//!
//! It runs on a current-thread runtime on purpose — one event loop, like one Node.js process — so that a freeze
//! stops everything. See `server` for the lesson.

use std::time::Duration;

use anyhow::bail;
use clap::Parser;
use lab_coordinated_omission::server::{self, COUNTERS};
use lab_kit::{Counters, RuntimeFlavor, ServerArgs};

/// A server whose event loop freezes periodically.
#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    server: ServerArgs,
    /// How long each freeze lasts, in milliseconds.
    #[arg(long, default_value_t = 500)]
    freeze_ms: u64,
    /// A freeze starts once per this many milliseconds.
    #[arg(long, default_value_t = 2000)]
    every_ms: u64,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    if cli.server.variant != "freezing" {
        bail!(
            "unknown variant {:?}; this lab's server has one variant: freezing",
            cli.server.variant
        );
    }
    if cli.freeze_ms >= cli.every_ms {
        bail!(
            "--freeze-ms ({}) must be shorter than --every-ms ({})",
            cli.freeze_ms,
            cli.every_ms
        );
    }
    let runtime = lab_kit::build_runtime(RuntimeFlavor::CurrentThread)?;
    runtime.block_on(async {
        let counters = Counters::new(COUNTERS);
        let every = Duration::from_millis(cli.every_ms);
        let freeze = Duration::from_millis(cli.freeze_ms);
        tokio::spawn(server::freeze_periodically(every, freeze, counters.clone()));
        lab_kit::serve(&cli.server, server::app(counters)).await
    })
}
