//! Hello world on axum: the router every other lab uses, with `/healthz` and `/stats` from lab-kit.
//!
//! - **+** a route table, extractors, middleware: the code of a real service;
//! - **−** a little more work per request than a bare `service_fn` (the router's lookup, boxed handlers) — the
//!   baseline lab measures how little.

use axum::routing::get;
use axum::Router;
use lab_kit::Counters;

/// The router; testable without a socket (`tower::ServiceExt::oneshot`).
pub fn app(counters: Counters) -> Router {
    let hits = counters.clone();
    let routes = Router::new().route(
        "/",
        get(move || async move {
            hits.incr("requests");
            crate::HELLO
        }),
    );
    lab_kit::with_standard_routes(routes, counters)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::Request;
    use tower::ServiceExt;

    #[tokio::test]
    async fn says_hello_counts_and_404s_the_rest() {
        let counters = Counters::new(crate::COUNTERS);
        let app = app(counters.clone());
        let ok = app
            .clone()
            .oneshot(Request::get("/").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(ok.status(), 200);
        let missing = app
            .oneshot(Request::get("/nope").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(missing.status(), 404);
        assert_eq!(counters.get("requests"), 1);
    }
}
