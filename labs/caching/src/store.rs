//! The variants side by side: one `get(key, load)` and one `invalidate(keys)`, six ways.
//!
//! Every variant is *cache-aside*: the handler asks the cache; on a miss the cache calls the handler's `load`
//! (a database query), stores the result, and returns it. Writes go to the database first and then *invalidate*
//! the affected keys, so the next read loads fresh data — simpler and safer than updating cached copies in place.
//!
//! | variant | on a miss | concurrent misses of one key |
//! |---|---|---|
//! | `naive` | no cache at all: every request queries | — |
//! | `lru` | hand-built LRU + TTL ([`crate::lru`]) | each one queries: a stampede |
//! | `moka` | moka, the production crate (`try_get_with`) | moka coalesces them: one query |
//! | `single-flight` | hand-built single-flight + TTL ([`crate::single_flight`]) | one query, the others wait |
//! | `exercise` | the learner's single-flight (`labs/caching/exercise`) | as implemented |
//! | `layered` | L1 moka in-process, L2 Redis shared by every process ([`crate::layered`]) | one per process |

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use lab_kit::Counters;

use crate::layered::Layered;
use crate::lru::Lru;
use crate::single_flight::SingleFlight;

/// Counter names on `/stats`.
pub const COUNTERS: &[&str] = &[
    "db_queries",
    "db_writes",
    "l1_hits",
    "l2_hits",
    "misses",
    "coalesced",
    "evictions",
    "l2_errors",
    "invalidations",
];

/// Why a value could not be loaded. Cloneable: with single-flight every waiter gets a copy.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LoadError {
    /// No such product or category: a 404, never cached.
    #[error("not found")]
    NotFound,
    /// The database failed: a 503.
    #[error("{0}")]
    Db(String),
}

/// Which caching strategy the server uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Variant {
    /// No cache.
    Naive,
    /// Hand-built LRU with TTL, no stampede protection.
    Lru,
    /// moka.
    Moka,
    /// Hand-built single-flight with TTL.
    SingleFlight,
    /// The learner's single-flight.
    Exercise,
    /// L1 moka + L2 Redis (needs REDIS_URL).
    Layered,
}

/// Settings shared by the variants.
#[derive(Debug, Clone, Copy)]
pub struct CacheConfig {
    /// How long a cached value stays valid.
    pub ttl: Duration,
    /// Most entries held in process (LRU, moka, L1).
    pub capacity: usize,
}

enum Kind {
    None,
    Lru(Mutex<Lru<String, Bytes>>),
    Moka(moka::future::Cache<String, Bytes>),
    SingleFlight(SingleFlight<String, Bytes, LoadError>),
    Exercise(exercise_caching::SingleFlight<String, Bytes, LoadError>),
    Layered(Layered),
}

/// The cache in front of the database.
pub struct Cache {
    kind: Kind,
    counters: Counters,
}

impl Cache {
    /// A cache of `variant`. `layered` needs a connected [`Layered`], built by [`Layered::connect`].
    pub fn new(variant: Variant, config: CacheConfig, counters: Counters, layered: Option<Layered>) -> Cache {
        let kind = match variant {
            Variant::Naive => Kind::None,
            // Why a std Mutex around the whole LRU: every get reorders the list, so even reads write. The lock is
            // held for a hash lookup and a few pointer updates, never across an await.
            Variant::Lru => Kind::Lru(Mutex::new(Lru::new(config.capacity, config.ttl))),
            Variant::Moka => Kind::Moka(moka_cache(config, counters.clone())),
            Variant::SingleFlight => Kind::SingleFlight(SingleFlight::new(config.ttl)),
            Variant::Exercise => Kind::Exercise(exercise_caching::SingleFlight::new(config.ttl)),
            Variant::Layered => Kind::Layered(layered.expect("the layered variant needs a Redis connection")),
        };
        Cache { kind, counters }
    }

