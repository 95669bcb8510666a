//! Request latency recorded into one fixed-bucket histogram written by hand: the reference
//! ([`crate::fixed_buckets`], the exercise's solution) in the `fixed-buckets` variant, the learner's
//! (`exercise_metrics`) in the `exercise` variant. Both are served at `/histogram` in Prometheus's text format.
//!
//! Compared with lab-kit's middleware (`instrumented`), this records one histogram and nothing else: no label
//! lookup, no request counter, no in-flight gauge — an observation is a binary search and two atomic operations.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;

/// The family name the histogram is exposed under.
pub const FAMILY: &str = "http_request_duration_seconds";

/// What the server needs of a fixed-bucket histogram: the reference and the learner's have the same methods but
/// are distinct types, so the server holds either behind this trait.
pub trait Histogram: Send + Sync {
    /// Records one latency, in seconds.
    fn observe(&self, seconds: f64);
    /// Observations so far.
    fn count(&self) -> u64;
    /// Prometheus text exposition under [`FAMILY`].
    fn exposition(&self) -> String;
}

/// Implements [`Histogram`] for a module exporting the exercise's `LatencyHistogram`.
macro_rules! histogram {
    ($m:path) => {
        impl Histogram for $m {
            fn observe(&self, seconds: f64) {
                <$m>::observe(self, seconds)
            }
            fn count(&self) -> u64 {
                <$m>::count(self)
            }
            fn exposition(&self) -> String {
                let mut out = String::new();
                self.render(
                    FAMILY,
                    "Request latency, by the hand-written histogram.",
                    &mut out,
                );
                out
            }
        }
    };
}

histogram!(crate::fixed_buckets::LatencyHistogram);
histogram!(exercise_metrics::LatencyHistogram);

/// The middleware: times the request and observes it.
pub async fn track(State(histogram): State<Arc<dyn Histogram>>, request: Request, next: Next) -> Response {
    let began = Instant::now();
    let response = next.run(request).await;
    histogram.observe(began.elapsed().as_secs_f64());
    response
}
