//! Uploads: `POST /import` with a CSV body, buffered or streamed, into the database in one transaction.
//!
//! **Buffered** is the code most services start with: read the whole body, split it into records, check them all,
//! insert them. A bad third line is found after the whole upload arrived — 32 MiB read, and held, to say "line 3".
//!
//! **Streamed** reads the body chunk by chunk as the client sends it, splits records with a splitter that keeps
//! only the record in progress (the exercise), checks each record as it completes, and answers 422 at the first
//! bad one — having read only the chunks up to it. The rest of the upload is never read: hyper closes the
//! connection after the answer (the client, if it reads while it writes, as curl and this workbench's generator
//! do, sees the 422 at once).
//!
//! Both write to the database the same way: batches of `batch_rows` rows, all inside one transaction that commits
//! only when the whole file was good. The streamed import hands its batches to a blocking writer thread through a
//! bounded channel (SQLite is synchronous), so a slow disk slows the reading of the upload instead of piling rows
//! up in memory; when the import fails, the channel closes without a commit and the transaction rolls back —
//! nothing of a failed file is ever visible.
//!
//! Before any byte is read: a content type other than `text/csv` is a 415, and a `Content-Length` over the limit a
//! 413. A body without a length that grows past the limit is a 413 as soon as it does.

use std::path::PathBuf;

use axum::body::Body;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use futures_util::StreamExt;
use lab_kit::Counters;
use rusqlite::Connection;
use serde_json::json;
use tokio::sync::mpsc;

use crate::validate::{self, Order};

/// A record: the line it starts on, and its fields.
pub type Fields = (u64, Vec<String>);

/// A CSV splitter as the import uses it: the reference or the learner's, behind one interface.
pub trait Splitter: Send + Sync {
    /// Splits the next piece, appending completed records; the error is the line and the reason.
    fn push(&mut self, piece: &[u8], out: &mut Vec<Fields>) -> Result<(), (u64, String)>;
    /// Ends the file.
    fn finish(&mut self, out: &mut Vec<Fields>) -> Result<(), (u64, String)>;
}

/// A splitter module's `RecordSplitter` (the reference's or the learner's: the same API, two types) as a
/// [`Splitter`], with a reused buffer for its records.
macro_rules! adapt {
    ($name:ident, $module:ident) => {
        #[derive(Default)]
        pub struct $name {
            inner: $module::RecordSplitter,
            scratch: Vec<$module::Record>,
        }

        impl Splitter for $name {
            fn push(&mut self, piece: &[u8], out: &mut Vec<Fields>) -> Result<(), (u64, String)> {
                let result = self.inner.push(piece, &mut self.scratch);
                out.extend(self.scratch.drain(..).map(|r| (r.line, r.fields)));
                result.map_err(|e| (e.line, e.reason))
            }

            fn finish(&mut self, out: &mut Vec<Fields>) -> Result<(), (u64, String)> {
                let result = self.inner.finish(&mut self.scratch);
                out.extend(self.scratch.drain(..).map(|r| (r.line, r.fields)));
                result.map_err(|e| (e.line, e.reason))
            }
        }
    };
}

use crate::splitter as reference;
use exercise_streams as learner;

adapt!(ReferenceSplitter, reference);
adapt!(LearnerSplitter, learner);

/// What one import needs.
pub struct ImportJob {
    /// The imports database.
    pub db: PathBuf,
    /// The largest body accepted, in bytes.
    pub max_bytes: u64,
    /// Rows per insert batch.
    pub batch_rows: usize,
    /// Counters to bump.
    pub counters: Counters,
    /// The splitter to read records with.
    pub splitter: Box<dyn Splitter>,
}

/// Why an import stopped.
enum Refusal {
    TooLarge,
    Invalid { line: u64, reason: String },
    Failed(String),
}

