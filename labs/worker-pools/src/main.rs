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
    /// Where the heavy work runs.
    #[arg(long, value_enum)]
    variant: Variant,
    /// TCP port; 0 lets the operating system choose.
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Address to bind.
    #[arg(long, default_value = "127.0.0.1")]
    host: std::net::IpAddr,
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
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let executor = Executor::new(
        cli.variant,
        cli.workers.unwrap_or(cores),
        cli.queue,
        cli.permits.unwrap_or(cores),
    );
    let server = ServerArgs {
        variant: format!("{:?}", cli.variant),
        port: cli.port,
        host: cli.host,
    };
    lab_kit::build_runtime(RuntimeFlavor::CurrentThread)?.block_on(async {
        let lag = LoopLag::default();
        tokio::spawn(lag.clone().probe());
        let state = Arc::new(AppState {
            executor,
            counters: Counters::new(COUNTERS),
            lag,
        });
        lab_kit::serve(&server, app(state)).await
    })
}
