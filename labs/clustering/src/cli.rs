//! The server's flags and how each variant is put together: one process (`single`, `multi-thread`) or a primary
//! with workers (the three distributions).

use std::sync::Arc;
use std::time::Duration;

use lab_kit::{App, Counters, LabServer, RuntimeFlavor};

use crate::chat::{Bus, Chat};
use crate::server::{app, Service, Shared, COUNTERS};
use crate::worker::{Distribution, StateMode, WorkerConfig};

/// The clustering lab's own flags.
#[derive(clap::Args)]
pub struct Cli {
    /// Worker processes in the cluster variants (1-64); default: one per core.
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=64))]
    workers: Option<u16>,
    /// Where the rate limit and sessions live.
    #[arg(long, value_enum, default_value_t = StateMode::Local)]
    state: StateMode,
    /// Requests admitted per key per window on /limited/{key}.
    #[arg(long, default_value_t = 20)]
    limit: u32,
    /// Whose rate limiter counts: the reference, or yours from labs/clustering/exercise (`--variant exercise` in
    /// lab.toml runs a cluster with yours in the primary).
    #[arg(long, value_enum, default_value_t = crate::state::Limiter::Reference)]
    limiter: crate::state::Limiter,
    /// The rate limit's window.
    #[arg(long, default_value = "60s", value_parser = humantime::parse_duration)]
    window: Duration,
    /// Hash rounds per /work request (~90 ns each).
    #[arg(long, default_value_t = crate::work::DEFAULT_ROUNDS)]
    rounds: u32,
    /// Freeze worker 0's event loop this long after it starts (with --stall-for): a stuck worker.
    #[arg(long, value_parser = humantime::parse_duration, requires = "stall_for")]
    stall_after: Option<Duration>,
    /// How long the freeze lasts.
    #[arg(long, value_parser = humantime::parse_duration, requires = "stall_after")]
    stall_for: Option<Duration>,
    /// Crash this long after start, as an uncaught exception would: the process (`single`, `multi-thread`) or a
    /// cluster's worker 0 exits at once, dropping whatever it was serving.
    #[arg(long, value_parser = humantime::parse_duration)]
    crash_after: Option<Duration>,
}

/// One process or a cluster, and how a cluster's connections are spread.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Variant {
    /// One process, one event loop (one Node.js process).
    Single,
    /// One process, tokio's multi-thread runtime: every core from one process.
    MultiThread,
    /// A primary and workers that all accept on one inherited listening socket.
    SharedListener,
    /// A primary and workers that each bind the port with SO_REUSEPORT.
    Reuseport,
    /// A primary that accepts and hands each connection to the next worker.
    RoundRobin,
}

impl LabServer for Cli {
    type Variant = Variant;
    type Error = anyhow::Error;
    const ABOUT: &'static str = "One service, as one process or as a cluster of worker processes on one port.";

    fn runtime(variant: Variant) -> RuntimeFlavor {
        match variant {
            Variant::MultiThread => RuntimeFlavor::MultiThread,
            // One event loop per process, like Node.js; the primary needs no more.
            _ => RuntimeFlavor::CurrentThread,
        }
    }

    async fn app(self, variant: Variant) -> anyhow::Result<App> {
        // Keys of this run only: a second run must not find the first one's counts.
        let redis = match self.state {
            StateMode::Redis => {
                let url = std::env::var("REDIS_URL")
                    .map_err(|_| anyhow::anyhow!("--state redis needs REDIS_URL (e.g. redis://127.0.0.1:6379)"))?;
                let started = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap_or_default();
                Some((
                    url,
                    format!("clustering:{}:{}", std::process::id(), started.as_millis()),
                ))
            }
            _ => None,
        };
        let distribution = match variant {
            Variant::Single | Variant::MultiThread => {
                if self.stall_after.is_some() {
                    anyhow::bail!("--stall-after freezes a cluster's worker 0: use it with a cluster variant");
                }
                if let Some(after) = self.crash_after {
                    tokio::spawn(crate::worker::crash_after(after));
                }
                let chat = match (self.state, &redis) {
                    (StateMode::Redis, Some((url, prefix))) => Chat::over_redis(url, prefix.clone()).await?,
                    _ => Arc::new(Chat::new(Bus::Local)),
                };
                let shared = match (self.state, redis) {
                    (StateMode::Redis, Some((url, prefix))) => Shared::Redis(
                        crate::redis_state::RedisState::connect(&url, prefix, self.limit, self.window).await?,
                    ),
                    (StateMode::Primary, _) => {
                        anyhow::bail!(
                            "--state primary keeps state in a cluster's primary: use it with a cluster variant"
                        )
                    }
                    _ => Shared::Local(crate::state::State::with(self.limiter, self.limit, self.window)),
                };
                let service = Service {
                    counters: Counters::new(COUNTERS),
                    shared,
                    primary: None,
                    rounds: self.rounds,
                    chat,
                };
                return Ok(app(Arc::new(service)).into());
            }
            Variant::SharedListener => Distribution::SharedListener,
            Variant::Reuseport => Distribution::Reuseport,
            Variant::RoundRobin => Distribution::RoundRobin,
        };
        let workers = match self.workers {
            Some(n) => n as usize,
            None => std::thread::available_parallelism().map_or(2, |n| n.get()),
        };
        let config = WorkerConfig {
            index: 0,
            distribution,
            addr: ([127, 0, 0, 1], 0).into(),
            state: self.state,
            redis,
            limit: self.limit,
            limiter: self.limiter,
            window_ms: self.window.as_millis() as u64,
            rounds: self.rounds,
            stall_ms: self
                .stall_after
                .zip(self.stall_for)
                .map(|(after, length)| (after.as_millis() as u64, length.as_millis() as u64)),
            crash_ms: self.crash_after.map(|d| d.as_millis() as u64),
        };
        Ok(App::Custom(Box::new(move |listener| {
            Box::pin(async move { crate::primary::run(workers, config, listener).await.map_err(Into::into) })
        })))
    }
}
