//! The page through two DataLoaders: one query for the orders, then one batched query for all their customers
//! and one for all their items — **3 queries** for a page of any size.
//!
//! The page code still asks for one customer per order, as the N+1 code does; it just asks *concurrently*
//! (`join_all`), and the loaders ([`crate::dataloader`]) collect those keys for a short window and send one
//! `IN (…)` / `= ANY($1)` query per loader. The loaders are shared by all requests, so under load keys from
//! concurrent pages ride in the same batch and a page can cost fewer than 3 queries; each batch is capped at
//! `--max-batch` keys. They batch only, never cache, so they cannot serve a stale row.
//!
//! - Pro: Constant queries per page; the page code keeps its per-order shape, so it composes (GraphQL resolvers).
//! - Con: Each page waits the window (default 0.5 ms) before its batch leaves; three round trips instead of one JOIN.
//!
//! From Node.js: this is the `dataloader` package, which batches the loads of one event-loop tick; ours batches
//! a time window, because a multi-threaded runtime has no single tick.

use std::collections::HashMap;
use std::time::Duration;

use futures_util::future::join_all;

use crate::dataloader::{self, BatchFn, Loader};
use crate::db::{Db, DbError};
use crate::model::{Customer, Item, OrderView};

// ANCHOR: batch_fns
/// Customers by id: one `WHERE id IN (…)` per batch.
pub struct CustomersById(pub Db);

impl BatchFn for CustomersById {
    type Key = i64;
    type Value = Customer;
    type Error = DbError;

    async fn load(&self, ids: Vec<i64>) -> Result<HashMap<i64, Customer>, DbError> {
        self.0.customers(ids).await
    }
}

/// Items by order id: one `WHERE order_id IN (…)` per batch.
pub struct ItemsByOrder(pub Db);

impl BatchFn for ItemsByOrder {
    type Key = i64;
    type Value = Vec<Item>;
    type Error = DbError;

    async fn load(&self, order_ids: Vec<i64>) -> Result<HashMap<i64, Vec<Item>>, DbError> {
        self.0.items_of_many(order_ids).await
    }
}
// ANCHOR_END: batch_fns

// The learner's loader (labs/query-batching/exercise) has its own copy of the trait. Each batch function implements
// it by delegating to the one above, so the `exercise` variant differs from `dataloader` only in whose Loader runs.
macro_rules! also_for_the_exercise {
    ($($batch_fn:ty),*) => {$(
        impl exercise_query_batching::BatchFn for $batch_fn {
            type Key = <$batch_fn as BatchFn>::Key;
            type Value = <$batch_fn as BatchFn>::Value;
            type Error = <$batch_fn as BatchFn>::Error;

            async fn load(&self, keys: Vec<Self::Key>) -> Result<HashMap<Self::Key, Self::Value>, Self::Error> {
                BatchFn::load(self, keys).await
            }
        }
    )*};
}
also_for_the_exercise!(CustomersById, ItemsByOrder);

/// The two loaders a page needs: the reference's, or the learner's.
pub enum Loaders {
    /// [`crate::dataloader`], the reference solution.
    Reference {
        /// Customers.
        customers: Loader<CustomersById>,
        /// Items.
        items: Loader<ItemsByOrder>,
    },
    /// `exercise_query_batching`, the learner's.
    Exercise {
        /// Customers.
        customers: exercise_query_batching::Loader<CustomersById>,
        /// Items.
        items: exercise_query_batching::Loader<ItemsByOrder>,
    },
}

fn reference_error(e: dataloader::LoadError<DbError>) -> DbError {
    match e {
        dataloader::LoadError::Batch(e) => e,
        dataloader::LoadError::Lost => DbError("a batch was lost".into()),
    }
}

fn exercise_error(e: exercise_query_batching::LoadError<DbError>) -> DbError {
    match e {
        exercise_query_batching::LoadError::Batch(e) => e,
        exercise_query_batching::LoadError::Lost => DbError("a batch was lost".into()),
    }
}

impl Loaders {
    /// The reference loaders over `db`.
    pub fn reference(db: &Db, window: Duration, max_batch: usize) -> Loaders {
        Loaders::Reference {
            customers: Loader::new(CustomersById(db.clone()), window, max_batch),
            items: Loader::new(ItemsByOrder(db.clone()), window, max_batch),
        }
    }

    /// The learner's loaders over `db`.
    pub fn exercise(db: &Db, window: Duration, max_batch: usize) -> Loaders {
        Loaders::Exercise {
            customers: exercise_query_batching::Loader::new(CustomersById(db.clone()), window, max_batch),
            items: exercise_query_batching::Loader::new(ItemsByOrder(db.clone()), window, max_batch),
        }
    }

    async fn customer(&self, id: i64) -> Result<Option<Customer>, DbError> {
        match self {
            Loaders::Reference { customers, .. } => customers.load(id).await.map_err(reference_error),
            Loaders::Exercise { customers, .. } => customers.load(id).await.map_err(exercise_error),
        }
    }

    async fn items(&self, order_id: i64) -> Result<Vec<Item>, DbError> {
        let found = match self {
            Loaders::Reference { items, .. } => items.load(order_id).await.map_err(reference_error)?,
            Loaders::Exercise { items, .. } => items.load(order_id).await.map_err(exercise_error)?,
        };
        // An order absent from the batch's map has no items.
        Ok(found.unwrap_or_default())
    }
}

// ANCHOR: page
/// A page of orders through the loaders: 1 query + one batch per loader.
pub async fn page(db: &Db, loaders: &Loaders, after: i64, size: i64) -> Result<Vec<OrderView>, DbError> {
    let orders = db.orders_after(after, size).await?; // 1 query
    let views = orders.into_iter().map(|order| async move {
        // Every order asks for its own customer and items, all at once; the loaders batch them.
        let (customer, items) = tokio::join!(loaders.customer(order.customer_id), loaders.items(order.id));
        Ok(OrderView {
            customer: customer?,
            items: items?,
            order,
        })
    });
    join_all(views).await.into_iter().collect()
}
// ANCHOR_END: page
