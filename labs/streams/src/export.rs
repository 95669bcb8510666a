//! Exports: the whole table as CSV or NDJSON, buffered or streamed.
//!
//! **Buffered** runs the query to its end into one `Vec`, then sends it with a `Content-Length`. Memory grows with
//! the table (a Vec also doubles as it grows, so at the moment of a doubling both the old and the new buffer
//! exist), and the first byte leaves only after the last row was read.
//!
//! **Streamed** runs the query on a blocking thread (SQLite's API is synchronous; a cursor held across `.await`s
//! would block an async worker) and hands the rows over in chunks of `chunk_rows` through a channel; the response
//! body is the channel's receiving end. The channel's bound is the whole lesson:
//!
//! - **bounded** (`Handoff::Bounded(n)`): when `n` chunks wait, the producer's `blocking_send` waits too. A slow
//!   client fills its socket, hyper stops polling the body, the channel fills, the cursor stops. Memory is `n`
//!   chunks whatever the table or the client — Node's `highWaterMark`, and what `pipeline()` does for you.
//! - **unbounded**: `send` never waits. With a fast client nothing shows; with a slow one the whole table piles up
//!   in the channel, faster than it drains. The same mistake as ignoring `write()`'s `false` in Node.
//!
//! When the client goes away mid-export, hyper drops the body, the receiver with it, and the producer's next send
//! fails: the query stops there (counted as `exports_cancelled`), rather than reading a million rows for nobody.

use std::path::PathBuf;

use axum::body::Body;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures_util::stream;
use lab_kit::Counters;
use rusqlite::{Connection, OpenFlags};
use tokio::sync::mpsc;

use crate::gzip::ChunkedGzip;
use crate::rows::{Format, SELECT_ORDERS};

/// How the producer hands chunks to the response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Handoff {
    /// At most this many chunks wait; the producer waits when they do.
    Bounded(usize),
    /// Any number wait.
    Unbounded,
}

/// What one export needs.
#[derive(Debug, Clone)]
pub struct ExportJob {
    /// The seeded database.
    pub db: PathBuf,
    /// CSV or NDJSON.
    pub format: Format,
    /// At most this many rows.
    pub limit: u64,
    /// Rows per chunk.
    pub chunk_rows: usize,
    /// Compress with gzip at this level (the client accepts it and the variant does it).
    pub gzip: Option<u32>,
    /// Counters to bump.
    pub counters: Counters,
}

fn open(db: &PathBuf) -> rusqlite::Result<Connection> {
    Connection::open_with_flags(db, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)
}

fn failed(e: impl std::fmt::Display) -> Response {
    (StatusCode::INTERNAL_SERVER_ERROR, format!("export failed: {e}\n")).into_response()
}

/// Builds the whole export in memory, then answers with it.
pub async fn buffered(job: ExportJob) -> Response {
    job.counters.incr("exports");
    let (counters, format) = (job.counters.clone(), job.format);
    let built = tokio::task::spawn_blocking(move || -> rusqlite::Result<Vec<u8>> {
        let db = open(&job.db)?;
        let mut query = db.prepare(SELECT_ORDERS)?;
        let mut rows = query.query([job.limit.min(i64::MAX as u64) as i64])?;
        let mut out = job.format.preamble().as_bytes().to_vec();
        let mut n = 0;
        while let Some(row) = rows.next()? {
            job.format.write(row, &mut out)?;
            n += 1;
        }
        job.counters.add("export_rows", n);
        Ok(out)
    })
    .await;
    match built {
        Ok(Ok(body)) => {
            counters.incr("exports_completed");
            (
                [(header::CONTENT_TYPE, HeaderValue::from_static(format.content_type()))],
                body,
            )
                .into_response()
        }
        Ok(Err(e)) => failed(e),
        Err(e) => failed(e),
    }
}

/// The sending end of the hand-off.
enum Sender {
    Bounded(mpsc::Sender<Bytes>),
    Unbounded(mpsc::UnboundedSender<Bytes>),
}

