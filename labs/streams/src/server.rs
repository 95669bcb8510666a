//! The service: `app()` builds the router every variant serves; the variant decides how exports and imports
//! move their bytes.
//!
//! | route | what it does |
//! |---|---|
//! | `GET /export.csv`, `GET /export.ndjson` | every order (or `?rows=N`), buffered or streamed by the variant |
//! | `POST /import` | a CSV upload (`content-type: text/csv`) into the imports table, in one transaction |
//! | `GET /imports/count` | rows committed by imports: a failed import must leave it unchanged |
//! | `GET /stats` | counters, the heap now and at its peak, bytes read per upload |
//! | `GET /healthz` | ready |

use std::path::PathBuf;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use lab_kit::Counters;
use serde::Deserialize;
use serde_json::json;

use crate::export::{self, ExportJob, Handoff};
use crate::import::{self, ImportJob, LearnerSplitter, ReferenceSplitter, Splitter};
use crate::rows::Format;

/// The variants, as `lab.toml` names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Variant {
    /// Exports built whole in memory; uploads read whole, then parsed.
    Buffered,
    /// Exports streamed through a bounded hand-off; uploads parsed as they arrive.
    Streamed,
    /// As `streamed`, gzip-compressed (flushed every chunk) for clients that accept it.
    StreamedGzip,
    /// As `streamed`, through an unbounded hand-off: what a slow reader does to it.
    Unbounded,
    /// As `streamed`, with the learner's CSV splitter (`exercise/src/lib.rs`).
    Exercise,
}

/// Counters in `/stats`.
pub const COUNTERS: &[&str] = &[
    "exports",
    "exports_completed",
    "exports_cancelled",
    "export_rows",
    "export_chunks",
    "uploads",
    "upload_bytes_read",
    "uploads_rejected",
    "uploads_too_large",
    "uploads_wrong_type",
    "rows_imported",
    "import_batches",
    "import_rollbacks",
];

/// The knobs of a run (the server's flags).
#[derive(Debug, Clone)]
pub struct Settings {
    /// Rows in the orders table.
    pub rows: u64,
    /// Rows per export chunk.
    pub chunk_rows: usize,
    /// Chunks the bounded hand-off holds.
    pub channel_chunks: usize,
    /// The largest upload, in bytes.
    pub max_upload_bytes: u64,
    /// Rows per insert batch.
    pub batch_rows: usize,
    /// gzip's level, 1 (fastest) to 9 (smallest).
    pub gzip_level: u32,
}

/// Everything a request needs.
pub struct AppState {
    /// The seeded orders database (read-only).
    pub orders_db: PathBuf,
    /// The imports database: a temporary file, deleted when the server stops.
    pub imports_db: tempfile::TempPath,
    /// Which way this server moves bytes.
    pub variant: Variant,
    /// Its knobs.
    pub settings: Settings,
    /// `/stats` counters.
    pub counters: Counters,
}

/// The router, testable without a socket (`tower::ServiceExt::oneshot`).
pub fn app(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/export.csv", get(export_csv))
        .route("/export.ndjson", get(export_ndjson))
        .route("/import", post(import_csv))
        .route("/imports/count", get(imports_count))
        .route("/stats", get(stats))
        .route("/healthz", get(|| async { "ok" }))
        .with_state(state)
}

#[derive(Deserialize)]
struct ExportQuery {
    rows: Option<u64>,
}

async fn export_csv(state: State<Arc<AppState>>, query: Query<ExportQuery>, headers: HeaderMap) -> Response {
    export(state, query, headers, Format::Csv).await
}

async fn export_ndjson(state: State<Arc<AppState>>, query: Query<ExportQuery>, headers: HeaderMap) -> Response {
    export(state, query, headers, Format::Ndjson).await
}

async fn export(
    State(state): State<Arc<AppState>>,
    Query(query): Query<ExportQuery>,
    headers: HeaderMap,
    format: Format,
) -> Response {
    let job = ExportJob {
        db: state.orders_db.clone(),
        format,
        limit: query.rows.unwrap_or(state.settings.rows),
        chunk_rows: state.settings.chunk_rows.max(1),
        gzip: (state.variant == Variant::StreamedGzip && accepts_gzip(&headers)).then_some(state.settings.gzip_level),
        counters: state.counters.clone(),
    };
    match state.variant {
        Variant::Buffered => export::buffered(job).await,
        Variant::Unbounded => export::streamed(job, Handoff::Unbounded),
        Variant::Streamed | Variant::StreamedGzip | Variant::Exercise => {
            export::streamed(job, Handoff::Bounded(state.settings.channel_chunks))
        }
    }
}

/// True when `Accept-Encoding` lists gzip without `q=0`.
fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|item| {
            let mut parts = item.split(';').map(str::trim);
            let coding = parts.next().unwrap_or("");
            let refused = parts.any(|p| p.replace(' ', "").eq_ignore_ascii_case("q=0"));
            coding.eq_ignore_ascii_case("gzip") && !refused
        })
}

async fn import_csv(State(state): State<Arc<AppState>>, headers: HeaderMap, body: Body) -> Response {
    let splitter: Box<dyn Splitter> = match state.variant {
        Variant::Exercise => Box::<LearnerSplitter>::default(),
        _ => Box::<ReferenceSplitter>::default(),
    };
    let job = ImportJob {
        db: state.imports_db.to_path_buf(),
        max_bytes: state.settings.max_upload_bytes,
        batch_rows: state.settings.batch_rows.max(1),
        counters: state.counters.clone(),
        splitter,
    };
    match state.variant {
        Variant::Buffered => import::buffered(job, headers, body).await,
        _ => import::streamed(job, headers, body).await,
    }
}

async fn imports_count(State(state): State<Arc<AppState>>) -> Response {
    let path = state.imports_db.to_path_buf();
    match tokio::task::spawn_blocking(move || import::imported_rows(&path)).await {
        Ok(Ok(n)) => Json(json!({ "rows": n })).into_response(),
        Ok(Err(e)) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

async fn stats(State(state): State<Arc<AppState>>) -> Json<serde_json::Value> {
    let c = &state.counters;
    let mut stats = c.to_json();
    stats["heap_bytes"] = json!(lab_kit::heap::current_bytes());
    stats["heap_peak_bytes"] = json!(lab_kit::heap::peak_bytes());
    stats["rows_in_table"] = json!(state.settings.rows);
    // Per upload, so variants that answer at different speeds (and so take different numbers of uploads) compare.
    if let Some(per_upload) = c.get("upload_bytes_read").checked_div(c.get("uploads")) {
        stats["upload_bytes_per_upload"] = json!(per_upload);
    }
    Json(stats)
}
