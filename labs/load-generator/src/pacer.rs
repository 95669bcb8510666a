//! The pacer: one thread that keeps the open model's schedule, so sends leave on time even when the server
//! saturates every core.
//!
//! # Why not `tokio::time::sleep_until` in each connection
//!
//! tokio's timer is a wheel with 1 ms slots, and a runtime parked in `epoll_wait` sleeps in whole milliseconds:
//! a request due at 10.2 ms leaves at 11 or 12 ms. Measured on 2 cores, that put the generator's send lag at
//! p50 ≈ 1 ms and p99 2–4 ms at 100–400 req/s, and 11 ms at 20k req/s — as large as the latencies some lessons
//! compare. wrk2 keeps its schedule with a busy thread per connection set; we keep it with one cheap thread:
//!
//! - it sleeps with `std::thread::sleep` (the kernel's high-resolution `nanosleep`, tens of microseconds late,
//!   not milliseconds) until the next request is due, then *releases* every request that is due by then — at
//!   20k req/s one wake-up releases two or three, so it never spins and never burns a core;
//! - a release is a counter per generator thread ([`Gate::released`]) and one `Notify` to wake that thread's
//!   runtime; the connections of that thread wait on a [`Turnstile`], a first-come-first-served queue, so a
//!   release wakes exactly the connections whose turn it is, not all of them;
//! - the pacer and the connection threads ask for realtime scheduling ([`raise_priority`]) where the system permits
//!   it (root or `CAP_SYS_NICE`), a higher niceness otherwise; the harness starts lab servers at nice 19. On 2 cores
//!   a server that saturates both would otherwise decide when the instrument gets to run.
//!
//! Whatever is left of the lateness is measured, per request, as *send lag* and reported with every run.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Poll, Waker};
use std::time::{Duration, Instant};

use tokio::sync::Notify;

use crate::proc_stat::thread_cpu_time;
use crate::report::ThreadUsage;
use crate::schedule::Schedule;

/// The niceness the generator's threads ask for: well ahead of a normal process, far ahead of a lab server (19).
pub const GENERATOR_NICE: i32 = -10;

/// One generator thread's share of the schedule: how many of its requests the pacer has released so far.
///
/// Thread `k` of `T` owns the requests whose global index `i` has `i % T == k`; its `j`-th request is
/// `i = j·T + k`. The pacer releases requests in global order, so each thread's count grows one by one.
#[derive(Debug, Default)]
pub struct Gate {
    released: AtomicU64,
    notify: Notify,
}

impl Gate {
    /// How many of this thread's requests may be sent now.
    pub fn released(&self) -> u64 {
        self.released.load(Ordering::Acquire)
    }

    fn release(&self, up_to: u64) {
        self.released.fetch_max(up_to, Ordering::Release);
        // One waiter (the thread's turnstile task) at most: a permit is kept if it is not waiting yet.
        self.notify.notify_one();
    }
}

/// Runs the schedule on its own thread until every request is released or `stop` is set.
pub struct Pacer {
    handle: Option<std::thread::JoinHandle<ThreadUsage>>,
    stop: Arc<AtomicBool>,
}

impl Pacer {
    /// Starts the pacer for `threads` generator threads; returns it and one gate per thread. It stops early, and
    /// releases everything, when it is dropped or when `abort` is set (the target turned out to be unreachable).
    pub fn start(
        schedule: Arc<Schedule>,
        t0: Instant,
        threads: usize,
        abort: Arc<AtomicBool>,
    ) -> std::io::Result<(Pacer, Vec<Arc<Gate>>)> {
        let gates: Vec<Arc<Gate>> = (0..threads).map(|_| Arc::new(Gate::default())).collect();
        let stop = Arc::new(AtomicBool::new(false));
        let handle = {
            let (gates, stop) = (gates.clone(), stop.clone());
            std::thread::Builder::new().name("load-pacer".into()).spawn(move || {
                let priority = raise_priority(true);
                let (started, cpu_before) = (Instant::now(), thread_cpu_time());
                pace(&schedule, t0, &gates, &[&stop, &abort]);
                let cpu = cpu_before.zip(thread_cpu_time()).map(|(a, b)| b.saturating_sub(a));
                ThreadUsage {
                    wall: started.elapsed(),
                    cpu,
                    priority,
                }
            })?
        };
        Ok((
            Pacer {
                handle: Some(handle),
                stop,
            },
            gates,
        ))
    }
}

