//! The worker-pools lab's server: `lab-worker-pools --variant {inline,spawn-blocking,semaphore,bounded-pool,exercise}`.
//!
//! HTTP is served by one current-thread event loop in every variant — one Node.js process — so that the only
//! difference between them is where the CPU work runs.

use std::sync::Arc;

use clap::Parser;
use lab_kit::{Counters, RuntimeFlavor, ServerArgs};
use lab_worker_pools::executor::{Executor, Variant};
use lab_worker_pools::lag::LoopLag;
use lab_worker_pools::server::{app, AppState, COUNTERS};

/// CPU work off the event loop, four ways.
#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    server: ServerArgs,
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

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let variant: Variant = cli.server.variant_as()?;
    // Leave the event loop a core of its own: a pool as wide as the machine competes with it for every core.
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let width = cores.saturating_sub(1).max(1);
    let executor = Executor::new(
        variant,
        cli.workers.unwrap_or(width),
        cli.queue,
        cli.permits.unwrap_or(width),
    );
    lab_kit::build_runtime(RuntimeFlavor::CurrentThread)?.block_on(async {
        let lag = LoopLag::default();
        tokio::spawn(lag.clone().probe());
        let state = Arc::new(AppState {
            executor,
            counters: Counters::new(COUNTERS),
            lag,
        });
        lab_kit::serve(&cli.server, app(state)).await
    })
}
