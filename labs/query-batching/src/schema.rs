//! The schema and the seed data, identical on SQLite and PostgreSQL.
//!
//! The data is computed by SQL from row numbers, not drawn at random, so every machine and both databases hold
//! exactly the same rows, and a test can know that order 1000 belongs to a deleted customer:
//!
//! | table | rows | notes |
//! |---|---|---|
//! | `customers` | 10,000 | ids 1..=10000 |
//! | `orders` | 200,000 | ~20 per customer; every 1000th order's customer was deleted (GDPR erasure) |
//! | `items` | 500,000 | order *i* has *i* mod 6 items (0 to 5); indexed by `order_id`, as any foreign key should be |
//!
//! `orders` has no index but its primary key: the listing lesson adds one (see [`crate::listing`]).

/// Customers in the seed.
pub const CUSTOMERS: i64 = 10_000;
/// Orders in the seed.
pub const ORDERS: i64 = 200_000;
/// Every order whose id is a multiple of this belongs to a customer that no longer exists.
pub const DELETED_CUSTOMER_EVERY: i64 = 1_000;

/// Items of order `id` in the seed.
pub fn items_of(order_id: i64) -> i64 {
    order_id % 6
}

/// Tables on SQLite.
pub const SQLITE_TABLES: &str = "
    CREATE TABLE IF NOT EXISTS customers (
        id INTEGER PRIMARY KEY, name TEXT NOT NULL, email TEXT NOT NULL, country TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS orders (
        id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL, status TEXT NOT NULL,
        total_cents INTEGER NOT NULL, created_at INTEGER NOT NULL);
    CREATE TABLE IF NOT EXISTS items (
        id INTEGER PRIMARY KEY, order_id INTEGER NOT NULL, sku TEXT NOT NULL,
        quantity INTEGER NOT NULL, price_cents INTEGER NOT NULL);
    CREATE INDEX IF NOT EXISTS items_by_order ON items (order_id);";

/// Tables on PostgreSQL (in the lab's own schema).
pub const POSTGRES_TABLES: &str = "
    CREATE TABLE IF NOT EXISTS customers (
        id BIGINT PRIMARY KEY, name TEXT NOT NULL, email TEXT NOT NULL, country TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS orders (
        id BIGINT PRIMARY KEY, customer_id BIGINT NOT NULL, status TEXT NOT NULL,
        total_cents BIGINT NOT NULL, created_at BIGINT NOT NULL);
    CREATE TABLE IF NOT EXISTS items (
        id BIGINT PRIMARY KEY, order_id BIGINT NOT NULL, sku TEXT NOT NULL,
        quantity BIGINT NOT NULL, price_cents BIGINT NOT NULL);
    CREATE INDEX IF NOT EXISTS items_by_order ON items (order_id);";

/// Column values of customer `i`.
const CUSTOMER: &str = "i, 'customer ' || i, 'customer' || i || '@example.com',
    CASE i % 4 WHEN 0 THEN 'DE' WHEN 1 THEN 'FR' WHEN 2 THEN 'PT' ELSE 'NL' END";

/// Column values of order `i`.
const ORDER: &str = "i,
    CASE WHEN i % 1000 = 0 THEN 1000000 + i ELSE (i * 7919) % 10000 + 1 END,
    CASE i % 4 WHEN 0 THEN 'placed' WHEN 1 THEN 'paid' WHEN 2 THEN 'shipped' ELSE 'delivered' END,
    (i * 104729) % 50000 + 100,
    1767225600 + i * 300";

/// Column values of item `j` (1..=5) of order `o`, kept when `j <= o.id % 6`.
const ITEM: &str = "o.id * 10 + j, o.id, 'SKU-' || ((o.id * 31 + j) % 2000), (o.id + j) % 3 + 1,
    (o.id * 13 + j * 101) % 9000 + 100";

/// The seed, on SQLite (recursive CTEs count the rows).
pub fn sqlite_seed() -> String {
    format!(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {CUSTOMERS})
         INSERT INTO customers SELECT {CUSTOMER} FROM n;
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {ORDERS})
         INSERT INTO orders SELECT {ORDER} FROM n;
         WITH RECURSIVE k(j) AS (SELECT 1 UNION ALL SELECT j + 1 FROM k WHERE j < 5)
         INSERT INTO items SELECT {ITEM} FROM orders o, k WHERE j <= o.id % 6;"
    )
}

/// The seed, on PostgreSQL (`generate_series` counts the rows; bigint so `i * 104729` cannot overflow).
pub fn postgres_seed() -> String {
    format!(
        "INSERT INTO customers SELECT {CUSTOMER} FROM generate_series(1::bigint, {CUSTOMERS}) AS n(i);
         INSERT INTO orders SELECT {ORDER} FROM generate_series(1::bigint, {ORDERS}) AS n(i);
         INSERT INTO items SELECT {ITEM} FROM orders o CROSS JOIN generate_series(1::bigint, 5) AS k(j)
          WHERE j <= o.id % 6;"
    )
}
