//! The account page, fixed: the five calls overlap, each has a deadline, a service that keeps failing is left alone
//! for a while (a circuit breaker), and a missing optional part leaves a gap instead of failing the page.
//!
//! Called one after another, the page's latency is the *sum* of five services' and its availability their
//! *product*: one slow dependency (800 ms here) makes every page slow, one flaky one (a 500 in five) fails a page
//! in five. Four changes, each for one of those:
//!
//! - **Overlap** (`tokio::join!`): the page takes as long as its slowest call, not the sum — Node.js's
//!   `Promise.all`.
//! - **A deadline per call** (`tokio::time::timeout`, 100 ms): the slowest call is bounded. A deadline without
//!   overlap would still add up five of them.
//! - **Degrade**: an optional part that failed or timed out is `None`; only the profile can fail the page.
//! - **A circuit breaker** per service: after [`FAILURES_TO_OPEN`] failures in a row the service is not called for
//!   [`COOL_DOWN`]; then one trial call decides (half-open). Without it every page still waits the full deadline
//!   for a service known to be down, and keeps sending it traffic while it tries to recover.
//!
//! The breaker is written out here because it is the lesson; in production, `failsafe` (Rust) or opossum (Node.js)
//! implement the same three states, and a service mesh can do it outside the process.

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

use super::support::{call_service, AccountPage, DownstreamError, SERVICES};

/// How long the page waits for any one service.
pub const CALL_TIMEOUT: Duration = Duration::from_millis(100);

/// Failures in a row that open a service's breaker.
pub const FAILURES_TO_OPEN: u32 = 5;

/// How long an open breaker keeps calls away before letting one trial call through.
pub const COOL_DOWN: Duration = Duration::from_secs(5);

/// One service's breaker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Breaker {
    /// Calls go through; this many have failed in a row.
    Closed { failures: u32 },
    /// No call goes through until then.
    Open { until: Instant },
    /// One trial call is under way; the others are refused until it ends.
    HalfOpen,
}

impl Breaker {
    /// Whether a call may go through now (and if this one is the trial, marks it).
    fn admit(&mut self, now: Instant) -> bool {
        match *self {
            Breaker::Closed { .. } => true,
            Breaker::Open { until } if now >= until => {
                *self = Breaker::HalfOpen;
                true
            }
            Breaker::Open { .. } | Breaker::HalfOpen => false,
        }
    }

    /// Records how an admitted call ended.
    fn record(&mut self, succeeded: bool, now: Instant) {
        *self = match (*self, succeeded) {
            (_, true) => Breaker::Closed { failures: 0 },
            (Breaker::Closed { failures }, false) if failures + 1 < FAILURES_TO_OPEN => {
                Breaker::Closed { failures: failures + 1 }
            }
            (_, false) => Breaker::Open { until: now + COOL_DOWN },
        };
    }
}

// ANCHOR: fix
/// How the page reaches the five services; one per process, shared by every request.
#[derive(Debug)]
pub struct Downstream {
    /// One breaker per service, in `SERVICES` order. A std mutex: held for a few instructions, never across an
    /// `.await`.
    breakers: [Mutex<Breaker>; 5],
}

impl Default for Downstream {
    fn default() -> Self {
        Downstream::new()
    }
}

impl Downstream {
    /// A client for the five services, every breaker closed.
    pub fn new() -> Downstream {
        Downstream {
            breakers: std::array::from_fn(|_| Mutex::new(Breaker::Closed { failures: 0 })),
        }
    }

    /// Builds `user`'s account page: the five calls at once, each bounded, the optional ones allowed to fail.
    pub async fn account_page(&self, user: u32) -> Result<AccountPage, DownstreamError> {
        let (profile, orders, recommendations, inventory, reviews) = tokio::join!(
            self.call(0, user),
            self.call(1, user),
            self.call(2, user),
            self.call(3, user),
            self.call(4, user),
        );
        Ok(AccountPage {
            profile: profile?,
            orders: orders.ok(),
            recommendations: recommendations.ok(),
            inventory: inventory.ok(),
            reviews: reviews.ok(),
        })
    }

    /// One call through the service's breaker, with a deadline.
    async fn call(&self, index: usize, user: u32) -> Result<String, DownstreamError> {
        let service = SERVICES[index];
        let breaker = &self.breakers[index];
        if !breaker.lock().expect("breaker lock").admit(Instant::now()) {
            return Err(DownstreamError::Skipped { service });
        }
        let result = match tokio::time::timeout(CALL_TIMEOUT, call_service(service, user)).await {
            Ok(answer) => answer,
            Err(_) => Err(DownstreamError::TimedOut { service }),
        };
        breaker
            .lock()
            .expect("breaker lock")
            .record(result.is_ok(), Instant::now());
        result
    }
}
// ANCHOR_END: fix

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_breaker_opens_after_five_failures_and_lets_one_trial_through_after_the_cool_down() {
        let start = Instant::now();
        let mut breaker = Breaker::Closed { failures: 0 };
        for _ in 0..FAILURES_TO_OPEN {
            assert!(breaker.admit(start));
            breaker.record(false, start);
        }
        assert!(!breaker.admit(start + COOL_DOWN / 2), "open");
        assert!(breaker.admit(start + COOL_DOWN), "the trial");
        assert!(!breaker.admit(start + COOL_DOWN), "one trial at a time");
        breaker.record(false, start + COOL_DOWN);
        assert!(
            !breaker.admit(start + COOL_DOWN * 3 / 2),
            "a failed trial opens it again"
        );
        assert!(breaker.admit(start + COOL_DOWN * 2));
        breaker.record(true, start + COOL_DOWN * 2);
        assert_eq!(breaker, Breaker::Closed { failures: 0 });
    }
}
