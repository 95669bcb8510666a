//! `--flamegraph`: a CPU profile of each variant's server over its load (warm-up included), taken by the server itself
//! (lab-kit's `profiling` feature, `GET /debug/pprof/profile`: pprof-rs sampling with `SIGPROF`), so it needs no
//! `perf`, no root and no kernel setting. The report keeps the top frames; the flamegraph is written beside it as
//! `<report>-<variant>.flamegraph.svg`.
//!
//! A CPU profile shows where CPU time went, and nothing else: a server that waits (a lock, a blocking call, the
//! network) has a flat profile however slow it is. The incident drills teach reading it both ways.

use std::net::SocketAddr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// What profiling adds to the server's memory, said under the table of every profiled run.
pub const MEMORY_NOTE: &str = "peak RSS includes the profiler's sample table: pprof-rs allocates and fills it when \
     profiling starts (4,096 × 4 stacks of up to 128 frames: about 145 MB)";

/// How long the profile goes on after the load ends. The server turns addresses into names only when the profile
/// ends, and that reads its binary's debug info (~70 MB of memory, a fraction of a CPU-second): ending the profile
/// a second after the load lets the harness read the server's CPU time and peak memory before that starts. An idle
/// second adds no samples — a CPU profile samples CPU time.
pub const TAIL: Duration = Duration::from_secs(1);

/// The profile's route, as lab-kit serves it.
pub const ROUTE: &str = "/debug/pprof/profile";

/// A function's share of the samples.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FrameShare {
    /// The demangled name.
    pub function: String,
    /// Its share of the samples (0..=1).
    pub share: f64,
}

/// What the report keeps of a variant's CPU profile.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CpuProfile {
    /// How long it sampled.
    pub seconds: f64,
    /// Samples per second of CPU time.
    pub frequency: i32,
    /// Stacks recorded (CPU seconds × frequency, roughly: an idle server records few).
    pub samples: u64,
    /// Where the CPU was: the innermost frames, largest share first.
    pub top_self: Vec<FrameShare>,
    /// What it was working for: functions anywhere on the stack, largest share first.
    pub top_total: Vec<FrameShare>,
    /// The flamegraph's file name, beside the report (set when the report is written).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub flamegraph: String,
    /// The flamegraph itself, written to `flamegraph` with the report.
    #[serde(default, skip_serializing)]
    pub svg: String,
}

/// Frames every request's stack passes through — the runtime, the task harness, the future combinators, the
/// program's start — named by their function (inlined frames carry no module path, so the name is what is left).
/// They are on nearly every sample and explain nothing.
const PLUMBING: &[&str] = &[
    "main",
    "_start",
    "start",
    "run",
    "run_task",
    "block_on",
    "block_on_inner",
    "enter",
    "enter_runtime",
    "set",
    "set_scheduler",
    "with",
    "with_mut",
    "with_budget",
    "try_with",
    "budget",
    "call_once",
    "catch_unwind",
    "do_call",
    "try_poll",
    "map",
    "call",
];

/// Whether `function` is plumbing: a `poll…` of a future, a closure or async block, the C runtime, `std`/`core`,
/// or a name in [`PLUMBING`].
fn plumbing(function: &str) -> bool {
    let base = function.split(['<', '(']).next().unwrap_or(function);
    base.starts_with("poll")
        || base.starts_with('{')
        || function.starts_with('<')
        || base.starts_with("__")
        || ["std::", "core::", "alloc::", "tokio::", "hyper::", "axum::", "tower::"]
            .iter()
            .any(|p| base.starts_with(p))
        || PLUMBING.contains(&base)
}

impl CpuProfile {
    /// The `n` largest "total" frames that are the program's work, not the plumbing every request passes through.
    pub fn hot_functions(&self, n: usize) -> Vec<&FrameShare> {
        self.top_total
            .iter()
            .filter(|f| !plumbing(&f.function))
            .take(n)
            .collect()
    }
}

/// Asks the server at `addr` for a profile of the next `window`. `Ok(None)` when the server has no profiler.
pub fn take(addr: SocketAddr, window: Duration) -> Result<Option<CpuProfile>, crate::RunError> {
    let path = format!("{ROUTE}?seconds={:.3}", window.as_secs_f64());
    let (status, body) = crate::probe::get(addr, &path, window + Duration::from_secs(30))?;
    match status {
        200 => serde_json::from_slice(&body)
            .map(Some)
            .map_err(|e| crate::RunError::environment(format!("GET {ROUTE}: not a profile: {e}"))),
        404 => Ok(None),
        _ => Err(crate::RunError::environment(format!(
            "GET {ROUTE}: {status} {}",
            String::from_utf8_lossy(&body).trim()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hot_functions_skip_what_every_stack_passes_through() {
        let frame = |function: &str, share| FrameShare {
            function: function.into(),
            share,
        };
        let profile = CpuProfile {
            seconds: 1.0,
            frequency: 199,
            samples: 100,
            top_self: vec![],
            top_total: vec![
                frame("std::sys::thread::unix::Thread::new::thread_start", 1.0),
                frame(
                    "block_on<lab_kit::run::start::{async_block_env#2}<lab_incidents::cli::Cli>>",
                    1.0,
                ),
                frame("poll<axum::middleware::from_fn::ResponseFuture>", 0.99),
                frame("{async_fn#0}", 0.99),
                frame("__libc_start_main_impl", 1.0),
                frame("is_valid_email", 0.977),
                frame("regex::regex::string::Regex::new", 0.85),
                frame("main", 0.99),
            ],
            flamegraph: String::new(),
            svg: String::new(),
        };
        let hot: Vec<&str> = profile.hot_functions(5).iter().map(|f| f.function.as_str()).collect();
        assert_eq!(hot, ["is_valid_email", "regex::regex::string::Regex::new"]);
    }
}
