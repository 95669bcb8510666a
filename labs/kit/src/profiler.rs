//! `GET /debug/pprof/profile?seconds=N`: a CPU profile of the running server, sampled in-process — a flamegraph
//! without `perf`, root, or a kernel that allows `perf_event_open` (containers and laptops often do not).
//!
//! [pprof-rs](https://github.com/tikv/pprof-rs) arms a `SIGPROF` timer: about `FREQUENCY` times a second *of CPU
//! time*, the thread that is running is interrupted and its stack recorded. That is the whole lesson of reading one:
//! a CPU profile shows where CPU time goes, and only that. A thread asleep in `std::thread::sleep`, blocked on a
//! lock or waiting for a socket burns no CPU, so it is never sampled — a handler that blocks its event loop shows a
//! *flat* profile, and the evidence for it is the event-loop lag instead. Node.js has the same split: `clinic flame`
//! for CPU, `clinic bubbleprof` and `doctor` for waiting.
//!
//! The answer is JSON: the sample count, the functions with the largest *self* share (the frame that was running)
//! and *total* share (anywhere on the stack), and the flamegraph as SVG (inferno's, the same renderer as
//! `cargo flamegraph`). The lab harness requests it over a variant's load with `--flamegraph` (the incident drills
//! always do), writes the SVG beside the run report and prints the top frames.
//!
//! Where `perf` exists it sees more (the kernel, other processes, off-CPU time with `perf sched`):
//! `perf record -F 499 -g -p PID -- sleep 10`, then `perf script | inferno-collapse-perf | inferno-flamegraph`.
//!
//! Functions a compiler inlined have no frame of their own: a hot helper can vanish into its caller. The drills mark
//! the functions their lessons name `#[inline(never)]`, and release builds keep line tables (workspace
//! `Cargo.toml`) so inlined code is still attributed to a file.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::extract::Query;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};

/// Samples per second of CPU time. Odd, so the timer does not beat in step with work done every 10 ms.
pub const FREQUENCY: i32 = 199;

/// The longest profile one request may ask for.
pub const MAX_SECONDS: f64 = 120.0;

/// How many functions the self list names.
const TOP_SELF: usize = 20;
/// How many the total list names: many more, because the first hundred or so are the frames every stack of an async
/// server passes through (`main`, the runtime's `block_on`, the task harness, the futures of hyper and axum) and the
/// reader's interest starts below them.
const TOP_TOTAL: usize = 300;

/// One profile at a time: the timer and the sample buffer are process-wide.
static PROFILING: AtomicBool = AtomicBool::new(false);

/// `?seconds=N` (default 5).
#[derive(Deserialize)]
pub struct ProfileQuery {
    seconds: Option<f64>,
}

/// A function's share of the samples.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FrameShare {
    /// The demangled name, without its hash.
    pub function: String,
    /// Samples that had it (on top, for `top_self`; anywhere on the stack, for `top_total`), over all samples.
    pub share: f64,
}

/// What `/debug/pprof/profile` answers.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CpuProfile {
    /// How long it sampled.
    pub seconds: f64,
    /// Samples per second of CPU time.
    pub frequency: i32,
    /// Stacks recorded.
    pub samples: u64,
    /// Where the CPU was when sampled: the innermost frames, largest share first.
    pub top_self: Vec<FrameShare>,
    /// What the CPU was working for: every function on the sampled stacks, largest share first.
    pub top_total: Vec<FrameShare>,
    /// The flamegraph.
    pub svg: String,
}

/// The route's handler: 400 on a bad duration, 409 while another profile runs, 500 if the profiler cannot start.
pub async fn profile(Query(query): Query<ProfileQuery>) -> Response {
    let seconds = query.seconds.unwrap_or(5.0);
    if !(seconds > 0.0 && seconds <= MAX_SECONDS) {
        let message = format!("seconds must be more than 0 and at most {MAX_SECONDS}, not {seconds}");
        return (StatusCode::BAD_REQUEST, message).into_response();
    }
    if PROFILING.swap(true, Ordering::AcqRel) {
        return (StatusCode::CONFLICT, "a profile is already being taken").into_response();
    }
    // The sampling window is a blocking sleep on a blocking-pool thread, not on the event loop it measures.
    let taken = tokio::task::spawn_blocking(move || sample_for(Duration::from_secs_f64(seconds))).await;
    PROFILING.store(false, Ordering::Release);
    match taken {
        Ok(Ok(profile)) => Json(profile).into_response(),
        Ok(Err(e)) => (StatusCode::INTERNAL_SERVER_ERROR, format!("profiler: {e}")).into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, format!("profiler task: {e}")).into_response(),
    }
}

