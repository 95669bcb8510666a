//! The pacer: each generator thread keeps its own share of the open model's schedule, on a high-resolution timer
//! inside its own event loop, so sends leave on time even when the server saturates every core.
//!
//! # Why not `tokio::time::sleep_until` in each connection
//!
//! tokio's timer is a wheel with 1 ms slots, and a runtime parked in `epoll_wait` sleeps in whole milliseconds:
//! a request due at 10.2 ms leaves at 11 or 12 ms. Measured on 2 cores, that put the generator's send lag at
//! p50 ≈ 1 ms and p99 2–4 ms at 100–400 req/s, and 11 ms at 20k req/s — as large as the latencies some lessons
//! compare. wrk2 keeps its schedule with a busy thread per connection set; we keep it with a kernel timer:
//!
//! - each generator thread owns a `timerfd` (nanosecond resolution, no timer slack for a realtime thread) that its
//!   tokio runtime watches like a socket. The [`Pacer`] task arms it for the thread's next due request, sleeps in the
//!   same `epoll_wait` that waits for responses, and on waking *releases* every request due by then. It wakes at
//!   most every [`DEFAULT_PACING`] (700 µs; `--pacing`): at 20k req/s one wake-up releases fourteen, and it never
//!   spins or burns a core;
//! - a release is a counter; the thread's connections wait in the pacer's first-come-first-served queue, so a
//!   release wakes exactly the connections whose turn it is, not all sixty-four;
//! - the generator threads ask for realtime scheduling ([`raise_priority`]) where the system permits it (root or
//!   `CAP_SYS_NICE`), a higher niceness otherwise; the harness starts lab servers at nice 19. On 2 cores a server
//!   that saturates both would otherwise decide when the instrument gets to run.
//!
//! # Why not one pacer thread for all
//!
//! The first version had one: it slept with `nanosleep` and woke the connection threads through a `Notify`. It kept
//! the schedule, but every release crossed threads — the pacer woke, wrote the runtime's eventfd, the runtime woke
//! from `epoll_wait` — and a wake-up is the expensive thing a loopback generator does. Measured with `perf` at
//! 20k req/s on 2 cores (hello-world server): 22 µs of CPU per request, 25% of it in the pacer's sleep and the
//! eventfd wake. A timer in the thread's own loop costs one `read` and one `timerfd_settime` per wake-up: 16.9 µs
//! per request at the same 200 µs pacing, and 9.1–9.3 µs at the 700 µs default (see [`DEFAULT_PACING`]).
//!
//! Releasing due requests whenever a response wakes the thread anyway sounds cheaper still; measured, it is not
//! (22 µs per request): sends spread out, and each one wakes an idle server thread, which the sender pays for.
//!
//! Whatever is left of the lateness is measured, per request, as *send lag* and reported with every run.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Poll, Waker};
use std::time::{Duration, Instant};

use crate::plan::global_index;
use crate::schedule::Schedule;

/// The niceness the generator's threads ask for: well ahead of a normal process, far ahead of a lab server (19).
pub const GENERATOR_NICE: i32 = -10;

/// The longest the pacer sleeps in one go, so that an aborted run ends promptly even at 1 request a minute.
const MAX_NAP: Duration = Duration::from_millis(50);

/// The shortest gap between two wake-ups of the pacer, unless set with `--pacing`: at high rates the pacer wakes at
/// most this often and releases everything due by then in one burst, instead of waking once per request.
///
/// A wake-up is what a loopback generator pays for most, so this is a trade between the CPU the instrument uses and
/// how evenly its requests leave. Measured at 20k req/s against the baseline lab's hello server (1 thread, 16
/// connections, 8 s runs, 2-core Firecracker VM where a context switch costs ~40 µs):
///
/// | pacing | CPU per request | send lag p99 | server's p50 |
/// |---|---|---|---|
/// | 200 µs | 16.8–17.3 µs | 0.25 ms | 68–73 µs |
/// | 400 µs | 11.1–11.4 µs | 0.45 ms | 76–78 µs |
/// | 700 µs | 9.1–9.3 µs | 0.75 ms | 91–94 µs |
/// | 1 ms | 7.9–8.0 µs | 1.05 ms (over the promise) | 111–126 µs |
///
/// 700 µs keeps the promise (send lag p99 < 1 ms) at about 10 µs per request. The price is burstiness: at 20k
/// req/s fourteen requests leave together, and a server that answers in tens of microseconds queues some of them
/// (its median above). The pacing only applies where requests are due more often than it on average (over the next
/// sixteen): below 1,430 req/s per thread, and in the lulls of Poisson arrivals, each request leaves on its own
/// wake-up, on time. (Applied everywhere, it put the worker-pools lab's Poisson arrivals at 100 req/s 0.6–0.75 ms
/// late at p99, where 0.1–0.3 ms is the norm.) `--pacing 200us` buys smoother high-rate sends with CPU.
pub const DEFAULT_PACING: Duration = Duration::from_micros(700);

