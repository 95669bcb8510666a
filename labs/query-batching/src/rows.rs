//! Rows to structs, written once for both backends.
//!
//! rusqlite's `Row` and sqlx's `PgRow` read a column in different ways, but every query here reads only three kinds
//! of column: an integer, a possibly-NULL integer (the keys of a `LEFT JOIN`) and text. [`Columns`] is that much,
//! implemented for both, so each struct is assembled in one place — and the column order of every `SELECT` is
//! written down next to the function that reads it.

use sqlx::Row as _;

use crate::db::DbError;
use crate::join::JoinedRow;
use crate::model::{Customer, Item, OrderRow};

/// What the mapping functions need from a result row.
pub trait Columns {
    /// An integer column.
    fn int(&self, i: usize) -> Result<i64, DbError>;
    /// An integer column that may be NULL.
    fn maybe_int(&self, i: usize) -> Result<Option<i64>, DbError>;
    /// A text column.
    fn text(&self, i: usize) -> Result<String, DbError>;
}

impl Columns for rusqlite::Row<'_> {
    fn int(&self, i: usize) -> Result<i64, DbError> {
        Ok(self.get(i)?)
    }
    fn maybe_int(&self, i: usize) -> Result<Option<i64>, DbError> {
        Ok(self.get(i)?)
    }
    fn text(&self, i: usize) -> Result<String, DbError> {
        Ok(self.get(i)?)
    }
}

impl Columns for sqlx::postgres::PgRow {
    fn int(&self, i: usize) -> Result<i64, DbError> {
        Ok(self.try_get(i)?)
    }
    fn maybe_int(&self, i: usize) -> Result<Option<i64>, DbError> {
        Ok(self.try_get(i)?)
    }
    fn text(&self, i: usize) -> Result<String, DbError> {
        Ok(self.try_get(i)?)
    }
}

/// `id, customer_id, status, total_cents, created_at`, starting at column `at`.
pub fn order(r: &impl Columns, at: usize) -> Result<OrderRow, DbError> {
    Ok(OrderRow {
        id: r.int(at)?,
        customer_id: r.int(at + 1)?,
        status: r.text(at + 2)?,
        total_cents: r.int(at + 3)?,
        created_at: r.int(at + 4)?,
    })
}

/// `id, name, email, country`, starting at column `at`.
pub fn customer(r: &impl Columns, at: usize) -> Result<Customer, DbError> {
    Ok(Customer {
        id: r.int(at)?,
        name: r.text(at + 1)?,
        email: r.text(at + 2)?,
        country: r.text(at + 3)?,
    })
}

/// `id, sku, quantity, price_cents`, starting at column `at`.
pub fn item(r: &impl Columns, at: usize) -> Result<Item, DbError> {
    Ok(Item {
        id: r.int(at)?,
        sku: r.text(at + 1)?,
        quantity: r.int(at + 2)?,
        price_cents: r.int(at + 3)?,
    })
}

/// `order_id` then an item: a row of the batched items query.
pub fn item_of_order(r: &impl Columns) -> Result<(i64, Item), DbError> {
    Ok((r.int(0)?, item(r, 1)?))
}

/// A row of the JOIN page query: an order (columns 0–4), its customer (5–8, NULL when deleted) and one of its
/// items (9–12, NULL when it has none).
pub fn joined(r: &impl Columns) -> Result<JoinedRow, DbError> {
    Ok(JoinedRow {
        order: order(r, 0)?,
        customer: match r.maybe_int(5)? {
            Some(_) => Some(customer(r, 5)?),
            None => None,
        },
        item: match r.maybe_int(9)? {
            Some(_) => Some(item(r, 9)?),
            None => None,
        },
    })
}
