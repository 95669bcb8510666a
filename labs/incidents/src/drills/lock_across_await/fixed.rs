//! Quotes, fixed: the quote book is locked twice, briefly — to read the base price, then to record the quote —
//! and never while the pricing service is called.
//!
//! A lock held across an `.await` is held for as long as the awaited thing takes: here 20 ms of network per
//! request, during which every other request queues on the lock. Throughput is then one request per 20 ms however
//! many arrive — flat as concurrency rises, with the CPU idle, which is how it shows up on a dashboard. The rule:
//! copy out what you need, drop the guard, await, lock again to write. (Between the two locks another request may
//! record a quote for the same product; the last writer wins, which is what a "last quote" means.)
//!
//! Why `tokio::sync::Mutex` at all? Because the broken code held the guard across an await: a `std::sync::Mutex`
//! guard is not `Send`, and the compiler would have refused it in a spawned task — the async mutex made the
//! mistake compile. Once no guard crosses an await, a `std::sync::Mutex` would do (mini-redis's choice); the type
//! is kept so the handler's signature stays the one the service calls.

use tokio::sync::Mutex;

use super::support::{pricing_service, QuoteBook};

// ANCHOR: fix
/// The price of `sku` now, in cents, recorded in `book`.
pub async fn quote(book: &Mutex<QuoteBook>, sku: u32) -> u64 {
    let base = book.lock().await.base_price(sku);
    let discount = pricing_service(sku).await;
    let price = base.saturating_sub(discount);
    book.lock().await.record(sku, price);
    price
}
// ANCHOR_END: fix
