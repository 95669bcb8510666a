//! The plan of a run — what to send, where, how fast, over how many connections — and the arithmetic that turns it
//! into a schedule every thread can follow without talking to the others.

use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::rngs::SmallRng;
use rand::Rng;

use crate::scenario::RequestSpec;
use crate::schedule::{Arrivals, Mode};
use crate::target::Target;

/// Everything a run needs to know.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Where requests go.
    pub target: Target,
    /// What to send (weighted); at least one.
    pub requests: Vec<RequestSpec>,
    /// Open or closed model.
    pub mode: Mode,
    /// Connections in total (open model: the most requests in flight at once).
    pub connections: usize,
    /// Generator threads.
    pub threads: usize,
    /// Longest wait for one response.
    pub timeout: Duration,
    /// Open a new TCP connection for every request (`Connection: close`), timing the connect apart.
    pub new_connection_per_request: bool,
    /// Keep per-second histograms for an HdrHistogram interval log.
    pub keep_intervals: bool,
    /// A latency objective: when set, the report counts the successful requests that met it (goodput).
    pub slo: Option<Duration>,
    /// How arrivals are spaced in the open model (even, or Poisson at the same average rate).
    pub arrivals: Arrivals,
    /// The open model's shortest gap between two sends of a thread's pacer ([`crate::pacer::DEFAULT_PACING`]).
    pub pacing: Duration,
    /// Completed requests so far, for a progress bar; the engine only adds to it.
    pub progress: Arc<AtomicU64>,
    /// How fast each connection uploads and reads: a slow client, when limited.
    pub rates: crate::body::Rates,
}

impl Plan {
    /// A plan with the defaults of `cargo xtask load`: 16 connections, 1 thread, 10 s timeout, keep-alive.
    pub fn new(target: Target, requests: Vec<RequestSpec>, mode: Mode) -> Plan {
        Plan {
            target,
            requests,
            mode,
            connections: 16,
            threads: 1,
            timeout: Duration::from_secs(10),
            new_connection_per_request: false,
            keep_intervals: false,
            slo: None,
            arrivals: Arrivals::Even,
            pacing: crate::pacer::DEFAULT_PACING,
            progress: Arc::new(AtomicU64::new(0)),
            rates: crate::body::Rates::default(),
        }
    }
}

/// A run that could not be carried out.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// Every connection attempt failed and no response ever arrived.
    #[error("{addr} is unreachable: {errors} connection errors and not one response (last error: {last})")]
    Unreachable {
        /// The target.
        addr: std::net::SocketAddr,
        /// Connection attempts that failed.
        errors: u64,
        /// The last error seen.
        last: String,
    },
    /// The plan cannot run as given.
    #[error("invalid load plan: {0}")]
    Plan(String),
    /// The runtime could not start.
    #[error("starting the generator: {0}")]
    Io(#[from] std::io::Error),
}

impl Plan {
    /// Picks a request kind by weight.
    pub fn pick(&self, rng: &mut SmallRng) -> usize {
        pick(&self.requests, rng)
    }
}

/// Picks a request kind by weight.
pub(crate) fn pick(requests: &[RequestSpec], rng: &mut SmallRng) -> usize {
    if requests.len() == 1 {
        return 0;
    }
    let total: u32 = requests.iter().map(|r| r.weight).sum();
    let mut x = rng.random_range(0..total);
    for (i, r) in requests.iter().enumerate() {
        if x < r.weight {
            return i;
        }
        x -= r.weight;
    }
    requests.len() - 1
}

/// The global index of the `local`-th request of thread `k` of `threads`: the threads interleave on one schedule
/// (thread `k` sends every request `i` with `i % threads == k`), so none of them needs to ask the others.
pub(crate) fn global_index(local: u64, threads: usize, k: usize) -> u64 {
    local * threads as u64 + k as u64
}

/// When the open model stops waiting: the schedule's end plus a drain grace of a quarter of its length, at least
/// 1 s and at most 10 s. Requests not sent by then are dropped (counted, and recorded at the wait they had).
pub(crate) fn drain_deadline(t0: Instant, length: Duration) -> Instant {
    t0 + length + (length / 4).clamp(Duration::from_secs(1), Duration::from_secs(10))
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;

    #[test]
    fn threads_interleave_on_one_schedule_without_gaps_or_repeats() {
        let threads = 3;
        let mut seen: Vec<u64> = (0..threads)
            .flat_map(|k| (0..4).map(move |local| global_index(local, threads, k)))
            .collect();
        seen.sort();
        assert_eq!(seen, (0..12).collect::<Vec<_>>());
        assert_eq!(global_index(2, 3, 1), 7, "thread 1's third request is the 8th overall");
    }

    #[test]
    fn the_drain_grace_is_a_quarter_of_the_run_between_one_and_ten_seconds() {
        let t0 = Instant::now();
        let grace = |length: Duration| drain_deadline(t0, length) - t0 - length;
        assert_eq!(grace(Duration::from_secs(2)), Duration::from_secs(1));
        assert_eq!(grace(Duration::from_secs(20)), Duration::from_secs(5));
        assert_eq!(grace(Duration::from_secs(300)), Duration::from_secs(10));
    }

    #[test]
    fn requests_are_picked_in_proportion_to_their_weights() {
        let mut heavy = RequestSpec::get("/heavy").unwrap();
        heavy.weight = 3;
        let requests = vec![RequestSpec::get("/light").unwrap(), heavy];
        let mut rng = SmallRng::seed_from_u64(7);
        let mut counts = [0u32; 2];
        for _ in 0..40_000 {
            counts[pick(&requests, &mut rng)] += 1;
        }
        let share = f64::from(counts[1]) / 40_000.0;
        assert!(
            (share - 0.75).abs() < 0.01,
            "weight 3 of 4 picked {share:.3} of the time"
        );
        assert_eq!(pick(&requests[..1], &mut rng), 0, "one request is always picked");
    }
}
