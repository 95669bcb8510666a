//! `lab-load-generator`: an HTTP load generator that does not lie — the instrument every lab stands on.
//!
//! It depends on nothing of the workbench (its lab's server is the package `lab-coordinated-omission`, in `lab/`):
//! the harness and `cargo xtask load` compile the instrument alone.
//!
//! # The lesson
//!
//! Most home-made benchmarks are a loop: send a request, wait for the answer, note the time, repeat. When the
//! server stalls for half a second, that loop stalls with it and sends nothing — so the requests that *would* have
//! arrived during the stall are never measured. The tool quietly agrees with the server to look away. Gil Tene
//! named this **coordinated omission**; it makes p99 look tens to hundreds of times better than users feel it.
//!
//! This generator measures the way wrk2 and k6's arrival-rate executors do:
//!
//! - **open model** ([`Mode::FixedRate`]): request *i* is *due* at `t0 + i / rate`, whether or not earlier ones
//!   came back. Its latency is measured from that due time, so time spent waiting for a free connection counts.
//!   The uncorrected *service time* (from the moment the bytes left) is recorded beside it, to show the gap.
//! - **closed model** ([`Mode::Closed`]): C connections, each sending as fast as answers come back. This finds
//!   capacity (requests per second); its latencies are service times and say little about users.
//!
//! # Map of the modules
//!
//! | module | what it holds |
//! |---|---|
//! | [`schedule`] | phases (warm-up, ramp, steady) and the due time of request *i* |
//! | [`template`] | request paths with `{seq}`, `{uniform:N}`, `{zipf:N}` |
//! | [`input_file`] | the `file:line: message` error of scenario and Artillery files |
//! | [`scenario`] | weighted, named requests, from a TOML file |
//! | [`target`] | the URL, its resolution, and the loopback-only guard |
//! | [`pacer`] | each thread's share of the open model's schedule on a high-resolution timer, and the queue its connections wait in |
//! | [`plan`] | what a run needs to know, and the arithmetic that spreads it over threads |
//! | [`engine`] | the threads and the send loops of the open and closed models |
//! | [`connection`] | one keep-alive HTTP/1.1 connection: open, send, read the whole response |
//! | [`body`] | request bodies (a file, or generated to a size) and slow clients' upload and read rates |
//! | [`recorder`] | HDR histograms and counters, per thread, merged at the end |
//! | [`report`] | the result: JSON, percentile table, validity self-check |
//! | [`threshold`] | `p99<50ms`, `errors<0.1%` pass/fail rules |
//! | [`artillery`] | Artillery YAML tests: virtual users walking flows, captures, `ensure` |
//! | [`capacity`] | the highest rate that meets an objective: step up, then bisect, each step an honest run |
//! | [`websocket`] | WebSocket connections held open, messages at a rate, delivery latency end to end |
//! | [`hdr_log`] | HdrHistogram interval logs, and merging logs from several machines |
//! | [`proc_stat`] | CPU time and peak memory read from /proc, for the self-check and server sampling |

pub mod artillery;
pub mod body;
pub mod capacity;
pub mod connection;
pub mod engine;
mod generator_thread;
pub mod hdr_log;
pub mod input_file;
pub mod pacer;
pub mod plan;
pub mod proc_stat;
pub mod recorder;
pub mod report;
pub mod scenario;
pub mod schedule;
pub mod target;
pub mod template;
pub mod threshold;
pub mod websocket;

mod duration;

pub use body::{BodySpec, Rates};
pub use duration::parse_duration;
pub use engine::run;
pub use plan::{LoadError, Plan};
pub use report::{LoadReport, Percentiles};
pub use scenario::{RequestSpec, Scenario};
pub use schedule::{Arrivals, Mode, Phase};
pub use target::Target;
pub use threshold::Threshold;
