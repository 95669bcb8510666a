//! `lab-coordinated-omission`: the server of the load-generator lab (`cargo xtask lab load-generator`).
//!
//! The lab measures one server two ways — a naive closed-loop timer and the fixed-rate generator that measures
//! from each request's due time — and shows the first under-reporting p99 by thousands of times. The server only
//! has to misbehave the way real ones do: its one event loop freezes every few seconds. It lives in its own
//! package so that the instrument, `lab-load-generator`, depends on no server code (no lab-kit, axum or clap).
//!
//! | module | what it holds |
//! |---|---|
//! | [`server`] | the routes, and the freeze that blocks the event loop |
//! | [`cli`] | the flags and the one variant, started by `lab_kit::run` |

pub mod cli;
pub mod server;
