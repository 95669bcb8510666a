//! `lab-streams`: exports and uploads in bounded memory — what the seed guide's streams section teaches, measured.
//!
//! A million orders in an embedded SQLite database, and a service that moves them in and out as CSV:
//!
//! - `GET /export.csv` (and `/export.ndjson`): **buffered** builds the whole body, then sends it — memory grows
//!   with the table, and the client waits for the last row before it sees the first. **Streamed** reads rows from
//!   a database cursor in chunks and hands each chunk to the response through a *bounded* channel: when the
//!   client reads slowly, the channel fills, the producer waits, and the cursor stops moving — backpressure, the
//!   job Node's `pipeline()` and `highWaterMark` do. **streamed-gzip** compresses each chunk as it goes and
//!   flushes, so compressed bytes still leave early. **unbounded** streams through a channel with no bound: fine
//!   with a fast client, a memory leak with a slow one.
//! - `POST /import`: **buffered** reads the whole upload, then parses it; **streamed** parses records as bytes
//!   arrive and answers 422 at the first bad row, having read only what it needed. Rows go to the database in
//!   batches inside one transaction, rolled back on any error: a failed import leaves nothing behind.
//!
//! Memory is measured, not guessed: a counting global allocator (`lab_kit::heap`) reports the heap's current and peak
//! size on `/stats`, beside the peak RSS the harness reads from /proc.
//!
//! | module | what it holds |
//! |---|---|
//! | [`cli`] | the server's flags, and how each variant is put together |
//! | [`server`] | `app()`: the routes, `/stats`, and which way each variant exports and imports |
//! | [`seed`] | the orders database: seeded once, cached under `target/lab-data/` |
//! | [`rows`] | an order as a CSV line or a JSON line, written straight from SQLite's row |
//! | [`export`] | buffered, and streamed through a bounded or unbounded hand-off, plain or gzip |
//! | [`gzip`] | a gzip stream flushed after every chunk, so compression does not hold the first bytes back |
//! | [`import`] | buffered and streamed uploads, batches in one transaction, 413/415/422 |
//! | [`validate`] | what makes a CSV record an order, and the reason when it is not |
//! | [`splitter`] | the exercise's reference: CSV records from bytes cut anywhere |

pub mod cli;
pub mod export;
pub mod gzip;
pub mod import;
pub mod rows;
pub mod seed;
pub mod server;
pub mod validate;

/// The exercise's reference: a CSV record splitter that is right however the bytes are cut (`exercise/solution.rs`).
#[path = "../exercise/solution.rs"]
pub mod splitter;
