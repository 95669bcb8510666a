//! The orders database, fixed: an index that matches the history query — equality on the customer first, then the
//! order the page sorts by — so the database reads 20 index entries instead of every order ever placed.
//!
//! Without it the query is `SCAN orders` + `USE TEMP B-TREE FOR ORDER BY`: every row read, the customer's kept,
//! sorted, 20 returned. Its cost grows with the table, not with what the page shows, which is why the page got
//! slower month by month with no change to the code — and why it passed every test on a developer's 1,000-row
//! database. With the index the plan is `SEARCH orders USING INDEX orders_by_customer_recent (customer_id=?)`: the
//! rows come out already in order, and the work is the same at 400 thousand rows or 400 million. The order of the
//! columns matters (equality first, then sort, then range: the ESR rule of the query-batching chapter); an index on
//! `customer_id` alone would find the customer's rows but still sort them.
//!
//! The evidence is the plan (`EXPLAIN QUERY PLAN`; `EXPLAIN ANALYZE` on PostgreSQL, `explain()` in MongoDB) and
//! the slow-query log, not a CPU profile of the service: the time is spent in the database.

// ANCHOR: fix
/// The tables, created when the service starts.
pub const SCHEMA: &str = "
CREATE TABLE orders (
    id          INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,  -- seconds since the epoch
    status      TEXT    NOT NULL,
    total_cents INTEGER NOT NULL
);
CREATE INDEX orders_by_customer_recent ON orders (customer_id, created_at DESC);
";
// ANCHOR_END: fix

/// A customer's 20 most recent orders, newest first (`?1` is the customer).
pub const ORDER_HISTORY: &str = "
SELECT id, customer_id, created_at, status, total_cents
FROM orders
WHERE customer_id = ?1
ORDER BY created_at DESC
LIMIT 20
";
