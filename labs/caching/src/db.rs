//! The product catalogue: an embedded SQLite database (bundled, so a fresh machine needs nothing) and the queries
//! the service makes, behind a small connection pool.
//!
//! # Why the product page is slow, on purpose
//!
//! A product page shows the product's average rating, computed from the `reviews` table — which has **no index on
//! `product_id`**. Every page query therefore scans all reviews: real work, a few milliseconds of CPU, the kind of
//! query a cache exists for. On top, `--db-latency-ms` (default 20) holds the connection for that long per query,
//! standing in for the network round trip and queueing of a database server on another machine; it occupies a
//! pool connection but no CPU, as a remote database does.
//!
//! # Why a pool of blocking connections
//!
//! rusqlite is synchronous. Each query runs on tokio's blocking thread pool (`spawn_blocking`) with a connection
//! taken from the pool, so it never stalls the async runtime's threads. The pool's size caps concurrent queries;
//! when all connections are busy, queries queue for one — which is how a stampede turns into a pile-up.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use rusqlite::{params, Connection, OpenFlags, OptionalExtension};
use serde::Serialize;
use tokio::sync::Semaphore;

use lab_kit::Counters;

/// Products in the seeded catalogue (ids 1..=PRODUCTS).
pub const PRODUCTS: u32 = 10_000;
/// Categories (ids 1..=CATEGORIES).
pub const CATEGORIES: u32 = 50;
/// Reviews per product on average; the page query scans all of them.
pub const REVIEWS_PER_PRODUCT: u32 = 10;

/// A product page: what `GET /product/{id}` returns.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProductPage {
    /// Product id.
    pub id: u32,
    /// Name.
    pub name: String,
    /// Its category.
    pub category_id: u32,
    /// Price in cents.
    pub price_cents: i64,
    /// Mean of its reviews' stars (0 when it has none).
    pub rating: f64,
    /// How many reviews it has.
    pub reviews: u32,
}

/// One line of a category listing.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProductSummary {
    /// Product id.
    pub id: u32,
    /// Name.
    pub name: String,
    /// Price in cents.
    pub price_cents: i64,
}

/// A query that failed.
#[derive(Debug, Clone, thiserror::Error)]
#[error("database: {0}")]
pub struct DbError(pub String);

impl From<rusqlite::Error> for DbError {
    fn from(e: rusqlite::Error) -> Self {
        DbError(e.to_string())
    }
}

/// The pool.
#[derive(Clone)]
pub struct Db {
    connections: Arc<Mutex<Vec<Connection>>>,
    permits: Arc<Semaphore>,
    latency: Duration,
    counters: Counters,
}

impl Db {
    /// Opens (and seeds, if empty) the database at `path`, or a private in-memory one when `path` is `None`.
    /// `pool` connections; every query also waits `latency` (the simulated network and server time).
    pub fn open(path: Option<&str>, pool: usize, latency: Duration, counters: Counters) -> Result<Db, DbError> {
        // Several connections must see one in-memory database: a named, shared-cache memory URI does that.
        let name = match path {
            Some(p) => p.to_string(),
            None => format!(
                "file:lab-caching-{}-{}?mode=memory&cache=shared",
                std::process::id(),
                unique()
            ),
        };
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_URI;
        let mut connections = Vec::with_capacity(pool);
        for _ in 0..pool.max(1) {
            let c = Connection::open_with_flags(&name, flags)?;
            c.busy_timeout(Duration::from_secs(5))?;
            connections.push(c);
        }
        if path.is_some() {
            // A file shared by several server processes: WAL lets readers and one writer proceed together.
            connections[0].pragma_update(None, "journal_mode", "WAL")?;
        }
        seed(&mut connections[0])?;
        Ok(Db {
            permits: Arc::new(Semaphore::new(connections.len())),
            connections: Arc::new(Mutex::new(connections)),
            latency,
            counters,
        })
    }

