//! Exercise: a DataLoader — many `load(key)` calls, one query.
//!
//! A page of 50 orders needs 50 customers. Asking the database for them one by one is the *N+1 problem*: 50 round
//! trips where one would do. A DataLoader fixes it without changing the code that asks: every `load(key)` made
//! within a short *window* is collected, then the batch function runs **once** with all the keys (one
//! `WHERE id IN (…)` query), and each caller gets its own value back.
//!
//! Implement [`Loader::new`] and [`Loader::load`] so that:
//!
//! 1. concurrent `load`s made within `window` of the batch's first key cause **one** call of the batch function;
//! 2. each key is sent to the batch function once, however many callers asked for it, in the order first asked;
//! 3. every caller gets the value of *its* key — `Ok(None)` when the batch's map has no such key;
//! 4. a batch that reaches `max_batch` distinct keys is dispatched at once, without waiting for the window;
//! 5. when the batch function fails, every caller of that batch gets `Err(LoadError::Batch(error))`;
//! 6. a caller that is cancelled does not stop the others in its batch from getting their values.
//!
//! [`Loader::load_many`] is written for you on top of `load`.
//!
//! Check your work with `cargo xtask check query-batching` (tests and a performance gate), or just the tests with
//! `cargo test -p exercise-query-batching --test exercise_dataloader`.
//!
//! Hints: keep the open batch (its keys, and a `tokio::sync::oneshot::Sender` per waiting caller) behind a
//! `std::sync::Mutex` that is never held across an `.await`. `tokio::spawn` a timer for the window when a batch
//! opens, and run the batch function in a spawned task too. Read the time through `tokio::time`: the tests pause
//! tokio's clock.

use std::collections::HashMap;
use std::future::Future;
use std::hash::Hash;
use std::time::Duration;

/// The one call that loads many keys at once: one `IN (…)` / `= ANY($1)` query.
pub trait BatchFn: Send + Sync + 'static {
    /// What is looked up (an id).
    type Key: Eq + Hash + Clone + Send + Sync + 'static;
    /// What is found (a row, or all the rows of one key).
    type Value: Clone + Send + Sync + 'static;
    /// Why a batch failed (cloned to every caller of the batch).
    type Error: Clone + Send + Sync + 'static;

    /// Loads `keys` (distinct, in the order first asked for). Keys absent from the map do not exist.
    fn load(
        &self,
        keys: Vec<Self::Key>,
    ) -> impl Future<Output = Result<HashMap<Self::Key, Self::Value>, Self::Error>> + Send;
}

/// Why a `load` got no answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoadError<E> {
    /// The batch function returned this error.
    Batch(E),
    /// The batch never answered (its task panicked or the runtime shut down).
    Lost,
}

/// Batches concurrent `load`s into one call of a [`BatchFn`].
///
/// It must be cheap to clone (every clone is the same loader): keep its state behind an `Arc`.
pub struct Loader<B: BatchFn> {
    // TODO: the batch function, the window, max_batch, and the open batch behind a std::sync::Mutex,
    // all inside an Arc.
    _todo: std::marker::PhantomData<B>,
}

impl<B: BatchFn> Clone for Loader<B> {
    fn clone(&self) -> Self {
        // TODO: clone the Arc.
        todo!("clone the loader")
    }
}

impl<B: BatchFn> Loader<B> {
    /// A loader that waits `window` after the first key of a batch for more keys, and dispatches early once a
    /// batch holds `max_batch` distinct keys (at least 1).
    pub fn new(batch_fn: B, window: Duration, max_batch: usize) -> Self {
        let _ = (batch_fn, window, max_batch);
        todo!("build the loader")
    }

    /// The value for `key`: `Ok(None)` when it does not exist. Concurrent calls share one batch call.
    pub async fn load(&self, key: B::Key) -> Result<Option<B::Value>, LoadError<B::Error>> {
        let _ = key;
        todo!("add the key to the open batch (opening one if needed) and wait for its answer")
    }

    /// The values for `keys`, in the same order (duplicates included), from as few batch calls as the window allows.
    pub async fn load_many(&self, keys: Vec<B::Key>) -> Result<Vec<Option<B::Value>>, LoadError<B::Error>> {
        let loads = keys.into_iter().map(|key| self.load(key));
        futures_util::future::join_all(loads).await.into_iter().collect()
    }
}
