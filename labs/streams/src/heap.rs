//! The heap, counted: every allocation of this process goes through a counting wrapper around the system
//! allocator (the `peak_alloc` crate), so `/stats` can say how many bytes are allocated now and at most since the
//! last reset — exactly, not sampled.
//!
//! Why count and not read RSS: RSS is what the kernel lent the process, in pages; freed memory often stays lent
//! (the allocator keeps it for reuse), so RSS only ever shows the high-water mark of the whole life of the
//! process, runtime and SQLite included. The counter shows what *this code* holds at a moment, which is what a
//! buffered-vs-streamed comparison is about. Both are reported. (SQLite's own page cache is allocated by its C
//! code with `malloc`, outside this counter: it is the same in every variant.)

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

/// Starts a new peak from what is allocated now: called once the server is ready, so seeding the database at
/// start is not counted against the requests.
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
