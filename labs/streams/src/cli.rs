//! The server's flags and how a variant is put together: what `lab_kit::run` starts.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use lab_kit::{App, Counters, LabServer, RuntimeFlavor};

use crate::server::{app, AppState, Settings, Variant, COUNTERS};

/// The streams lab's own flags.
#[derive(clap::Args)]
pub struct Cli {
    /// Orders in the table (seeded once per count, cached under target/lab-data/).
    #[arg(long, default_value_t = 1_000_000)]
    rows: u64,
    /// The orders database to use or create (default: the cache under target/lab-data/).
    #[arg(long)]
    db: Option<PathBuf>,
    /// Rows per chunk of a streamed export (and per gzip flush).
    #[arg(long, default_value_t = 1000)]
    chunk_rows: usize,
    /// Chunks the bounded hand-off holds before the producer waits.
    #[arg(long, default_value_t = 4)]
    channel_chunks: usize,
    /// The largest upload accepted, in bytes (larger: 413).
    #[arg(long, default_value_t = 64 << 20)]
    max_upload_bytes: u64,
    /// Rows per insert batch of an import.
    #[arg(long, default_value_t = 1000)]
    batch_rows: usize,
    /// gzip's level for streamed-gzip: 1 (fastest) to 9 (smallest). (zlib-rs's level 1 is a quick strategy
    /// that shrinks this CSV 3.8×; level 2 gets 5.5× for about a sixth more CPU, measured 2026-12-03.)
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u32).range(1..=9))]
    gzip_level: u32,
}

impl LabServer for Cli {
    type Variant = Variant;
    type Error = anyhow::Error;
    const ABOUT: &'static str = "Order exports and CSV uploads over SQLite: buffered or streamed.";

    fn runtime(_: Variant) -> RuntimeFlavor {
        RuntimeFlavor::MultiThread
    }

    async fn app(self, variant: Variant) -> anyhow::Result<App> {
        let orders_db = match self.db {
            Some(path) => path,
            None => crate::seed::default_path(self.rows)?,
        };
        let rows = self.rows;
        let seeded = orders_db.clone();
        tokio::task::spawn_blocking(move || crate::seed::open_or_seed(&seeded, rows))
            .await
            .context("the seeding thread")?
            .with_context(|| format!("preparing {}", orders_db.display()))?;
        let imports_db = tempfile::Builder::new()
            .prefix("lab-streams-imports-")
            .suffix(".sqlite")
            .tempfile()
            .context("creating the imports database")?
            .into_temp_path();
        crate::import::create_imports_db(&imports_db).context("creating the imports table")?;
        let state = AppState {
            orders_db,
            imports_db,
            variant,
            settings: Settings {
                rows: self.rows,
                chunk_rows: self.chunk_rows,
                channel_chunks: self.channel_chunks,
                max_upload_bytes: self.max_upload_bytes,
                batch_rows: self.batch_rows,
                gzip_level: self.gzip_level,
            },
            counters: Counters::new(COUNTERS),
        };
        // The peak starts now: seeding is not what the requests are measured by.
        lab_kit::heap::reset_peak();
        Ok(app(Arc::new(state)).into())
    }
}
