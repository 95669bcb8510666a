//! The baseline lab: the fastest this machine serves a request, so every other lab's numbers have a ceiling to be
//! read against. If the caching lab's best variant reaches 40k req/s and hello world reaches 45k, the cache is
//! nearly free; if hello world reaches 200k, there is room left.
//!
//! Four servers answer `GET /` with `hello, world`:
//!
//! | variant | server | runtime |
//! |---|---|---|
//! | `hyper-current-thread` | bare hyper, a hand-written service function ([`hyper_server`]) | one thread |
//! | `hyper-multi-thread` | bare hyper | one worker per core |
//! | `axum-current-thread` | axum: router, extractors, tower layers ([`server`]) | one thread |
//! | `axum-multi-thread` | axum | one worker per core |
//!
//! What to look at: how little axum costs over bare hyper (its router is a match on a prefix tree, its handlers
//! compile to plain futures), and what a second worker thread buys when the load generator already needs one of
//! the two cores. Node.js runs one event loop per process — the `current-thread` rows — and reaches for the
//! cluster module to use more cores; a tokio server gets the multi-thread rows from one process.

pub mod cli;
pub mod hyper_server;
pub mod server;

/// The body every variant answers `GET /` with.
pub const HELLO: &str = "hello, world\n";

/// Counters on `/stats`.
pub const COUNTERS: &[&str] = &["requests"];
