//! The real-server backend: PostgreSQL through sqlx, used when `DATABASE_URL=postgres://…` is set.
//!
//! sqlx's `PgPool` is the connection pool (`--pool N` connections). Batch queries bind the whole key list as one
//! array parameter — `WHERE id = ANY($1)` — so the statement text never changes with the batch size and
//! PostgreSQL prepares it once per connection. (SQLite needs one `?` per key instead; see [`crate::sqlite`].)
//!
//! The lab keeps its tables in a schema of its own (`--schema`, default `query_batching`), set as every
//! connection's `search_path`, so it never touches anything else in the database. Seeding takes a transaction-level
//! advisory lock: two servers starting at once against an empty schema seed it once.

use std::collections::HashMap;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Executor, PgPool, Row};

use crate::db::DbError;
use crate::model::{Customer, Item, OrderRow, OrderView};
use crate::{rows, schema};

impl From<sqlx::Error> for DbError {
    fn from(e: sqlx::Error) -> Self {
        DbError(e.to_string())
    }
}

/// The pool.
#[derive(Clone)]
pub struct Postgres {
    pool: PgPool,
}

/// A schema name we can put in SQL text: lower-case letters, digits and underscores.
fn checked_schema(schema: &str) -> Result<&str, DbError> {
    let ok = !schema.is_empty()
        && schema.len() <= 63
        && schema
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && !schema.starts_with(|c: char| c.is_ascii_digit());
    if ok {
        Ok(schema)
    } else {
        Err(DbError(format!(
            "schema {schema:?}: use lower-case letters, digits and _ (at most 63, not starting with a digit)"
        )))
    }
}

impl Postgres {
    /// A pool of `pool` connections to `url`, in `schema`, created and seeded if needed.
    pub async fn connect(url: &str, schema: &str, pool: usize) -> Result<Postgres, DbError> {
        let db = Self::connect_lazy(url, schema, pool)?;
        db.seed(schema).await?;
        Ok(db)
    }

    /// A pool that connects on first use, without seeding: what a service looks like whose database went away.
    pub fn connect_lazy(url: &str, schema: &str, pool: usize) -> Result<Postgres, DbError> {
        let schema = checked_schema(schema)?.to_string();
        let options: PgConnectOptions = url
            .parse()
            .map_err(|e| DbError(format!("DATABASE_URL is not a PostgreSQL URL: {e}")))?;
        let set_path = format!("SET search_path TO {schema}");
        let pool = PgPoolOptions::new()
            .max_connections(pool.max(1) as u32)
            // A request waits this long for a connection, then gets a 503: fail fast when the database is down.
            .acquire_timeout(Duration::from_secs(2))
            .after_connect(move |connection, _| {
                let set_path = set_path.clone();
                Box::pin(async move {
                    connection.execute(set_path.as_str()).await?;
                    Ok(())
                })
            })
            .connect_lazy_with(options);
        Ok(Postgres { pool })
    }

