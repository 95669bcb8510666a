//! The embedded backend: SQLite (bundled, so a fresh machine needs nothing) behind a small connection pool.
//!
//! rusqlite is synchronous, so every query runs on tokio's blocking thread pool (`spawn_blocking`) with a
//! connection taken from the pool; it never stalls the async runtime's threads. The pool's size caps concurrent
//! queries, as a database server's connection limit does.
//!
//! Batch queries use `WHERE id IN (?, ?, …)` with one placeholder per key: SQLite has no arrays. The statement
//! text differs per batch size, and `prepare_cached` keeps the compiled statement for each size it has seen.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rusqlite::{params, params_from_iter, Connection, OpenFlags, Row};
use tokio::sync::Semaphore;

use crate::db::DbError;
use crate::model::{Customer, Item, OrderRow, OrderView};
use crate::{rows, schema};

impl From<rusqlite::Error> for DbError {
    fn from(e: rusqlite::Error) -> Self {
        DbError(e.to_string())
    }
}

/// The pool.
#[derive(Clone)]
pub struct Sqlite {
    connections: Arc<Mutex<Vec<Connection>>>,
    permits: Arc<Semaphore>,
}

impl Sqlite {
    /// A private in-memory database with `pool` connections, seeded.
    pub fn open(pool: usize) -> Result<Sqlite, DbError> {
        // Several connections must see one in-memory database: a named, shared-cache memory URI does that.
        let name = format!(
            "file:lab-query-batching-{}-{}?mode=memory&cache=shared",
            std::process::id(),
            unique()
        );
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_URI;
        let mut connections = Vec::new();
        for _ in 0..pool.max(1) {
            let c = Connection::open_with_flags(&name, flags)?;
            c.busy_timeout(Duration::from_secs(5))?;
            connections.push(c);
        }
        let seeding = &connections[0];
        seeding.execute_batch(schema::SQLITE_TABLES)?;
        let existing: i64 = seeding.query_row("SELECT count(*) FROM orders", [], |r| r.get(0))?;
        if existing == 0 {
            seeding.execute_batch(&format!("BEGIN; {} COMMIT;", schema::sqlite_seed()))?;
            seeding.execute_batch("ANALYZE")?;
        }
        Ok(Sqlite {
            permits: Arc::new(Semaphore::new(connections.len())),
            connections: Arc::new(Mutex::new(connections)),
        })
    }

