//! Exercise: the rate limiter a cluster's primary keeps for every worker.
//!
//! A limit kept in each worker's memory is an allowance per worker: the clustering lab's `state-local` variant
//! admits twice the limit with two workers. Kept in one place — the primary, asked over IPC — it is exact, as long
//! as that one place is itself correct when many requests ask at once. That is this exercise.
//!
//! Implement [`RateLimiter`] so that:
//!
//! 1. `admit(key, now)` admits at most `limit` requests per key in a window of `window` (a fixed window: the first
//!    request of a key opens it, and it lasts `window` from then);
//! 2. once `now` is `window` or more after the window began, the next request opens a new window with a fresh count;
//! 3. keys are independent;
//! 4. many threads may call `admit` at once, and exactly `limit` of them are admitted — never more;
//! 5. a limit of 0 admits nothing.
//!
//! The lab runs your limiter in the primary with `--variant exercise`; `cargo xtask check clustering` runs the
//! grader and then a cluster with your limiter beside the reference, in the same run: the same number admitted,
//! at no more than 2× the reference's CPU per request. The tests alone:
//! `cargo test -p exercise-clustering --test exercise_rate_limiter`.
//!
//! Hints: a `Mutex<HashMap<String, (Instant, u32)>>` is enough; decide and count under one lock.

use std::time::{Duration, Instant};

/// At most `limit` requests per key per window, shared by every thread (every worker's request, in the lab).
pub struct RateLimiter {
    // TODO: the limit, the window, and per key when its window began and how many it has counted.
}

impl RateLimiter {
    /// A limiter admitting `limit` requests per key in each `window`.
    pub fn new(limit: u32, window: Duration) -> RateLimiter {
        // TODO
        let _ = (limit, window);
        todo!("implement RateLimiter::new")
    }

    /// Counts a request for `key` at `now`; `true` if it is within the limit of the key's current window.
    pub fn admit(&self, key: &str, now: Instant) -> bool {
        // TODO: find the key's window, start a new one if it is over, then admit if the count is below the limit.
        let _ = (key, now);
        todo!("implement RateLimiter::admit")
    }
}
