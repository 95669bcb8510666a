//! The cardinality mistake: lab-kit's request metrics, labelled by the raw path (`/users/123`) instead of the route
//! template (`/users/{id}`). Every distinct id becomes a new counter and a new histogram of eighteen buckets, in
//! this process's memory and in every Prometheus that scrapes it — a label is an index, and its values must be
//! few. prom-client users meet it as `req.path` where `req.route.path` was meant.

use std::time::Instant;

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use lab_kit::telemetry::{REQUESTS, REQUEST_DURATION};

/// The middleware: the same families as lab-kit's, with `path` where lab-kit has `route`.
pub async fn track(request: Request, next: Next) -> Response {
    let began = Instant::now();
    let path = request.uri().path().to_string();
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    metrics::counter!(REQUESTS, "path" => path.clone(), "status" => status).increment(1);
    metrics::histogram!(REQUEST_DURATION, "path" => path).record(began.elapsed().as_secs_f64());
    response
}
