//! Quotes: a product's price after the pricing service's discount. The last quote of every product is kept in
//! the quote book for the sales dashboard.
//!
//! Drill `lock-across-await` — `cargo xtask incident start lock-across-await` shows how this behaves under load.

use tokio::sync::Mutex;

use super::support::{pricing_service, QuoteBook};

/// The price of `sku` now, in cents, recorded in `book`.
pub async fn quote(book: &Mutex<QuoteBook>, sku: u32) -> u64 {
    let mut book = book.lock().await;
    let base = book.base_price(sku);
    let discount = pricing_service(sku).await;
    let price = base.saturating_sub(discount);
    book.record(sku, price);
    price
}