    async fn seed(&self, schema: &str) -> Result<(), DbError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("SELECT pg_advisory_xact_lock(hashtext($1))")
            .bind(schema)
            .execute(&mut *tx)
            .await?;
        tx.execute(format!("CREATE SCHEMA IF NOT EXISTS {schema}").as_str())
            .await?;
        tx.execute(schema::POSTGRES_TABLES).await?;
        let existing: i64 = sqlx::query_scalar("SELECT count(*) FROM orders")
            .fetch_one(&mut *tx)
            .await?;
        let seeded = existing == 0;
        if seeded {
            tx.execute(schema::postgres_seed().as_str()).await?;
        }
        tx.commit().await?;
        if seeded {
            // Fresh statistics, or the planner guesses at table sizes.
            self.pool
                .execute("ANALYZE customers; ANALYZE orders; ANALYZE items")
                .await?;
        }
        Ok(())
    }

    /// A pooled connection. Each query below keeps it for `hold` after the query returns: the simulated network
    /// round trip, during which a real connection is busy too.
    async fn connection(&self) -> Result<sqlx::pool::PoolConnection<sqlx::Postgres>, DbError> {
        Ok(self.pool.acquire().await?)
    }

    pub(crate) async fn orders_after(&self, hold: Duration, after: i64, limit: i64) -> Result<Vec<OrderRow>, DbError> {
        let mut c = self.connection().await?;
        let rows = sqlx::query(
            "SELECT id, customer_id, status, total_cents, created_at FROM orders WHERE id > $1 ORDER BY id LIMIT $2",
        )
        .bind(after)
        .bind(limit)
        .fetch_all(&mut *c)
        .await?;
        round_trip(hold).await;
        rows.iter().map(|r| rows::order(r, 0)).collect()
    }

    pub(crate) async fn customer(&self, hold: Duration, id: i64) -> Result<Option<Customer>, DbError> {
        let mut c = self.connection().await?;
        let row = sqlx::query("SELECT id, name, email, country FROM customers WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *c)
            .await?;
        round_trip(hold).await;
        row.as_ref().map(|r| rows::customer(r, 0)).transpose()
    }

    pub(crate) async fn items_of(&self, hold: Duration, order_id: i64) -> Result<Vec<Item>, DbError> {
        let mut c = self.connection().await?;
        let rows = sqlx::query("SELECT id, sku, quantity, price_cents FROM items WHERE order_id = $1 ORDER BY id")
            .bind(order_id)
            .fetch_all(&mut *c)
            .await?;
        round_trip(hold).await;
        rows.iter().map(|r| rows::item(r, 0)).collect()
    }

    pub(crate) async fn customers(&self, hold: Duration, ids: Vec<i64>) -> Result<HashMap<i64, Customer>, DbError> {
        let mut c = self.connection().await?;
        let rows = sqlx::query("SELECT id, name, email, country FROM customers WHERE id = ANY($1)")
            .bind(&ids)
            .fetch_all(&mut *c)
            .await?;
        round_trip(hold).await;
        rows.iter().map(|r| rows::customer(r, 0).map(|c| (c.id, c))).collect()
    }

    pub(crate) async fn items_of_many(
        &self,
        hold: Duration,
        order_ids: Vec<i64>,
    ) -> Result<HashMap<i64, Vec<Item>>, DbError> {
        let mut c = self.connection().await?;
        let rows = sqlx::query(
            "SELECT order_id, id, sku, quantity, price_cents FROM items WHERE order_id = ANY($1) ORDER BY order_id, id",
        )
        .bind(&order_ids)
        .fetch_all(&mut *c)
        .await?;
        round_trip(hold).await;
        let found: Result<Vec<_>, _> = rows.iter().map(rows::item_of_order).collect();
        Ok(crate::db::group_items(found?))
    }

    pub(crate) async fn orders_joined(
        &self,
        hold: Duration,
        after: i64,
        limit: i64,
    ) -> Result<Vec<OrderView>, DbError> {
        let mut c = self.connection().await?;
        let rows = sqlx::query(crate::join::POSTGRES_PAGE)
            .bind(after)
            .bind(limit)
            .fetch_all(&mut *c)
            .await?;
        round_trip(hold).await;
        let flat: Result<Vec<_>, _> = rows.iter().map(rows::joined).collect();
        Ok(crate::join::group(flat?))
    }

    pub(crate) async fn customer_orders(
        &self,
        hold: Duration,
        customer_id: i64,
        min_total: i64,
    ) -> Result<Vec<OrderRow>, DbError> {
        let mut c = self.connection().await?;
        let rows = sqlx::query(crate::listing::POSTGRES_QUERY)
            .bind(customer_id)
            .bind(min_total)
            .bind(crate::listing::LIMIT)
            .fetch_all(&mut *c)
            .await?;
        round_trip(hold).await;
        rows.iter().map(|r| rows::order(r, 0)).collect()
    }

    pub(crate) async fn set_listing_index(&self, present: bool) -> Result<(), DbError> {
        let statement = if present {
            crate::listing::CREATE_INDEX
        } else {
            crate::listing::DROP_INDEX
        };
        self.pool.execute(statement).await?;
        self.pool.execute("ANALYZE orders").await?;
        Ok(())
    }

    pub(crate) async fn explain_listing(&self) -> Result<String, DbError> {
        let sql = crate::listing::POSTGRES_QUERY
            .replace("$1", &crate::listing::EXAMPLE_CUSTOMER.to_string())
            .replace("$2", &crate::listing::EXAMPLE_MIN_TOTAL.to_string())
            .replace("$3", &crate::listing::LIMIT.to_string());
        let rows = sqlx::query(&format!("EXPLAIN (COSTS OFF) {sql}"))
            .fetch_all(&self.pool)
            .await?;
        let lines: Result<Vec<String>, _> = rows.iter().map(|r| r.try_get::<String, _>(0)).collect();
        Ok(lines?
            .iter()
            .map(|l| l.trim().trim_start_matches("->").trim().to_string())
            .collect::<Vec<_>>()
            .join("; "))
    }

    pub(crate) async fn ping(&self) -> Result<(), DbError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }
}

/// The simulated round trip, while the connection is still held.
async fn round_trip(hold: Duration) {
    if !hold.is_zero() {
        tokio::time::sleep(hold).await;
    }
}