    /// Runs `query` on a pooled connection on the blocking thread pool, counting it under `counter`.
    async fn run<T: Send + 'static>(
        &self,
        counter: &'static str,
        query: impl FnOnce(&Connection) -> Result<T, DbError> + Send + 'static,
    ) -> Result<T, DbError> {
        // The permit and the connection travel with the blocking task, which returns both when the query is
        // done: if this request is cancelled meanwhile (its client hung up), the connection still comes back to
        // the pool. (Returning it after the `.await` below leaked one connection per cancelled request, until a
        // permit found the pool empty.)
        let permit = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| DbError("pool closed".into()))?;
        let connection = self
            .connections
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .pop()
            .expect("a permit guarantees a free connection");
        self.counters.incr(counter);
        let (latency, pool) = (self.latency, self.connections.clone());
        tokio::task::spawn_blocking(move || {
            let result = query(&connection);
            // The connection stays busy for the simulated round trip, as it would waiting on a remote server.
            std::thread::sleep(latency);
            pool.lock().unwrap_or_else(|e| e.into_inner()).push(connection);
            drop(permit);
            result
        })
        .await
        .map_err(|e| DbError(format!("query task failed: {e}")))?
    }

    /// The product page, or `None` for an unknown id. One query (`db_queries`), scanning every review.
    pub async fn product_page(&self, id: u32) -> Result<Option<ProductPage>, DbError> {
        self.run("db_queries", move |c| {
            Ok(c.query_row(
                "SELECT p.id, p.name, p.category_id, p.price_cents, r.rating, r.reviews
                   FROM products p,
                        (SELECT coalesce(avg(stars), 0) AS rating, count(*) AS reviews
                           FROM reviews WHERE product_id = ?1) r
                  WHERE p.id = ?1",
                params![id],
                |row| {
                    Ok(ProductPage {
                        id: row.get(0)?,
                        name: row.get(1)?,
                        category_id: row.get(2)?,
                        price_cents: row.get(3)?,
                        rating: row.get(4)?,
                        reviews: row.get(5)?,
                    })
                },
            )
            .optional()?)
        })
        .await
    }

    /// The products of a category (indexed: cheap), or `None` for an unknown category. One query.
    pub async fn category_listing(&self, id: u32) -> Result<Option<Vec<ProductSummary>>, DbError> {
        self.run("db_queries", move |c| {
            let known: Option<u32> = c
                .query_row("SELECT id FROM categories WHERE id = ?1", params![id], |r| r.get(0))
                .optional()?;
            if known.is_none() {
                return Ok(None);
            }
            let mut statement =
                c.prepare_cached("SELECT id, name, price_cents FROM products WHERE category_id = ?1 ORDER BY id")?;
            let rows = statement.query_map(params![id], |row| {
                Ok(ProductSummary {
                    id: row.get(0)?,
                    name: row.get(1)?,
                    price_cents: row.get(2)?,
                })
            })?;
            Ok(Some(rows.collect::<Result<Vec<_>, _>>()?))
        })
        .await
    }

    /// Changes a product's price; returns its category, or `None` for an unknown id. One write (`db_writes`).
    pub async fn set_price(&self, id: u32, price_cents: i64) -> Result<Option<u32>, DbError> {
        self.run("db_writes", move |c| {
            let category: Option<u32> = c
                .query_row(
                    "UPDATE products SET price_cents = ?2 WHERE id = ?1 RETURNING category_id",
                    params![id, price_cents],
                    |r| r.get(0),
                )
                .optional()?;
            Ok(category)
        })
        .await
    }
}

fn unique() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// Creates the schema and fills it once: 50 categories, 10,000 products, ~100,000 reviews, always the same
/// (a fixed seed), so every run and every machine measures the same data.
fn seed(c: &mut Connection) -> Result<(), DbError> {
    c.execute_batch(
        "CREATE TABLE IF NOT EXISTS categories (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
         CREATE TABLE IF NOT EXISTS products (
             id INTEGER PRIMARY KEY, category_id INTEGER NOT NULL, name TEXT NOT NULL, price_cents INTEGER NOT NULL);
         CREATE INDEX IF NOT EXISTS products_by_category ON products (category_id);
         -- No index on reviews.product_id, on purpose: the page query scans every review.
         CREATE TABLE IF NOT EXISTS reviews (id INTEGER PRIMARY KEY, product_id INTEGER NOT NULL, stars INTEGER NOT NULL);",
    )?;
    let existing: u32 = c.query_row("SELECT count(*) FROM products", [], |r| r.get(0))?;
    if existing > 0 {
        return Ok(());
    }
    let mut rng = SmallRng::seed_from_u64(20261129);
    let tx = c.transaction()?;
    {
        let mut category = tx.prepare("INSERT INTO categories (id, name) VALUES (?1, ?2)")?;
        for id in 1..=CATEGORIES {
            category.execute(params![id, format!("category {id}")])?;
        }
        let mut product =
            tx.prepare("INSERT INTO products (id, category_id, name, price_cents) VALUES (?1, ?2, ?3, ?4)")?;
        for id in 1..=PRODUCTS {
            product.execute(params![
                id,
                rng.random_range(1..=CATEGORIES),
                format!("product {id}"),
                rng.random_range(100..100_000)
            ])?;
        }
        let mut review = tx.prepare("INSERT INTO reviews (product_id, stars) VALUES (?1, ?2)")?;
        for _ in 0..PRODUCTS * REVIEWS_PER_PRODUCT {
            review.execute(params![rng.random_range(1..=PRODUCTS), rng.random_range(1..=5)])?;
        }
    }
    tx.commit()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_cancelled_query_gives_its_connection_back() {
        let db = Db::open(None, 1, Duration::from_millis(100), Counters::new(&["db_queries"])).unwrap();
        // A client hangs up while its query holds the only connection: its future is dropped mid-query.
        let cancelled = tokio::time::timeout(Duration::from_millis(20), db.product_page(1)).await;
        assert!(
            cancelled.is_err(),
            "the query was still running when its caller gave up"
        );
        // The next query must get the connection back once the first one finishes, not find the pool empty.
        let next = tokio::time::timeout(Duration::from_secs(5), db.product_page(2)).await;
        assert!(matches!(next, Ok(Ok(Some(_)))), "{next:?}");
    }
}
