//! The product service: `fn app(state) -> Router`, testable with `tower::ServiceExt::oneshot`, no socket needed.
//!
//! | route | does |
//! |---|---|
//! | `GET /product/{id}` | the product page (slow query), through the cache |
//! | `GET /category/{id}` | the category's product list, through the cache |
//! | `PUT /product/{id}` `{"price_cents": N}` | writes the database, then invalidates the product *and* its category listing (tag invalidation) |
//! | `GET /healthz`, `GET /stats` | readiness; the counters, with the hit ratio |
//!
//! Bad input gets a 4xx that says what is wrong (a non-numeric id → 400, an unknown one → 404, a bad body → 400
//! or 422); a database failure gets a 503. No request can panic the server.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use bytes::Bytes;
use lab_kit::Counters;
use serde::Deserialize;

use crate::db::Db;
use crate::store::{Cache, LoadError};

/// What every handler shares.
pub struct AppState {
    /// The database.
    pub db: Db,
    /// The cache in front of it.
    pub cache: Cache,
    /// The `/stats` counters.
    pub counters: Counters,
}

/// The routes.
pub fn app(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/product/{id}", get(product).put(update_product))
        .route("/category/{id}", get(category))
        .route("/healthz", get(|| async { "ok" }))
        .route("/stats", get(stats))
        .with_state(state)
}

/// A malformed id: a 400 that says what was expected.
struct BadId(String);

impl IntoResponse for BadId {
    fn into_response(self) -> Response {
        (StatusCode::BAD_REQUEST, self.0).into_response()
    }
}

fn parse_id(text: &str, what: &str) -> Result<u32, BadId> {
    text.parse::<u32>()
        .map_err(|_| BadId(format!("{what} id must be a whole number, not {text:?}\n")))
}

fn json(body: Bytes) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}

fn failure(error: LoadError, what: &str) -> Response {
    match error {
        LoadError::NotFound => (StatusCode::NOT_FOUND, format!("no such {what}\n")).into_response(),
        LoadError::Db(e) => (StatusCode::SERVICE_UNAVAILABLE, format!("database unavailable: {e}\n")).into_response(),
    }
}

async fn product(State(state): State<Arc<AppState>>, Path(id): Path<String>) -> Response {
    let id = match parse_id(&id, "product") {
        Ok(id) => id,
        Err(bad) => return bad.into_response(),
    };
    let db = state.db.clone();
    cached_json(&state, "product", id, move || async move { db.product_page(id).await }).await
}

async fn category(State(state): State<Arc<AppState>>, Path(id): Path<String>) -> Response {
    let id = match parse_id(&id, "category") {
        Ok(id) => id,
        Err(bad) => return bad.into_response(),
    };
    let db = state.db.clone();
    cached_json(
        &state,
        "category",
        id,
        move || async move { db.category_listing(id).await },
    )
    .await
}

/// The cache-aside read both GET routes share: the cache under `<what>:<id>`; on a miss, `query` (None → 404),
/// serialised once and cached as JSON bytes, so a hit costs no serialisation at all.
async fn cached_json<T, F, Fut>(state: &AppState, what: &str, id: u32, query: F) -> Response
where
    T: serde::Serialize,
    F: FnOnce() -> Fut + Send,
    Fut: std::future::Future<Output = Result<Option<T>, crate::db::DbError>> + Send + 'static,
{
    let load = move || {
        let running = query();
        async move {
            match running.await {
                Ok(Some(value)) => Ok(Bytes::from(
                    serde_json::to_vec(&value).expect("query results serialise"),
                )),
                Ok(None) => Err(LoadError::NotFound),
                Err(e) => Err(LoadError::Db(e.0)),
            }
        }
    };
    match state.cache.get(format!("{what}:{id}"), load).await {
        Ok(body) => json(body),
        Err(e) => failure(e, what),
    }
}

/// The body of `PUT /product/{id}`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PriceUpdate {
    /// The new price.
    pub price_cents: i64,
}

async fn update_product(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    Json(update): Json<PriceUpdate>,
) -> Response {
    let id = match parse_id(&id, "product") {
        Ok(id) => id,
        Err(bad) => return bad.into_response(),
    };
    if update.price_cents < 0 {
        return (StatusCode::UNPROCESSABLE_ENTITY, "price_cents must not be negative\n").into_response();
    }
    // ANCHOR: write_path
    match state.db.set_price(id, update.price_cents).await {
        // Cache-aside write: database first, then drop every cached value that shows this product.
        Ok(Some(category)) => {
            state
                .cache
                .invalidate(&[format!("product:{id}"), format!("category:{category}")])
                .await;
            StatusCode::NO_CONTENT.into_response()
        }
        Ok(None) => failure(LoadError::NotFound, "product"),
        Err(e) => failure(LoadError::Db(e.0), "product"),
    }
    // ANCHOR_END: write_path
}

async fn stats(State(state): State<Arc<AppState>>) -> Response {
    let mut stats = state.counters.to_json();
    let c = &state.counters;
    let hits = c.get("l1_hits") + c.get("l2_hits") + c.get("coalesced");
    let lookups = hits + c.get("misses");
    let ratio = if lookups == 0 {
        0.0
    } else {
        hits as f64 / lookups as f64
    };
    stats["hit_ratio"] = serde_json::json!((ratio * 10_000.0).round() / 10_000.0);
    Json(stats).into_response()
}