/// How far ahead the pacer looks to decide whether requests are crowded enough to batch.
const LOOKAHEAD: u64 = 16;

/// How many of thread `k`'s requests are among the first `n` global indices (those `i < n` with `i % t == k`).
pub fn released_for(n: u64, t: u64, k: u64) -> u64 {
    (n + t - 1 - k) / t
}

/// One generator thread's share of the schedule, released on time, and the queue of its connections waiting for
/// their turn.
///
/// Thread `k` of `T` owns the requests whose global index `i` has `i % T == k`; its `j`-th request is
/// `i = j·T + k`. [`Pacer::run`] releases them in order; a connection that claimed request `j` waits in
/// [`Pacer::wait`] until it is released.
pub struct Pacer {
    schedule: Arc<Schedule>,
    t0: Instant,
    threads: usize,
    k: usize,
    /// How many of the schedule's requests this thread sends.
    share: u64,
    /// How many of them are released so far.
    released: Cell<u64>,
    waiting: RefCell<VecDeque<(u64, Waker)>>,
    /// Set when the run is abandoned (the target is unreachable): everything is released at once.
    abort: Arc<AtomicBool>,
    /// The shortest gap between two wake-ups ([`DEFAULT_PACING`]).
    nap: Duration,
}

impl Pacer {
    /// The pacer of thread `k` of `threads`, for a schedule that starts at `t0`, waking at most every `pacing`.
    pub fn new(
        schedule: Arc<Schedule>,
        t0: Instant,
        (threads, k): (usize, usize),
        pacing: Duration,
        abort: Arc<AtomicBool>,
    ) -> Pacer {
        let share = released_for(schedule.total(), threads as u64, k as u64);
        Pacer {
            schedule,
            t0,
            threads,
            k,
            share,
            released: Cell::new(0),
            waiting: RefCell::new(VecDeque::new()),
            abort,
            nap: pacing,
        }
    }

    /// How many of the schedule's requests this thread sends (see [`released_for`]).
    pub fn share(&self) -> u64 {
        self.share
    }

    /// True when this thread's request number `j` may be sent.
    pub fn is_released(&self, j: u64) -> bool {
        self.released.get() > j
    }

    /// Waits until this thread's request number `j` is released.
    pub async fn wait(&self, j: u64) {
        let mut queued = false;
        std::future::poll_fn(|cx| {
            if self.is_released(j) {
                return Poll::Ready(());
            }
            if !queued {
                self.waiting.borrow_mut().push_back((j, cx.waker().clone()));
                queued = true;
            }
            Poll::Pending
        })
        .await
    }

    /// True when this thread's requests from number `j` on are due, on average over the next [`LOOKAHEAD`], more
    /// often than the pacing: then waking for each would cost more than the pacing is there to save.
    fn crowded(&self, j: u64) -> bool {
        let ahead = (j + LOOKAHEAD).min(self.share.saturating_sub(1));
        ahead > j && (self.due(ahead) - self.due(j)) / ((ahead - j) as u32) < self.nap
    }

    /// When this thread's request number `j` is due.
    fn due(&self, j: u64) -> Instant {
        self.t0 + self.schedule.due(global_index(j, self.threads, self.k)).0
    }

