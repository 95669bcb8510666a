//! The database the service talks to, whichever it is, and the one place queries are counted.
//!
//! Every method is **one query**: it adds 1 to the `db_queries` counter, holds a pool connection while it runs,
//! and keeps it `--db-latency-ms` longer — the network round trip to a database server on another machine, which
//! is what makes N+1 expensive. (On loopback PostgreSQL a round trip is ~50 µs; across a data centre 0.5–1 ms; the
//! default of 1 ms is the latter.) With an exact count per page, tests can assert 1 + 2N, 3 and 1 queries.
//!
//! | backend | when | batching |
//! |---|---|---|
//! | [`Sqlite`] | by default: embedded, in memory, seeded at start | `IN (?, ?, …)` |
//! | [`Postgres`] | `DATABASE_URL=postgres://…` | `= ANY($1)` with an array |

use std::collections::HashMap;
use std::time::Duration;

use lab_kit::Counters;

use crate::model::{Customer, Item, OrderRow, OrderView};
pub use crate::postgres::Postgres;
pub use crate::sqlite::Sqlite;

/// A query that failed; the service answers 503 with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("database: {0}")]
pub struct DbError(pub String);

/// Groups `(order_id, item)` rows (sorted by order, then item) into each order's items: the batched items query's
/// answer, the same on both backends.
pub fn group_items(rows: Vec<(i64, Item)>) -> HashMap<i64, Vec<Item>> {
    let mut grouped: HashMap<i64, Vec<Item>> = HashMap::new();
    for (order_id, item) in rows {
        grouped.entry(order_id).or_default().push(item);
    }
    grouped
}

/// Which database.
#[derive(Clone)]
pub enum Backend {
    /// Embedded SQLite.
    Sqlite(Sqlite),
    /// A PostgreSQL server.
    Postgres(Postgres),
}

/// The database, with the query counter and the simulated round trip.
#[derive(Clone)]
pub struct Db {
    backend: Backend,
    latency: Duration,
    counters: Counters,
}

/// Calls the same method on whichever backend, after counting one query.
macro_rules! one_query {
    ($self:ident . $method:ident ( $($arg:expr),* )) => {{
        $self.counters.incr("db_queries");
        match &$self.backend {
            Backend::Sqlite(db) => db.$method($self.latency, $($arg),*).await,
            Backend::Postgres(db) => db.$method($self.latency, $($arg),*).await,
        }
    }};
}

impl Db {
    /// Wraps a backend; every query holds its connection `latency` longer.
    pub fn new(backend: Backend, latency: Duration, counters: Counters) -> Db {
        Db {
            backend,
            latency,
            counters,
        }
    }

    /// `sqlite` or `postgres`.
    pub fn backend_name(&self) -> &'static str {
        match self.backend {
            Backend::Sqlite(_) => "sqlite",
            Backend::Postgres(_) => "postgres",
        }
    }

    /// Up to `limit` orders with an id above `after`, in id order.
    pub async fn orders_after(&self, after: i64, limit: i64) -> Result<Vec<OrderRow>, DbError> {
        one_query!(self.orders_after(after, limit))
    }

    /// One customer by id.
    pub async fn customer(&self, id: i64) -> Result<Option<Customer>, DbError> {
        one_query!(self.customer(id))
    }

    /// One order's items.
    pub async fn items_of(&self, order_id: i64) -> Result<Vec<Item>, DbError> {
        one_query!(self.items_of(order_id))
    }

    /// Many customers by id, in one query; absent ids are absent from the map.
    pub async fn customers(&self, ids: Vec<i64>) -> Result<HashMap<i64, Customer>, DbError> {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        one_query!(self.customers(ids))
    }

    /// Many orders' items, in one query, grouped by order id (orders without items are absent).
    pub async fn items_of_many(&self, order_ids: Vec<i64>) -> Result<HashMap<i64, Vec<Item>>, DbError> {
        if order_ids.is_empty() {
            return Ok(HashMap::new());
        }
        one_query!(self.items_of_many(order_ids))
    }

    /// A whole page — orders, customers, items — in one JOIN.
    pub async fn orders_joined(&self, after: i64, limit: i64) -> Result<Vec<OrderView>, DbError> {
        one_query!(self.orders_joined(after, limit))
    }

    /// The filtered, sorted listing: a customer's latest orders of at least `min_total`.
    pub async fn customer_orders(&self, customer_id: i64, min_total: i64) -> Result<Vec<OrderRow>, DbError> {
        one_query!(self.customer_orders(customer_id, min_total))
    }

    /// Creates (or drops) the listing's index. Not counted: done once, at start.
    pub async fn set_listing_index(&self, present: bool) -> Result<(), DbError> {
        match &self.backend {
            Backend::Sqlite(db) => db.set_listing_index(present).await,
            Backend::Postgres(db) => db.set_listing_index(present).await,
        }
    }

    /// The database's own plan for the listing query, one step per `;`. Not counted.
    pub async fn explain_listing(&self) -> Result<String, DbError> {
        match &self.backend {
            Backend::Sqlite(db) => db.explain_listing().await,
            Backend::Postgres(db) => db.explain_listing().await,
        }
    }

    /// Whether the database answers (`/healthz`). Not counted.
    pub async fn ping(&self) -> Result<(), DbError> {
        match &self.backend {
            Backend::Sqlite(db) => db.ping().await,
            Backend::Postgres(db) => db.ping().await,
        }
    }
}
