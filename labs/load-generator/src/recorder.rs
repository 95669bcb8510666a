//! What one generator thread records, and how threads' records are added together.
//!
//! Memory stays flat however long the run: every latency goes into an HDR histogram (1 µs … 60 s at three
//! significant digits: about 140 KiB each, fixed), never into a per-request vector. Threads record without locks
//! into their own [`Recorder`] and the totals are [`Recorder::merge`]d at the end — histograms add exactly, so the
//! merged p99 is the true p99 of all requests, not an average of per-thread p99s (which would be meaningless).

use std::collections::BTreeMap;
use std::time::Duration;

use hdrhistogram::Histogram;

/// Highest latency a histogram holds; slower requests are clamped to it (and a timeout is far below it).
pub const MAX_LATENCY_US: u64 = 60_000_000;

/// A latency histogram in microseconds: 1 µs to 60 s, three significant digits.
pub fn new_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, MAX_LATENCY_US, 3).expect("static bounds are valid")
}

/// Microseconds in `d`, as recorded.
pub fn micros(d: Duration) -> u64 {
    d.as_micros().min(MAX_LATENCY_US as u128) as u64
}

/// Statistics of one named request.
#[derive(Debug, Clone)]
pub struct NamedStats {
    /// From the due time (open model) or send time (closed model) to the last byte of the response.
    pub latency: Histogram<u64>,
    /// From the moment the request was written to the last byte: what a naive timer sees.
    pub service: Histogram<u64>,
    /// Responses of any status, plus transport failures: every request that was attempted.
    pub requests: u64,
    /// Status >= 400 and transport failures.
    pub errors: u64,
    /// Responses by status code, and failures by kind (`connect`, `timeout`, `io`).
    pub outcomes: BTreeMap<String, u64>,
}

impl NamedStats {
    fn new() -> Self {
        Self {
            latency: new_histogram(),
            service: new_histogram(),
            requests: 0,
            errors: 0,
            outcomes: BTreeMap::new(),
        }
    }

    fn merge(&mut self, other: &NamedStats) {
        self.latency.add(&other.latency).expect("same bounds");
        self.service.add(&other.service).expect("same bounds");
        self.requests += other.requests;
        self.errors += other.errors;
        for (k, v) in &other.outcomes {
            *self.outcomes.entry(k.clone()).or_default() += v;
        }
    }
}

/// How a request ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// A response arrived with this status.
    Status(u16),
    /// The connection could not be made.
    Connect,
    /// No complete response before the deadline.
    Timeout,
    /// The connection failed mid-request.
    Io,
}

impl Outcome {
    /// The status code, or `connect`, `timeout`, `io`.
    pub fn label(self) -> String {
        self.key()
    }

    fn key(self) -> String {
        match self {
            Outcome::Status(s) => s.to_string(),
            Outcome::Connect => "connect".into(),
            Outcome::Timeout => "timeout".into(),
            Outcome::Io => "io".into(),
        }
    }

    fn is_error(self) -> bool {
        !matches!(self, Outcome::Status(s) if s < 400)
    }
}

/// Everything one thread measured.
#[derive(Debug, Clone)]
pub struct Recorder {
    /// Per named request, in the scenario's order.
    pub by_name: Vec<NamedStats>,
    /// Completed requests per second of the run (warm-up included), for the throughput chart.
    pub timeline: Vec<u64>,
    /// How late the timer woke a connection that was waiting for a request's due time: the generator's own lag.
    pub send_lag: Histogram<u64>,
    /// TCP connect times.
    pub connect: Histogram<u64>,
    /// Requests sent more than [`LATE_AFTER`] behind schedule because no connection was free.
    pub late: u64,
    /// Requests never sent because the run's deadline passed first.
    pub dropped: u64,
    /// Idempotent requests sent a second time because a kept-alive connection closed before any response byte.
    pub retried: u64,
    /// Interval histograms for an HdrHistogram log: (second of the run, name index, histogram).
    pub intervals: Option<BTreeMap<(u64, usize), Histogram<u64>>>,
    /// The latency objective, in µs, if the plan has one.
    pub slo_us: Option<u64>,
    /// Successful requests (status < 400) whose latency met the objective.
    pub within_slo: u64,
    /// Time to first byte of the answered requests: from the send to the first byte of the response.
    pub ttfb: Histogram<u64>,
    /// Request bytes written, in the measured window.
    pub bytes_sent: u64,
    /// Response bytes read (heads and bodies as they came over the wire), in the measured window.
    pub bytes_received: u64,
    /// The [`SLOWEST_KEPT`] slowest requests of the measured window, slowest first.
    pub slowest: Vec<SlowRequest>,
}

