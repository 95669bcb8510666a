//! What the service returns: orders with their customer and items, as JSON.

use serde::Serialize;

/// A customer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Customer {
    /// Customer id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// E-mail address.
    pub email: String,
    /// Two-letter country code.
    pub country: String,
}

/// One line of an order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Item {
    /// Item id.
    pub id: i64,
    /// Stock-keeping unit.
    pub sku: String,
    /// How many.
    pub quantity: i64,
    /// Unit price.
    pub price_cents: i64,
}

/// An order as stored: the customer is only an id.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OrderRow {
    /// Order id.
    pub id: i64,
    /// Who placed it (the customer may since have been deleted).
    pub customer_id: i64,
    /// `placed`, `paid`, `shipped` or `delivered`.
    pub status: String,
    /// Order total.
    pub total_cents: i64,
    /// Unix seconds.
    pub created_at: i64,
}

/// An order as the page shows it: with its customer (`null` when deleted) and its items.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OrderView {
    /// The order.
    #[serde(flatten)]
    pub order: OrderRow,
    /// Its customer, if the customer still exists.
    pub customer: Option<Customer>,
    /// Its items, in id order (possibly none).
    pub items: Vec<Item>,
}

/// `GET /orders`: a page of orders, and where the next page starts.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OrderPage {
    /// The orders, in id order.
    pub orders: Vec<OrderView>,
    /// Pass as `after` for the next page; `null` on the last page.
    pub next_after: Option<i64>,
}
