//! The server's flags and how each variant is put together: what `lab_kit::run` starts.
//!
//! HTTP is served by one current-thread event loop in every variant — one Node.js process — so that the only
//! difference between them is where the CPU work runs.

use std::sync::Arc;

use lab_kit::{App, Counters, LabServer, RuntimeFlavor};

use crate::executor::{Executor, Variant};
use crate::server::{app, AppState, COUNTERS};

/// The worker-pools lab's own flags.
#[derive(clap::Args)]
pub struct Cli {
    /// Pool threads (bounded-pool, exercise); default: one per core but one, leaving a core for the event loop.
    #[arg(long)]
    workers: Option<usize>,
    /// Jobs that may wait in the pool's queue before requests are shed with 503.
    #[arg(long, default_value_t = 16)]
    queue: usize,
    /// Jobs at once (semaphore); default: one per core but one.
    #[arg(long)]
    permits: Option<usize>,
}

impl LabServer for Cli {
    type Variant = Variant;
    type Error = std::convert::Infallible;
    const ABOUT: &'static str = "CPU work off the event loop, four ways.";

    fn runtime(_: Variant) -> RuntimeFlavor {
        RuntimeFlavor::CurrentThread
    }

    async fn app(self, variant: Variant) -> Result<App, Self::Error> {
        // Leave the event loop a core of its own: a pool as wide as the machine competes with it for every core.
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let width = cores.saturating_sub(1).max(1);
        let executor = Executor::new(
            variant,
            self.workers.unwrap_or(width),
            self.queue,
            self.permits.unwrap_or(width),
        );
        // lab-kit runs the probe for every lab (it is on /metrics); this lab reads it into /stats too.
        let lag = lab_kit::telemetry().lag().clone();
        let state = Arc::new(AppState {
            executor,
            counters: Counters::new(COUNTERS),
            lag,
        });
        Ok(app(state).into())
    }
}