    /// Releases this thread's requests as they come due, until all are; run it as a task beside the connections.
    pub async fn run(&self) -> std::io::Result<()> {
        let mut timer = Timer::new()?;
        let mut last_wake = Instant::now();
        while self.released.get() < self.share {
            if self.abort.load(Ordering::Relaxed) {
                self.release(u64::MAX);
                break;
            }
            let due = self.due(self.released.get());
            let now = Instant::now();
            if due > now {
                // Batch only where requests come faster than the pacing: a quiet stretch (a low rate, or a lull
                // between Poisson arrivals) keeps exact times.
                let floor = if self.crowded(self.released.get()) {
                    last_wake + self.nap
                } else {
                    now
                };
                let wake = due.max(floor).min(now + MAX_NAP);
                timer.sleep_until(wake).await?;
            }
            last_wake = Instant::now();
            self.release_due(last_wake);
        }
        Ok(())
    }

    /// Releases, in one go, every request due by `now`: at high rates one wake-up covers several.
    fn release_due(&self, now: Instant) {
        let mut released = self.released.get();
        while released < self.share && self.due(released) <= now {
            released += 1;
        }
        self.release(released);
    }

    /// Marks the first `up_to` requests released and wakes the connections waiting for them, in order.
    fn release(&self, up_to: u64) {
        if up_to <= self.released.get() {
            return;
        }
        self.released.set(up_to);
        // Connections claim in order but may queue out of order (one claimed, then another queued first).
        self.waiting.borrow_mut().retain(|(j, waker)| {
            let due = *j < up_to;
            if due {
                waker.wake_by_ref();
            }
            !due
        });
    }
}

/// A one-shot high-resolution timer watched by the thread's own event loop: a Linux `timerfd` in tokio's reactor.
#[cfg(target_os = "linux")]
struct Timer {
    fd: tokio::io::unix::AsyncFd<std::os::fd::OwnedFd>,
}

#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
impl Timer {
    fn new() -> std::io::Result<Timer> {
        use std::os::fd::FromRawFd;
        // SAFETY: timerfd_create takes plain integers; on success the new descriptor is ours alone to own.
        let raw = unsafe { libc::timerfd_create(libc::CLOCK_MONOTONIC, libc::TFD_NONBLOCK | libc::TFD_CLOEXEC) };
        if raw < 0 {
            return Err(std::io::Error::last_os_error());
        }
        // SAFETY: `raw` is a freshly created, valid descriptor that nothing else owns.
        let owned = unsafe { std::os::fd::OwnedFd::from_raw_fd(raw) };
        // SAFETY: an OwnedFd's descriptor stays open, and the same, until the AsyncFd that owns it is dropped.
        let fd = unsafe { tokio::io::unix::AsyncFd::register_with_interest(owned, tokio::io::Interest::READABLE) }
            .map_err(std::io::Error::from)?;
        Ok(Timer { fd })
    }

    /// Sleeps until `when` (relative to now: `Instant` and the timer share `CLOCK_MONOTONIC`).
    async fn sleep_until(&mut self, when: Instant) -> std::io::Result<()> {
        use std::os::fd::AsRawFd;
        let wait = when
            .saturating_duration_since(Instant::now())
            .max(Duration::from_nanos(1));
        let spec = libc::itimerspec {
            it_interval: libc::timespec { tv_sec: 0, tv_nsec: 0 },
            it_value: libc::timespec {
                tv_sec: wait.as_secs() as libc::time_t,
                tv_nsec: wait.subsec_nanos() as libc::c_long,
            },
        };
        let fd = self.fd.get_ref().as_raw_fd();
        // SAFETY: `fd` is our open timerfd; `spec` is a valid itimerspec read by the call, the old value not asked.
        if unsafe { libc::timerfd_settime(fd, 0, &spec, std::ptr::null_mut()) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
        loop {
            let mut guard = self.fd.readable().await?;
            let mut expirations = [0u8; 8];
            // SAFETY: reads at most 8 bytes into our 8-byte buffer from our own descriptor.
            let n = unsafe { libc::read(fd, expirations.as_mut_ptr().cast(), expirations.len()) };
            if n == 8 {
                // The timer is drained: clear the cached readiness, or the next sleep would first read nothing.
                guard.clear_ready();
                return Ok(());
            }
            let error = std::io::Error::last_os_error();
            if error.kind() != std::io::ErrorKind::WouldBlock {
                return Err(error);
            }
            guard.clear_ready();
        }
    }
}

/// Elsewhere, tokio's own timer: millisecond resolution, which the measured send lag will show.
#[cfg(not(target_os = "linux"))]
struct Timer;

#[cfg(not(target_os = "linux"))]
impl Timer {
    fn new() -> std::io::Result<Timer> {
        Ok(Timer)
    }

