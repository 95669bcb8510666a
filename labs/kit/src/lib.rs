//! `lab-kit`: the few things every lab server has in common, so each lab's code is only its lesson.
//!
//! The harness (`lab-harness`) starts a lab server as a child process and relies on a small contract:
//!
//! - the server takes `--variant NAME` and `--port N` (`0` = let the OS choose) — see [`ServerArgs`];
//! - its first line on stdout is `listening on ADDR` — printed by [`serve`];
//! - `GET /healthz` answers 200 once it is ready, `GET /stats` answers a JSON object of counters — see
//!   [`Counters`] and [`with_standard_routes`];
//! - `GET /metrics` answers Prometheus text: requests by route template, latency histograms, in-flight, event-loop
//!   lag, the process and the runtime — see [`telemetry`] (added by [`run`] to every router);
//! - with the `profiling` feature (on by default), `GET /debug/pprof/profile?seconds=N` answers a CPU profile and its
//!   flamegraph — see [`profiler`];
//! - SIGTERM (and Ctrl-C) stop it gracefully: in-flight requests finish, then the process exits;
//! - under a process manager (`workbench-pm`, systemd) it takes the listening socket it is given and says when it is
//!   ready — see [`supervised`].
//!
//! A lab implements [`LabServer`] and its `main.rs` is `lab_kit::run::<ItsServer>()`.
//!
//! This crate is small on purpose: every lab compiles it, and none of them should pay for the harness.

mod args;
mod counters;
mod error;
mod fd_limit;
#[cfg(any(feature = "heap-counter", feature = "heap-profile"))]
pub mod heap;
mod loop_lag;
#[cfg(feature = "profiling")]
pub mod profiler;
mod run;
mod serve;
pub mod supervised;
pub mod telemetry;
pub mod testing;
#[cfg(feature = "websocket")]
pub mod websocket;

pub use args::{RuntimeFlavor, ServerArgs};
pub use counters::Counters;
pub use error::{BoxError, ServeError};
pub use fd_limit::raise_fd_limit;
pub use loop_lag::LoopLag;
pub use run::{command, run, App, LabServer, ServeFuture};
pub use serve::{bind, build_runtime, shutdown_signal, with_standard_routes};
pub use telemetry::telemetry;