impl Pacer {
    /// Stops the pacer and returns its own CPU use (it is part of the generator's cost).
    pub fn finish(mut self) -> Option<ThreadUsage> {
        self.stop_and_join()
    }

    fn stop_and_join(&mut self) -> Option<ThreadUsage> {
        self.stop.store(true, Ordering::Relaxed);
        self.handle.take().and_then(|h| h.join().ok())
    }
}

impl Drop for Pacer {
    fn drop(&mut self) {
        self.stop_and_join();
    }
}

/// The longest the pacer sleeps in one go, so that a stopped run ends promptly even at 1 request a minute.
const MAX_NAP: Duration = Duration::from_millis(50);

/// The shortest: at high rates the pacer wakes at most every 200 µs and releases everything due by then, instead of
/// waking once per request. A realtime thread's sleep has no timer slack, so without this floor the pacer woke
/// 20,000 times a second at 20k req/s and the generator spent 45 µs of CPU per request; with it, a send leaves at
/// most ~0.2 ms late — well inside the 1 ms the generator promises.
const MIN_NAP: Duration = Duration::from_micros(200);

fn pace(schedule: &Schedule, t0: Instant, gates: &[Arc<Gate>], stop: &[&AtomicBool]) {
    let threads = gates.len() as u64;
    let total = schedule.total();
    let mut next = 0u64; // the first global index not yet released
    let mut told = vec![0u64; gates.len()]; // what each gate was last told, so only changes wake a thread
    while next < total {
        if stop.iter().any(|s| s.load(Ordering::Relaxed)) {
            break;
        }
        let due = t0 + schedule.due(next).0;
        let now = Instant::now();
        if due > now {
            std::thread::sleep((due - now).clamp(MIN_NAP, MAX_NAP));
        }
        // Release everything due by now in one go: at high rates one wake-up covers several requests.
        let now = Instant::now();
        while next < total && t0 + schedule.due(next).0 <= now {
            next += 1;
        }
        for (k, gate) in gates.iter().enumerate() {
            let up_to = released_for(next, threads, k as u64);
            if up_to > told[k] {
                told[k] = up_to;
                gate.release(up_to);
            }
        }
    }
    // Stopped early (the run was aborted) or done: let every waiting connection see the end.
    if next < total {
        for gate in gates {
            gate.release(u64::MAX);
        }
    }
}

/// How many of thread `k`'s requests are among the first `n` global indices (those `i < n` with `i % t == k`).
pub fn released_for(n: u64, t: u64, k: u64) -> u64 {
    (n + t - 1 - k) / t
}

/// The queue of one generator thread's connections waiting for their request to be released, in the order they
/// claimed them. One task per thread ([`Turnstile::run`]) waits on the gate and wakes exactly the connections whose
/// request came due: a release wakes one or two connections, not all sixty-four.
pub struct Turnstile {
    gate: Arc<Gate>,
    /// How many of the schedule's requests this thread sends.
    share: u64,
    waiting: RefCell<VecDeque<(u64, Waker)>>,
}

impl Turnstile {
    /// A turnstile for the thread that owns `gate` and sends `share` of the schedule's requests.
    pub fn new(gate: Arc<Gate>, share: u64) -> Turnstile {
        Turnstile {
            gate,
            share,
            waiting: RefCell::new(VecDeque::new()),
        }
    }

