//! The query-batching lab's server: `lab-query-batching --variant {n-plus-one,dataloader,join,exercise,no-index,index}`.
//!
//! Embedded SQLite by default; PostgreSQL when `DATABASE_URL=postgres://…` is set.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use lab_kit::{Counters, RuntimeFlavor, ServerArgs};
use lab_query_batching::db::{Backend, Db, Postgres, Sqlite};
use lab_query_batching::server::{app, AppState, Batching, Variant, COUNTERS};

/// An order service over SQLite or PostgreSQL.
#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    server: ServerArgs,
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

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let variant: Variant = cli.server.variant_as()?;
    lab_kit::build_runtime(RuntimeFlavor::MultiThread)?.block_on(async {
        let backend = match std::env::var("DATABASE_URL") {
            Ok(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => Backend::Postgres(
                Postgres::connect(&url, &cli.schema, cli.pool)
                    .await
                    .with_context(|| format!("connecting to and seeding {url}"))?,
            ),
            Ok(url) => anyhow::bail!("DATABASE_URL must be postgres://… (unset it for embedded SQLite), not {url:?}"),
            Err(_) => Backend::Sqlite(Sqlite::open(cli.pool).context("creating the embedded database")?),
        };
        let counters = Counters::new(COUNTERS);
        let db = Db::new(backend, Duration::from_millis(cli.db_latency_ms), counters.clone());
        let batching = Batching {
            window: Duration::from_micros(cli.batch_window_us),
            max_batch: cli.max_batch,
        };
        let state = AppState::build(db, variant, batching, counters)
            .await
            .context("preparing the database")?;
        lab_kit::serve(&cli.server, app(Arc::new(state))).await
    })
}
