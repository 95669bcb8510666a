//! Single-flight `get_or_load` with a time-to-live: the reference solution of the caching exercise, and the code
//! the caching lab's `single-flight` variant runs (the lab mounts this very file as its `single_flight` module).
//!
//! # How it works
//!
//! A slot per key holds either a fresh value with its expiry, or a load in flight. The first caller to miss puts a
//! `Loading` slot holding the receiving end of a `tokio::sync::watch` channel, spawns the load as its own task, and
//! waits on the channel like everyone else. Callers that miss while the slot is `Loading` clone the receiver and
//! wait: no second load. When the load finishes, the task stores the value (or, on failure, removes the slot, so
//! errors are never cached) and sends the result to every waiter.
//!
//! - Why `tokio::spawn`: if the load ran inside the first caller's future, dropping that future (a client
//!   disconnecting, a timeout) would cancel the load and leave every other waiter stuck on a channel that never
//!   sends. A spawned task finishes whoever is still listening.
//! - Why `std::sync::Mutex`, not tokio's: the lock is held for a hash-map lookup and never across an `.await`.
//!   A blocking mutex is then cheaper and cannot deadlock the runtime (see the tokio docs on "which kind of mutex").
//! - Why check `same_channel` before storing: a write may have invalidated the key while the load was in flight;
//!   its result is then already stale and must not be put back.
//!
//! Trade-off: the map is unbounded — expired values stay until their key is asked for again. The lab's `lru`
//! variant shows how to bound memory; production code would combine both (moka does).

use std::collections::HashMap;
use std::future::Future;
use std::hash::Hash;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::watch;
// tokio's clock, not std's: it is the same in production, and tests can pause and advance it.
use tokio::time::Instant;

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

type Flight<V, E> = watch::Receiver<Option<Result<V, E>>>;

enum Slot<V, E> {
    Ready { value: V, expires_at: Instant },
    Loading(Flight<V, E>),
}

/// A cache that loads each missing key once, however many callers ask for it at the same time.
pub struct SingleFlight<K, V, E> {
    ttl: Duration,
    slots: Arc<Mutex<HashMap<K, Slot<V, E>>>>,
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

    // ANCHOR: get_or_load
    /// Returns the cached value of `key`, or loads it with `load` — once, however many callers miss at once.
    pub async fn get_or_load<F, Fut>(&self, key: K, load: F) -> Result<(V, Source), E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<V, E>> + Send + 'static,
    {
        let (mut flight, source) = {
            let mut slots = self.slots.lock().unwrap();
            match slots.get(&key) {
                Some(Slot::Ready { value, expires_at }) if *expires_at > Instant::now() => {
                    return Ok((value.clone(), Source::Hit));
                }
                Some(Slot::Loading(flight)) => (flight.clone(), Source::Coalesced),
                _ => {
                    let (tx, rx) = watch::channel(None);
                    slots.insert(key.clone(), Slot::Loading(rx.clone()));
                    let (slots, ttl, mine, loading) = (self.slots.clone(), self.ttl, rx.clone(), load());
                    tokio::spawn(async move {
                        let result = loading.await;
                        {
                            let mut slots = slots.lock().unwrap();
                            // Only if our flight still owns the slot: an invalidation may have removed it meanwhile.
                            if matches!(slots.get(&key), Some(Slot::Loading(f)) if f.same_channel(&mine)) {
                                match &result {
                                    Ok(value) => {
                                        let expires_at = Instant::now() + ttl;
                                        slots.insert(
                                            key,
                                            Slot::Ready {
                                                value: value.clone(),
                                                expires_at,
                                            },
                                        );
                                    }
                                    Err(_) => {
                                        slots.remove(&key);
                                    }
                                }
                            }
                        }
                        let _ = tx.send(Some(result));
                    });
                    (rx, Source::Loaded)
                }
            }
        };
        let result = match flight.wait_for(Option::is_some).await {
            Ok(done) => done.clone().expect("waited for Some"),
            // The sender is gone without a result: the load panicked. Propagate it, as an inline load would.
            Err(_) => panic!("the load for this key panicked"),
        };
        result.map(|value| (value, source))
    }
    // ANCHOR_END: get_or_load

    /// Forgets `key`, so the next call loads it again (called after a write). A load in flight for it will not
    /// put the old value back when it finishes.
    pub fn invalidate(&self, key: &K) {
        self.slots.lock().unwrap().remove(key);
    }
}
