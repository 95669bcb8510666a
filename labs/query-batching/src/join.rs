//! The page in one query: the orders in a subquery, joined to their customers and items.
//!
//! The database does the matching, and the page costs **one** round trip whatever its size. The price is a wider,
//! repetitive result: an order with 5 items comes back as 5 rows, each repeating the order and customer columns,
//! which [`group`] folds back into one order. `LEFT JOIN`s keep orders whose customer was deleted (the customer
//! columns are NULL) and orders without items.
//!
//! - Pro: One round trip; the database plans one query over indexed joins.
//! - Con: Rows multiply with every one-to-many join (two of them multiply *each other*: items × payments); the query
//!   is tied to the page's shape. A DataLoader composes better when many resolvers need the same rows.
//!
//! From Node.js: mongoose's `populate()` looks like a join but sends one extra query per populated path (a batch
//! by `$in`, much like [`crate::batched`]); a real join there is an aggregation with `$lookup`.

use crate::model::{Customer, Item, OrderRow, OrderView};

// ANCHOR: sql
/// The page query on SQLite.
pub const SQLITE_PAGE: &str = "
    SELECT o.id, o.customer_id, o.status, o.total_cents, o.created_at,
           c.id, c.name, c.email, c.country,
           i.id, i.sku, i.quantity, i.price_cents
      FROM (SELECT * FROM orders WHERE id > ?1 ORDER BY id LIMIT ?2) AS o
      LEFT JOIN customers AS c ON c.id = o.customer_id
      LEFT JOIN items AS i ON i.order_id = o.id
     ORDER BY o.id, i.id";
// ANCHOR_END: sql

/// The same on PostgreSQL (only the placeholders differ).
pub const POSTGRES_PAGE: &str = "
    SELECT o.id, o.customer_id, o.status, o.total_cents, o.created_at,
           c.id, c.name, c.email, c.country,
           i.id, i.sku, i.quantity, i.price_cents
      FROM (SELECT * FROM orders WHERE id > $1 ORDER BY id LIMIT $2) AS o
      LEFT JOIN customers AS c ON c.id = o.customer_id
      LEFT JOIN items AS i ON i.order_id = o.id
     ORDER BY o.id, i.id";

/// One row of the join: an order, its customer (if any) and one of its items (if any).
pub struct JoinedRow {
    /// The order's columns.
    pub order: OrderRow,
    /// The customer's, NULL when the customer was deleted.
    pub customer: Option<Customer>,
    /// One item's, NULL when the order has none.
    pub item: Option<Item>,
}

/// Folds the join's rows (sorted by order id) back into one view per order.
pub fn group(rows: Vec<JoinedRow>) -> Vec<OrderView> {
    let mut views: Vec<OrderView> = Vec::new();
    for row in rows {
        let same_order = views.last().is_some_and(|v| v.order.id == row.order.id);
        if !same_order {
            views.push(OrderView {
                order: row.order,
                customer: row.customer,
                items: Vec::new(),
            });
        }
        if let Some(item) = row.item {
            views.last_mut().expect("pushed above").items.push(item);
        }
    }
    views
}
