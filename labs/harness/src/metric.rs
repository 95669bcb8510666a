//! The metric vocabulary: every name a lesson or gate may compare, and how a name reads a value off a run.
//!
//! They live together so that a name cannot be accepted by the manifest and then read nothing: the house rules
//! test checks every name in [`METRICS`] against the committed reports.

use crate::report::VariantResult;

/// Metrics a lesson may name besides `counters.*`.
pub const METRICS: &[&str] = &[
    "achieved_rps",
    "goodput.rps",
    "requests",
    "errors",
    "retried",
    "dropped",
    "latency_us.p50",
    "latency_us.p90",
    "latency_us.p95",
    "latency_us.p99",
    "latency_us.p999",
    "latency_us.max",
    "service_us.p50",
    "service_us.p99",
    "service_us.max",
    "ttfb_us.p50",
    "ttfb_us.p95",
    "ttfb_us.p99",
    "bytes_sent",
    "bytes_received",
    "bytes_per_response",
    "server.rss_peak_bytes",
    "server.cpu_seconds",
    "server.cpu_us_per_request",
    "websocket.opened",
    "websocket.closed_early",
    "websocket.lost",
    "websocket.receipts",
    "websocket.delivery_us.p50",
    "websocket.delivery_us.p99",
];

/// What a lesson may read of a sampled series (`timeline.series.NAME.FIELD`).
pub const TIMELINE_FIELDS: &[&str] = &["min", "max", "last", "slope_per_s"];

/// The series name of a `timeline.series.NAME.FIELD` metric, when it is one with a known field.
pub fn timeline_series(metric: &str) -> Option<&str> {
    let (name, field) = metric.strip_prefix("timeline.series.")?.rsplit_once('.')?;
    (TIMELINE_FIELDS.contains(&field) && !name.is_empty() && !name.contains('.')).then_some(name)
}

/// A metric a lesson may compare: `counters.NAME`, one of [`METRICS`], `by_name.REQUEST.METRIC` for one named
/// request of a scenario (its `latency_us.*`, `service_us.*`, `requests` or `errors`), or
/// `timeline.series.NAME.FIELD` for a series the lab samples from `/metrics` (its `min`, `max`, `last` or
/// `slope_per_s`).
pub fn known_metric(metric: &str) -> bool {
    let per_request = |m: &str| {
        matches!(m, "requests" | "errors")
            || ((m.starts_with("latency_us.") || m.starts_with("service_us.")) && METRICS.contains(&m))
    };
    let named = metric
        .strip_prefix("by_name.")
        .and_then(|rest| rest.split_once('.'))
        .map(|(_, m)| m);
    metric.starts_with("counters.")
        || METRICS.contains(&metric)
        || named.is_some_and(per_request)
        || timeline_series(metric).is_some()
}

/// Reads a dotted metric (`latency_us.p99`, `counters.db_queries`) off a variant's result.
pub fn metric_value(result: &VariantResult, metric: &str) -> Option<f64> {
    if let Some(counter) = metric.strip_prefix("counters.") {
        return result.counters.get(counter).and_then(|n| n.as_f64());
    }
    let json = serde_json::to_value(result).ok()?;
    json.pointer(&format!("/{}", metric.replace('.', "/")))?.as_f64()
}
