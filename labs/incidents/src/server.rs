//! `app(variant)`: one route per drill, each dispatching to the variant's code; `/healthz` and `/stats`.
//!
//! Bad input is a 400 with a sentence, never a panic: a missing or over-long e-mail, a product number that is not
//! one, an amount that is not a whole number of cents, an unknown currency, a sign-in without a user name; an unknown
//! session is a 404. An order import that is not UTF-8 is a 400, one over [`MAX_IMPORT`] a 413, and one with a bad
//! row a 422 naming the line and what is wrong.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use exercise_incidents::support::{self, OrdersDb, QuoteBook};
use serde::Deserialize;
use serde_json::json;
use tokio::sync::Mutex;

use crate::drills::{
    blocking_in_async, canary, csv_upload, db_degradation, five_services, flash_sale, lock_across_await, memory_leak,
    regex_per_request,
};

/// Whose code serves the drills.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Variant {
    /// The code as it shipped.
    Broken,
    /// The reference fixes.
    Fixed,
    /// The learner's code in `labs/incidents/exercise`.
    Yours,
}

/// What the routes share.
pub struct AppState {
    variant: Variant,
    book: Mutex<QuoteBook>,
    sessions: Sessions,
    /// Imports accepted, and their orders: what the cheap `/orders/recent` page shows.
    imports: AtomicU64,
    orders: AtomicU64,
    downstream: Downstream,
    /// The orders database (drill db-degradation), seeded on first use: the other drills never pay for it.
    orders_db: tokio::sync::OnceCell<Arc<OrdersDb>>,
    product_pages: ProductPages,
    rollout: Rollout,
    /// The chat rooms (drill chat-rooms), the next room for a connection that names none, and the socket counters.
    pub(crate) chat: crate::chat::Rooms,
    pub(crate) chat_next: AtomicU64,
    pub(crate) chat_counters: crate::chat::ChatCounters,
}

/// The checkout rollout of the variant being served (drill canary).
enum Rollout {
    Broken(canary::broken::Rollout),
    Fixed(canary::fixed::Rollout),
    Yours(exercise_incidents::canary::Rollout),
}

/// The product-page cache of the variant being served (drill flash-sale).
enum ProductPages {
    Broken(flash_sale::broken::ProductPages),
    Fixed(flash_sale::fixed::ProductPages),
    Yours(exercise_incidents::flash_sale::ProductPages),
}

/// The account page's client of the variant being served (its breakers live here).
enum Downstream {
    Broken(five_services::broken::Downstream),
    Fixed(five_services::fixed::Downstream),
    Yours(exercise_incidents::five_services::Downstream),
}

/// The session store of the variant being served.
enum Sessions {
    Broken(memory_leak::broken::Sessions),
    Fixed(memory_leak::fixed::Sessions),
    Yours(exercise_incidents::memory_leak::Sessions),
}

impl Sessions {
    fn new(variant: Variant) -> Sessions {
        match variant {
            Variant::Broken => Sessions::Broken(memory_leak::broken::Sessions::new()),
            Variant::Fixed => Sessions::Fixed(memory_leak::fixed::Sessions::new()),
            Variant::Yours => Sessions::Yours(exercise_incidents::memory_leak::Sessions::new()),
        }
    }

    fn start(&self, user: &str) -> String {
        match self {
            Sessions::Broken(s) => s.start(user),
            Sessions::Fixed(s) => s.start(user),
            Sessions::Yours(s) => s.start(user),
        }
    }

    fn user_of(&self, token: &str) -> Option<String> {
        match self {
            Sessions::Broken(s) => s.get(token).map(|s| s.user.clone()),
            Sessions::Fixed(s) => s.get(token).map(|s| s.user.clone()),
            Sessions::Yours(s) => s.get(token).map(|s| s.user.clone()),
        }
    }

    fn kept(&self) -> u64 {
        match self {
            Sessions::Broken(s) => s.kept(),
            Sessions::Fixed(s) => s.kept(),
            Sessions::Yours(s) => s.kept(),
        }
    }
}

/// The longest address the form takes (RFC 5321's limit on a path).
const MAX_EMAIL: usize = 254;

/// The largest order import taken: a busy day's export is a few megabytes.
pub const MAX_IMPORT: usize = 16 << 20;