    /// How many of the schedule's requests this thread sends (see [`released_for`]).
    pub fn share(&self) -> u64 {
        self.share
    }

    /// True when this thread's request number `j` may be sent.
    pub fn is_released(&self, j: u64) -> bool {
        self.gate.released() > j
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

    /// Wakes connections as their requests are released, until all of this thread's share are.
    pub async fn run(&self) {
        loop {
            let notified = self.gate.notify.notified();
            let mut notified = std::pin::pin!(notified);
            // Registered before reading the counter, so a release between the read and the await is not missed.
            notified.as_mut().enable();
            let released = self.gate.released();
            self.waiting.borrow_mut().retain(|(j, waker)| {
                let due = *j < released;
                if due {
                    waker.wake_by_ref();
                }
                !due
            });
            if released >= self.share {
                return;
            }
            notified.await;
        }
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
        // 200 requests at 2000/s over two threads: 100 ms.
        let schedule = Arc::new(Schedule::new(&[Phase {
            name: "steady",
            duration: Duration::from_millis(100),
            from_rps: 2000.0,
            to_rps: 2000.0,
            steady: true,
        }]));
        let t0 = Instant::now() + Duration::from_millis(20);
        let (pacer, gates) = Pacer::start(schedule, t0, 2, Arc::default()).unwrap();
        // Nothing is released before its due time.
        assert_eq!(gates[0].released() + gates[1].released(), 0);
        let halfway = t0 + Duration::from_millis(50);
        while Instant::now() < halfway {
            std::thread::yield_now();
        }
        let at_half = gates[0].released() + gates[1].released();
        // 100 requests are due by 50 ms; a released one is never early, and the pacer is far less than 20 ms late.
        assert!((60..=101).contains(&at_half), "released {at_half} by 50 ms");
        // By the end, each thread has all of its share, and no more.
        let end = t0 + Duration::from_millis(100);
        while gates[0].released() + gates[1].released() < 200 {
            assert!(
                Instant::now() < end + Duration::from_secs(1),
                "the pacer fell a second behind"
            );
            std::thread::yield_now();
        }
        assert_eq!((gates[0].released(), gates[1].released()), (100, 100));
        drop(pacer);
    }

    #[test]
    fn a_stopped_pacer_lets_every_waiting_connection_go() {
        let schedule = Arc::new(Schedule::new(&[Phase {
            name: "steady",
            duration: Duration::from_secs(60),
            from_rps: 1.0,
            to_rps: 1.0,
            steady: true,
        }]));
        let (pacer, gates) = Pacer::start(schedule, Instant::now(), 1, Arc::default()).unwrap();
        drop(pacer); // returns within one nap, not after a minute
        assert_eq!(gates[0].released(), u64::MAX);
    }

    #[test]
    fn a_turnstile_wakes_connections_in_turn() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let local = tokio::task::LocalSet::new();
        let gate = Arc::new(Gate::default());
        let turnstile = std::rc::Rc::new(Turnstile::new(gate.clone(), 3));
        let order = std::rc::Rc::new(RefCell::new(Vec::new()));
        local.block_on(&runtime, async {
            let mut tasks = Vec::new();
            for j in [0u64, 1, 2] {
                let (t, order) = (turnstile.clone(), order.clone());
                tasks.push(tokio::task::spawn_local(async move {
                    t.wait(j).await;
                    order.borrow_mut().push(j);
                }));
            }
            let t = turnstile.clone();
            let run = tokio::task::spawn_local(async move { t.run().await });
            tokio::task::yield_now().await;
            assert!(order.borrow().is_empty(), "nothing released yet");
            gate.release(2);
            for _ in 0..3 {
                tokio::task::yield_now().await;
            }
            assert_eq!(*order.borrow(), [0, 1]);
            gate.release(3);
            for task in tasks {
                task.await.unwrap();
            }
            run.await.unwrap();
            assert_eq!(*order.borrow(), [0, 1, 2]);
        });
    }
}
