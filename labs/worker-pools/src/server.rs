//! The routes: `GET /ping` (cheap), `GET /hash?rounds=N&seed=S` (heavy), `/healthz`, `/stats`.
//!
//! A bad parameter is a 400 that names the limit; a full pool is a `503` with `Retry-After: 1` (backpressure the
//! client can act on); a job that panicked is a 500. No request can crash the server.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use lab_kit::Counters;
use serde::Deserialize;

use crate::executor::{Executor, RunError};
use crate::work::{hash_rounds, DEFAULT_ROUNDS, MAX_ROUNDS};
use lab_kit::LoopLag;

/// Counter names on `/stats` (with in-flight and event-loop lag figures beside them).
pub const COUNTERS: &[&str] = &["pings", "hashes", "shed", "failed"];

/// What the handlers share.
pub struct AppState {
    /// Where heavy jobs run.
    pub executor: Executor,
    /// Request counters.
    pub counters: Counters,
    /// The event-loop lag probe's readings.
    pub lag: LoopLag,
}

/// The routes.
pub fn app(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/ping", get(ping))
        .route("/hash", get(hash))
        .route("/healthz", get(|| async { "ok" }))
        .route("/stats", get(stats))
        .with_state(state)
}

async fn ping(State(state): State<Arc<AppState>>) -> &'static str {
    state.counters.incr("pings");
    "pong\n"
}

/// Query of `GET /hash`.
#[derive(Deserialize)]
pub struct HashQuery {
    rounds: Option<String>,
    seed: Option<String>,
}

async fn hash(State(state): State<Arc<AppState>>, Query(query): Query<HashQuery>) -> Response {
    let rounds = match query.rounds.as_deref().map(str::parse::<u32>) {
        None => DEFAULT_ROUNDS,
        Some(Ok(n)) if (1..=MAX_ROUNDS).contains(&n) => n,
        Some(_) => {
            let message = format!("rounds must be a whole number from 1 to {MAX_ROUNDS}\n");
            return (StatusCode::BAD_REQUEST, message).into_response();
        }
    };
    let seed = query.seed.unwrap_or_else(|| "workbench".into());
    match state.executor.run(move || hash_rounds(seed.as_bytes(), rounds)).await {
        Ok(digest) => {
            state.counters.incr("hashes");
            digest.into_response()
        }
        Err(RunError::Full) => {
            state.counters.incr("shed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                [(header::RETRY_AFTER, "1")],
                "busy: try again in a second\n",
            )
                .into_response()
        }
        Err(RunError::Panicked) => {
            state.counters.incr("failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "the job failed\n").into_response()
        }
    }
}

async fn stats(State(state): State<Arc<AppState>>) -> Json<serde_json::Value> {
    let mut stats = state.counters.to_json();
    let (in_flight, in_flight_max, waiting) = state.executor.depth();
    let (lag_p99, lag_max) = state.lag.p99_and_max();
    stats["in_flight"] = in_flight.into();
    stats["in_flight_max"] = in_flight_max.into();
    stats["pool_waiting"] = waiting.into();
    stats["loop_lag_p99_us"] = lag_p99.into();
    stats["loop_lag_max_us"] = lag_max.into();
    Json(stats)
}
