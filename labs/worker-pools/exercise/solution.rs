//! A bounded thread pool with backpressure: the reference solution of the worker-pools exercise, and the code the
//! lab's `bounded-pool` variant runs (the lab mounts this file as its `bounded_pool` module).
//!
//! `workers` OS threads take jobs from one queue that holds at most `queue` jobs. When it is full, `submit` says so
//! at once (`Err(Full)`) instead of queueing without limit: the server turns that into `503 Service Unavailable`
//! with `Retry-After`, and a client retries later. That is *backpressure* — the work the server accepts is bounded
//! by what it can finish, so memory and latency stay bounded under overload.
//!
//! - Results come back over a `tokio::sync::oneshot` channel, so an async handler can `.await` a job that runs on
//!   a plain thread without blocking its event loop.
//! - A job that panics is caught (`catch_unwind`) and reported to its submitter as `Err(Panicked)`; the worker
//!   thread lives on. Without that, every panic would shrink the pool by one thread.
//! - `shutdown` closes the queue and waits: workers finish every job already queued, then exit (a drain).
//!
//! The queue is `std::sync::mpsc::sync_channel`, the standard library's bounded channel; the workers share its
//! receiving end behind a `Mutex` (a classic; crossbeam's channel avoids that lock if it ever shows up in a profile).

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use tokio::sync::oneshot;

type Job = Box<dyn FnOnce() + Send + 'static>;

/// The queue was full: try again later.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Full;

/// The job panicked; the message, when it had one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Panicked(pub String);

/// A fixed set of worker threads fed by a bounded queue.
pub struct BoundedPool {
    sender: Option<SyncSender<Job>>,
    workers: Vec<JoinHandle<()>>,
    waiting: Arc<AtomicUsize>,
}

impl BoundedPool {
    /// Starts `workers` threads (at least one) behind a queue of at most `queue` waiting jobs.
    pub fn new(workers: usize, queue: usize) -> BoundedPool {
        let (sender, receiver) = sync_channel::<Job>(queue);
        let receiver: Arc<Mutex<Receiver<Job>>> = Arc::new(Mutex::new(receiver));
        let waiting = Arc::new(AtomicUsize::new(0));
        let workers = (0..workers.max(1))
            .map(|i| {
                let (receiver, waiting) = (receiver.clone(), waiting.clone());
                std::thread::Builder::new()
                    .name(format!("pool-{i}"))
                    .spawn(move || loop {
                        // The lock is held only while waiting for the next job, not while running it.
                        let next = receiver.lock().unwrap_or_else(|e| e.into_inner()).recv();
                        match next {
                            Ok(job) => {
                                waiting.fetch_sub(1, Ordering::Relaxed);
                                job();
                            }
                            Err(_) => return, // queue closed and empty: shutdown
                        }
                    })
                    .expect("spawn a pool thread")
            })
            .collect();
        BoundedPool {
            sender: Some(sender),
            workers,
            waiting,
        }
    }

    /// Queues `job`, or returns `Err(Full)` at once if the queue is full. The receiver yields the job's result, or
    /// `Err(Panicked)` if it panicked.
    // ANCHOR: submit
    pub fn submit<T, F>(&self, job: F) -> Result<oneshot::Receiver<Result<T, Panicked>>, Full>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        let wrapped: Job = Box::new(move || {
            let result = catch_unwind(AssertUnwindSafe(job)).map_err(|payload| {
                let message = payload
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| payload.downcast_ref::<String>().cloned())
                    .unwrap_or_default();
                Panicked(message)
            });
            // The submitter may have gone away (a cancelled request): then nobody wants the result.
            let _ = tx.send(result);
        });
        let sender = self.sender.as_ref().ok_or(Full)?;
        // Count before sending: a worker may take the job (and decrement) before try_send returns.
        self.waiting.fetch_add(1, Ordering::Relaxed);
        match sender.try_send(wrapped) {
            Ok(()) => Ok(rx),
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => {
                self.waiting.fetch_sub(1, Ordering::Relaxed);
                Err(Full)
            }
        }
    }
    // ANCHOR_END: submit

    /// Jobs queued and not yet started.
    pub fn waiting(&self) -> usize {
        self.waiting.load(Ordering::Relaxed)
    }

    /// Closes the queue and waits until every queued job has run.
    pub fn shutdown(mut self) {
        self.drain();
    }

    fn drain(&mut self) {
        drop(self.sender.take());
        for worker in self.workers.drain(..) {
            let _ = worker.join();
        }
    }
}

impl Drop for BoundedPool {
    fn drop(&mut self) {
        self.drain();
    }
}
