//! The caching lab's server: `lab-caching --variant {naive,lru,moka,single-flight,exercise,layered} [options]`.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use lab_caching::db::Db;
use lab_caching::layered::Layered;
use lab_caching::server::{app, AppState};
use lab_caching::store::{Cache, CacheConfig, Variant, COUNTERS};
use lab_kit::{Counters, RuntimeFlavor, ServerArgs};

/// A product service behind a cache.
#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    server: ServerArgs,
    /// How long a cached value stays valid, in milliseconds.
    #[arg(long, default_value_t = 2000)]
    ttl_ms: u64,
    /// Most entries held in process.
    #[arg(long, default_value_t = 10_000)]
    capacity: usize,
    /// SQLite file to use (shared by several server processes); a private in-memory database when absent.
    #[arg(long)]
    db: Option<String>,
    /// Database connections.
    #[arg(long, default_value_t = 8)]
    pool: usize,
    /// Extra time each query holds its connection: the round trip to a database on another machine.
    #[arg(long, default_value_t = 20)]
    db_latency_ms: u64,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let variant: Variant = cli.server.variant_as()?;
    lab_kit::build_runtime(RuntimeFlavor::MultiThread)?.block_on(async {
        let counters = Counters::new(COUNTERS);
        let db = Db::open(
            cli.db.as_deref(),
            cli.pool,
            Duration::from_millis(cli.db_latency_ms),
            counters.clone(),
        )
        .context("opening the catalogue")?;
        let config = CacheConfig {
            ttl: Duration::from_millis(cli.ttl_ms),
            capacity: cli.capacity.max(1),
        };
        let layered = match variant {
            Variant::Layered => {
                let url = std::env::var("REDIS_URL")
                    .context("the layered variant needs REDIS_URL, e.g. redis://127.0.0.1:6379")?;
                Some(
                    Layered::connect(&url, config, counters.clone())
                        .await
                        .with_context(|| format!("connecting to {url}"))?,
                )
            }
            _ => None,
        };
        let cache = Cache::new(variant, config, counters.clone(), layered);
        let state = Arc::new(AppState { db, cache, counters });
        lab_kit::serve(&cli.server, app(state)).await
    })
}
