//! The registry people write first: every observed latency appended to a `Vec`, behind one lock, and quantiles
//! computed at scrape time by sorting.
//!
//! It looks right — exact quantiles! — and fails three ways the lab measures: memory grows with every request
//! (a histogram keeps a fixed set of bucket counts however many requests it has seen), every request takes the same
//! lock (two cores wait on each other), and a scrape sorts everything ever observed. prom-client's `Summary` and
//! the metrics crate's exporter avoid the first by keeping a sliding window or a sketch; Prometheus histograms
//! avoid all three, at the price of answering quantiles from bucket bounds.

use std::collections::HashMap;
use std::fmt::Write;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;

/// Every value ever observed, by series.
#[derive(Default)]
pub struct NaiveRegistry {
    observations: Mutex<HashMap<String, Vec<f64>>>,
}

impl NaiveRegistry {
    /// Appends `value` to `series`.
    pub fn observe(&self, series: &str, value: f64) {
        let mut map = self.observations.lock().unwrap();
        match map.get_mut(series) {
            Some(values) => values.push(value),
            None => {
                map.insert(series.to_string(), vec![value]);
            }
        }
    }

    /// How many numbers it holds: one per observation, forever.
    pub fn kept(&self) -> usize {
        self.observations.lock().unwrap().values().map(Vec::len).sum()
    }

    /// A summary per series: p50, p90, p99 by sorting a copy of every value, then count and sum.
    pub fn render(&self) -> String {
        let map = self.observations.lock().unwrap();
        let mut out = String::from("# HELP naive_request_duration_seconds Every request's latency, kept forever.\n# TYPE naive_request_duration_seconds summary\n");
        let mut names: Vec<&String> = map.keys().collect();
        names.sort();
        for name in names {
            let mut values = map[name].clone();
            values.sort_by(f64::total_cmp);
            for q in [0.5, 0.9, 0.99] {
                let at = ((values.len() as f64 * q).ceil() as usize).clamp(1, values.len()) - 1;
                let _ = writeln!(
                    out,
                    "naive_request_duration_seconds{{route=\"{name}\",quantile=\"{q}\"}} {}",
                    values[at]
                );
            }
            let _ = writeln!(
                out,
                "naive_request_duration_seconds_count{{route=\"{name}\"}} {}",
                values.len()
            );
            let _ = writeln!(
                out,
                "naive_request_duration_seconds_sum{{route=\"{name}\"}} {}",
                values.iter().sum::<f64>()
            );
        }
        out
    }
}

/// The middleware: times the request and appends it under its route.
pub async fn track(State(registry): State<Arc<NaiveRegistry>>, request: Request, next: Next) -> Response {
    let began = Instant::now();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |p| p.as_str().to_string());
    let response = next.run(request).await;
    registry.observe(&route, began.elapsed().as_secs_f64());
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn it_keeps_every_value_and_answers_exact_quantiles() {
        let registry = NaiveRegistry::default();
        for i in 1..=100 {
            registry.observe("/users/{id}", i as f64);
        }
        assert_eq!(registry.kept(), 100);
        let text = registry.render();
        assert!(
            text.contains("naive_request_duration_seconds{route=\"/users/{id}\",quantile=\"0.5\"} 50\n"),
            "{text}"
        );
        assert!(text.contains("quantile=\"0.99\"} 99\n"), "{text}");
        assert!(text.contains("naive_request_duration_seconds_count{route=\"/users/{id}\"} 100\n"));
    }
}
