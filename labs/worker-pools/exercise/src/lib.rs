//! Exercise: a bounded thread pool with backpressure.
//!
//! CPU-heavy work (hashing, resizing images, compressing) must not run on the async runtime's threads: while it
//! runs, nothing else on that thread does — the event loop is blocked. Move it to a pool of plain threads. But an
//! unbounded queue only moves the problem: under overload it grows until memory runs out and every answer is late.
//! A *bounded* pool refuses work it cannot take, so the server can answer `503 Retry-After` at once instead.
//!
//! Implement [`BoundedPool`] so that:
//!
//! 1. `new(workers, queue)` starts `workers` threads that take jobs from a queue holding at most `queue` jobs;
//! 2. `submit(job)` returns a `tokio::sync::oneshot::Receiver` that yields the job's result;
//! 3. `submit` returns `Err(Full)` at once when the queue is full — it never blocks and never grows the queue;
//! 4. a job that panics yields `Err(Panicked(message))`, and the pool keeps working (no thread is lost);
//! 5. `shutdown()` waits until every job already queued has run (it drains the queue);
//! 6. jobs run in parallel on all `workers` threads.
//!
//! Check your work with `cargo xtask check worker-pools`, or the tests alone with
//! `cargo test -p exercise-worker-pools --test exercise_bounded_pool`.
//!
//! Hints: `std::sync::mpsc::sync_channel(queue)` is a bounded queue, and its `try_send` never blocks. Several
//! threads can share its `Receiver` behind a `Mutex`. `std::panic::catch_unwind` turns a panic into an `Err`.

use tokio::sync::oneshot;

/// The queue was full: try again later.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Full;

/// The job panicked; the message, when it had one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Panicked(pub String);

/// A fixed set of worker threads fed by a bounded queue.
pub struct BoundedPool {
    // TODO: the sending end of the queue, the worker threads' handles, a count of waiting jobs.
}

impl BoundedPool {
    /// Starts `workers` threads (at least one) behind a queue of at most `queue` waiting jobs.
    pub fn new(workers: usize, queue: usize) -> BoundedPool {
        // TODO: create the bounded queue and start the workers.
        let _ = (workers, queue);
        todo!("implement BoundedPool::new")
    }

    /// Queues `job`, or returns `Err(Full)` at once if the queue is full. The receiver yields the job's result, or
    /// `Err(Panicked)` if it panicked.
    pub fn submit<T, F>(&self, job: F) -> Result<oneshot::Receiver<Result<T, Panicked>>, Full>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        // TODO: wrap the job so that its result (or its panic) is sent on a oneshot, then try to queue it.
        let _ = job;
        todo!("implement BoundedPool::submit")
    }

    /// Jobs queued and not yet started.
    pub fn waiting(&self) -> usize {
        // TODO: count them.
        todo!("implement BoundedPool::waiting")
    }

    /// Closes the queue and waits until every queued job has run.
    pub fn shutdown(self) {
        // TODO: close the queue, then join the workers.
        todo!("implement BoundedPool::shutdown")
    }
}