impl ImportJob {
    /// Answers 415 or 413 from the headers alone, before any byte of the body is read.
    fn admit(&self, headers: &HeaderMap) -> Result<(), Box<Response>> {
        let content_type = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let essence = content_type.split(';').next().unwrap_or("").trim();
        if !essence.eq_ignore_ascii_case("text/csv") {
            self.counters.incr("uploads_wrong_type");
            let error = format!("expected content-type text/csv, got {content_type:?}");
            return Err(Box::new(
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, Json(json!({ "error": error }))).into_response(),
            ));
        }
        let length = headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
        if length.is_some_and(|n| n > self.max_bytes) {
            return Err(Box::new(self.refuse(Refusal::TooLarge, 0)));
        }
        Ok(())
    }

    fn refuse(&self, refusal: Refusal, bytes_read: u64) -> Response {
        match refusal {
            Refusal::TooLarge => {
                self.counters.incr("uploads_too_large");
                let error = format!("the upload is larger than the limit of {} bytes", self.max_bytes);
                (
                    StatusCode::PAYLOAD_TOO_LARGE,
                    Json(json!({ "error": error, "bytes_read": bytes_read })),
                )
                    .into_response()
            }
            Refusal::Invalid { line, reason } => {
                self.counters.incr("uploads_rejected");
                let body = json!({ "error": format!("line {line}: {reason}"), "line": line, "reason": reason, "bytes_read": bytes_read });
                (StatusCode::UNPROCESSABLE_ENTITY, Json(body)).into_response()
            }
            Refusal::Failed(e) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                Json(json!({ "error": e, "bytes_read": bytes_read })),
            )
                .into_response(),
        }
    }

    fn counted_read(&self, n: usize, total: &mut u64) -> Result<(), Refusal> {
        *total += n as u64;
        self.counters.add("upload_bytes_read", n as u64);
        if *total > self.max_bytes {
            Err(Refusal::TooLarge)
        } else {
            Ok(())
        }
    }
}

/// Checks records in order: the header first, then orders. Each order is appended to `batch`.
fn check(record: Fields, seen_header: &mut bool, batch: &mut Vec<Order>) -> Result<(), Refusal> {
    let (line, fields) = record;
    let checked = if !*seen_header {
        *seen_header = true;
        validate::header(&fields)
    } else {
        validate::order(fields).map(|order| batch.push(order))
    };
    checked.map_err(|reason| Refusal::Invalid { line, reason })
}

fn split_error((line, reason): (u64, String)) -> Refusal {
    Refusal::Invalid { line, reason }
}

/// Reads the whole body, then splits, checks and inserts it.
pub async fn buffered(mut job: ImportJob, headers: HeaderMap, body: Body) -> Response {
    if let Err(refused) = job.admit(&headers) {
        return *refused;
    }
    job.counters.incr("uploads");
    let mut bytes_read = 0;
    let mut whole = Vec::new();
    let mut stream = body.into_data_stream();
    while let Some(chunk) = stream.next().await {
        let Ok(chunk) = chunk else {
            return job.refuse(Refusal::Failed("the upload broke off".into()), bytes_read);
        };
        if let Err(refusal) = job.counted_read(chunk.len(), &mut bytes_read) {
            return job.refuse(refusal, bytes_read);
        }
        whole.extend_from_slice(&chunk);
    }
    let mut records = Vec::new();
    let split = job
        .splitter
        .push(&whole, &mut records)
        .and_then(|()| job.splitter.finish(&mut records));
    drop(whole);
    if let Err(e) = split {
        return job.refuse(split_error(e), bytes_read);
    }
    let (mut seen_header, mut orders) = (false, Vec::with_capacity(records.len()));
    for record in records {
        if let Err(refusal) = check(record, &mut seen_header, &mut orders) {
            return job.refuse(refusal, bytes_read);
        }
    }
    let (tx, rx) = mpsc::channel(2);
    let writer = spawn_writer(&job, rx);
    for batch in orders.chunks(job.batch_rows.max(1)) {
        if tx.send(Batch::Rows(batch.to_vec())).await.is_err() {
            break;
        }
    }
    let _ = tx.send(Batch::Commit).await;
    drop(tx);
    finish(&job, writer, bytes_read).await
}

