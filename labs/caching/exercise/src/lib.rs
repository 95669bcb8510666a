//! Exercise: single-flight `get_or_load` with a time-to-live.
//!
//! When a popular cache entry expires, hundreds of requests miss it at the same moment and each of them queries
//! the database for the same row: a *cache stampede*. Single-flight fixes it: the first caller to miss loads the
//! value, and every caller that misses the same key while that load is in flight waits for it instead of starting
//! its own. One load per key, however many callers.
//!
//! Implement [`SingleFlight::get_or_load`] and [`SingleFlight::invalidate`] so that:
//!
//! 1. a value loaded less than `ttl` ago is returned without calling `load` ([`Source::Hit`]);
//! 2. 1000 concurrent callers missing the same key cause exactly **one** call to `load`; one caller gets
//!    [`Source::Loaded`], the others [`Source::Coalesced`];
//! 3. a failed load is not cached: every caller waiting on it gets the error, and the next call loads again;
//! 4. a caller that is cancelled (its future dropped) while it is loading does not leave the others waiting
//!    forever: the load must finish without it;
//! 5. after `ttl`, the value is loaded again.
//!
//! Check your work with `cargo xtask check caching` (tests and a performance gate), or just the tests with
//! `cargo test -p exercise-caching --test exercise_single_flight`.
//!
//! Hints: a `std::sync::Mutex<HashMap<K, Slot>>` is fine here — it is held for a few instructions and never across
//! an `.await`. Waiting callers can share a `tokio::sync::watch` channel. `tokio::spawn` runs a future to the end
//! even when the caller that started it goes away. Read the time with `tokio::time::Instant::now()`: the tests
//! pause and advance tokio's clock to check the TTL without waiting.

use std::collections::HashMap;
use std::future::Future;
use std::hash::Hash;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Where a value came from, for the lab's counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Found in the cache, fresh.
    Hit,
    /// This caller ran the load.
    Loaded,
    /// This caller waited for another caller's load.
    Coalesced,
}

/// A cache that loads each missing key once, however many callers ask for it at the same time.
pub struct SingleFlight<K, V, E> {
    ttl: Duration,
    // TODO: decide what a slot holds: a fresh value with its expiry, or a load in flight that others can wait on.
    slots: Arc<Mutex<HashMap<K, (V, E)>>>,
}

impl<K, V, E> SingleFlight<K, V, E>
where
    K: Hash + Eq + Clone + Send + 'static,
    V: Clone + Send + Sync + 'static,
    E: Clone + Send + Sync + 'static,
{
    /// An empty cache whose values live for `ttl`.
    pub fn new(ttl: Duration) -> Self {
        SingleFlight {
            ttl,
            slots: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    /// Returns the cached value of `key`, or loads it with `load` — once, however many callers miss at once.
    pub async fn get_or_load<F, Fut>(&self, key: K, load: F) -> Result<(V, Source), E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<V, E>> + Send + 'static,
    {
        // TODO: return a fresh value; join a load in flight; or start one that outlives this caller.
        let _ = (&self.ttl, &self.slots, key, load);
        todo!("implement single-flight get_or_load")
    }

    /// Forgets `key`, so the next call loads it again (called after a write). A load in flight for it must not
    /// put the old value back when it finishes.
    pub fn invalidate(&self, key: &K) {
        // TODO: remove the slot.
        let _ = key;
        todo!("implement invalidate")
    }
}
