//! The caching lab: a product service over an embedded SQLite catalogue, and the same service behind five caches.
//!
//! The product page's query is slow on purpose (it scans every review to compute a rating; see [`db`]). A cache
//! turns most of those queries into a hash lookup — and a naive cache turns a popular key's expiry into a
//! *stampede*: every request that misses it while it reloads runs the same slow query again. The variants, in
//! [`store`], show the whole path from no cache to two layers shared across processes:
//!
//! | module | what it holds |
//! |---|---|
//! | [`db`] | the catalogue, its seed data, the queries, the connection pool |
//! | [`lru`] | a hand-built LRU with TTL (the learning version) |
//! | [`single_flight`] | hand-built request coalescing with TTL: the exercise's reference solution |
//! | [`layered`] | L1 in-process + L2 Redis, with invalidation across processes by pub/sub |
//! | [`store`] | the variants behind one `get(key, load)` / `invalidate(keys)` |
//! | [`server`] | the axum routes, cache-aside reads and writes, `/stats` |
//! | [`cli`] | the server's flags and how a variant is put together; `main.rs` is one call to `lab_kit::run` |
//!
//! From Node.js: the seed guide builds this with `node-cache` (L1) and `ioredis` (L2) behind an Express
//! middleware. In Rust the production L1 is `moka`, L2 is the `redis` crate, and the middleware is this handler.

pub mod cli;
pub mod db;
pub mod layered;
pub mod lru;
pub mod server;
#[path = "../exercise/solution.rs"]
pub mod single_flight;
pub mod store;
