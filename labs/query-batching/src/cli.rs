//! The server's flags and how each variant is put together: what `lab_kit::run` starts.
//!
//! Embedded SQLite by default; PostgreSQL when `DATABASE_URL=postgres://…` is set.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use lab_kit::{App, Counters, LabServer, RuntimeFlavor};

use crate::db::{Backend, Db, Postgres, Sqlite};
use crate::server::{app, AppState, Batching, Variant, COUNTERS};

/// The query-batching lab's own flags.
#[derive(clap::Args)]
pub struct Cli {
    /// Database connections in the pool.
    #[arg(long, default_value_t = 8)]
    pool: usize,
    /// Extra time each query holds its connection: the round trip to a database on another machine.
    #[arg(long, default_value_t = 1)]
    db_latency_ms: u64,
    /// How long a DataLoader waits after a batch's first key for more keys, in microseconds.
    #[arg(long, default_value_t = 500)]
    batch_window_us: u64,
    /// Most keys in one batch query.
    #[arg(long, default_value_t = 200)]
    max_batch: usize,
    /// PostgreSQL schema holding the lab's tables (created and seeded if empty).
    #[arg(long, default_value = "query_batching")]
    schema: String,
}

impl LabServer for Cli {
    type Variant = Variant;
    type Error = anyhow::Error;
    const ABOUT: &'static str = "An order service over SQLite or PostgreSQL.";

    fn runtime(_: Variant) -> RuntimeFlavor {
        RuntimeFlavor::MultiThread
    }

    async fn app(self, variant: Variant) -> anyhow::Result<App> {
        let backend = match std::env::var("DATABASE_URL") {
            Ok(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => Backend::Postgres(
                Postgres::connect(&url, &self.schema, self.pool)
                    .await
                    .with_context(|| format!("connecting to and seeding {url}"))?,
            ),
            Ok(url) => anyhow::bail!("DATABASE_URL must be postgres://… (unset it for embedded SQLite), not {url:?}"),
            Err(_) => Backend::Sqlite(Sqlite::open(self.pool).context("creating the embedded database")?),
        };
        let counters = Counters::new(COUNTERS);
        let db = Db::new(backend, Duration::from_millis(self.db_latency_ms), counters.clone());
        let batching = Batching {
            window: Duration::from_micros(self.batch_window_us),
            max_batch: self.max_batch,
        };
        let state = AppState::build(db, variant, batching, counters)
            .await
            .context("preparing the database")?;
        Ok(app(Arc::new(state)).into())
    }
}