impl Sender {
    /// Hands a chunk over, waiting for room when bounded; false when the response is gone.
    fn send(&self, chunk: Bytes) -> bool {
        match self {
            Sender::Bounded(tx) => tx.blocking_send(chunk).is_ok(),
            Sender::Unbounded(tx) => tx.send(chunk).is_ok(),
        }
    }
}

/// The receiving end: the response body.
enum Receiver {
    Bounded(mpsc::Receiver<Bytes>),
    Unbounded(mpsc::UnboundedReceiver<Bytes>),
}

impl Receiver {
    async fn recv(&mut self) -> Option<Bytes> {
        match self {
            Receiver::Bounded(rx) => rx.recv().await,
            Receiver::Unbounded(rx) => rx.recv().await,
        }
    }
}

/// Streams the export: a producer on a blocking thread, the response body on the other end of the hand-off.
pub fn streamed(job: ExportJob, handoff: Handoff) -> Response {
    job.counters.incr("exports");
    let (tx, rx) = match handoff {
        Handoff::Bounded(n) => {
            let (tx, rx) = mpsc::channel(n.max(1));
            (Sender::Bounded(tx), Receiver::Bounded(rx))
        }
        Handoff::Unbounded => {
            let (tx, rx) = mpsc::unbounded_channel();
            (Sender::Unbounded(tx), Receiver::Unbounded(rx))
        }
    };
    let (format, gzip) = (job.format, job.gzip.is_some());
    tokio::task::spawn_blocking(move || {
        let counters = job.counters.clone();
        match produce(job, &tx) {
            Ok(true) => counters.incr("exports_completed"),
            Ok(false) => counters.incr("exports_cancelled"),
            // Headers are gone already; ending the body early is all that is left (the client sees a truncated
            // chunked body, an error), and the log says why.
            Err(e) => eprintln!("export failed mid-stream: {e}"),
        }
    });
    let body = Body::from_stream(stream::unfold(rx, |mut rx| async move {
        rx.recv()
            .await
            .map(|chunk| (Ok::<_, std::convert::Infallible>(chunk), rx))
    }));
    let mut response = (
        [(header::CONTENT_TYPE, HeaderValue::from_static(format.content_type()))],
        body,
    )
        .into_response();
    if gzip {
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    }
    response
}

// ANCHOR: produce
/// Runs the query and sends its rows in chunks; `Ok(false)` when the response went away first.
fn produce(job: ExportJob, tx: &Sender) -> anyhow::Result<bool> {
    let db = open(&job.db)?;
    let mut query = db.prepare(SELECT_ORDERS)?;
    let mut rows = query.query([job.limit.min(i64::MAX as u64) as i64])?;
    let mut gzip = job.gzip.map(ChunkedGzip::with_level);
    let mut chunk = job.format.preamble().as_bytes().to_vec();
    let mut in_chunk = 0;
    // Hands one chunk over (compressed when asked); false when nobody is listening any more.
    let hand_over = |chunk: &mut Vec<u8>, gzip: &mut Option<ChunkedGzip>| -> anyhow::Result<bool> {
        let bytes = match gzip {
            Some(gz) => {
                let compressed = gz.chunk(chunk)?;
                chunk.clear();
                compressed
            }
            // The chunk itself is handed over; the next one starts in a new buffer of the same size.
            None => std::mem::replace(chunk, Vec::with_capacity(chunk.capacity())),
        };
        job.counters.incr("export_chunks");
        Ok(tx.send(Bytes::from(bytes)))
    };
    while let Some(row) = rows.next()? {
        job.format.write(row, &mut chunk)?;
        in_chunk += 1;
        if in_chunk == job.chunk_rows {
            job.counters.add("export_rows", in_chunk as u64);
            in_chunk = 0;
            if !hand_over(&mut chunk, &mut gzip)? {
                return Ok(false);
            }
        }
    }
    job.counters.add("export_rows", in_chunk as u64);
    if !chunk.is_empty() && !hand_over(&mut chunk, &mut gzip)? {
        return Ok(false);
    }
    if let Some(gz) = gzip {
        return Ok(tx.send(Bytes::from(gz.finish()?)));
    }
    Ok(true)
}
// ANCHOR_END: produce
