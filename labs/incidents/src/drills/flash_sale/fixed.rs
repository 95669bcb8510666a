//! Product pages, fixed twice: a miss that finds the page already being built waits for that build instead of
//! starting its own (single-flight), and a build that cannot get a database connection soon enough is refused at
//! once instead of queueing (load shedding: the server answers 429).
//!
//! **The stampede.** `get`, then build, then `insert` is a race with the clock: from the moment an entry expires
//! until the first rebuild is stored, *every* request for it misses, and each sends its own query. At 400 views a
//! second of one product and a 50 ms build, that is twenty identical queries every half second, on a database
//! with four connections. `get_with(key, init)` — here `try_get_with`, since a build can fail — runs `init` once
//! per key at a time; concurrent callers for the same key wait for its result, an error included. One query per
//! expiry, whatever the traffic. (The caching lab builds single-flight by hand and measures it; Node.js code does
//! the same by caching the *promise* of the page instead of the page.)
//!
//! **The saturation.** Single-flight caps the queries at one per key, not the keys: the sale's other thousand
//! products are each viewed too rarely to stay cached, and their builds alone ask for more than the database's
//! four connections can serve (about 100 a second against 80). A pool that lets a build wait 30 s for a
//! connection turns that excess into a queue that only grows: every page — the deal's rebuild too — waits behind
//! it, and soon no view is answered within its objective. A wait budget turns the excess into quick refusals
//! instead: a build that has not got a connection within [`CONNECTION_WAIT_BUDGET`] is refused, its view answered
//! 429 with `Retry-After` at once, and every build that *is* admitted still meets the objective (at most 30 ms
//! waiting + 50 ms building, with 20 ms to spare for the rest of the request's path). The database keeps working
//! at its capacity either way; shedding decides whether that capacity is spent on views still worth answering.
//! Node.js services do the same with a bounded queue in front of the pool (`toobusy-js`, `p-queue` with a timeout,
//! or the pool's own `acquireTimeoutMillis`).

use std::sync::Arc;
use std::time::Duration;

use moka::future::Cache;

use super::support::{build_product_page, CatalogueBusy};

/// How long a built page is served from the cache.
pub const PAGE_TTL: Duration = Duration::from_millis(500);

/// The longest a build waits for a catalogue connection: the 100 ms objective, less the 50 ms build, less 20 ms
/// for everything else a view goes through (a busy machine's scheduling, the network, the response).
pub const CONNECTION_WAIT_BUDGET: Duration = Duration::from_millis(30);

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
    /// Product `id`'s page: from the cache, or built once however many ask for it at the same time — or `Err` at
    /// once when the catalogue has no connection for it within the budget (the server answers 429).
    pub async fn page(&self, id: u32) -> Result<Arc<String>, CatalogueBusy> {
        self.cache
            .try_get_with(id, async move {
                build_product_page(id, CONNECTION_WAIT_BUDGET).await.map(Arc::new)
            })
            .await
            .map_err(|shared| *shared)
    }
    // ANCHOR_END: fix
}