    async fn sleep_until(&mut self, when: Instant) -> std::io::Result<()> {
        tokio::time::sleep_until(when.into()).await;
        Ok(())
    }
}

/// How a generator thread ended up scheduled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Priority {
    /// `SCHED_FIFO`, priority 1: it runs the moment it wakes, ahead of every ordinary thread.
    Realtime,
    /// An ordinary thread at this niceness (negative: ahead of normal processes).
    Nice(i32),
}

impl Priority {
    /// `SCHED_FIFO` or `nice -10`, as the report prints it.
    pub fn label(self) -> String {
        match self {
            Priority::Realtime => "SCHED_FIFO".into(),
            Priority::Nice(n) => format!("nice {n}"),
        }
    }
}

/// Asks the kernel to run the calling thread ahead of the lab servers (which the harness starts at nice 19) and of
/// anything else on the machine, as far as it is permitted; returns what it got.
///
/// - `realtime` (the open model's pacer and connection threads, which sleep between sends): `SCHED_FIFO`, so a
///   thread due to send preempts a busy server at once. Niceness alone is not enough on current kernels: measured
///   on 2 cores (Linux 6.18, EEVDF), a nice −10 generator still waited out a nice-19 server's time slice, 2–3 ms at
///   p99, when the server hashed on several threads. A realtime thread that mostly sleeps costs nothing; the kernel
///   caps realtime threads at 95% of a core anyway.
/// - otherwise (the closed model, which runs flat out by design and must not hold a core against the kernel), and
///   where realtime is refused: niceness [`GENERATOR_NICE`].
///
/// Without privilege (a learner's laptop) both requests fail and the thread stays as it was; the report says so,
/// and the send lag it measures shows what that cost.
#[allow(unsafe_code)]
pub fn raise_priority(realtime: bool) -> Priority {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: sched_setscheduler reads the sched_param we pass and keeps no pointer to it; gettid and
        // setpriority/getpriority take plain integers. On Linux, pid 0 and a thread id address this one thread.
        unsafe {
            if realtime {
                let param = libc::sched_param { sched_priority: 1 };
                if libc::sched_setscheduler(0, libc::SCHED_FIFO, &param) == 0 {
                    return Priority::Realtime;
                }
            }
            let tid = libc::gettid() as libc::id_t;
            libc::setpriority(libc::PRIO_PROCESS, tid, GENERATOR_NICE);
            // getpriority can return -1 legitimately; errno is not worth telling apart here.
            Priority::Nice(libc::getpriority(libc::PRIO_PROCESS, tid))
        }
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = realtime;
        Priority::Nice(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schedule::Phase;
    use std::rc::Rc;

    fn steady(duration: Duration, rps: f64) -> Arc<Schedule> {
        Arc::new(Schedule::new(&[Phase {
            name: "steady",
            duration,
            from_rps: rps,
            to_rps: rps,
            steady: true,
        }]))
    }

    fn on_one_thread<F: std::future::Future>(f: F) -> F::Output {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        tokio::task::LocalSet::new().block_on(&runtime, f)
    }

    #[test]
    fn each_thread_gets_its_share_of_the_released_indices() {
        // Indices 0..10 over 3 threads: thread 0 owns 0,3,6,9; thread 1 owns 1,4,7; thread 2 owns 2,5,8.
        assert_eq!((0..3).map(|k| released_for(10, 3, k)).collect::<Vec<_>>(), [4, 3, 3]);
        assert_eq!(released_for(0, 3, 0), 0);
        assert_eq!(released_for(1, 3, 0), 1);
        assert_eq!(released_for(1, 3, 1), 0);
        assert_eq!(released_for(7, 1, 0), 7);
    }

    #[test]
    fn the_pacer_releases_on_time_and_in_order() {
        // 200 requests at 2000/s over two threads: 100 ms; this is thread 1's pacer, with 100 of them.
        let t0 = Instant::now() + Duration::from_millis(20);
        let pacer = Rc::new(Pacer::new(
            steady(Duration::from_millis(100), 2000.0),
            t0,
            (2, 1),
            DEFAULT_PACING,
            Arc::default(),
        ));
        assert_eq!(pacer.share(), 100);
        on_one_thread(async {
            let run = tokio::task::spawn_local({
                let pacer = pacer.clone();
                async move { pacer.run().await }
            });
            tokio::task::yield_now().await;
            // Nothing is released before its due time.
            assert!(!pacer.is_released(0));
            tokio::time::sleep_until((t0 + Duration::from_millis(50)).into()).await;
            // 50 of this thread's requests are due by 50 ms (its j-th is due at (2j+1) × 0.5 ms); a released one
            // is never early, and the pacer is far less than 20 ms late.
            let at_half = pacer.released.get();
            assert!((30..=50).contains(&at_half), "released {at_half} by 50 ms");
            run.await.unwrap().unwrap();
            assert!(
                Instant::now() >= t0 + Duration::from_micros(99_500),
                "the last one left early"
            );
            assert_eq!(pacer.released.get(), 100);
        });
    }

    #[test]
    fn only_requests_due_more_often_than_the_pacing_are_batched() {
        let pacer = |rps: f64| {
            Pacer::new(
                steady(Duration::from_secs(1), rps),
                Instant::now(),
                (1, 0),
                DEFAULT_PACING,
                Arc::default(),
            )
        };
        assert!(pacer(20_000.0).crowded(0), "50 µs apart");
        assert!(pacer(2_000.0).crowded(0), "500 µs apart");
        assert!(!pacer(1_000.0).crowded(0), "1 ms apart: each leaves on time");
        assert!(!pacer(100.0).crowded(0));
        assert!(
            !pacer(20_000.0).crowded(19_999),
            "the last request has nothing after it"
        );
    }

    #[test]
    fn an_aborted_pacer_lets_every_waiting_connection_go() {
        let abort = Arc::new(AtomicBool::new(false));
        let pacer = Rc::new(Pacer::new(
            steady(Duration::from_secs(60), 1.0),
            Instant::now(),
            (1, 0),
            DEFAULT_PACING,
            abort.clone(),
        ));
        on_one_thread(async {
            let waiter = tokio::task::spawn_local({
                let pacer = pacer.clone();
                async move { pacer.wait(5).await }
            });
            let run = tokio::task::spawn_local({
                let pacer = pacer.clone();
                async move { pacer.run().await }
            });
            abort.store(true, Ordering::Relaxed);
            // Returns within one nap (50 ms), not after a minute.
            tokio::time::timeout(Duration::from_secs(2), waiter)
                .await
                .unwrap()
                .unwrap();
            run.await.unwrap().unwrap();
        });
        assert!(pacer.is_released(59));
    }

    #[test]
    fn connections_are_woken_in_turn() {
        // Three requests 20 ms apart, each awaited by its own connection.
        let t0 = Instant::now() + Duration::from_millis(20);
        let pacer = Rc::new(Pacer::new(
            steady(Duration::from_millis(60), 50.0),
            t0,
            (1, 0),
            DEFAULT_PACING,
            Arc::default(),
        ));
        let order = Rc::new(RefCell::new(Vec::new()));
        on_one_thread(async {
            let mut tasks = Vec::new();
            for j in [2u64, 0, 1] {
                let (pacer, order) = (pacer.clone(), order.clone());
                tasks.push(tokio::task::spawn_local(async move {
                    pacer.wait(j).await;
                    order.borrow_mut().push((j, Instant::now()));
                }));
            }
            tokio::task::yield_now().await;
            assert!(order.borrow().is_empty(), "nothing released yet");
            pacer.run().await.unwrap();
            for task in tasks {
                task.await.unwrap();
            }
        });
        let order = order.borrow();
        assert_eq!(order.iter().map(|(j, _)| *j).collect::<Vec<_>>(), [0, 1, 2]);
        for (j, woke) in order.iter() {
            assert!(*woke >= t0 + Duration::from_millis(20 * j), "request {j} left early");
        }
    }
}
