//! Event-loop lag: how late a timer on the event loop fires. A task asks to sleep 10 ms, again and again; when it
//! wakes 30 ms later, the loop was busy for 20 ms with something else — something that did not yield. Node.js
//! offers the same measurement as `perf_hooks.monitorEventLoopDelay()`; the seed guide exports it as a metric.
//!
//! Every lab server runs this probe (lab-kit starts it) and exposes it on `/metrics` as the histogram
//! `event_loop_lag_seconds`; the worker-pools lab also reads its p99 and max into `/stats`. An idle loop reads about
//! 1 ms, not zero: tokio's timer ticks in whole milliseconds (Node's `monitorEventLoopDelay` has a floor of its own).
//! It is the tens and hundreds of milliseconds that say the loop was blocked.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use hdrhistogram::Histogram;

/// The probe's interval: short enough to catch a 20 ms block, long enough to cost nothing.
const INTERVAL: Duration = Duration::from_millis(10);

/// Lateness of the event loop, in microseconds.
#[derive(Clone)]
pub struct LoopLag {
    histogram: Arc<Mutex<Histogram<u64>>>,
}

impl Default for LoopLag {
    fn default() -> Self {
        LoopLag {
            histogram: Arc::new(Mutex::new(
                Histogram::new_with_bounds(1, 60_000_000, 3).expect("static bounds"),
            )),
        }
    }
}

impl LoopLag {
    /// Runs forever on the current runtime, recording each wake-up's lateness.
    // ANCHOR: probe
    pub async fn probe(self) {
        loop {
            let asked = tokio::time::Instant::now();
            tokio::time::sleep(INTERVAL).await;
            let late = asked.elapsed().saturating_sub(INTERVAL);
            self.histogram
                .lock()
                .unwrap()
                .saturating_record(late.as_micros() as u64);
            metrics::histogram!(crate::telemetry::LOOP_LAG).record(late.as_secs_f64());
        }
    }
    // ANCHOR_END: probe

    /// (p99, max) lateness in microseconds so far.
    pub fn p99_and_max(&self) -> (u64, u64) {
        let h = self.histogram.lock().unwrap();
        if h.is_empty() {
            (0, 0)
        } else {
            (h.value_at_quantile(0.99), h.max())
        }
    }
}