/// The service, for `variant`.
pub fn app(variant: Variant) -> Router {
    let state = Arc::new(AppState {
        variant,
        book: Mutex::new(QuoteBook::default()),
        sessions: Sessions::new(variant),
        imports: AtomicU64::new(0),
        orders: AtomicU64::new(0),
        downstream: match variant {
            Variant::Broken => Downstream::Broken(five_services::broken::Downstream::new()),
            Variant::Fixed => Downstream::Fixed(five_services::fixed::Downstream::new()),
            Variant::Yours => Downstream::Yours(exercise_incidents::five_services::Downstream::new()),
        },
        orders_db: tokio::sync::OnceCell::new(),
        product_pages: match variant {
            Variant::Broken => ProductPages::Broken(flash_sale::broken::ProductPages::new()),
            Variant::Fixed => ProductPages::Fixed(flash_sale::fixed::ProductPages::new()),
            Variant::Yours => ProductPages::Yours(exercise_incidents::flash_sale::ProductPages::new()),
        },
        rollout: match variant {
            Variant::Broken => Rollout::Broken(canary::broken::Rollout::new()),
            Variant::Fixed => Rollout::Fixed(canary::fixed::Rollout::new()),
            Variant::Yours => Rollout::Yours(exercise_incidents::canary::Rollout::new()),
        },
        chat: crate::chat::Rooms::new(variant),
        chat_next: AtomicU64::new(0),
        chat_counters: crate::chat::ChatCounters::default(),
    });
    Router::new()
        .route("/signup/validate", get(validate))
        .route("/quote/{sku}", get(quote))
        .route("/convert", get(convert))
        .route("/login", get(login))
        .route("/session/{token}", get(session))
        .route("/orders/import", post(import).layer(DefaultBodyLimit::max(MAX_IMPORT)))
        .route("/orders/recent", get(recent_orders))
        .route("/account/{user}", get(account))
        .route("/customers/{customer}/orders", get(order_history))
        .route("/product/{id}", get(product))
        .route("/checkout/{cart}", get(checkout))
        .route("/chat", get(crate::chat::chat))
        .route("/healthz", get(|| async { "ok" }))
        .route("/stats", get(stats))
        .with_state(state)
}

#[derive(Deserialize)]
struct EmailQuery {
    email: Option<String>,
}

async fn validate(State(state): State<Arc<AppState>>, Query(query): Query<EmailQuery>) -> Response {
    let Some(email) = query.email.filter(|e| !e.is_empty()) else {
        return (StatusCode::BAD_REQUEST, "give the address as ?email=\n").into_response();
    };
    if email.len() > MAX_EMAIL {
        let message = format!("an address has at most {MAX_EMAIL} bytes\n");
        return (StatusCode::BAD_REQUEST, message).into_response();
    }
    let valid = match state.variant {
        Variant::Broken => regex_per_request::broken::is_valid_email(&email),
        Variant::Fixed => regex_per_request::fixed::is_valid_email(&email),
        Variant::Yours => exercise_incidents::regex_per_request::is_valid_email(&email),
    };
    Json(json!({ "email": email, "valid": valid })).into_response()
}

async fn quote(State(state): State<Arc<AppState>>, Path(sku): Path<String>) -> Response {
    let Ok(sku) = sku.parse::<u32>() else {
        return (StatusCode::BAD_REQUEST, "a product number is a whole number\n").into_response();
    };
    let price = match state.variant {
        Variant::Broken => lock_across_await::broken::quote(&state.book, sku).await,
        Variant::Fixed => lock_across_await::fixed::quote(&state.book, sku).await,
        Variant::Yours => exercise_incidents::lock_across_await::quote(&state.book, sku).await,
    };
    Json(json!({ "sku": sku, "price_cents": price })).into_response()
}

#[derive(Deserialize)]
struct ConvertQuery {
    amount: Option<String>,
    currency: Option<String>,
}

async fn convert(State(state): State<Arc<AppState>>, Query(query): Query<ConvertQuery>) -> Response {
    let Some(Ok(amount)) = query.amount.as_deref().map(str::parse::<u64>) else {
        return (StatusCode::BAD_REQUEST, "give ?amount= in euro cents, a whole number\n").into_response();
    };
    let currency = query.currency.unwrap_or_default().to_ascii_uppercase();
    let converted = match state.variant {
        Variant::Broken => blocking_in_async::broken::convert(amount, currency.clone()).await,
        Variant::Fixed => blocking_in_async::fixed::convert(amount, currency.clone()).await,
        Variant::Yours => exercise_incidents::blocking_in_async::convert(amount, currency.clone()).await,
    };
    match converted {
        Some(converted) => {
            Json(json!({ "amount": amount, "currency": currency, "converted": converted })).into_response()
        }
        None => (StatusCode::BAD_REQUEST, format!("unknown currency {currency:?}\n")).into_response(),
    }
}

