//! The heap, counted: every allocation of the drills' server goes through `peak_alloc`'s counting wrapper around
//! the system allocator, so `/stats` says how many bytes the code holds now and held at most (`heap_bytes`,
//! `heap_peak_bytes`) — exact, not sampled, beside the RSS the harness reads from `/proc`.
//!
//! Why both: RSS is what the kernel lent the process, and freed memory often stays lent, so RSS shows the
//! high-water mark of everything (runtime, SQLite, allocator slack); the counter shows what the Rust code holds at a
//! moment. A leak shows in both; memory per connection is `heap_bytes / chat_connections` while connections are
//! held. The cost: two atomic additions per allocation and free, on both variants alike. It is not a heap profile
//! (it cannot say *which* code allocated — that is dhat's or jemalloc's profiler's job), only how much.

use peak_alloc::PeakAlloc;

#[global_allocator]
static HEAP: PeakAlloc = PeakAlloc;

/// Bytes allocated on the heap now.
pub fn current_bytes() -> u64 {
    HEAP.current_usage() as u64
}

/// The most bytes allocated at once since start.
pub fn peak_bytes() -> u64 {
    HEAP.peak_usage() as u64
}