    /// The value of `key`, from the cache or from `load`.
    pub async fn get<F, Fut>(&self, key: String, load: F) -> Result<Bytes, LoadError>
    where
        F: FnOnce() -> Fut + Send,
        Fut: Future<Output = Result<Bytes, LoadError>> + Send + 'static,
    {
        let c = &self.counters;
        match &self.kind {
            Kind::None => {
                c.incr("misses");
                load().await
            }
            // ANCHOR: lru_get
            Kind::Lru(lru) => {
                if let Some(value) = lru.lock().unwrap().get(&key, Instant::now()) {
                    c.incr("l1_hits");
                    return Ok(value);
                }
                // Between this miss and the insert below, every other request for the key misses too.
                c.incr("misses");
                let value = load().await?;
                if lru.lock().unwrap().insert(key, value.clone(), Instant::now()).is_some() {
                    c.incr("evictions");
                }
                Ok(value)
            }
            // ANCHOR_END: lru_get
            Kind::Moka(cache) => {
                let loaded = AtomicBool::new(false);
                let result = cache
                    .try_get_with(key, async {
                        loaded.store(true, Ordering::Relaxed);
                        load().await
                    })
                    .await
                    .map_err(|e: Arc<LoadError>| (*e).clone());
                // moka does not say whether a caller waited on another's load: those count as hits here.
                c.incr(if loaded.load(Ordering::Relaxed) {
                    "misses"
                } else {
                    "l1_hits"
                });
                result
            }
            // The reference single-flight and the learner's share one contract, written once in `Coalescing`.
            Kind::SingleFlight(cache) => cache.coalesce(key, load, c).await,
            Kind::Exercise(cache) => cache.coalesce(key, load, c).await,
            Kind::Layered(layered) => layered.get(key, load).await,
        }
    }

    /// Forgets `keys` after a write (and, for `layered`, tells every other process to forget them too).
    pub async fn invalidate(&self, keys: &[String]) {
        self.counters.add("invalidations", keys.len() as u64);
        match &self.kind {
            Kind::None => {}
            Kind::Lru(lru) => {
                let mut lru = lru.lock().unwrap();
                for key in keys {
                    lru.remove(key);
                }
            }
            Kind::Moka(cache) => {
                for key in keys {
                    cache.invalidate(key).await;
                }
            }
            Kind::SingleFlight(cache) => cache.forget(keys),
            Kind::Exercise(cache) => cache.forget(keys),
            Kind::Layered(layered) => layered.invalidate(keys).await,
        }
    }
}

/// The exercise's contract as the store uses it. The reference single-flight and the learner's have the same API
/// but are distinct types (the reference is `solution.rs` compiled into this lab), so the adapter is written once,
/// by [`coalescing!`], for both: the `exercise` variant differs from `single-flight` only in whose code runs.
trait Coalescing {
    /// `get_or_load`, counting where the value came from.
    fn coalesce<F, Fut>(
        &self,
        key: String,
        load: F,
        counters: &Counters,
    ) -> impl Future<Output = Result<Bytes, LoadError>>
    where
        F: FnOnce() -> Fut + Send,
        Fut: Future<Output = Result<Bytes, LoadError>> + Send + 'static;
    /// `invalidate` of each key.
    fn forget(&self, keys: &[String]);
}

/// Implements [`Coalescing`] for a module that exports the exercise's `SingleFlight` and `Source`.
macro_rules! coalescing {
    ($($module:ident)::+) => {
        impl Coalescing for $($module)::+::SingleFlight<String, Bytes, LoadError> {
            async fn coalesce<F, Fut>(&self, key: String, load: F, counters: &Counters) -> Result<Bytes, LoadError>
            where
                F: FnOnce() -> Fut + Send,
                Fut: Future<Output = Result<Bytes, LoadError>> + Send + 'static,
            {
                use $($module)::+::Source;
                let (value, source) = self.get_or_load(key, load).await?;
                counters.incr(match source {
                    Source::Hit => "l1_hits",
                    Source::Loaded => "misses",
                    Source::Coalesced => "coalesced",
                });
                Ok(value)
            }

            fn forget(&self, keys: &[String]) {
                keys.iter().for_each(|key| self.invalidate(key))
            }
        }
    };
}
coalescing!(crate::single_flight);
coalescing!(exercise_caching);

/// A moka cache bounded to `capacity` entries with a TTL; size evictions are counted.
pub fn moka_cache(config: CacheConfig, counters: Counters) -> moka::future::Cache<String, Bytes> {
    moka::future::Cache::builder()
        .max_capacity(config.capacity as u64)
        .time_to_live(config.ttl)
        .eviction_listener(move |_key, _value, cause| {
            if cause == moka::notification::RemovalCause::Size {
                counters.incr("evictions");
            }
        })
        .build()
}
