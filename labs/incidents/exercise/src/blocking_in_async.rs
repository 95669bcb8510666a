//! Checkout currency conversion: an amount in euro cents, converted at the rate the payment vendor's SDK gives.
//!
//! Drill `blocking-in-async` — `cargo xtask incident start blocking-in-async` shows how this behaves under load.

use super::support::exchange_rate;

/// `amount_cents` euro cents in `currency` (its smallest unit), or `None` for a currency the vendor does not know.
pub async fn convert(amount_cents: u64, currency: String) -> Option<u64> {
    let rate = exchange_rate(&currency)?;
    Some((amount_cents as f64 * rate).round() as u64)
}