/// Samples the whole process for `window` and summarises what it saw.
pub fn sample_for(window: Duration) -> Result<CpuProfile, pprof::Error> {
    let guard = pprof::ProfilerGuardBuilder::default()
        .frequency(FREQUENCY)
        // Frames inside these libraries cannot be unwound safely from a signal handler.
        .blocklist(&["libc", "libgcc", "pthread", "vdso"])
        .build()?;
    std::thread::sleep(window);
    let report = guard.report().build()?;
    let mut svg = Vec::new();
    report.flamegraph(&mut svg)?;

    let mut samples = 0u64;
    let mut on_top: BTreeMap<String, u64> = BTreeMap::new();
    let mut anywhere: BTreeMap<String, u64> = BTreeMap::new();
    for (frames, &count) in &report.data {
        let count = count.max(0) as u64;
        samples += count;
        // `frames.frames[0]` is the innermost address; each address lists its inlined functions innermost first.
        let names: Vec<String> = frames
            .frames
            .iter()
            .flat_map(|address| address.iter().map(|symbol| symbol.name()))
            .collect();
        if let Some(leaf) = names.first() {
            *on_top.entry(leaf.clone()).or_default() += count;
        }
        // A recursive function counts once per stack: "total" is the share of samples it was part of.
        for name in names.into_iter().collect::<BTreeSet<_>>() {
            *anywhere.entry(name).or_default() += count;
        }
    }
    Ok(CpuProfile {
        seconds: window.as_secs_f64(),
        frequency: FREQUENCY,
        samples,
        top_self: top(&on_top, samples, TOP_SELF),
        top_total: top(&anywhere, samples, TOP_TOTAL),
        svg: String::from_utf8_lossy(&svg).into_owned(),
    })
}

/// The `n` largest counts as shares of `samples`, largest first (ties by name, so the order is stable).
fn top(counts: &BTreeMap<String, u64>, samples: u64, n: usize) -> Vec<FrameShare> {
    let mut ranked: Vec<(&String, &u64)> = counts.iter().collect();
    ranked.sort_by(|a, b| b.1.cmp(a.1).then_with(|| a.0.cmp(b.0)));
    ranked
        .into_iter()
        .take(n)
        .map(|(function, &count)| FrameShare {
            function: function.clone(),
            share: count as f64 / samples.max(1) as f64,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Spends its time in one place the profile should find.
    #[inline(never)]
    fn spin_on_hashes(until: std::time::Instant) -> u64 {
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        while std::time::Instant::now() < until {
            for _ in 0..10_000 {
                x = std::hint::black_box(x.rotate_left(5) ^ x.wrapping_mul(0x100_0000_01b3));
            }
        }
        x
    }

    #[test]
    fn a_thread_that_only_spins_dominates_the_profile_and_the_svg_names_it() {
        let until = std::time::Instant::now() + Duration::from_millis(1500);
        let spinner = std::thread::spawn(move || spin_on_hashes(until));
        let profile = sample_for(Duration::from_millis(1200)).unwrap();
        spinner.join().unwrap();
        assert!(
            profile.samples >= 50,
            "{} samples in 1.2 s of a spinning thread",
            profile.samples
        );
        let spin = profile
            .top_total
            .iter()
            .find(|f| f.function.contains("spin_on_hashes"))
            .unwrap_or_else(|| panic!("spin_on_hashes is not in the profile: {:?}", profile.top_total));
        assert!(
            spin.share >= 0.8,
            "spin_on_hashes has only {:.0}% of the samples",
            spin.share * 100.0
        );
        assert!(profile.svg.starts_with("<?xml") && profile.svg.contains("spin_on_hashes"));
    }

    #[test]
    fn top_ranks_by_count_then_name() {
        let counts = BTreeMap::from([("b".to_string(), 5), ("a".to_string(), 5), ("c".to_string(), 10)]);
        let ranked = top(&counts, 20, 3);
        let names: Vec<&str> = ranked.iter().map(|f| f.function.as_str()).collect();
        assert_eq!(names, ["c", "a", "b"]);
        assert_eq!(ranked[0].share, 0.5);
    }
}
