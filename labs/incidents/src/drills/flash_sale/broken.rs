//! Product pages: each is built from the catalogue database (50 ms on one of its four connections) and cached for
//! half a second, so a popular product costs the database one query every half second instead of one per view. A
//! build waits for a free connection as long as the pool's default allows.
//!
//! Drill `flash-sale` — `cargo xtask incident start flash-sale` shows how this behaves under load.

use std::sync::Arc;
use std::time::Duration;

use moka::future::Cache;

use super::support::{build_product_page, CatalogueBusy, POOL_DEFAULT_ACQUIRE_TIMEOUT};

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

    /// Product `id`'s page: from the cache, or built and cached. `Err` when the catalogue had no connection for
    /// it in time (the server answers 429).
    pub async fn page(&self, id: u32) -> Result<Arc<String>, CatalogueBusy> {
        if let Some(page) = self.cache.get(&id).await {
            return Ok(page);
        }
        let page = Arc::new(build_product_page(id, POOL_DEFAULT_ACQUIRE_TIMEOUT).await?);
        self.cache.insert(id, page.clone()).await;
        Ok(page)
    }
}
