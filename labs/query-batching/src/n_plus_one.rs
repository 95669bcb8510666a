//! The naive page: one query for the orders, then one for each order's customer and one for its items.
//!
//! This is what an ORM's lazy relations do when a loop touches them (`order.customer` in a template, or
//! mongoose's `await Customer.findById(order.customerId)` inside `for (const order of orders)`): the code reads
//! naturally and sends **1 + 2N** queries for a page of N orders — 101 for a page of 50. Each query is cheap;
//! each *round trip* is not. At 1 ms per round trip the page spends ~100 ms waiting on the network, and holds a
//! pool connection all that time, so the pool — not the CPU — caps throughput.
//!
//! - Pro: Simple, obviously correct, each query uses an index.
//! - Con: Latency grows with the page size; throughput is capped by pool size ÷ (queries × round trip).

use crate::db::{Db, DbError};
use crate::model::OrderView;

// ANCHOR: page
/// A page of orders, the N+1 way: 1 + 2N queries, one after the other.
pub async fn page(db: &Db, after: i64, size: i64) -> Result<Vec<OrderView>, DbError> {
    let orders = db.orders_after(after, size).await?; // 1 query
    let mut page = Vec::with_capacity(orders.len());
    for order in orders {
        let customer = db.customer(order.customer_id).await?; // + N queries
        let items = db.items_of(order.id).await?; // + N queries
        page.push(OrderView { order, customer, items });
    }
    Ok(page)
}
// ANCHOR_END: page
