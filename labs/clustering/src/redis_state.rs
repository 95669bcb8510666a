//! `--state redis`: the rate limit and the sessions in Redis, where every worker — and every machine — sees the
//! same copy. This is the production answer; the primary's copy (`--state primary`) is the lab's way of showing the
//! same correctness without a server to install.
//!
//! The rate limit is a fixed window: `INCR` on a key named after the window (atomic, so two workers can never both
//! take the last slot), with an expiry so old windows clean themselves up. Keys carry the cluster's run prefix, so a
//! second run does not find the first one's counts.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use redis::aio::ConnectionManager;

/// A connection to Redis and the names this cluster uses there.
#[derive(Clone)]
pub struct RedisState {
    redis: ConnectionManager,
    prefix: String,
    limit: u32,
    window: Duration,
}

impl RedisState {
    /// Connects to `url`; keys start with `prefix`.
    pub async fn connect(url: &str, prefix: String, limit: u32, window: Duration) -> anyhow::Result<RedisState> {
        let client = redis::Client::open(url)?;
        let redis = tokio::time::timeout(Duration::from_secs(5), ConnectionManager::new(client))
            .await
            .map_err(|_| anyhow::anyhow!("no answer from Redis at {url} within 5 s"))??;
        Ok(RedisState {
            redis,
            prefix,
            limit,
            window: window.max(Duration::from_secs(1)),
        })
    }

    /// Counts a request for `key` in the current window; `Some(true)` if within the limit, `None` if Redis failed.
    pub async fn admit(&self, key: &str) -> Option<bool> {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
        let window = now.as_secs() / self.window.as_secs();
        let name = format!("{}:limit:{key}:{window}", self.prefix);
        let (count,): (u64,) = redis::pipe()
            .incr(&name, 1)
            .expire(&name, 2 * self.window.as_secs() as i64)
            .ignore()
            .query_async(&mut self.redis.clone())
            .await
            .ok()?;
        Some(count <= u64::from(self.limit))
    }

    /// Stores `user`'s session for an hour; `false` if Redis failed.
    pub async fn login(&self, user: &str) -> bool {
        let name = format!("{}:session:{user}", self.prefix);
        redis::cmd("SET")
            .arg(&name)
            .arg(1)
            .arg("EX")
            .arg(3600)
            .query_async::<()>(&mut self.redis.clone())
            .await
            .is_ok()
    }

    /// Whether `user` has a session; `None` if Redis failed.
    pub async fn has_session(&self, user: &str) -> Option<bool> {
        let name = format!("{}:session:{user}", self.prefix);
        redis::cmd("EXISTS")
            .arg(&name)
            .query_async::<bool>(&mut self.redis.clone())
            .await
            .ok()
    }
}
