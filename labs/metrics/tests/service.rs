//! The metrics service through its router: answers, bad ids, and what `/stats` counts for each way of recording —
//! deterministic numbers the lab's lessons rest on (series, kept values), asserted exactly.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use lab_kit::Counters;
use lab_metrics::server::{app, AppState, Recording, COUNTERS};
use tower::ServiceExt;

fn service(recording: Recording) -> Router {
    lab_kit::telemetry();
    app(Arc::new(AppState {
        recording,
        counters: Counters::new(COUNTERS),
    }))
}

async fn get(app: &Router, uri: &str) -> (StatusCode, String) {
    let response = app
        .clone()
        .oneshot(Request::get(uri).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8_lossy(&body).into_owned())
}

async fn stats(app: &Router) -> serde_json::Value {
    serde_json::from_str(&get(app, "/stats").await.1).unwrap()
}

#[tokio::test]
async fn a_user_is_the_same_answer_in_every_variant_and_a_bad_id_is_a_400() {
    let app = service(Recording::Kit);
    assert_eq!(
        get(&app, "/users/42").await,
        (StatusCode::OK, r#"{"id":42,"name":"user 42"}"#.into())
    );
    let (status, body) = get(&app, "/users/forty-two").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.contains("whole number"), "{body}");
    assert_eq!(stats(&app).await["users"], 1);
}

#[tokio::test]
async fn the_naive_registry_keeps_one_number_per_request_forever() {
    let registry = Arc::default();
    let app = service(Recording::Naive(Arc::clone(&registry)));
    for id in 0..250 {
        get(&app, &format!("/users/{id}")).await;
    }
    let s = stats(&app).await;
    // 250 users, and the /stats call itself is timed too once it returns: 250 kept so far.
    assert_eq!(s["kept_values"], 250);
    assert_eq!(s["users"], 250);
    // One route: three quantiles, a count and a sum.
    assert_eq!(s["series"], 5);
    let (_, text) = get(&app, "/naive-metrics").await;
    assert!(
        text.contains("naive_request_duration_seconds_count{route=\"/users/{id}\"} 250"),
        "{text}"
    );
}

#[tokio::test]
async fn a_raw_path_label_makes_a_series_per_id_where_the_route_template_makes_one() {
    // Raw path: each of 40 ids is a counter and a histogram (18 buckets, sum, count).
    let raw = service(Recording::RawPath);
    for id in 0..40 {
        get(&raw, &format!("/users/raw-{id}")).await; // 400s: still a path, still a series
    }
    let text = lab_kit::telemetry().render();
    let raw_series = text.lines().filter(|l| l.contains("path=\"/users/raw-")).count();
    assert_eq!(raw_series, 40 * (1 + 16 + 1 + 2), "{text}");
    // The route template (lab-kit's middleware) gives those 40 requests one counter and one histogram.
    let templated = lab_kit::telemetry::instrument(service(Recording::Kit));
    for id in 0..40 {
        get(&templated, &format!("/users/{id}")).await;
    }
    let text = lab_kit::telemetry().render();
    assert!(
        text.contains("http_requests_total{method=\"GET\",route=\"/users/{id}\",status=\"200\"} 40"),
        "{text}"
    );
    assert!(!text.contains("route=\"/users/7\""));
}

#[tokio::test]
async fn the_hand_written_histogram_times_every_request_in_fixed_buckets() {
    let histogram =
        lab_metrics::fixed_buckets::LatencyHistogram::new(lab_metrics::fixed_buckets::DEFAULT_BOUNDS).unwrap();
    let app = service(Recording::Buckets(Arc::new(histogram)));
    for id in 0..300 {
        get(&app, &format!("/users/{id}")).await;
    }
    let s = stats(&app).await;
    // 300 users timed; /stats reads the count before its own request is observed.
    assert_eq!(s["observed"], 300);
    // 11 bounds and +Inf, _sum and _count: 14 numbers however many requests.
    assert_eq!(s["kept_values"], 14);
    let (status, text) = get(&app, "/histogram").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        text.contains("http_request_duration_seconds_bucket{le=\"+Inf\"} 301\n"),
        "{text}"
    );
    assert!(text.contains("http_request_duration_seconds_count 301\n"), "{text}");
}
