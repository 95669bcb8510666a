//! The worker-pools lab: CPU work off the event loop.
//!
//! Node.js runs JavaScript on one thread, the event loop; a request that hashes a password for 20 ms stops every
//! other request for 20 ms. `worker_threads` moves such work to other threads. A tokio server has the same
//! problem on each runtime thread — this lab serves HTTP from **one** current-thread event loop, exactly like one
//! Node.js process, and moves the CPU work ([`work`]) four ways ([`executor`]):
//!
//! | variant | where the hashing runs | under overload |
//! |---|---|---|
//! | `inline` | on the event loop itself: every other request waits | everything slows down |
//! | `spawn-blocking` | tokio's blocking pool (up to 512 threads) | accepts everything; work in flight grows without bound |
//! | `semaphore` | the blocking pool, at most `--permits` at a time | waits for a permit: a queue, unbounded |
//! | `bounded-pool` | a fixed pool with a bounded queue ([`bounded_pool`]) | full queue → `503 Retry-After`, at once |
//! | `exercise` | your pool (`labs/worker-pools/exercise`) | as implemented |
//!
//! [`lab_kit::LoopLag`] measures how late the event loop wakes up (the `monitorEventLoopDelay` of Node.js; every lab
//! runs it, and this one reads it into `/stats`); [`server`] holds
//! the routes: `GET /ping` (cheap), `GET /hash?rounds=N` (heavy), `/healthz`, `/stats`.

#[path = "../exercise/solution.rs"]
pub mod bounded_pool;
pub mod cli;
pub mod executor;
pub mod server;
pub mod work;
