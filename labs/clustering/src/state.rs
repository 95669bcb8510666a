//! The state the lab's routes share: a per-key rate limit and a set of logged-in users — kept in one process's
//! memory. Where that memory lives is the lesson:
//!
//! - `--state local`: each worker keeps its own. A user who logged in through worker 1 is a stranger to worker 2;
//!   a limit of L requests per window becomes N × L, one allowance per worker. The bug every first cluster has.
//! - `--state primary`: the workers ask the primary, which keeps the one copy (Node: `process.send` to the primary
//!   and a reply). Exact, at the cost of a round trip per request through one process.
//! - `--state redis`: the production answer, a shared store every worker and every machine sees
//!   ([`crate::redis_state`]).

use std::collections::HashSet;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Which rate limiter counts: the reference ([`crate::rate_limit`]) or the learner's (`exercise_clustering`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Limiter {
    /// The reference, `exercise/solution.rs`.
    Reference,
    /// Yours, `exercise/src/lib.rs`.
    Exercise,
}

/// What the state needs of a rate limiter: the reference and the learner's have the same method but are distinct
/// types.
pub trait Admit: Send + Sync {
    /// Counts a request for `key` at `now`; `true` if within the limit.
    fn admit(&self, key: &str, now: Instant) -> bool;
}

impl Admit for crate::rate_limit::RateLimiter {
    fn admit(&self, key: &str, now: Instant) -> bool {
        crate::rate_limit::RateLimiter::admit(self, key, now)
    }
}

impl Admit for exercise_clustering::RateLimiter {
    fn admit(&self, key: &str, now: Instant) -> bool {
        exercise_clustering::RateLimiter::admit(self, key, now)
    }
}

/// A fixed-window rate limit and a session set. The limiter locks its own map; the sessions sit behind a lock held
/// for one hash lookup and never across an `.await`, so `std::sync::Mutex` is the right lock (tokio's is for
/// holding a lock across an await).
pub struct State {
    limiter: Box<dyn Admit>,
    sessions: Mutex<HashSet<String>>,
}

impl State {
    /// At most `limit` requests per `window` per key, counted by the reference limiter.
    pub fn new(limit: u32, window: Duration) -> State {
        State::with(Limiter::Reference, limit, window)
    }

    /// The same, counted by `limiter`.
    pub fn with(limiter: Limiter, limit: u32, window: Duration) -> State {
        let limiter: Box<dyn Admit> = match limiter {
            Limiter::Reference => Box::new(crate::rate_limit::RateLimiter::new(limit, window)),
            Limiter::Exercise => Box::new(exercise_clustering::RateLimiter::new(limit, window)),
        };
        State {
            limiter,
            sessions: Mutex::default(),
        }
    }

    /// Counts a request for `key`; `true` if it is within the limit of the current window.
    pub fn admit(&self, key: &str) -> bool {
        self.limiter.admit(key, Instant::now())
    }

    /// Logs `user` in.
    pub fn login(&self, user: &str) {
        self.sessions.lock().unwrap().insert(user.to_string());
    }

    /// Whether `user` has logged in.
    pub fn has_session(&self, user: &str) -> bool {
        self.sessions.lock().unwrap().contains(user)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limit_is_per_key_and_per_window() {
        let state = State::new(2, Duration::from_secs(60));
        assert_eq!(
            [state.admit("a"), state.admit("a"), state.admit("a")],
            [true, true, false]
        );
        assert!(state.admit("b"), "another key has its own allowance");
        let short = State::new(1, Duration::ZERO);
        assert!(
            short.admit("a") && short.admit("a"),
            "a new window starts the count again"
        );
    }

    #[test]
    fn a_session_exists_once_logged_in() {
        let state = State::new(1, Duration::from_secs(1));
        assert!(!state.has_session("ada"));
        state.login("ada");
        assert!(state.has_session("ada"));
    }
}
