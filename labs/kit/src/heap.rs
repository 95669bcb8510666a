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

use peak_alloc::PeakAlloc;

#[global_allocator]
static HEAP: PeakAlloc = PeakAlloc;

/// Bytes allocated on the heap now.
pub fn current_bytes() -> u64 {
    HEAP.current_usage() as u64
}

/// The most bytes allocated at once since start or the last [`reset_peak`].
pub fn peak_bytes() -> u64 {
    HEAP.peak_usage() as u64
}

/// Starts a new peak from what is allocated now (e.g. once the server is ready, so seeding a database at start is
/// not counted against the requests).
pub fn reset_peak() {
    HEAP.reset_peak_usage();
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
