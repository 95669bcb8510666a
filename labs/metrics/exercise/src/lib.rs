//! Exercise: a fixed-bucket latency histogram, written out in Prometheus's text format.
//!
//! Keeping every latency to compute exact quantiles later costs memory with every request (the metrics lab's
//! `naive` variant measures how much). A Prometheus histogram keeps a fixed set of counters instead: for each
//! upper bound, how many values were at or below it. `histogram_quantile()` then estimates quantiles from those
//! counts. It is what prom-client's `Histogram` and the metrics crate's exporter write on `/metrics`:
//!
//! ```text
//! # HELP http_request_duration_seconds How long requests took.
//! # TYPE http_request_duration_seconds histogram
//! http_request_duration_seconds_bucket{le="0.005"} 3
//! http_request_duration_seconds_bucket{le="0.01"} 5
//! http_request_duration_seconds_bucket{le="+Inf"} 6
//! http_request_duration_seconds_sum 0.0431
//! http_request_duration_seconds_count 6
//! ```
//!
//! Implement [`LatencyHistogram`] so that:
//!
//! 1. `new(bounds)` accepts finite, strictly increasing bounds and refuses anything else with [`BadBounds`];
//! 2. `observe(v)` counts `v` in the first bucket whose bound is `>= v` (edges are inclusive: `le` means "less than
//!    or equal"), or above every bound; a NaN is ignored;
//! 3. `observe` takes `&self` and loses nothing when many threads observe at once — no lock needed: atomics;
//! 4. `count()` and `sum()` return how many values were observed and their sum;
//! 5. `render(name, help, out)` appends the text above: the `_bucket` lines are *cumulative* (each counts every
//!    value at or below its bound), in increasing order, ending with `le="+Inf"`, whose count equals `_count`.
//!
//! The lab serves your histogram with `--variant exercise`; `cargo xtask check metrics` runs the grader and then
//! measures your histogram's cost per request against the reference, in the same run. The tests alone:
//! `cargo test -p exercise-metrics --test exercise_histogram`.
//!
//! Hints: `AtomicU64::fetch_add` counts; there is no atomic `f64`, but an `AtomicU64` can hold an `f64`'s bits
//! (`to_bits`, `from_bits`), and `fetch_update` retries until no other thread got in between.

use std::sync::atomic::AtomicU64;

/// prom-client's default buckets, in seconds (the Go client's too): 5 ms to 10 s.
pub const DEFAULT_BOUNDS: &[f64] = &[0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

/// Bounds a histogram cannot use, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadBounds(pub String);

/// Counts of observations at or below each bound, their sum, and their number — safe to share between threads.
pub struct LatencyHistogram {
    // TODO: the bounds, one counter per bucket (and one for values above every bound), the sum.
    sum_bits: AtomicU64,
}

impl LatencyHistogram {
    /// A histogram over `bounds`: finite, strictly increasing upper bounds (`+Inf` is always added).
    pub fn new(bounds: &[f64]) -> Result<LatencyHistogram, BadBounds> {
        // TODO: check the bounds, then make the counters.
        let _ = bounds;
        todo!("implement LatencyHistogram::new")
    }

    /// Records one value (seconds). A NaN is ignored: added to the sum, it would make it NaN forever.
    pub fn observe(&self, seconds: f64) {
        // TODO: find the bucket, count the value, add it to the sum.
        let _ = seconds;
        todo!("implement LatencyHistogram::observe")
    }

    /// How many values were observed.
    pub fn count(&self) -> u64 {
        // TODO
        todo!("implement LatencyHistogram::count")
    }

    /// The sum of the values observed.
    pub fn sum(&self) -> f64 {
        // TODO
        let _ = &self.sum_bits;
        todo!("implement LatencyHistogram::sum")
    }

    /// Appends the histogram to `out` in Prometheus's text format: `# HELP`, `# TYPE … histogram`, one cumulative
    /// `_bucket{le="…"}` line per bound and one for `+Inf`, then `_sum` and `_count`.
    pub fn render(&self, name: &str, help: &str, out: &mut String) {
        // TODO: write the lines; std::fmt::Write gives String a writeln!.
        let _ = (name, help, out);
        todo!("implement LatencyHistogram::render")
    }
}
