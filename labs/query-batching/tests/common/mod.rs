//! What the service tests share: building the app over a database, and calling it without a socket.

#![allow(dead_code)] // each test file uses its own part of this

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use lab_kit::Counters;
use lab_query_batching::db::{Backend, Db};
use lab_query_batching::server::{app, AppState, Batching, Variant, COUNTERS};
use tower::ServiceExt;

/// Every variant that builds pages.
pub const PAGE_VARIANTS: [Variant; 3] = [Variant::NPlusOne, Variant::Dataloader, Variant::Join];

/// The app for `variant` over `backend`, with no simulated round trip, and its counters.
pub async fn app_over(backend: Backend, variant: Variant) -> (Router, Counters) {
    let counters = Counters::new(COUNTERS);
    let db = Db::new(backend, Duration::ZERO, counters.clone());
    let batching = Batching {
        window: Duration::from_millis(2),
        max_batch: 200,
    };
    let state = AppState::build(db, variant, batching, counters.clone())
        .await
        .expect("the app builds");
    (app(Arc::new(state)), counters)
}

/// `GET uri`: status and body.
pub async fn get(app: &Router, uri: &str) -> (StatusCode, String) {
    let response = app
        .clone()
        .oneshot(Request::get(uri).body(Body::empty()).unwrap())
        .await
        .expect("the router never fails");
    let status = response.status();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8(body.to_vec()).unwrap())
}

/// `GET uri` that must succeed, as JSON.
pub async fn get_json(app: &Router, uri: &str) -> serde_json::Value {
    let (status, body) = get(app, uri).await;
    assert_eq!(status, StatusCode::OK, "GET {uri}: {body}");
    serde_json::from_str(&body).unwrap()
}

/// The queries each variant must send for one page of `n` orders, alone on the server.
pub fn queries_for_page(variant: Variant, n: u64) -> u64 {
    match variant {
        Variant::NPlusOne => 1 + 2 * n,
        Variant::Dataloader | Variant::Exercise => 3,
        _ => 1,
    }
}
