//! The state the lab's routes share: a per-key rate limit and a set of logged-in users — kept in one process's
//! memory. Where that memory lives is the lesson:
//!
//! - `--state local`: each worker keeps its own. A user who logged in through worker 1 is a stranger to worker 2;
//!   a limit of L requests per window becomes N × L, one allowance per worker. The bug every first cluster has.
//! - `--state primary`: the workers ask the primary, which keeps the one copy (Node: `process.send` to the primary
//!   and a reply). Exact, at the cost of a round trip per request through one process.
//! - `--state redis`: the production answer, a shared store every worker and every machine sees
//!   ([`crate::redis_state`]).

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A fixed-window rate limit and a session set, behind one lock: every operation is a few hash lookups, held for
/// nanoseconds and never across an `.await`, so `std::sync::Mutex` is the right lock (tokio's is for holding a
/// lock across an await).
pub struct State {
    limit: u32,
    window: Duration,
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    windows: HashMap<String, (Instant, u32)>,
    sessions: HashSet<String>,
}

impl State {
    /// At most `limit` requests per `window` per key.
    pub fn new(limit: u32, window: Duration) -> State {
        State {
            limit,
            window,
            inner: Mutex::default(),
        }
    }

    /// Counts a request for `key`; `true` if it is within the limit of the current window.
    pub fn admit(&self, key: &str) -> bool {
        let now = Instant::now();
        let mut inner = self.inner.lock().unwrap();
        let entry = inner.windows.entry(key.to_string()).or_insert((now, 0));
        if now.duration_since(entry.0) >= self.window {
            *entry = (now, 0);
        }
        entry.1 += 1;
        entry.1 <= self.limit
    }

    /// Logs `user` in.
    pub fn login(&self, user: &str) {
        self.inner.lock().unwrap().sessions.insert(user.to_string());
    }

    /// Whether `user` has logged in.
    pub fn has_session(&self, user: &str) -> bool {
        self.inner.lock().unwrap().sessions.contains(user)
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
