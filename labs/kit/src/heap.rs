//! The heap, counted (feature `heap-counter`): every allocation of the process goes through a counting wrapper around
//! the system allocator (the `peak_alloc` crate), so a lab's `/stats` can say how many bytes its code holds now and
//! at most since the last reset — exactly, not sampled. The streams lab and the incident drills use it.
//!
//! Why count and not only read RSS: RSS is what the kernel lent the process, in pages; freed memory often stays lent
//! (the allocator keeps it for reuse), so RSS shows the high-water mark of everything — the runtime, SQLite, the
//! allocator's slack. The counter shows what the Rust code holds at a moment: what a buffered-vs-streamed export
//! holds, or how much heap one more WebSocket connection costs (`heap_bytes / connections`). (C code that calls
//! `malloc` itself, as SQLite's page cache does, is outside the count.)
//!
//! The cost: two atomic additions per allocation and per free (and a `fetch_max`), on every variant alike. It is not
//! a heap profile: it cannot say *which* code allocated — that is dhat's or jemalloc's profiler's job — only how much.

//!
//! With the feature `heap-profile` the allocator is dhat's instead ([`profile`]): the same three functions answer
//! from its statistics, and the profile by allocation site is written when the server stops.

#[cfg(not(feature = "heap-profile"))]
#[global_allocator]
static HEAP: peak_alloc::PeakAlloc = peak_alloc::PeakAlloc;

/// Bytes allocated on the heap now.
#[cfg(not(feature = "heap-profile"))]
pub fn current_bytes() -> u64 {
    HEAP.current_usage() as u64
}

/// The most bytes allocated at once since start or the last [`reset_peak`].
#[cfg(not(feature = "heap-profile"))]
pub fn peak_bytes() -> u64 {
    HEAP.peak_usage() as u64
}

/// Starts a new peak from what is allocated now (e.g. once the server is ready, so seeding a database at start is
/// not counted against the requests).
#[cfg(not(feature = "heap-profile"))]
pub fn reset_peak() {
    HEAP.reset_peak_usage();
}

#[cfg(feature = "heap-profile")]
pub use profile::{current_bytes, peak_bytes, reset_peak};

#[cfg(feature = "heap-profile")]
pub mod profile {
    //! dhat as the allocator: every allocation's backtrace is recorded (a few microseconds each — a profiling build,
    //! never a measured one), and when the server stops the profile is written to the file named by
    //! [`PROFILE_ENV`], which DHAT's viewer (`dh_view.html`, from Valgrind) opens and the harness summarises.

    #[global_allocator]
    static HEAP: dhat::Alloc = dhat::Alloc;

    /// The environment variable naming the file the profile is written to (`dhat-heap.json` when unset).
    pub const PROFILE_ENV: &str = "WORKBENCH_HEAP_PROFILE";

    /// Frames kept per allocation site, from the allocation outwards: enough to reach the lab's code through the
    /// collections and the runtime.
    const FRAMES: usize = 24;

    /// Starts profiling; the profile is written when the value returned is dropped (after the server has stopped).
    pub fn start() -> dhat::Profiler {
        let file = std::env::var(PROFILE_ENV).unwrap_or_else(|_| "dhat-heap.json".into());
        dhat::Profiler::builder()
            .file_name(file)
            .trim_backtraces(Some(FRAMES))
            .build()
    }

    fn stats() -> Option<dhat::HeapStats> {
        // dhat's statistics exist only while its profiler runs (from `start` to the end of `main`).
        std::panic::catch_unwind(dhat::HeapStats::get).ok()
    }

    /// Bytes allocated on the heap now (since profiling started).
    pub fn current_bytes() -> u64 {
        stats().map_or(0, |s| s.curr_bytes as u64)
    }

    /// The most bytes allocated at once since profiling started.
    pub fn peak_bytes() -> u64 {
        stats().map_or(0, |s| s.max_bytes as u64)
    }

    /// dhat keeps one peak for the whole profile: nothing to reset.
    pub fn reset_peak() {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_large_allocation_shows_in_current_and_peak() {
        // Other tests allocate concurrently, so only what this test holds is certain: 8 MiB more than before.
        let held = vec![1u8; 8 << 20];
        assert!(current_bytes() >= held.len() as u64);
        assert!(peak_bytes() >= held.len() as u64, "the peak is at least what is held");
        drop(held);
    }
}
