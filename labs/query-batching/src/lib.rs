//! The query-batching lab: an order service whose page of 50 orders, each with its customer and items, is built
//! three ways — and a filtered listing with and without the index it needs.
//!
//! The page is the classic *N+1 problem*: the natural code sends one query for the orders and then one per order
//! for each relation. Every query is fast; every round trip to the database is not. The variants:
//!
//! | module | queries per page of N | how |
//! |---|---|---|
//! | [`n_plus_one`] | 1 + 2N | a loop of awaits, as an ORM's lazy relations do |
//! | [`batched`] | 3 (fewer under load) | the same per-order code through two DataLoaders ([`dataloader`], the exercise's reference) |
//! | [`join`] | 1 | one SQL JOIN, rows folded back into orders |
//!
//! and [`listing`] for the index lesson (a full scan vs the ESR index, with each database's query plan).
//!
//! | module | what it holds |
//! |---|---|
//! | [`schema`] | the tables and the seed: the same 360,000 rows on both databases |
//! | [`db`] | the one place queries are counted and the round trip is simulated; SQLite or PostgreSQL behind it |
//! | [`sqlite`], [`postgres`] | the two backends (`IN (?, …)` vs `= ANY($1)`) |
//! | [`rows`] | result rows to structs, written once for both backends |
//! | [`server`] | the axum routes, input checks, `/stats` |
//!
//! From Node.js: the seed guide's chapter uses mongoose — `populate()`, `lean()`, `explain()` and the ESR rule for
//! compound indexes. Here the driver is sqlx (PostgreSQL) or rusqlite (SQLite), `EXPLAIN` is SQL's own, and the
//! batching that `populate()` and the `dataloader` package do for you is written out in [`dataloader`].

pub mod batched;
pub mod cli;
#[path = "../exercise/solution.rs"]
pub mod dataloader;
pub mod db;
pub mod join;
pub mod listing;
pub mod model;
pub mod n_plus_one;
pub mod postgres;
pub mod rows;
pub mod schema;
pub mod server;
pub mod sqlite;
