//! The filtered, sorted listing — a customer's latest orders above an amount — with and without the index it
//! needs.
//!
//! Without an index on `orders.customer_id`, the database reads **every** order (100,000 rows) to find one
//! customer's ten, then sorts them: SQLite's plan says `SCAN orders` and `USE TEMP B-TREE FOR ORDER BY`,
//! PostgreSQL's says `Seq Scan on orders` under a `Sort`. With the index the plan becomes `SEARCH orders USING
//! INDEX orders_esr (customer_id=?)` (PostgreSQL: `Index Scan … using orders_esr`), reads only that customer's
//! rows, already in date order, and needs no sort.
//!
//! # The ESR rule
//!
//! MongoDB's guidance for compound indexes — **E**quality, then **S**ort, then **R**ange — holds for B-tree indexes
//! in SQL too. The query is `customer_id = ?` (equality), `ORDER BY created_at` (sort), `total_cents >= ?` (range),
//! so the index is `(customer_id, created_at, total_cents)`: equality first narrows to one contiguous run of the
//! index; inside it, entries are already sorted by date, so `LIMIT 20` stops after 20 matches; the range column last
//! is checked from the index itself. Put the range before the sort column and the database must sort again.
//!
//! - Pro: An index turns a scan that grows with the table into a seek that grows with the answer.
//! - Con: Every index costs on every write and in memory; index the queries you run, not every column.

// ANCHOR: query
/// The listing on SQLite.
pub const SQLITE_QUERY: &str = "SELECT id, customer_id, status, total_cents, created_at FROM orders
     WHERE customer_id = ?1 AND total_cents >= ?2 ORDER BY created_at DESC LIMIT ?3";

/// The index that serves it: Equality, Sort, Range.
pub const CREATE_INDEX: &str = "CREATE INDEX IF NOT EXISTS orders_esr ON orders (customer_id, created_at, total_cents)";
// ANCHOR_END: query

/// The same listing on PostgreSQL.
pub const POSTGRES_QUERY: &str = "SELECT id, customer_id, status, total_cents, created_at FROM orders
     WHERE customer_id = $1 AND total_cents >= $2 ORDER BY created_at DESC LIMIT $3";

/// Removes it (the `no-index` variant; PostgreSQL keeps schema changes between runs).
pub const DROP_INDEX: &str = "DROP INDEX IF EXISTS orders_esr";

/// Orders per listing.
pub const LIMIT: i64 = 20;
/// The customer and amount the plan is explained for (plans do not depend on them here).
pub const EXAMPLE_CUSTOMER: i64 = 42;
/// See [`EXAMPLE_CUSTOMER`].
pub const EXAMPLE_MIN_TOTAL: i64 = 20_000;