/// Reads, splits, checks and inserts as the body arrives; stops at the first bad record.
pub async fn streamed(mut job: ImportJob, headers: HeaderMap, body: Body) -> Response {
    if let Err(refused) = job.admit(&headers) {
        return *refused;
    }
    job.counters.incr("uploads");
    let (tx, rx) = mpsc::channel(2);
    let writer = spawn_writer(&job, rx);
    let mut bytes_read = 0;
    let read = async {
        let (mut seen_header, mut batch, mut records) = (false, Vec::new(), Vec::new());
        let mut stream = body.into_data_stream();
        let mut ended = false;
        while !ended {
            match stream.next().await {
                Some(Ok(chunk)) => {
                    job.counted_read(chunk.len(), &mut bytes_read)?;
                    job.splitter.push(&chunk, &mut records).map_err(split_error)?;
                }
                Some(Err(_)) => return Err(Refusal::Failed("the upload broke off".into())),
                None => {
                    job.splitter.finish(&mut records).map_err(split_error)?;
                    ended = true;
                }
            }
            for record in records.drain(..) {
                check(record, &mut seen_header, &mut batch)?;
                if batch.len() >= job.batch_rows {
                    let full = std::mem::take(&mut batch);
                    tx.send(Batch::Rows(full))
                        .await
                        .map_err(|_| Refusal::Failed("the writer stopped".into()))?;
                }
            }
        }
        if !batch.is_empty() {
            tx.send(Batch::Rows(batch))
                .await
                .map_err(|_| Refusal::Failed("the writer stopped".into()))?;
        }
        tx.send(Batch::Commit)
            .await
            .map_err(|_| Refusal::Failed("the writer stopped".into()))?;
        Ok(())
    };
    let result = read.await;
    if let Err(refusal) = result {
        // The channel closes without a commit: the writer rolls the transaction back. Wait for it before
        // answering, so a client that fixes line N and uploads again never meets this file's write lock.
        drop(tx);
        let _ = writer.await;
        return job.refuse(refusal, bytes_read);
    }
    finish(&job, writer, bytes_read).await
}

/// What the writer thread receives.
enum Batch {
    /// Insert these.
    Rows(Vec<Order>),
    /// The file was good: commit.
    Commit,
}

type Writer = tokio::task::JoinHandle<Result<u64, String>>;

/// Starts the writer thread: one transaction, a batch at a time, committed only on [`Batch::Commit`].
fn spawn_writer(job: &ImportJob, mut rx: mpsc::Receiver<Batch>) -> Writer {
    let (db, counters) = (job.db.clone(), job.counters.clone());
    tokio::task::spawn_blocking(move || {
        let mut db = Connection::open(&db).map_err(|e| e.to_string())?;
        db.busy_timeout(std::time::Duration::from_secs(30))
            .map_err(|e| e.to_string())?;
        let tx = db.transaction().map_err(|e| e.to_string())?;
        let mut rows = 0;
        loop {
            match rx.blocking_recv() {
                Some(Batch::Rows(batch)) => {
                    let mut insert = tx
                        .prepare_cached("INSERT INTO imported_orders VALUES (?1, ?2, ?3, ?4, ?5, ?6)")
                        .map_err(|e| e.to_string())?;
                    for o in &batch {
                        insert
                            .execute(rusqlite::params![
                                o.id,
                                o.customer,
                                o.email,
                                o.amount_cents,
                                o.created_at,
                                o.note
                            ])
                            .map_err(|e| e.to_string())?;
                    }
                    rows += batch.len() as u64;
                    counters.incr("import_batches");
                }
                Some(Batch::Commit) => {
                    tx.commit().map_err(|e| e.to_string())?;
                    counters.add("rows_imported", rows);
                    return Ok(rows);
                }
                None => {
                    // Dropping the transaction rolls it back: none of this file's rows is ever visible.
                    drop(tx);
                    counters.incr("import_rollbacks");
                    return Err("rolled back".into());
                }
            }
        }
    })
}

async fn finish(job: &ImportJob, writer: Writer, bytes_read: u64) -> Response {
    match writer.await {
        Ok(Ok(rows)) => Json(json!({ "rows": rows, "bytes_read": bytes_read })).into_response(),
        Ok(Err(e)) => job.refuse(Refusal::Failed(format!("writing the rows: {e}")), bytes_read),
        Err(e) => job.refuse(Refusal::Failed(format!("the writer failed: {e}")), bytes_read),
    }
}

/// Creates the imports table in a new imports database.
pub fn create_imports_db(path: &std::path::Path) -> rusqlite::Result<()> {
    Connection::open(path)?.execute_batch(
        "CREATE TABLE IF NOT EXISTS imported_orders (
             id INTEGER NOT NULL, customer TEXT NOT NULL, email TEXT NOT NULL,
             amount_cents INTEGER NOT NULL, created_at TEXT NOT NULL, note TEXT NOT NULL
         );",
    )
}

/// Rows committed to the imports database.
pub fn imported_rows(path: &std::path::Path) -> rusqlite::Result<u64> {
    Connection::open(path)?.query_row("SELECT count(*) FROM imported_orders", [], |r| {
        r.get::<_, i64>(0).map(|n| n as u64)
    })
}
