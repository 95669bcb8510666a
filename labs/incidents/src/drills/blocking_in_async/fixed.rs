//! Checkout currency conversion, fixed: the vendor's blocking call runs on tokio's blocking pool, and the event loop
//! awaits its result instead of sitting inside it.
//!
//! An `async fn` that calls something synchronous and slow — a blocking HTTP client, `std::fs` on a network disk,
//! a DNS lookup through libc, a `std::thread::sleep` — holds the event loop's thread for the whole call. With one
//! event loop (Node.js, or a current-thread runtime) every other request waits; with a few workers it takes one
//! longer to saturate, then the same. The CPU stays idle, so a CPU flamegraph is flat: the evidence is the
//! event-loop lag. `spawn_blocking` moves the call to a pool made for waiting (up to 512 threads by default).
//! `block_in_place` is not a fix here: it panics on a current-thread runtime. The lasting fix is an async client.

use super::support::exchange_rate;

// ANCHOR: fix
/// `amount_cents` euro cents in `currency` (its smallest unit), or `None` for a currency the vendor does not know.
pub async fn convert(amount_cents: u64, currency: String) -> Option<u64> {
    let rate = tokio::task::spawn_blocking(move || exchange_rate(&currency))
        .await
        .ok()??;
    Some((amount_cents as f64 * rate).round() as u64)
}
// ANCHOR_END: fix
