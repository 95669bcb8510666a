//! The orders database as the service creates it at start-up, and the query behind the order-history page (a
//! customer's 20 most recent orders). SQLite here; the same SQL runs on PostgreSQL or MySQL.
//!
//! Drill `db-degradation` — `cargo xtask incident start db-degradation` shows how this behaves under load.

/// The tables, created when the service starts.
pub const SCHEMA: &str = "
CREATE TABLE orders (
    id          INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,  -- seconds since the epoch
    status      TEXT    NOT NULL,
    total_cents INTEGER NOT NULL
);
";

/// A customer's 20 most recent orders, newest first (`?1` is the customer).
pub const ORDER_HISTORY: &str = "
SELECT id, customer_id, created_at, status, total_cents
FROM orders
WHERE customer_id = ?1
ORDER BY created_at DESC
LIMIT 20
";
