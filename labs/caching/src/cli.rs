//! The server's flags and how each variant is put together: what `lab_kit::run` starts.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use lab_kit::{App, Counters, LabServer, RuntimeFlavor};

use crate::db::Db;
use crate::layered::Layered;
use crate::server::{app, AppState};
use crate::store::{Cache, CacheConfig, Variant, COUNTERS};

/// The caching lab's own flags.
#[derive(clap::Args)]
pub struct Cli {
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

impl LabServer for Cli {
    type Variant = Variant;
    type Error = anyhow::Error;
    const ABOUT: &'static str = "A product service behind a cache.";

    fn runtime(_: Variant) -> RuntimeFlavor {
        RuntimeFlavor::MultiThread
    }

    async fn app(self, variant: Variant) -> anyhow::Result<App> {
        let counters = Counters::new(COUNTERS);
        let db = Db::open(
            self.db.as_deref(),
            self.pool,
            Duration::from_millis(self.db_latency_ms),
            counters.clone(),
        )
        .context("opening the catalogue")?;
        let config = CacheConfig {
            ttl: Duration::from_millis(self.ttl_ms),
            capacity: self.capacity.max(1),
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
        Ok(app(Arc::new(AppState { db, cache, counters })).into())
    }
}
