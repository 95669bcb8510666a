//! The routes: `GET /users/{id}` (the same small JSON answer in every variant), `/healthz`, `/stats`, and the
//! naive registry's own exposition at `/naive-metrics`, the hand-written histogram's at `/histogram` (`/metrics`
//! is lab-kit's, in every variant).
//!
//! A bad id is a 400 naming what was expected; nothing a client sends can crash the server.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use lab_kit::Counters;

use crate::buckets::Histogram;
use crate::naive::NaiveRegistry;

/// Counter names on `/stats` (with the registry's own figures beside them).
pub const COUNTERS: &[&str] = &["users"];

/// The hot counter of the lookup variants: bumped `hot_loop` times per request, as a cache's hit counter would be
/// inside a loop over items.
pub const HOT_COUNTER: &str = "user_cache_lookups_total";

/// How a variant records.
pub enum Recording {
    /// Nothing of its own (lab-kit's middleware, or none, per `LabServer::instrument`).
    Kit,
    /// Lab-kit's families labelled by raw path ([`crate::raw_path`]).
    RawPath,
    /// Every latency kept ([`crate::naive`]).
    Naive(Arc<NaiveRegistry>),
    /// The hot counter looked up by name and labels on every bump.
    LookupPerCall { hot_loop: u32 },
    /// The hot counter bumped through a handle fetched once.
    CachedHandle { hot_loop: u32, counter: metrics::Counter },
    /// One fixed-bucket histogram written by hand: the reference or the learner's ([`crate::buckets`]).
    Buckets(Arc<dyn Histogram>),
}

/// What the handlers share.
pub struct AppState {
    /// How this variant records.
    pub recording: Recording,
    /// Request counters.
    pub counters: Counters,
}

/// The routes, with the variant's own recording middleware where it has one.
pub fn app(state: Arc<AppState>) -> Router {
    let routes = Router::new()
        .route("/users/{id}", get(user))
        .route("/healthz", get(|| async { "ok" }))
        .route("/stats", get(stats));
    let routes = match &state.recording {
        Recording::RawPath => routes.layer(middleware::from_fn(crate::raw_path::track)),
        Recording::Naive(registry) => {
            let exposition = {
                let registry = registry.clone();
                move || async move { registry.render() }
            };
            routes
                .route_layer(middleware::from_fn_with_state(registry.clone(), crate::naive::track))
                .route("/naive-metrics", get(exposition))
        }
        Recording::Buckets(histogram) => {
            let exposition = {
                let histogram = histogram.clone();
                move || async move { histogram.exposition() }
            };
            routes
                .route_layer(middleware::from_fn_with_state(histogram.clone(), crate::buckets::track))
                .route("/histogram", get(exposition))
        }
        _ => routes,
    };
    routes.with_state(state)
}

async fn user(State(state): State<Arc<AppState>>, Path(id): Path<String>) -> Response {
    let Ok(id) = id.parse::<u64>() else {
        return (StatusCode::BAD_REQUEST, "a user id is a whole number, e.g. /users/42\n").into_response();
    };
    match &state.recording {
        Recording::LookupPerCall { hot_loop } => {
            for _ in 0..*hot_loop {
                // Each call hashes the name and labels and looks the series up in the registry.
                metrics::counter!(HOT_COUNTER, "cache" => "users").increment(1);
            }
        }
        Recording::CachedHandle { hot_loop, counter } => {
            for _ in 0..*hot_loop {
                // One atomic add: the lookup was done once, at start-up.
                counter.increment(1);
            }
        }
        _ => {}
    }
    state.counters.incr("users");
    Json(serde_json::json!({ "id": id, "name": format!("user {id}") })).into_response()
}

/// The counters, and what the variant's registry holds: `series` (sample lines in its exposition),
/// `exposition_bytes`, and `kept_values` (numbers kept for request metrics: one per observation for the naive
/// registry, a fixed set of bucket counts per series for a histogram); with a hand-written histogram, `observed`
/// (its count: every request it timed).
async fn stats(State(state): State<Arc<AppState>>) -> Json<serde_json::Value> {
    let (exposition, kept) = match &state.recording {
        Recording::Naive(registry) => (registry.render(), registry.kept()),
        Recording::Buckets(histogram) => {
            let text = histogram.exposition();
            let kept = samples(&text).count();
            (text, kept)
        }
        _ => {
            let text = lab_kit::telemetry().render();
            let kept = samples(&text).filter(|l| l.starts_with("http_request")).count();
            (text, kept)
        }
    };
    let mut stats = state.counters.to_json();
    if let Recording::Buckets(histogram) = &state.recording {
        stats["observed"] = histogram.count().into();
    }
    stats["series"] = samples(&exposition).count().into();
    stats["exposition_bytes"] = exposition.len().into();
    stats["kept_values"] = kept.into();
    Json(stats)
}

/// The sample lines of an exposition (not comments, not blank).
fn samples(text: &str) -> impl Iterator<Item = &str> {
    text.lines().filter(|l| !l.is_empty() && !l.starts_with('#'))
}
