//! Product pages, fixed: a miss that finds the page already being built waits for that build instead of starting
//! its own — single-flight, which moka's `get_with` does for every key.
//!
//! `get`, then build, then `insert` is a race with the clock: from the moment an entry expires until the first
//! rebuild is stored, *every* request for it misses, and each sends its own query. At 400 views a second of one
//! product and a 50 ms build, that is about twenty identical queries every half second, on a database with four
//! connections: they queue, the page waits up to a quarter of a second, and the database's load is twenty times
//! what the cache was bought to save — a cache stampede (or thundering herd). The sale's first second is the worst:
//! the cache is cold and everything misses at once.
//!
//! `get_with(key, init)` runs `init` once per key at a time; concurrent callers for the same key wait for its
//! result. One query per expiry, whatever the traffic. (The caching lab builds single-flight by hand and measures
//! it; Node.js code does the same by caching the *promise* of the page instead of the page.) What this does not
//! cover is load beyond what even one query a key can serve — many distinct products at once: that needs admission
//! control, a bounded queue that answers 429 or 503 when full (the clustering and worker-pools labs).

use std::sync::Arc;
use std::time::Duration;

use moka::future::Cache;

use super::support::build_product_page;

/// How long a built page is served from the cache.
pub const PAGE_TTL: Duration = Duration::from_millis(500);

/// The product pages, cached; one per process, shared by every request.
pub struct ProductPages {
    cache: Cache<u32, Arc<String>>,
}

impl Default for ProductPages {
    fn default() -> Self {
        ProductPages::new()
    }
}

impl ProductPages {
    /// An empty cache of up to 10,000 pages.
    pub fn new() -> ProductPages {
        ProductPages {
            cache: Cache::builder().max_capacity(10_000).time_to_live(PAGE_TTL).build(),
        }
    }

    // ANCHOR: fix
    /// Product `id`'s page: from the cache, or built once however many ask for it at the same time.
    pub async fn page(&self, id: u32) -> Arc<String> {
        self.cache
            .get_with(id, async move { Arc::new(build_product_page(id).await) })
            .await
    }
    // ANCHOR_END: fix
}
