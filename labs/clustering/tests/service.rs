//! The routes of one process, through its router (no socket): what every worker serves.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use lab_clustering::server::{app, Service, Shared, COUNTERS};
use lab_clustering::state::State;
use lab_kit::Counters;
use tower::ServiceExt;

fn one_process(limit: u32) -> axum::Router {
    app(Arc::new(Service {
        counters: Counters::new(COUNTERS),
        shared: Shared::Local(State::new(limit, Duration::from_secs(60))),
        primary: None,
        rounds: 10,
        chat: Arc::new(lab_clustering::chat::Chat::new(lab_clustering::chat::Bus::Local)),
    }))
}

async fn call(app: &axum::Router, method: &str, uri: &str) -> (StatusCode, String) {
    let response = app
        .clone()
        .oneshot(Request::builder().method(method).uri(uri).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8_lossy(&body).into_owned())
}

#[tokio::test]
async fn one_process_limits_remembers_sessions_and_counts() {
    let app = one_process(2);
    let limited: Vec<StatusCode> = [
        call(&app, "GET", "/limited/a").await.0,
        call(&app, "GET", "/limited/a").await.0,
        call(&app, "GET", "/limited/a").await.0,
    ]
    .into();
    assert_eq!(limited, [StatusCode::OK, StatusCode::OK, StatusCode::TOO_MANY_REQUESTS]);
    assert_eq!(call(&app, "GET", "/me/ada").await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(call(&app, "POST", "/login/ada").await.0, StatusCode::NO_CONTENT);
    assert_eq!(
        call(&app, "GET", "/me/ada").await,
        (StatusCode::OK, "hello ada\n".into())
    );
    let (status, hash) = call(&app, "GET", "/work").await;
    assert_eq!((status, hash.len()), (StatusCode::OK, 16));
    assert_eq!(call(&app, "GET", "/login/ada").await.0, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(call(&app, "GET", "/healthz").await.0, StatusCode::OK);
    let stats: serde_json::Value = serde_json::from_str(&call(&app, "GET", "/stats").await.1).unwrap();
    assert_eq!(
        (
            &stats["admitted"],
            &stats["rejected"],
            &stats["logins"],
            &stats["sessions_found"],
            &stats["sessions_missing"],
            &stats["work"]
        ),
        (&2.into(), &1.into(), &1.into(), &1.into(), &1.into(), &1.into())
    );
    // Three limited, two reads, a login and a hash; the 405 never reached a handler.
    assert_eq!(stats["served"], 7);
}
