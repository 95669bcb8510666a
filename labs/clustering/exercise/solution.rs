//! The reference rate limiter: what the clustering lab's primary keeps for every worker with `--state primary`,
//! and what `cargo xtask exercise clustering --solution` shows. Drop-in for the starter (`exercise/src/lib.rs`).
//!
//! A fixed window per key: the first request of a key starts its window, and up to `limit` requests are admitted
//! until `window` has passed; then the next request starts a new window. The check and the count happen under one
//! lock acquisition, so two workers asking at once can never both take the last slot.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// At most `limit` requests per key per window, shared by every thread (every worker's request, in the lab).
pub struct RateLimiter {
    limit: u32,
    window: Duration,
    /// Per key: when its current window began, and how many requests it has counted.
    windows: Mutex<HashMap<String, (Instant, u32)>>,
}

impl RateLimiter {
    /// A limiter admitting `limit` requests per key in each `window`.
    pub fn new(limit: u32, window: Duration) -> RateLimiter {
        RateLimiter {
            limit,
            window,
            windows: Mutex::new(HashMap::new()),
        }
    }

    // ANCHOR: admit
    /// Counts a request for `key` at `now`; `true` if it is within the limit of the key's current window.
    pub fn admit(&self, key: &str, now: Instant) -> bool {
        // One lock for the read, the decision and the write: split them and two threads can both read
        // "limit - 1", both admit, and the limit is exceeded. std's Mutex, not tokio's: it is never held across
        // an .await.
        let mut windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        let (began, count) = windows.entry(key.to_string()).or_insert((now, 0));
        if now.saturating_duration_since(*began) >= self.window {
            // The window is over: this request opens the next one.
            *began = now;
            *count = 0;
        }
        if *count >= self.limit {
            return false;
        }
        *count += 1;
        true
    }
    // ANCHOR_END: admit
}
