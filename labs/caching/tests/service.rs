//! The caching service through its router (no socket): responses, bad input, and the deterministic counters each
//! variant's lesson rests on — queries per request, hits, coalesced waits, invalidations.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use lab_caching::db::Db;
use lab_caching::server::{app, AppState};
use lab_caching::store::{Cache, CacheConfig, Variant, COUNTERS};
use lab_kit::Counters;
use tower::ServiceExt;

/// A service over a fresh in-memory catalogue; `latency` holds each query open so concurrent misses overlap.
fn service(variant: Variant, latency: Duration) -> (Router, Counters) {
    let counters = Counters::new(COUNTERS);
    let db = Db::open(None, 4, latency, counters.clone()).unwrap();
    let config = CacheConfig {
        ttl: Duration::from_secs(60),
        capacity: 100,
    };
    let cache = Cache::new(variant, config, counters.clone(), None);
    (
        app(Arc::new(AppState {
            db,
            cache,
            counters: counters.clone(),
        })),
        counters,
    )
}

async fn call(app: &Router, method: &str, uri: &str, body: &str) -> (StatusCode, String) {
    let request = Request::builder()
        .method(method)
        .uri(uri)
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap();
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

async fn get(app: &Router, uri: &str) -> (StatusCode, String) {
    call(app, "GET", uri, "").await
}

#[tokio::test]
async fn a_product_page_is_json_with_its_rating() {
    let (app, _) = service(Variant::Naive, Duration::ZERO);
    let (status, body) = get(&app, "/product/42").await;
    assert_eq!(status, StatusCode::OK);
    let page: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(page["id"], 42);
    assert_eq!(page["name"], "product 42");
    assert!(page["reviews"].as_u64().unwrap() > 0 && (1.0..=5.0).contains(&page["rating"].as_f64().unwrap()));
    let (status, body) = get(&app, "/category/7").await;
    assert_eq!(status, StatusCode::OK);
    assert!(serde_json::from_str::<Vec<serde_json::Value>>(&body).unwrap().len() > 100);
}

#[tokio::test]
async fn bad_input_gets_a_clear_4xx() {
    let (app, counters) = service(Variant::SingleFlight, Duration::ZERO);
    let (status, body) = get(&app, "/product/abc").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.contains("whole number"), "{body}");
    assert_eq!(get(&app, "/product/-1").await.0, StatusCode::BAD_REQUEST);
    assert_eq!(get(&app, "/product/99999999999").await.0, StatusCode::BAD_REQUEST);
    assert_eq!(get(&app, "/product/10001").await.0, StatusCode::NOT_FOUND);
    assert_eq!(get(&app, "/category/0").await.0, StatusCode::NOT_FOUND);
    assert_eq!(
        call(&app, "PUT", "/product/1", "{not json").await.0,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        call(&app, "PUT", "/product/1", r#"{"price": 5}"#).await.0,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        call(&app, "PUT", "/product/1", r#"{"price_cents": -5}"#).await.0,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        call(&app, "PUT", "/product/10001", r#"{"price_cents": 5}"#).await.0,
        StatusCode::NOT_FOUND
    );
    // An unknown product is not cached: asking again queries again.
    let before = counters.get("db_queries");
    assert_eq!(get(&app, "/product/10001").await.0, StatusCode::NOT_FOUND);
    assert_eq!(counters.get("db_queries"), before + 1);
}

#[tokio::test]
async fn naive_queries_every_time_and_a_cache_once() {
    for (variant, expected_queries) in [
        (Variant::Naive, 10),
        (Variant::Lru, 1),
        (Variant::Moka, 1),
        (Variant::SingleFlight, 1),
    ] {
        let (app, counters) = service(variant, Duration::ZERO);
        for _ in 0..10 {
            assert_eq!(get(&app, "/product/5").await.0, StatusCode::OK);
        }
        assert_eq!(counters.get("db_queries"), expected_queries, "{variant:?}");
        if variant != Variant::Naive {
            assert_eq!(counters.get("l1_hits"), 9, "{variant:?}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stampede_queries_once_with_single_flight_and_once_per_request_with_the_lru() {
    for (variant, check) in [
        (Variant::SingleFlight, (|q| q == 1) as fn(u64) -> bool),
        (Variant::Moka, |q| q == 1),
        // Every request misses before the first load returns (each query holds its connection 200 ms).
        (Variant::Lru, |q| q >= 50),
    ] {
        let (app, counters) = service(variant, Duration::from_millis(200));
        let calls: Vec<_> = (0..100)
            .map(|_| {
                let app = app.clone();
                tokio::spawn(async move { get(&app, "/product/9").await.0 })
            })
            .collect();
        for call in calls {
            assert_eq!(call.await.unwrap(), StatusCode::OK);
        }
        let queries = counters.get("db_queries");
        assert!(
            check(queries),
            "{variant:?}: {queries} queries for 100 concurrent misses of one key"
        );
        if variant == Variant::SingleFlight {
            assert_eq!(counters.get("coalesced") + counters.get("l1_hits"), 99);
        }
    }
}

#[tokio::test]
async fn a_write_invalidates_the_product_and_its_category_listing() {
    for variant in [Variant::Lru, Variant::Moka, Variant::SingleFlight] {
        let (app, counters) = service(variant, Duration::ZERO);
        let (_, page) = get(&app, "/product/3").await;
        let category = serde_json::from_str::<serde_json::Value>(&page).unwrap()["category_id"]
            .as_u64()
            .unwrap();
        let listing_uri = format!("/category/{category}");
        get(&app, &listing_uri).await;
        assert_eq!(counters.get("db_queries"), 2);

        assert_eq!(
            call(&app, "PUT", "/product/3", r#"{"price_cents": 123}"#).await.0,
            StatusCode::NO_CONTENT
        );
        assert_eq!(counters.get("db_writes"), 1);
        assert_eq!(
            counters.get("invalidations"),
            2,
            "{variant:?}: the product and its category are dropped"
        );

        let (_, page) = get(&app, "/product/3").await;
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&page).unwrap()["price_cents"],
            123,
            "{variant:?}"
        );
        let (_, listing) = get(&app, &listing_uri).await;
        assert!(
            listing.contains(r#""id":3,"name":"product 3","price_cents":123"#),
            "{variant:?}: {listing}"
        );
        assert_eq!(counters.get("db_queries"), 4, "{variant:?}: both were loaded again");
    }
}

#[tokio::test]
async fn stats_report_counters_and_the_hit_ratio() {
    let (app, _) = service(Variant::Lru, Duration::ZERO);
    for _ in 0..4 {
        get(&app, "/product/1").await;
    }
    let (status, body) = get(&app, "/stats").await;
    assert_eq!(status, StatusCode::OK);
    let stats: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        (
            stats["db_queries"].as_u64(),
            stats["l1_hits"].as_u64(),
            stats["misses"].as_u64()
        ),
        (Some(1), Some(3), Some(1))
    );
    assert_eq!(stats["hit_ratio"], 0.75);
}

#[test]
fn the_lru_counts_evictions_when_full() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let counters = Counters::new(COUNTERS);
        let db = Db::open(None, 2, Duration::ZERO, counters.clone()).unwrap();
        let config = CacheConfig {
            ttl: Duration::from_secs(60),
            capacity: 10,
        };
        let app = app(Arc::new(AppState {
            db,
            cache: Cache::new(Variant::Lru, config, counters.clone(), None),
            counters: counters.clone(),
        }));
        for id in 1..=25 {
            get(&app, &format!("/product/{id}")).await;
        }
        assert_eq!(counters.get("evictions"), 15);
    });
}
