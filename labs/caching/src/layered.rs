//! Two cache layers: L1 in each server process (moka: nanoseconds, but private), L2 in Redis (a network round trip,
//! but shared by every process and surviving restarts). A read tries L1, then L2, then the database, filling the
//! layers on the way back. This is the layout of the seed guide's `node-cache` + `ioredis` service.
//!
//! # Invalidation across processes
//!
//! A write in one process must not leave stale copies in the others' L1. After writing the database, the process
//! deletes the keys from Redis and *publishes* them on a Redis pub/sub channel; every process subscribes and drops
//! those keys from its L1. (Redis pub/sub is fire-and-forget: a process that is disconnected at that moment misses
//! the message, which is why L1's TTL is kept short — it bounds how long a missed invalidation can last.)
//!
//! # Redis going away
//!
//! L2 is an optimisation, not a dependency: every Redis call has a short timeout, and a failure is counted
//! (`l2_errors`), logged (the first, then every 1000th), and the read falls through to the database. After a
//! failure L2 is skipped for a second (a minimal circuit breaker): without it every miss would wait out a timeout
//! while Redis is down. Requests keep succeeding on L1 + database; the connection manager reconnects when Redis is
//! back, and the next probe after the pause finds it.

use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::StreamExt;
use lab_kit::Counters;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::AsyncCommands;

use crate::store::{moka_cache, CacheConfig, LoadError};

/// The pub/sub channel invalidations travel on.
pub const CHANNEL: &str = "lab-caching:invalidate";
/// Longest wait for one Redis call before falling back to the database.
const REDIS_TIMEOUT: Duration = Duration::from_millis(100);

/// L1 (moka) over L2 (Redis).
#[derive(Clone)]
pub struct Layered {
    l1: moka::future::Cache<String, Bytes>,
    redis: ConnectionManager,
    l2_ttl: Duration,
    counters: Counters,
    errors_logged: Arc<AtomicU64>,
    /// After a failure, L2 is skipped until this instant.
    paused_until: Arc<Mutex<Option<Instant>>>,
}

/// How long L2 is skipped after a failure.
const PAUSE_AFTER_FAILURE: Duration = Duration::from_secs(1);

