//! The worker-pools service through its router: answers, bad parameters, shedding with 503 when the pool is full,
//! and the counters `/stats` reports.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use lab_kit::Counters;
use lab_kit::LoopLag;
use lab_worker_pools::executor::{Executor, Variant};
use lab_worker_pools::server::{app, AppState, COUNTERS};
use lab_worker_pools::work::MAX_ROUNDS;
use tower::ServiceExt;

fn service(variant: Variant, workers: usize, queue: usize) -> Router {
    let state = AppState {
        executor: Executor::new(variant, workers, queue, workers),
        counters: Counters::new(COUNTERS),
        lag: LoopLag::default(),
    };
    app(Arc::new(state))
}

async fn get(app: &Router, uri: &str) -> (StatusCode, Option<String>, String) {
    let response = app
        .clone()
        .oneshot(Request::get(uri).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let retry = response
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_string());
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, retry, String::from_utf8_lossy(&body).into_owned())
}

async fn stats(app: &Router) -> serde_json::Value {
    serde_json::from_str(&get(app, "/stats").await.2).unwrap()
}

#[tokio::test]
async fn every_variant_hashes_and_pongs() {
    for variant in [
        Variant::Inline,
        Variant::SpawnBlocking,
        Variant::Semaphore,
        Variant::BoundedPool,
    ] {
        let app = service(variant, 2, 4);
        assert_eq!(get(&app, "/ping").await.2, "pong\n");
        let (status, _, digest) = get(&app, "/hash?rounds=1&seed=abc").await;
        assert_eq!(status, StatusCode::OK, "{variant:?}");
        assert_eq!(
            digest, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
            "{variant:?}"
        );
        let s = stats(&app).await;
        assert_eq!(
            (s["pings"].as_u64(), s["hashes"].as_u64(), s["in_flight"].as_u64()),
            (Some(1), Some(1), Some(0)),
            "{variant:?}"
        );
    }
}

#[tokio::test]
async fn a_bad_rounds_parameter_is_a_400_naming_the_limit() {
    let app = service(Variant::BoundedPool, 1, 1);
    for bad in ["abc", "0", "-5", "2000001", "99999999999"] {
        let (status, _, body) = get(&app, &format!("/hash?rounds={bad}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "rounds={bad}");
        assert!(body.contains("from 1 to 2000000"), "{body}");
    }
    assert_eq!(stats(&app).await["hashes"], 0, "nothing was computed");
}

/// Probes `/stats` until `ready` holds (10 s at most).
async fn until(app: &Router, what: &str, ready: impl Fn(&serde_json::Value) -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let s = stats(app).await;
        if ready(&s) {
            return;
        }
        assert!(tokio::time::Instant::now() < deadline, "{what} never happened: {s}");
        tokio::task::yield_now().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_pool_sheds_with_503_and_retry_after() {
    // One worker and one place in the queue: once both are taken, the next heavy request is refused at once.
    let app = service(Variant::BoundedPool, 1, 1);
    // As long as a request may be (MAX_ROUNDS, ~0.2 s even in release): the first job must still hold the worker
    // when the third request arrives, on a machine busy with other tests too (at 400,000 rounds it once finished
    // first, and the third request was served).
    let long = |app: &Router| {
        let app = app.clone();
        tokio::spawn(async move { get(&app, &format!("/hash?rounds={MAX_ROUNDS}")).await.0 })
    };
    let running = long(&app);
    until(&app, "the worker taking the first job", |s| {
        s["in_flight"] == 1 && s["pool_waiting"] == 0
    })
    .await;
    let queued = long(&app);
    // Both jobs still in flight, one of them queued: the worker is busy with the other (not finished, not shed).
    until(&app, "the second job waiting in the queue", |s| {
        s["pool_waiting"] == 1 && s["in_flight"] == 2
    })
    .await;
    let (status, retry, _) = get(&app, "/hash?rounds=1").await;
    assert_eq!((status, retry.as_deref()), (StatusCode::SERVICE_UNAVAILABLE, Some("1")));
    assert_eq!(running.await.unwrap(), StatusCode::OK, "accepted jobs still finish");
    assert_eq!(queued.await.unwrap(), StatusCode::OK);
    let s = stats(&app).await;
    assert_eq!(
        (s["shed"].as_u64(), s["hashes"].as_u64(), s["in_flight_max"].as_u64()),
        (Some(1), Some(2), Some(3))
    );
}
