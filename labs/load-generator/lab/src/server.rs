//! The lab's server: a tiny HTTP service on **one** thread whose event loop freezes for `freeze` every `every`.
//!
//! The freeze is a `std::thread::sleep` inside a task: it blocks the only runtime thread, exactly as a long
//! synchronous `JSON.parse`, a regex gone quadratic, or a stop-the-world GC pause blocks a Node.js event loop.
//! While frozen, nothing is answered; afterwards the queued requests are answered in a burst, each quickly.
//!
//! A naive closed-loop timer has one request in flight, so it sees one slow request per freeze and thousands of
//! fast ones: its p99 looks excellent. A fixed-rate generator keeps sending on schedule during the freeze and
//! charges every request its wait: about a quarter of all requests (0.5 s of every 2 s) are late, so p99 sits near
//! the full freeze. Same server, same minute, two very different stories — only one of them is what users felt.

use std::time::Duration;

use axum::routing::get;
use axum::Router;
use lab_kit::Counters;

/// Counter names on `/stats`.
pub const COUNTERS: &[&str] = &["requests", "freezes"];

/// The routes: `GET /` answers a short text; `/healthz` and `/stats` come from lab-kit.
pub fn app(counters: Counters) -> Router {
    let hits = counters.clone();
    let routes = Router::new().route(
        "/",
        get(move || async move {
            hits.incr("requests");
            "hello from a server that sometimes freezes\n"
        }),
    );
    lab_kit::with_standard_routes(routes, counters)
}

/// Runs forever on the current runtime: work normally for `every - freeze`, then block the thread for `freeze`.
pub async fn freeze_periodically(every: Duration, freeze: Duration, counters: Counters) {
    let awake = every.saturating_sub(freeze);
    loop {
        tokio::time::sleep(awake).await;
        counters.incr("freezes");
        // Deliberately blocking: this is the bug the lab is about. Never do this on an async runtime.
        std::thread::sleep(freeze);
    }
}