/// What one answered request moved, and how soon its answer began.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transfer {
    /// From the send to the response's first byte.
    pub ttfb: Duration,
    /// Request bytes written.
    pub sent: u64,
    /// Response bytes read.
    pub received: u64,
}

/// How many of the slowest requests a run keeps, with their paths.
pub const SLOWEST_KEPT: usize = 10;

/// One of the run's slowest requests: what an on-call engineer opens first (the histogram says how slow the tail
/// is, these say *which* requests it is made of).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SlowRequest {
    /// Its latency (as recorded: from the due time in the open model).
    pub latency_us: u64,
    /// The request's name in the scenario (its path template when there is one request).
    pub name: String,
    /// Method and path as sent.
    pub request: String,
    /// Status code, or `connect`, `timeout`, `io`.
    pub outcome: String,
    /// When it completed, in milliseconds from the start of the run (warm-up included).
    pub at_ms: u64,
}

/// A send this far behind its due time counts as late.
pub const LATE_AFTER: Duration = Duration::from_millis(1);

impl Recorder {
    /// An empty recorder for `names` request kinds.
    pub fn new(names: usize, keep_intervals: bool) -> Self {
        Self {
            by_name: (0..names).map(|_| NamedStats::new()).collect(),
            timeline: Vec::new(),
            send_lag: new_histogram(),
            connect: new_histogram(),
            late: 0,
            dropped: 0,
            retried: 0,
            intervals: keep_intervals.then(BTreeMap::new),
            slo_us: None,
            within_slo: 0,
            ttfb: new_histogram(),
            bytes_sent: 0,
            bytes_received: 0,
            slowest: Vec::new(),
        }
    }

    /// Whether a request this slow would be kept among the slowest: checked before describing it, so the common
    /// request costs one comparison and no allocation.
    pub fn is_among_slowest(&self, latency: Duration) -> bool {
        self.slowest.len() < SLOWEST_KEPT || self.slowest.last().is_some_and(|s| micros(latency) > s.latency_us)
    }

    /// Keeps `slow` if it is among the slowest.
    pub fn keep_slow(&mut self, slow: SlowRequest) {
        let at = self.slowest.partition_point(|s| s.latency_us >= slow.latency_us);
        if at < SLOWEST_KEPT {
            self.slowest.insert(at, slow);
            self.slowest.truncate(SLOWEST_KEPT);
        }
    }

    /// Counts the successful requests that meet `slo` (goodput).
    pub fn with_slo(mut self, slo: Option<Duration>) -> Self {
        self.slo_us = slo.map(micros);
        self
    }

    /// Counts a completion in the throughput timeline at `at` (from the run's start).
    pub fn tick(&mut self, at: Duration) {
        let second = at.as_secs() as usize;
        if self.timeline.len() <= second {
            self.timeline.resize(second + 1, 0);
        }
        self.timeline[second] += 1;
    }

    /// Records one request of kind `name` that is in the measured window.
    pub fn record(
        &mut self,
        name: usize,
        outcome: Outcome,
        latency: Duration,
        service: Option<Duration>,
        at: Duration,
    ) {
        let latency_us = micros(latency);
        let stats = &mut self.by_name[name];
        stats.requests += 1;
        *stats.outcomes.entry(outcome.key()).or_default() += 1;
        if outcome.is_error() {
            stats.errors += 1;
        } else if self.slo_us.is_some_and(|slo| latency_us <= slo) {
            self.within_slo += 1;
        }
        // Failed attempts keep their latency too: a user who waited 2 s for an error waited 2 s.
        stats.latency.saturating_record(latency_us);
        if let Some(service) = service {
            stats.service.saturating_record(micros(service));
        }
        if let Some(intervals) = &mut self.intervals {
            intervals
                .entry((at.as_secs(), name))
                .or_insert_with(new_histogram)
                .saturating_record(latency_us);
        }
    }

    /// Records what an answered request in the measured window moved.
    pub fn record_transfer(&mut self, transfer: Option<Transfer>) {
        if let Some(t) = transfer {
            self.ttfb.saturating_record(micros(t.ttfb));
            self.bytes_sent += t.sent;
            self.bytes_received += t.received;
        }
    }

