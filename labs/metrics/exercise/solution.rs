//! The reference fixed-bucket histogram: what the metrics lab's `fixed-buckets` variant records request latency
//! with, and what `cargo xtask exercise metrics --solution` shows the learner. Drop-in for the starter
//! (`exercise/src/lib.rs`): same types, same signatures.
//!
//! One counter per bucket, not one per `le` line: an observation touches exactly one atomic, and the cumulative
//! counts Prometheus wants are added up when someone scrapes (once a second at most, against thousands of
//! observations). `_count` is that same running total, so it always equals the `+Inf` bucket, even while other
//! threads observe during the scrape.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};

/// prom-client's default buckets, in seconds (the Go client's too): 5 ms to 10 s.
pub const DEFAULT_BOUNDS: &[f64] = &[0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

/// Bounds a histogram cannot use, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadBounds(pub String);

/// Counts of observations at or below each bound, their sum, and their number — safe to share between threads.
pub struct LatencyHistogram {
    bounds: Vec<f64>,
    /// `bounds.len() + 1` counters: `buckets[i]` counts values in `(bounds[i-1], bounds[i]]`, the last one the
    /// values above every bound. Not cumulative, so that observing adds to one counter only.
    buckets: Vec<AtomicU64>,
    /// The sum of every value, as the bits of an `f64` (there is no atomic float).
    sum_bits: AtomicU64,
}

impl LatencyHistogram {
    /// A histogram over `bounds`: finite, strictly increasing upper bounds (`+Inf` is always added).
    pub fn new(bounds: &[f64]) -> Result<LatencyHistogram, BadBounds> {
        if bounds.is_empty() {
            return Err(BadBounds("a histogram needs at least one bound".into()));
        }
        for (i, bound) in bounds.iter().enumerate() {
            if !bound.is_finite() {
                return Err(BadBounds(format!(
                    "bound {i} is {bound}: bounds are finite numbers, +Inf is added for you"
                )));
            }
            if i > 0 && *bound <= bounds[i - 1] {
                return Err(BadBounds(format!(
                    "bounds must increase: {bound} comes after {}",
                    bounds[i - 1]
                )));
            }
        }
        Ok(LatencyHistogram {
            bounds: bounds.to_vec(),
            buckets: (0..=bounds.len()).map(|_| AtomicU64::new(0)).collect(),
            sum_bits: AtomicU64::new(0f64.to_bits()),
        })
    }

    // ANCHOR: observe
    /// Records one value (seconds). A NaN is ignored: added to the sum, it would make it NaN forever.
    pub fn observe(&self, seconds: f64) {
        if seconds.is_nan() {
            return;
        }
        // The first bound at or above the value: `le` means "less than or equal", so a value equal to a bound
        // belongs to that bound's bucket. A binary search: 11 bounds take 4 comparisons.
        let index = self.bounds.partition_point(|bound| *bound < seconds);
        self.buckets[index].fetch_add(1, Ordering::Relaxed);
        // No fetch_add for f64: read, add, and swap in only if no other thread changed the sum meanwhile (else
        // retry with its value). A plain load-then-store would lose other threads' additions.
        let _ = self
            .sum_bits
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |bits| {
                Some((f64::from_bits(bits) + seconds).to_bits())
            });
    }
    // ANCHOR_END: observe

    /// How many values were observed.
    pub fn count(&self) -> u64 {
        self.buckets.iter().map(|bucket| bucket.load(Ordering::Relaxed)).sum()
    }

    /// The sum of the values observed.
    pub fn sum(&self) -> f64 {
        f64::from_bits(self.sum_bits.load(Ordering::Relaxed))
    }

    /// Appends the histogram to `out` in Prometheus's text format: `# HELP`, `# TYPE … histogram`, one cumulative
    /// `_bucket{le="…"}` line per bound and one for `+Inf`, then `_sum` and `_count`.
    pub fn render(&self, name: &str, help: &str, out: &mut String) {
        let _ = writeln!(out, "# HELP {name} {help}");
        let _ = writeln!(out, "# TYPE {name} histogram");
        let mut seen = 0;
        for (bound, bucket) in self.bounds.iter().zip(&self.buckets) {
            seen += bucket.load(Ordering::Relaxed);
            let _ = writeln!(out, "{name}_bucket{{le=\"{bound}\"}} {seen}");
        }
        seen += self.buckets[self.bounds.len()].load(Ordering::Relaxed);
        let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {seen}");
        let _ = writeln!(out, "{name}_sum {}", self.sum());
        let _ = writeln!(out, "{name}_count {seen}");
    }
}