impl Layered {
    /// Connects to Redis at `url` and starts listening for invalidations. L1 keeps values for `config.ttl`, L2 for
    /// ten times that: L2 is shared, so it is worth keeping longer.
    pub async fn connect(url: &str, config: CacheConfig, counters: Counters) -> anyhow::Result<Layered> {
        let client = redis::Client::open(url)?;
        let manager_config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(1)))
            .set_response_timeout(Some(REDIS_TIMEOUT));
        let redis = ConnectionManager::new_with_config(client.clone(), manager_config).await?;
        let layered = Layered {
            l1: moka_cache(config, counters.clone()),
            redis,
            l2_ttl: config.ttl * 10,
            counters,
            errors_logged: Arc::new(AtomicU64::new(0)),
            paused_until: Arc::new(Mutex::new(None)),
        };
        let subscribed = Arc::new(AtomicBool::new(false));
        tokio::spawn(listen_for_invalidations(client, layered.l1.clone(), subscribed.clone()));
        // Serve only once invalidations from other processes can reach us.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        while !subscribed.load(Ordering::Acquire) && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        anyhow::ensure!(
            subscribed.load(Ordering::Acquire),
            "could not subscribe to {CHANNEL} on {url}"
        );
        Ok(layered)
    }

    // ANCHOR: layered_get
    /// L1, then L2, then `load`; fills the layers on the way back. Concurrent L1 misses of a key in this process
    /// share one L2 lookup and at most one load (moka's `try_get_with`).
    pub async fn get<F, Fut>(&self, key: String, load: F) -> Result<Bytes, LoadError>
    where
        F: FnOnce() -> Fut + Send,
        Fut: Future<Output = Result<Bytes, LoadError>> + Send + 'static,
    {
        let missed_l1 = AtomicBool::new(false);
        let result = self
            .l1
            .try_get_with(key.clone(), async {
                missed_l1.store(true, Ordering::Relaxed);
                if let Some(value) = self.l2_get(&key).await {
                    self.counters.incr("l2_hits");
                    return Ok(value);
                }
                self.counters.incr("misses");
                let value = load().await?;
                self.l2_set(&key, &value).await;
                Ok(value)
            })
            .await
            .map_err(|e: Arc<LoadError>| (*e).clone());
        if !missed_l1.load(Ordering::Relaxed) {
            self.counters.incr("l1_hits");
        }
        result
    }
    // ANCHOR_END: layered_get

    /// Drops `keys` here, in Redis, and (by a published message) in every other process's L1.
    pub async fn invalidate(&self, keys: &[String]) {
        for key in keys {
            self.l1.invalidate(key).await;
        }
        let mut redis = self.redis.clone();
        let result: redis::RedisResult<()> = async {
            redis.del::<_, ()>(keys).await?;
            for key in keys {
                redis.publish::<_, _, ()>(CHANNEL, key).await?;
            }
            Ok(())
        }
        .await;
        if let Err(e) = result {
            self.l2_failed("invalidate", &e);
        }
    }

    fn l2_paused(&self) -> bool {
        matches!(*self.paused_until.lock().unwrap(), Some(until) if Instant::now() < until)
    }

    async fn l2_get(&self, key: &str) -> Option<Bytes> {
        if self.l2_paused() {
            return None;
        }
        let mut redis = self.redis.clone();
        match tokio::time::timeout(REDIS_TIMEOUT, redis.get::<_, Option<Vec<u8>>>(key)).await {
            Ok(Ok(value)) => value.map(Bytes::from),
            Ok(Err(e)) => {
                self.l2_failed("GET", &e);
                None
            }
            Err(_) => {
                self.l2_failed("GET", &"timed out");
                None
            }
        }
    }

    async fn l2_set(&self, key: &str, value: &Bytes) {
        if self.l2_paused() {
            return;
        }
        let mut redis = self.redis.clone();
        let set = redis.set_ex::<_, _, ()>(key, value.as_ref(), self.l2_ttl.as_secs().max(1));
        match tokio::time::timeout(REDIS_TIMEOUT, set).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => self.l2_failed("SET", &e),
            Err(_) => self.l2_failed("SET", &"timed out"),
        }
    }

    fn l2_failed(&self, operation: &str, error: &dyn std::fmt::Display) {
        self.counters.incr("l2_errors");
        *self.paused_until.lock().unwrap() = Some(Instant::now() + PAUSE_AFTER_FAILURE);
        let n = self.errors_logged.fetch_add(1, Ordering::Relaxed);
        if n.is_multiple_of(1000) {
            eprintln!(
                "warning: Redis {operation} failed ({error}); serving from L1 and the database ({} failures so far)",
                n + 1
            );
        }
    }
}

/// Subscribes to [`CHANNEL`] and drops each named key from `l1`; resubscribes after a disconnect.
async fn listen_for_invalidations(
    client: redis::Client,
    l1: moka::future::Cache<String, Bytes>,
    subscribed: Arc<AtomicBool>,
) {
    loop {
        match client.get_async_pubsub().await {
            Ok(mut pubsub) => {
                if pubsub.subscribe(CHANNEL).await.is_ok() {
                    subscribed.store(true, Ordering::Release);
                    let mut messages = pubsub.on_message();
                    while let Some(message) = messages.next().await {
                        if let Ok(key) = message.get_payload::<String>() {
                            l1.invalidate(&key).await;
                        }
                    }
                }
            }
            Err(e) => eprintln!("warning: Redis pub/sub unavailable ({e}); retrying"),
        }
        // Back off before reconnecting, so a Redis that is down is not hammered.
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}