    /// Runs `query` on a pooled connection on the blocking thread pool; the connection stays taken for `hold`
    /// after the query (the simulated network round trip). The same small pool as the caching lab's `db.rs`, on
    /// purpose: labs never depend on each other, so each carries its own.
    async fn run<T: Send + 'static>(
        &self,
        hold: Duration,
        query: impl FnOnce(&Connection) -> Result<T, DbError> + Send + 'static,
    ) -> Result<T, DbError> {
        // The permit and the connection travel with the blocking task, which returns both when the query is
        // done: a cancelled request (its client hung up) cannot leak a connection.
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
        let pool = self.connections.clone();
        tokio::task::spawn_blocking(move || {
            let result = query(&connection);
            if !hold.is_zero() {
                std::thread::sleep(hold);
            }
            pool.lock().unwrap_or_else(|e| e.into_inner()).push(connection);
            drop(permit);
            result
        })
        .await
        .map_err(|e| DbError(format!("query task failed: {e}")))?
    }

    pub(crate) async fn orders_after(&self, hold: Duration, after: i64, limit: i64) -> Result<Vec<OrderRow>, DbError> {
        self.run(hold, move |c| {
            let mut s = c.prepare_cached(
                "SELECT id, customer_id, status, total_cents, created_at FROM orders WHERE id > ?1 ORDER BY id LIMIT ?2",
            )?;
            let found = all(s.query(params![after, limit])?, |r| rows::order(r, 0))?;
            Ok(found)
        })
        .await
    }

    pub(crate) async fn customer(&self, hold: Duration, id: i64) -> Result<Option<Customer>, DbError> {
        self.run(hold, move |c| {
            let mut s = c.prepare_cached("SELECT id, name, email, country FROM customers WHERE id = ?1")?;
            let found = all(s.query(params![id])?, |r| rows::customer(r, 0))?;
            Ok(found.into_iter().next())
        })
        .await
    }

    pub(crate) async fn items_of(&self, hold: Duration, order_id: i64) -> Result<Vec<Item>, DbError> {
        self.run(hold, move |c| {
            let mut s =
                c.prepare_cached("SELECT id, sku, quantity, price_cents FROM items WHERE order_id = ?1 ORDER BY id")?;
            let found = all(s.query(params![order_id])?, |r| rows::item(r, 0))?;
            Ok(found)
        })
        .await
    }

    pub(crate) async fn customers(&self, hold: Duration, ids: Vec<i64>) -> Result<HashMap<i64, Customer>, DbError> {
        self.run(hold, move |c| {
            let sql = format!(
                "SELECT id, name, email, country FROM customers WHERE id IN ({})",
                placeholders(ids.len())
            );
            let mut s = c.prepare_cached(&sql)?;
            let found = all(s.query(params_from_iter(&ids))?, |r| rows::customer(r, 0))?;
            Ok(found.into_iter().map(|c| (c.id, c)).collect())
        })
        .await
    }

    pub(crate) async fn items_of_many(
        &self,
        hold: Duration,
        order_ids: Vec<i64>,
    ) -> Result<HashMap<i64, Vec<Item>>, DbError> {
        self.run(hold, move |c| {
            let sql = format!(
                "SELECT order_id, id, sku, quantity, price_cents FROM items WHERE order_id IN ({}) ORDER BY order_id, id",
                placeholders(order_ids.len())
            );
            let mut s = c.prepare_cached(&sql)?;
            let found = all(s.query(params_from_iter(&order_ids))?, rows::item_of_order)?;
            Ok(crate::db::group_items(found))
        })
        .await
    }

    pub(crate) async fn orders_joined(
        &self,
        hold: Duration,
        after: i64,
        limit: i64,
    ) -> Result<Vec<OrderView>, DbError> {
        self.run(hold, move |c| {
            let mut s = c.prepare_cached(crate::join::SQLITE_PAGE)?;
            let found = all(s.query(params![after, limit])?, rows::joined)?;
            Ok(crate::join::group(found))
        })
        .await
    }

    pub(crate) async fn customer_orders(
        &self,
        hold: Duration,
        customer_id: i64,
        min_total: i64,
    ) -> Result<Vec<OrderRow>, DbError> {
        self.run(hold, move |c| {
            let mut s = c.prepare_cached(crate::listing::SQLITE_QUERY)?;
            let found = all(s.query(params![customer_id, min_total, crate::listing::LIMIT])?, |r| {
                rows::order(r, 0)
            })?;
            Ok(found)
        })
        .await
    }

    pub(crate) async fn set_listing_index(&self, present: bool) -> Result<(), DbError> {
        self.run(Duration::ZERO, move |c| {
            c.execute_batch(if present {
                crate::listing::CREATE_INDEX
            } else {
                crate::listing::DROP_INDEX
            })?;
            // Statements compiled before the change keep their old plan; start afresh.
            c.flush_prepared_statement_cache();
            Ok(())
        })
        .await?;
        // The other connections' cached statements were compiled against the old schema: SQLite notices the schema
        // change and re-prepares them (with the new plan) the next time they run.
        Ok(())
    }

    pub(crate) async fn explain_listing(&self) -> Result<String, DbError> {
        self.run(Duration::ZERO, move |c| {
            let mut s = c.prepare(&format!("EXPLAIN QUERY PLAN {}", crate::listing::SQLITE_QUERY))?;
            let steps = s.query_map(
                params![
                    crate::listing::EXAMPLE_CUSTOMER,
                    crate::listing::EXAMPLE_MIN_TOTAL,
                    crate::listing::LIMIT
                ],
                |r| r.get::<_, String>(3),
            )?;
            Ok(steps.collect::<Result<Vec<_>, _>>()?.join("; "))
        })
        .await
    }

    pub(crate) async fn ping(&self) -> Result<(), DbError> {
        self.run(Duration::ZERO, |c| Ok(c.query_row("SELECT 1", [], |_| Ok(()))?))
            .await
    }
}

fn placeholders(n: usize) -> String {
    vec!["?"; n.max(1)].join(", ")
}

/// Maps every row of a result with `f`.
fn all<'s, T>(mut found: rusqlite::Rows<'s>, f: impl Fn(&Row<'s>) -> Result<T, DbError>) -> Result<Vec<T>, DbError> {
    let mut out = Vec::new();
    while let Some(row) = found.next()? {
        out.push(f(row)?);
    }
    Ok(out)
}

fn unique() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}