#[derive(Deserialize)]
struct LoginQuery {
    user: Option<String>,
}

/// The longest user name taken.
const MAX_USER: usize = 64;

async fn login(State(state): State<Arc<AppState>>, Query(query): Query<LoginQuery>) -> Response {
    let Some(user) = query.user.filter(|u| !u.is_empty() && u.len() <= MAX_USER) else {
        let message = format!("give ?user= (1 to {MAX_USER} bytes)\n");
        return (StatusCode::BAD_REQUEST, message).into_response();
    };
    let token = state.sessions.start(&user);
    Json(json!({ "user": user, "token": token })).into_response()
}

async fn session(State(state): State<Arc<AppState>>, Path(token): Path<String>) -> Response {
    match state.sessions.user_of(&token) {
        Some(user) => Json(json!({ "user": user })).into_response(),
        None => (StatusCode::NOT_FOUND, "no such session (it ended, or never began)\n").into_response(),
    }
}

async fn import(State(state): State<Arc<AppState>>, csv: String) -> Response {
    let imported = match state.variant {
        Variant::Broken => csv_upload::broken::import(csv).await,
        Variant::Fixed => csv_upload::fixed::import(csv).await,
        Variant::Yours => exercise_incidents::csv_upload::import(csv).await,
    };
    match imported {
        Ok(imported) => {
            state.imports.fetch_add(1, Ordering::Relaxed);
            state.orders.fetch_add(imported.orders, Ordering::Relaxed);
            Json(json!({ "orders": imported.orders, "total_cents": imported.total_cents })).into_response()
        }
        Err(refused) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(json!({ "line": refused.line, "reason": refused.reason })),
        )
            .into_response(),
    }
}

/// The page the sales team keeps open: how many imports and orders so far. Cheap on purpose — whatever makes it
/// slow is not in it.
async fn recent_orders(State(state): State<Arc<AppState>>) -> Json<serde_json::Value> {
    Json(json!({
        "imports": state.imports.load(Ordering::Relaxed),
        "orders": state.orders.load(Ordering::Relaxed),
    }))
}

async fn account(State(state): State<Arc<AppState>>, Path(user): Path<String>) -> Response {
    let Ok(user) = user.parse::<u32>() else {
        return (StatusCode::BAD_REQUEST, "a user number is a whole number\n").into_response();
    };
    let page = match &state.downstream {
        Downstream::Broken(d) => d.account_page(user).await,
        Downstream::Fixed(d) => d.account_page(user).await,
        Downstream::Yours(d) => d.account_page(user).await,
    };
    match page {
        Ok(page) => Json(json!({
            "profile": page.profile,
            "orders": page.orders,
            "recommendations": page.recommendations,
            "inventory": page.inventory,
            "reviews": page.reviews,
        }))
        .into_response(),
        Err(failed) => (StatusCode::BAD_GATEWAY, format!("the account page failed: {failed}\n")).into_response(),
    }
}

async fn product(State(state): State<Arc<AppState>>, Path(id): Path<String>) -> Response {
    let Ok(id) = id.parse::<u32>() else {
        return (StatusCode::BAD_REQUEST, "a product number is a whole number\n").into_response();
    };
    let page = match &state.product_pages {
        ProductPages::Broken(p) => p.page(id).await,
        ProductPages::Fixed(p) => p.page(id).await,
        ProductPages::Yours(p) => p.page(id).await,
    };
    match page {
        Ok(page) => axum::response::Html(page.as_str().to_owned()).into_response(),
        // Shed: the view is refused at once, and told when to try again, rather than kept waiting for nothing.
        Err(busy) => (
            StatusCode::TOO_MANY_REQUESTS,
            [(axum::http::header::RETRY_AFTER, "1")],
            format!("the catalogue is busy ({busy}): try again in a moment\n"),
        )
            .into_response(),
    }
}

