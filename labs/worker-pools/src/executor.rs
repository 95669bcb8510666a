//! Where the CPU work runs: the variants behind one `run(job)`.
//!
//! Each variant also counts the heavy jobs *in flight* (accepted, not yet finished) and remembers the most there
//! ever were: under overload that number is the queue, wherever it hides — in a thread pool's channel, in tokio's
//! blocking-pool queue, in a semaphore's wait list, or in the event loop itself.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use std::future::Future;

use tokio::sync::Semaphore;

use crate::bounded_pool::BoundedPool;

/// Which executor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Variant {
    /// On the event loop.
    Inline,
    /// tokio's blocking pool, unbounded.
    SpawnBlocking,
    /// tokio's blocking pool behind a semaphore.
    Semaphore,
    /// The bounded pool (reference).
    BoundedPool,
    /// The learner's bounded pool.
    Exercise,
}

/// Why a job did not produce a result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunError {
    /// The pool's queue is full: shed the request (503).
    Full,
    /// The job panicked (500).
    Panicked,
}

enum Kind {
    Inline,
    SpawnBlocking,
    Semaphore(Arc<Semaphore>),
    Pool(BoundedPool),
    Exercise(exercise_worker_pools::BoundedPool),
}

/// Runs heavy jobs somewhere, counting them.
pub struct Executor {
    kind: Kind,
    in_flight: AtomicU64,
    in_flight_max: AtomicU64,
}

impl Executor {
    /// An executor of `variant`: `workers` threads and a queue of `queue` for the pools, `permits` for the semaphore.
    pub fn new(variant: Variant, workers: usize, queue: usize, permits: usize) -> Executor {
        let kind = match variant {
            Variant::Inline => Kind::Inline,
            Variant::SpawnBlocking => Kind::SpawnBlocking,
            Variant::Semaphore => Kind::Semaphore(Arc::new(Semaphore::new(permits.max(1)))),
            Variant::BoundedPool => Kind::Pool(BoundedPool::new(workers, queue)),
            Variant::Exercise => Kind::Exercise(exercise_worker_pools::BoundedPool::new(workers, queue)),
        };
        Executor {
            kind,
            in_flight: AtomicU64::new(0),
            in_flight_max: AtomicU64::new(0),
        }
    }

    /// Runs `job` and returns its result.
    pub async fn run<T, F>(&self, job: F) -> Result<T, RunError>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        let now = self.in_flight.fetch_add(1, Ordering::Relaxed) + 1;
        self.in_flight_max.fetch_max(now, Ordering::Relaxed);
        // ANCHOR: run
        let result = match &self.kind {
            // The whole point of the lab: this blocks the only event-loop thread for the job's duration.
            Kind::Inline => Ok(job()),
            Kind::SpawnBlocking => tokio::task::spawn_blocking(job).await.map_err(|_| RunError::Panicked),
            Kind::Semaphore(permits) => {
                let _permit = permits.acquire().await.map_err(|_| RunError::Panicked)?;
                tokio::task::spawn_blocking(job).await.map_err(|_| RunError::Panicked)
            }
            // A bounded pool answers at once: queued, or full (→ 503). The reference and the learner's pool share
            // one contract, written once in `BoundedQueue` below.
            Kind::Pool(pool) => pool.run_job(job).await,
            Kind::Exercise(pool) => pool.run_job(job).await,
        };
        // ANCHOR_END: run
        self.in_flight.fetch_sub(1, Ordering::Relaxed);
        result
    }

    /// (in flight now, most ever in flight, waiting in a pool's queue).
    pub fn depth(&self) -> (u64, u64, u64) {
        let waiting = match &self.kind {
            Kind::Pool(pool) => pool.waiting_jobs() as u64,
            Kind::Exercise(pool) => pool.waiting_jobs() as u64,
            _ => 0,
        };
        (
            self.in_flight.load(Ordering::Relaxed),
            self.in_flight_max.load(Ordering::Relaxed),
            waiting,
        )
    }
}

/// The exercise's contract as the executor uses it. The reference pool and the learner's have the same API but are
/// distinct types (the reference is `solution.rs` compiled into this lab), so the adapter is written once, by
/// [`bounded_queue!`], for both: the `exercise` variant differs from `bounded-pool` only in whose pool runs.
trait BoundedQueue {
    /// Queues `job` and waits for its result; `Full` at once when the queue is full.
    fn run_job<T, F>(&self, job: F) -> impl Future<Output = Result<T, RunError>> + Send
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static;
    /// Jobs queued and not yet started.
    fn waiting_jobs(&self) -> usize;
}

/// Implements [`BoundedQueue`] for a module that exports the exercise's `BoundedPool`.
macro_rules! bounded_queue {
    ($($module:ident)::+) => {
        impl BoundedQueue for $($module)::+::BoundedPool {
            fn run_job<T, F>(&self, job: F) -> impl Future<Output = Result<T, RunError>> + Send
            where
                T: Send + 'static,
                F: FnOnce() -> T + Send + 'static,
            {
                // Submit now (never blocks), wait later: a full queue is known before the first await.
                let queued = self.submit(job);
                async move {
                    match queued {
                        Ok(result) => result
                            .await
                            .map_err(|_| RunError::Panicked)?
                            .map_err(|_| RunError::Panicked),
                        Err(_) => Err(RunError::Full),
                    }
                }
            }

            fn waiting_jobs(&self) -> usize {
                self.waiting()
            }
        }
    };
}
bounded_queue!(crate::bounded_pool);
bounded_queue!(exercise_worker_pools);
