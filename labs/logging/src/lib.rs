//! `lab-logging`: what a log line costs, and what a stuck log sink does to a service.
//!
//! An order service logs five structured events per request — received, payment authorized (with a card number
//! and a bearer token that must never reach the log), a fraud check on a spawned task, a receipt rendered on a
//! blocking thread, completed — each a JSON line carrying the request's correlation id. The variants differ only
//! in how a line gets to the sink:
//!
//! - **println**: format the line and write it to the sink under a lock, one `write()` per line — `console.log`
//!   to a file or a pipe;
//! - **tracing-sync**: `tracing` events through a JSON layer into a blocking writer, one `write()` per line;
//! - **non-blocking-lossy** / **non-blocking-backpressure**: tracing-appender's worker thread, with a bounded
//!   queue that drops lines when full (`lossy(true)`, counted) or makes the logging thread wait (`lossy(false)`),
//!   writing in batches (64 KiB, flushed at least every 100 ms);
//! - **filtered**: the same events below the enabled level: what a disabled event costs.
//!
//! The sink is a file, or (in the lab's runs) a pipe to the `log-sink` process, which can *stall* mid-run: stop
//! reading for two seconds, like a full disk or a stuck shipper. Every line is accounted for on `/stats`:
//! produced = written + dropped (+ still buffered, until the server stops and flushes).
//!
//! | module | what it holds |
//! |---|---|
//! | [`cli`] | the server's flags, and how each variant is put together |
//! | [`server`] | `app()`: the order route, correlation ids, `/stats` |
//! | [`line`] | one JSON log line: the fields, the correlation id, redaction |
//! | [`layer`] | a `tracing` layer that writes events as those lines |
//! | [`redact`] | the exercise's reference: field names and patterns (card numbers, bearer tokens) that never reach the sink |
//! | [`sink`] | the sink: a file or a pipe to `log-sink`, counting its `write()` calls and lines |
//! | [`pipeline`] | each variant's way from an event to the sink, and the accounting |

pub mod cli;
pub mod layer;
pub mod line;
pub mod pipeline;
pub mod server;
pub mod sink;

/// The exercise's reference: a redactor by field name and by pattern, at any depth of JSON (`exercise/solution.rs`).
#[path = "../exercise/solution.rs"]
pub mod redact;