async fn checkout(State(state): State<Arc<AppState>>, Path(cart): Path<String>) -> Response {
    let Ok(cart) = cart.parse::<u32>() else {
        return (StatusCode::BAD_REQUEST, "a cart number is a whole number\n").into_response();
    };
    let done = match &state.rollout {
        Rollout::Broken(r) => r.checkout(cart).await,
        Rollout::Fixed(r) => r.checkout(cart).await,
        Rollout::Yours(r) => r.checkout(cart).await,
    };
    match done {
        Ok(receipt) => Json(json!({ "cart": receipt.cart, "build": receipt.build })).into_response(),
        Err(failed) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("checkout of cart {} failed: {}\n", failed.cart, failed.reason),
        )
            .into_response(),
    }
}

/// The variant's schema and history query (drill db-degradation).
fn orders_sql(variant: Variant) -> (&'static str, &'static str) {
    match variant {
        Variant::Broken => (db_degradation::broken::SCHEMA, db_degradation::broken::ORDER_HISTORY),
        Variant::Fixed => (db_degradation::fixed::SCHEMA, db_degradation::fixed::ORDER_HISTORY),
        Variant::Yours => (
            exercise_incidents::db_degradation::SCHEMA,
            exercise_incidents::db_degradation::ORDER_HISTORY,
        ),
    }
}

async fn order_history(State(state): State<Arc<AppState>>, Path(customer): Path<String>) -> Response {
    let Ok(customer) = customer.parse::<u32>() else {
        return (StatusCode::BAD_REQUEST, "a customer number is a whole number\n").into_response();
    };
    let (schema, query) = orders_sql(state.variant);
    // SQLite is a blocking library: opening, seeding and querying run on the blocking pool, never on the loop.
    let db = state
        .orders_db
        .get_or_try_init(|| async move {
            tokio::task::spawn_blocking(move || OrdersDb::open(schema, support::SEEDED_ORDERS).map(Arc::new))
                .await
                .map_err(|e| e.to_string())?
        })
        .await;
    let db = match db {
        Ok(db) => db.clone(),
        Err(e) => return (StatusCode::INTERNAL_SERVER_ERROR, format!("the orders database: {e}\n")).into_response(),
    };
    let rows = tokio::task::spawn_blocking(move || db.query(query, i64::from(customer))).await;
    match rows {
        Ok(Ok(rows)) => {
            let orders: Vec<serde_json::Value> = rows
                .iter()
                .map(|r| json!({ "id": r.id, "created_at": r.created_at, "status": r.status, "total_cents": r.total_cents }))
                .collect();
            Json(json!({ "customer": customer, "orders": orders })).into_response()
        }
        Ok(Err(e)) => (StatusCode::INTERNAL_SERVER_ERROR, format!("the history query: {e}\n")).into_response(),
        Err(e) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("the history query stopped: {e}\n"),
        )
            .into_response(),
    }
}

/// The drills' counters, and the event-loop lag lab-kit measures (also on `/metrics`).
async fn stats(State(state): State<Arc<AppState>>) -> Json<serde_json::Value> {
    let mut stats = serde_json::Map::new();
    stats.insert("sessions_kept".into(), state.sessions.kept().into());
    for (name, value) in support::counters() {
        stats.insert(name.into(), value.into());
    }
    if let Some(db) = state.orders_db.get() {
        // The history query's plan, as `EXPLAIN QUERY PLAN` gives it: printed under the run's table.
        if let Ok(plan) = db.plan(orders_sql(state.variant).1) {
            stats.insert("query_plan".into(), plan.replace('\n', "; ").into());
        }
    }
    for (name, value) in state.chat_counters.read() {
        stats.insert(name.into(), value.into());
    }
    stats.insert("heap_bytes".into(), lab_kit::heap::current_bytes().into());
    stats.insert("heap_peak_bytes".into(), lab_kit::heap::peak_bytes().into());
    // Run as an instance of workbench-pm (the process-manager lab's `leak-*` variants): what the supervisor did to
    // it, memory restarts among it.
    if let Some(supervisor) = lab_kit::supervised::supervisor_stats().await {
        stats.extend(supervisor);
    }
    let (lag_p99, lag_max) = lab_kit::telemetry().lag().p99_and_max();
    stats.insert("loop_lag_p99_us".into(), lag_p99.into());
    stats.insert("loop_lag_max_us".into(), lag_max.into());
    Json(stats.into())
}
