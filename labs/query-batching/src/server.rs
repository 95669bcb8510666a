//! The order service: `fn app(state) -> Router`, testable with `tower::ServiceExt::oneshot`, no socket needed.
//!
//! | route | does |
//! |---|---|
//! | `GET /orders?after=ID&size=N` | a page of orders with customer and items, built the variant's way; keyset pagination (`after` = the last id seen), `size` 1..=100 (default 50) |
//! | `GET /customers/{id}/orders?min_total=CENTS` | the filtered, sorted listing (the index lesson): that customer's 20 latest orders of at least `min_total` |
//! | `GET /explain` | the database's plan for that listing, as text |
//! | `GET /healthz`, `GET /stats` | readiness (the database answers); counters, the backend and the listing's plan |
//!
//! Bad input gets a 400 that names the problem (a page size over the limit names the limit); a database that
//! fails or cannot be reached gets a 503. No request can panic the server.

use std::sync::Arc;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use clap::ValueEnum;
use lab_kit::Counters;
use serde::Deserialize;

use crate::batched::Loaders;
use crate::db::{Db, DbError};
use crate::model::OrderPage;

/// Counters in `/stats`.
pub const COUNTERS: &[&str] = &["db_queries", "pages", "listings"];

/// The largest page a client may ask for.
pub const MAX_PAGE_SIZE: i64 = 100;

/// How a page of orders is built.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Variant {
    /// 1 + 2N queries, one after the other.
    NPlusOne,
    /// Two DataLoaders (the reference solution): 3 queries.
    Dataloader,
    /// One JOIN: 1 query.
    Join,
    /// The learner's DataLoader (labs/query-batching/exercise).
    Exercise,
    /// The listing lesson without its index (pages by JOIN).
    NoIndex,
    /// The listing lesson with its index (pages by JOIN).
    Index,
}

/// What every handler shares.
pub struct AppState {
    /// The database.
    pub db: Db,
    /// How pages are built.
    pub variant: Variant,
    /// The loaders, for the dataloader and exercise variants.
    pub loaders: Option<Loaders>,
    /// `/stats` counters.
    pub counters: Counters,
    /// The listing's query plan, read once at start (the index variants only: it is their lesson).
    pub listing_plan: Option<String>,
}

/// How the loaders batch.
#[derive(Debug, Clone, Copy)]
pub struct Batching {
    /// How long a batch waits for more keys after its first.
    pub window: std::time::Duration,
    /// Most keys in one batch query.
    pub max_batch: usize,
}

impl AppState {
    /// Everything `variant` needs over `db`: the listing index created or dropped (and its plan read) for the index
    /// variants, the loaders for the batching ones. `counters` must be the ones `db` counts into.
    pub async fn build(db: Db, variant: Variant, batching: Batching, counters: Counters) -> Result<AppState, DbError> {
        let listing_plan = match variant {
            Variant::Index | Variant::NoIndex => {
                db.set_listing_index(variant == Variant::Index).await?;
                Some(db.explain_listing().await?)
            }
            _ => None,
        };
        let loaders = match variant {
            Variant::Dataloader => Some(Loaders::reference(&db, batching.window, batching.max_batch)),
            Variant::Exercise => Some(Loaders::exercise(&db, batching.window, batching.max_batch)),
            _ => None,
        };
        Ok(AppState {
            db,
            variant,
            loaders,
            counters,
            listing_plan,
        })
    }
}

/// The routes.
pub fn app(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/orders", get(orders))
        .route("/customers/{id}/orders", get(customer_orders))
        .route("/explain", get(explain))
        .route("/healthz", get(healthz))
        .route("/stats", get(stats))
        .with_state(state)
}

/// A request we refuse, with the reason.
fn bad_request(message: String) -> Response {
    (StatusCode::BAD_REQUEST, message + "\n").into_response()
}

fn unavailable(e: DbError) -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        format!("database unavailable: {}\n", e.0),
    )
        .into_response()
}

/// `?after=&size=`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PageQuery {
    /// Orders with an id above this (0 = from the start).
    #[serde(default)]
    pub after: i64,
    /// Orders per page.
    #[serde(default = "default_size")]
    pub size: i64,
}

fn default_size() -> i64 {
    50
}

async fn orders(State(state): State<Arc<AppState>>, query: Result<Query<PageQuery>, QueryRejection>) -> Response {
    let Query(PageQuery { after, size }) = match query {
        Ok(q) => q,
        Err(e) => return bad_request(format!("{e}; expected ?after=ORDER_ID&size=1..{MAX_PAGE_SIZE}")),
    };
    if !(1..=MAX_PAGE_SIZE).contains(&size) {
        return bad_request(format!(
            "size must be between 1 and {MAX_PAGE_SIZE} (the page size limit), not {size}"
        ));
    }
    if after < 0 {
        return bad_request(format!("after must not be negative, not {after}"));
    }
    state.counters.incr("pages");
    // The loaders exist exactly in the batching variants (AppState::build), so they decide.
    let page = match (&state.loaders, state.variant) {
        (Some(loaders), _) => crate::batched::page(&state.db, loaders, after, size).await,
        (None, Variant::NPlusOne) => crate::n_plus_one::page(&state.db, after, size).await,
        (None, _) => state.db.orders_joined(after, size).await,
    };
    match page {
        Ok(orders) => {
            let next_after = if orders.len() as i64 == size {
                orders.last().map(|o| o.order.id)
            } else {
                None
            };
            Json(OrderPage { orders, next_after }).into_response()
        }
        Err(e) => unavailable(e),
    }
}

/// `?min_total=`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListingQuery {
    /// Smallest order total, in cents.
    #[serde(default)]
    pub min_total: i64,
}

async fn customer_orders(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    query: Result<Query<ListingQuery>, QueryRejection>,
) -> Response {
    let Ok(id) = id.parse::<i64>() else {
        return bad_request(format!("customer id must be a whole number, not {id:?}"));
    };
    let Query(ListingQuery { min_total }) = match query {
        Ok(q) => q,
        Err(e) => return bad_request(format!("{e}; expected ?min_total=CENTS")),
    };
    state.counters.incr("listings");
    match state.db.customer_orders(id, min_total).await {
        Ok(orders) => Json(orders).into_response(),
        Err(e) => unavailable(e),
    }
}

async fn explain(State(state): State<Arc<AppState>>) -> Response {
    match state.db.explain_listing().await {
        Ok(plan) => format!("{}\n", plan.replace("; ", "\n")).into_response(),
        Err(e) => unavailable(e),
    }
}

async fn healthz(State(state): State<Arc<AppState>>) -> Response {
    match state.db.ping().await {
        Ok(()) => "ok".into_response(),
        Err(e) => unavailable(e),
    }
}

async fn stats(State(state): State<Arc<AppState>>) -> Response {
    let mut stats = state.counters.to_json();
    let pages = state.counters.get("pages");
    if pages > 0 {
        // Each listing is exactly one query; the rest were spent on pages.
        let page_queries = state
            .counters
            .get("db_queries")
            .saturating_sub(state.counters.get("listings"));
        let per_page = page_queries as f64 / pages as f64;
        stats["queries_per_page"] = serde_json::json!((per_page * 100.0).round() / 100.0);
    }
    stats["backend"] = serde_json::json!(state.db.backend_name());
    if let Some(plan) = &state.listing_plan {
        stats["query_plan"] = serde_json::json!(plan);
    }
    Json(stats).into_response()
}
