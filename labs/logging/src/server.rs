//! The service: one order route that logs five events per request, a correlation id on each, and `/stats`.
//!
//! | route | what it does |
//! |---|---|
//! | `GET /order/{id}` | logs: received, payment authorized (a card number), fraud check (on a spawned task), receipt rendered (on a blocking thread, with a bearer token in the text), completed |
//! | `GET /stats` | requests, lines produced / written / dropped / still buffered, `write()` calls per 1,000 lines |
//! | `GET /healthz` | ready |
//!
//! **Correlation ids.** The id comes from `x-request-id` when the client sent a sane one (1–64 characters of
//! `A-Z a-z 0-9 . _ -`: anything else could forge log lines) or is generated, is returned in the response's
//! `x-request-id`, and is on every line of the request: the `tracing` variants carry it in a span that spawned work
//! takes along (`.in_current_span()`, `span.in_scope`), the `println` variant passes it by hand — the chore that
//! Node's `AsyncLocalStorage` (and pino's child loggers) exist to remove.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Json, Router};
use lab_kit::Counters;
use serde_json::json;
use tracing::instrument::WithSubscriber;
use tracing::Instrument;

use crate::pipeline::{Logger, Pipeline};

/// Counters in `/stats`.
pub const COUNTERS: &[&str] = &[
    "requests",
    "lines_produced",
    "lines_written",
    "write_calls",
    "bytes_written",
];

/// Everything a request needs.
pub struct AppState {
    /// The variant's logging.
    pub pipeline: Pipeline,
    /// `/stats` counters.
    pub counters: Counters,
    /// Generated ids: this process's start time and a sequence number.
    next_id: AtomicU64,
    epoch: u64,
    /// The log file when it is temporary: declared last, so it is removed after the pipeline flushed into it.
    temporary_log: Option<tempfile::TempPath>,
}

impl AppState {
    /// State around a built pipeline.
    pub fn new(pipeline: Pipeline, counters: Counters) -> AppState {
        let epoch = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        AppState {
            pipeline,
            counters,
            next_id: AtomicU64::new(1),
            epoch,
            temporary_log: None,
        }
    }

    /// Removes this log file when the state goes (after the pipeline has flushed into it).
    pub fn with_temporary_log(mut self, file: Option<tempfile::TempPath>) -> AppState {
        self.temporary_log = file;
        self
    }

    fn logger(&self) -> &Logger {
        self.pipeline
            .logger
            .as_ref()
            .expect("the logger lives as long as the state")
    }

    fn new_request_id(&self) -> String {
        format!("{:x}-{:x}", self.epoch, self.next_id.fetch_add(1, Ordering::Relaxed))
    }
}

/// The request's correlation id.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// The router, testable without a socket.
pub fn app(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/order/{id}", get(order))
        .layer(axum::middleware::from_fn_with_state(state.clone(), correlate))
        .route("/stats", get(stats))
        .route("/healthz", get(|| async { "ok" }))
        .with_state(state)
}

/// Logs one INFO event the variant's way: `tracing::info!` or the `println` logger, with the same fields.
macro_rules! log_info {
    ($state:expr, $rid:expr, $msg:literal $(, $k:ident = $v:expr)* $(,)?) => {
        match $state.logger() {
            Logger::Println(p) => p.log("INFO", $msg, $rid, vec![$((stringify!($k), serde_json::Value::from($v))),*]),
            Logger::Tracing(_) => tracing::info!($($k = $v,)* $msg),
        }
    };
}

/// A client's id is used only when it is short and plain.
fn sane_id(value: &HeaderValue) -> Option<&str> {
    let id = value.to_str().ok()?;
    let ok = (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    ok.then_some(id)
}

async fn correlate(State(state): State<Arc<AppState>>, mut request: Request, next: Next) -> Response {
    let id = match request.headers().get("x-request-id").and_then(sane_id) {
        Some(id) => id.to_string(),
        None => state.new_request_id(),
    };
    request.extensions_mut().insert(RequestId(id.clone()));
    state.counters.incr("requests");
    let mut response = match state.logger() {
        Logger::Tracing(dispatch) => {
            // The span belongs to this variant's dispatcher; every event inside the request finds it.
            let span = tracing::dispatcher::with_default(dispatch, || {
                tracing::info_span!("request", request_id = id.as_str())
            });
            next.run(request)
                .instrument(span)
                .with_subscriber(dispatch.clone())
                .await
        }
        Logger::Println(_) => next.run(request).await,
    };
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert("x-request-id", value);
    }
    response
}

async fn order(
    State(state): State<Arc<AppState>>,
    Path(id): Path<u64>,
    Extension(RequestId(rid)): Extension<RequestId>,
    headers: HeaderMap,
) -> Response {
    let started = Instant::now();
    let auth = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    log_info!(
        state,
        &rid,
        "request received",
        route = "/order/{id}",
        order_id = id,
        authorization = auth.as_str()
    );
    let card = format!("4111 1111 1111 {:04}", id % 10_000);
    log_info!(
        state,
        &rid,
        "payment authorized",
        order_id = id,
        card_number = card.as_str(),
        amount_cents = 1999 + id % 500
    );

    // Work moved to a spawned task: the span goes with it, and so does the id.
    let (s, r) = (state.clone(), rid.clone());
    let fraud = async move {
        let score = id % 100;
        log_info!(s, &r, "fraud check done", order_id = id, score = score);
        score
    };
    let score = tokio::spawn(fraud.in_current_span().with_current_subscriber())
        .await
        .unwrap_or(0);

    // And to a blocking thread, where there is no task to carry anything: enter the span by hand.
    let (s, r, span) = (state.clone(), rid.clone(), tracing::Span::current());
    let dispatch = tracing::dispatcher::get_default(|d| d.clone());
    let receipt_bytes = tokio::task::spawn_blocking(move || {
        tracing::dispatcher::with_default(&dispatch, || {
            span.in_scope(|| {
                // A secret in free text, not in a named field: only the pattern catches it.
                let receipt = format!("order {id} paid; retry token Bearer tok.{id}.x9 if declined");
                log_info!(s, &r, "receipt rendered", order_id = id, receipt = receipt.as_str());
                receipt.len() as u64
            })
        })
    })
    .await
    .unwrap_or(0);

    let latency_us = started.elapsed().as_micros() as u64;
    log_info!(
        state,
        &rid,
        "request completed",
        route = "/order/{id}",
        order_id = id,
        status = 200u64,
        latency_us = latency_us
    );
    Json(json!({ "order": id, "fraud_score": score, "receipt_bytes": receipt_bytes })).into_response()
}

async fn stats(State(state): State<Arc<AppState>>) -> Json<serde_json::Value> {
    let c = &state.counters;
    let mut stats = c.to_json();
    let (produced, written, dropped) = (
        c.get("lines_produced"),
        c.get("lines_written"),
        state.pipeline.dropped_lines(),
    );
    stats["lines_dropped"] = json!(dropped);
    // Produced = written + dropped + what still waits in a queue or a batch (flushed when the server stops).
    stats["lines_buffered"] = json!(produced.saturating_sub(written + dropped));
    if let Some(per_line) = (c.get("write_calls") * 1000).checked_div(written) {
        stats["writes_per_1000_lines"] = json!(per_line);
    }
    Json(stats)
}
