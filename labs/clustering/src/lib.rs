//! `lab-clustering`: one service, run as one process or as a cluster of processes on one port.
//!
//! The seed's first topic is Node's `cluster` module: one Node.js process runs one event loop on one core, so a
//! primary forks a worker per core and they share the listening port. This lab builds that in Rust — a primary
//! and workers, each worker one current-thread tokio runtime — and measures what it buys and what it breaks:
//!
//! - **how connections reach the workers** — the primary hands them out in turn (`round-robin`, Node's default on
//!   Linux), every worker accepts from one shared queue (`shared-listener`), or the kernel hashes them over one
//!   socket per worker (`reuseport`). It matters when a worker is stuck;
//! - **what processes buy**: the CPU of every core — which tokio's multi-thread runtime (`multi-thread`) already
//!   gets from one process. Processes buy *isolation*: a crash or a stuck loop takes one worker, not the service;
//! - **where state must live**: memory is per process, so a rate limit or a session kept there is wrong as soon as
//!   there are two workers ([`state`]).
//!
//! | module | what it holds |
//! |---|---|
//! | [`cli`] | flags and variants |
//! | [`server`] | the routes every process serves (`fn app`) |
//! | [`state`] | the rate limit and the sessions, in one process's memory |
//! | [`rate_limit`] | the fixed-window rate limiter (the exercise's reference) |
//! | [`chat`] | `/chat`: WebSocket rooms, and the bus that carries a message to the other workers' members |
//! | [`redis_state`] | the same in Redis (`--state redis`), shared by every worker |
//! | [`primary`] | starting, replacing and stopping workers; distribution; the cluster's `/stats` |
//! | [`worker`] | one worker process: how it gets connections, its IPC |
//! | [`ipc`] | the messages between primary and workers |
//! | [`aggregate`] | one `/metrics` for the cluster: the workers' expositions added up |
//! | [`fds`] | descriptors inherited across exec or received over a Unix socket |
//! | [`work`] | the CPU-bound request's hashing |

pub mod aggregate;
pub mod chat;
pub mod cli;
pub mod fds;
pub mod ipc;
pub mod primary;
/// The exercise's reference: an exact, thread-safe fixed-window rate limiter (`exercise/solution.rs`).
#[path = "../exercise/solution.rs"]
pub mod rate_limit;
pub mod redis_state;
pub mod server;
pub mod state;
pub mod work;
pub mod worker;