    /// Adds another thread's records into this one.
    pub fn merge(&mut self, other: &Recorder) {
        for (mine, theirs) in self.by_name.iter_mut().zip(&other.by_name) {
            mine.merge(theirs);
        }
        if self.timeline.len() < other.timeline.len() {
            self.timeline.resize(other.timeline.len(), 0);
        }
        for (mine, theirs) in self.timeline.iter_mut().zip(&other.timeline) {
            *mine += theirs;
        }
        self.send_lag.add(&other.send_lag).expect("same bounds");
        self.connect.add(&other.connect).expect("same bounds");
        self.late += other.late;
        self.dropped += other.dropped;
        self.retried += other.retried;
        self.within_slo += other.within_slo;
        self.ttfb.add(&other.ttfb).expect("same bounds");
        self.bytes_sent += other.bytes_sent;
        self.bytes_received += other.bytes_received;
        for slow in &other.slowest {
            self.keep_slow(slow.clone());
        }
        if let (Some(mine), Some(theirs)) = (&mut self.intervals, &other.intervals) {
            for (key, h) in theirs {
                mine.entry(*key)
                    .or_insert_with(new_histogram)
                    .add(h)
                    .expect("same bounds");
            }
        }
    }

    /// All named requests added together.
    pub fn total(&self) -> NamedStats {
        let mut total = NamedStats::new();
        for s in &self.by_name {
            total.merge(s);
        }
        total
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_slowest_requests_are_kept_slowest_first_across_threads() {
        let slow = |us: u64| SlowRequest {
            latency_us: us,
            name: "/x".into(),
            request: format!("GET /x/{us}"),
            outcome: "200".into(),
            at_ms: 0,
        };
        let (mut a, mut b) = (Recorder::new(1, false), Recorder::new(1, false));
        for us in 1..=30 {
            let r = if us % 2 == 0 { &mut a } else { &mut b };
            if r.is_among_slowest(Duration::from_micros(us)) {
                r.keep_slow(slow(us));
            }
        }
        assert!(
            !a.is_among_slowest(Duration::from_micros(1)),
            "a full list refuses a fast one"
        );
        a.merge(&b);
        let kept: Vec<u64> = a.slowest.iter().map(|s| s.latency_us).collect();
        assert_eq!(kept, (21..=30).rev().collect::<Vec<_>>());
    }

    #[test]
    fn merged_percentiles_are_exact_not_averaged() {
        // Thread A saw 99 fast requests, thread B one slow one. Averaging their p99s would say ~5 ms;
        // the truth over all 100 requests is that p99 is fast and only the max is slow.
        let mut a = Recorder::new(1, false);
        let mut b = Recorder::new(1, false);
        for _ in 0..99 {
            a.record(
                0,
                Outcome::Status(200),
                Duration::from_micros(100),
                None,
                Duration::ZERO,
            );
        }
        b.record(0, Outcome::Status(200), Duration::from_millis(10), None, Duration::ZERO);
        a.merge(&b);
        let t = a.total();
        assert_eq!(t.requests, 100);
        assert_eq!(t.latency.value_at_quantile(0.99), 100);
        assert!(t.latency.max() >= 9_990);
    }

    #[test]
    fn errors_are_4xx_5xx_and_transport_failures() {
        let mut r = Recorder::new(1, false);
        for outcome in [
            Outcome::Status(200),
            Outcome::Status(304),
            Outcome::Status(404),
            Outcome::Status(503),
            Outcome::Timeout,
            Outcome::Connect,
        ] {
            r.record(0, outcome, Duration::from_millis(1), None, Duration::ZERO);
        }
        let t = r.total();
        assert_eq!((t.requests, t.errors), (6, 4));
        assert_eq!(t.outcomes["timeout"], 1);
    }

    #[test]
    fn goodput_counts_only_successes_within_the_objective_across_threads() {
        let slo = Some(Duration::from_millis(100));
        let mut a = Recorder::new(1, false).with_slo(slo);
        let mut b = Recorder::new(1, false).with_slo(slo);
        let at = Duration::ZERO;
        a.record(0, Outcome::Status(200), Duration::from_millis(50), None, at); // good
        a.record(0, Outcome::Status(200), Duration::from_millis(100), None, at); // good: at the objective
        a.record(0, Outcome::Status(200), Duration::from_millis(101), None, at); // too slow
        b.record(0, Outcome::Status(503), Duration::from_millis(1), None, at); // fast, but failed
        b.record(0, Outcome::Status(200), Duration::from_millis(2), None, at); // good
        a.merge(&b);
        assert_eq!(a.within_slo, 3);
        let without = Recorder::new(1, false);
        assert_eq!(without.slo_us, None);
    }

    #[test]
    fn timeline_counts_per_second() {
        let mut r = Recorder::new(1, false);
        r.tick(Duration::from_millis(10));
        r.tick(Duration::from_millis(2500));
        assert_eq!(r.timeline, vec![1, 0, 1]);
    }
}
