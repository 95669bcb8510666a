//! The engine: threads, keep-alive connections, and the send loops of the open and closed models.
//!
//! # Threads (wrk's model)
//!
//! Each of `threads` OS threads runs its own single-threaded tokio runtime with its own share of the connections
//! and its own [`Recorder`]: nothing is shared on the hot path but one relaxed atomic for the progress bar. In the
//! open model, thread `k` of `T` sends the requests whose global index `i` has `i % T == k`, so the threads
//! interleave on one schedule without talking.
//!
//! # The open model without coordinated omission
//!
//! Each thread's pacer ([`crate::pacer`]) releases that thread's requests when they are due. A connection that is
//! free *claims* the next index `i` of its thread and asks whether it was released yet:
//!
//! - not yet: it waits in its pacer's queue until the pacer releases it, then sends. Its latency is measured
//!   from the moment it woke — the pacer's lateness is the generator's fault, not the server's, and is recorded
//!   apart as *send lag*;
//! - already: every connection was busy, because the server is slow. The request has been waiting in our queue,
//!   just as a user's would, so its latency is measured **from the due time**. That is the correction.
//!
//! Requests not sent by the run's deadline (the schedule's end plus a drain grace) are *dropped*: counted, and
//! recorded at the time they had waited by then — a lower bound, never silently left out.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use http::Method;
use rand::rngs::SmallRng;
use rand::SeedableRng;

use crate::connection::{self, Connection, SendError};
use crate::pacer::{self, Pacer};
use crate::plan::{drain_deadline, global_index, LoadError, Plan};
use crate::recorder::{micros, Outcome, Recorder, SlowRequest, Transfer, LATE_AFTER};
use crate::report::{self, LoadReport, ThreadUsage};
use crate::schedule::{Mode, Schedule};

/// Give up on an unreachable target after this many connection errors with no response at all.
const UNREACHABLE_AFTER: u64 = 100;

/// State shared by all threads: read-mostly, touched at most once per request.
struct Shared {
    t0: Instant,
    abort: Arc<AtomicBool>,
    any_response: AtomicBool,
    connect_errors: AtomicU64,
    last_error: Mutex<String>,
}

/// Runs the plan to completion and reports.
pub fn run(plan: &Plan) -> Result<LoadReport, LoadError> {
    if plan.requests.is_empty() {
        return Err(LoadError::Plan("no request to send".into()));
    }
    if plan.connections == 0 || plan.threads == 0 || plan.threads > plan.connections {
        return Err(LoadError::Plan(format!(
            "need at least one connection per thread (connections {}, threads {})",
            plan.connections, plan.threads
        )));
    }
    if let Mode::FixedRate { phases } = &plan.mode {
        if phases
            .iter()
            .any(|p| p.to_rps <= 0.0 || p.from_rps < 0.0 || p.duration.is_zero())
        {
            return Err(LoadError::Plan("every phase needs a positive rate and duration".into()));
        }
    }
    let schedule = match &plan.mode {
        Mode::FixedRate { phases } => Some(Arc::new(Schedule::with_arrivals(phases, plan.arrivals))),
        Mode::Closed { .. } => None,
    };
    // A short head start lets every connection open before the first request is due.
    let shared = Arc::new(Shared {
        t0: Instant::now() + Duration::from_millis(50),
        abort: Arc::new(AtomicBool::new(false)),
        any_response: AtomicBool::new(false),
        connect_errors: AtomicU64::new(0),
        last_error: Mutex::new(String::new()),
    });
    let plan = Arc::new(plan.clone());
    let handles: Vec<_> = (0..plan.threads)
        .map(|k| {
            let (plan, shared, schedule) = (plan.clone(), shared.clone(), schedule.clone());
            std::thread::Builder::new()
                .name(format!("load-{k}"))
                .spawn(move || run_thread(k, plan, shared, schedule))
        })
        .collect::<Result<_, _>>()?;
    let mut merged = Recorder::new(plan.requests.len(), plan.keep_intervals).with_slo(plan.slo);
    let mut usage = Vec::new();
    for handle in handles {
        let (recorder, thread_usage) = handle.join().expect("a generator thread panicked")?;
        merged.merge(&recorder);
        usage.push(thread_usage);
    }
    if shared.abort.load(Ordering::Relaxed) {
        return Err(LoadError::Unreachable {
            addr: plan.target.addr,
            errors: shared.connect_errors.load(Ordering::Relaxed),
            last: shared.last_error.lock().unwrap().clone(),
        });
    }
    Ok(report::build(&plan, schedule.as_deref(), &merged, &usage))
}

fn run_thread(
    k: usize,
    plan: Arc<Plan>,
    shared: Arc<Shared>,
    schedule: Option<Arc<Schedule>>,
) -> std::io::Result<(Recorder, ThreadUsage)> {
    // The open model's threads sleep between sends and may run realtime; the closed model's run flat out.
    let priority = pacer::raise_priority(matches!(plan.mode, Mode::FixedRate { .. }));
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let started = Instant::now();
    let cpu_before = crate::proc_stat::thread_cpu_time();
    let recorder = Rc::new(RefCell::new(
        Recorder::new(plan.requests.len(), plan.keep_intervals).with_slo(plan.slo),
    ));
    let local = tokio::task::LocalSet::new();
    // This thread's share of the connections: spread the remainder over the first threads.
    let connections = plan.connections / plan.threads + usize::from(k < plan.connections % plan.threads);
    let next = Rc::new(Cell::new(0u64));
    // The open model: this thread keeps its own share of the schedule (see `pacer`).
    let paced = schedule.map(|schedule| {
        let pacer = Pacer::new(
            schedule.clone(),
            shared.t0,
            (plan.threads, k),
            plan.pacing,
            shared.abort.clone(),
        );
        (Rc::new(pacer), schedule)
    });
    // Requests whose path has no placeholder are serialised once, for every connection of the thread.
    let serialized: Rc<Vec<Option<Vec<u8>>>> = Rc::new(
        plan.requests
            .iter()
            .map(|r| {
                r.path.is_static().then(|| {
                    let mut bytes = Vec::new();
                    connection::serialize(
                        &r.method,
                        r.path.source(),
                        plan.target.host.as_bytes(),
                        &r.headers,
                        &r.body,
                        plan.new_connection_per_request,
                        &mut bytes,
                    );
                    bytes
                })
            })
            .collect(),
    );
    local.block_on(&runtime, async {
        // Each connection is its own task, so a response wakes (and polls) only the connection it belongs to.
        let tasks: Vec<_> = (0..connections)
            .map(|c| {
                let worker = Worker {
                    plan: plan.clone(),
                    shared: shared.clone(),
                    recorder: recorder.clone(),
                    rng: SmallRng::seed_from_u64((k * 7919 + c) as u64),
                    connection: None,
                    path: String::new(),
                    serialized: serialized.clone(),
                    scratch: Vec::new(),
                };
                tokio::task::spawn_local(run_worker(worker, k, next.clone(), paced.clone()))
            })
            .collect();
        let pacing = paced.as_ref().map(|(pacer, _)| {
            let pacer = pacer.clone();
            tokio::task::spawn_local(async move { pacer.run().await })
        });
        for task in tasks {
            task.await.expect("a connection task panicked");
        }
        match pacing {
            Some(pacing) => pacing.await.expect("the pacer panicked"),
            None => Ok(()),
        }
    })?;
    let wall = started.elapsed();
    let cpu = match (cpu_before, crate::proc_stat::thread_cpu_time()) {
        (Some(a), Some(b)) => Some(b.saturating_sub(a)),
        _ => None,
    };
    drop(local);
    let recorder = Rc::try_unwrap(recorder)
        .map(RefCell::into_inner)
        .unwrap_or_else(|rc| rc.borrow().clone());
    Ok((recorder, ThreadUsage { wall, cpu, priority }))
}

/// One connection's loop.
struct Worker {
    plan: Arc<Plan>,
    shared: Arc<Shared>,
    recorder: Rc<RefCell<Recorder>>,
    rng: SmallRng,
    connection: Option<Connection>,
    /// The rendered path of a templated request.
    path: String,
    /// Each request kind's bytes, when its path is static.
    serialized: Rc<Vec<Option<Vec<u8>>>>,
    /// The bytes of a templated request, rebuilt for each send.
    scratch: Vec<u8>,
}

async fn run_worker(mut w: Worker, k: usize, next: Rc<Cell<u64>>, paced: Option<(Rc<Pacer>, Arc<Schedule>)>) {
    if !w.plan.new_connection_per_request {
        // Open the connection before t0 so the first request does not pay for it.
        if let Ok(connection) = w.connect().await {
            w.connection = Some(connection);
        }
    }
    let plan = w.plan.clone();
    match (&plan.mode, paced) {
        (Mode::FixedRate { .. }, Some((pacer, schedule))) => open_loop(&mut w, k, &next, &schedule, &pacer).await,
        (Mode::Closed { warmup, duration }, _) => closed_loop(&mut w, k, &next, *warmup, *duration).await,
        (Mode::FixedRate { .. }, None) => unreachable!("fixed rate always has a pacer"),
    }
}

async fn open_loop(w: &mut Worker, k: usize, next: &Cell<u64>, schedule: &Schedule, pacer: &Pacer) {
    let mine = pacer.share();
    let t0 = w.shared.t0;
    let deadline = drain_deadline(t0, schedule.length());
    loop {
        if w.shared.abort.load(Ordering::Relaxed) {
            return;
        }
        let local = next.get();
        if local >= mine {
            return;
        }
        next.set(local + 1);
        let seq = global_index(local, w.plan.threads, k);
        let (offset, steady) = schedule.due(seq);
        let due = t0 + offset;
        let start = if pacer.is_released(local) {
            // Already due, and this connection only now became free: every connection was busy, because the
            // server is slow. The request waited in our queue as a user's would: its latency runs from the due time.
            let now = Instant::now();
            if now >= deadline {
                // Never sent. Record how long it had waited by the deadline: a lower bound, not an omission.
                let mut rec = w.recorder.borrow_mut();
                rec.dropped += 1;
                if steady {
                    let name = w.plan.pick(&mut w.rng);
                    rec.record(name, Outcome::Timeout, deadline - due, None, deadline - t0);
                }
                continue;
            }
            if steady && now.saturating_duration_since(due) > LATE_AFTER {
                w.recorder.borrow_mut().late += 1;
            }
            due
        } else {
            // Not due yet: wait for the pacer. How late we wake is the generator's fault, not the server's: it is
            // recorded as send lag, and the latency runs from the moment we woke.
            pacer.wait(local).await;
            if w.shared.abort.load(Ordering::Relaxed) {
                return;
            }
            let woke = Instant::now();
            w.recorder
                .borrow_mut()
                .send_lag
                .saturating_record(micros(woke.saturating_duration_since(due)));
            woke
        };
        let (name, outcome, sent, done, transfer) = w.exchange(seq, deadline).await;
        if steady {
            w.note_if_slow(name, outcome, done - start, done - t0);
        }
        let mut rec = w.recorder.borrow_mut();
        rec.tick(done - t0);
        if steady {
            rec.record(name, outcome, done - start, sent.map(|s| done - s), done - t0);
            rec.record_transfer(transfer);
        }
    }
}

async fn closed_loop(w: &mut Worker, k: usize, next: &Cell<u64>, warmup: Duration, duration: Duration) {
    let t0 = w.shared.t0;
    tokio::time::sleep_until(t0.into()).await;
    let (window_start, end) = (t0 + warmup, t0 + warmup + duration);
    let deadline = end + w.plan.timeout;
    loop {
        let now = Instant::now();
        if now >= end || w.shared.abort.load(Ordering::Relaxed) {
            return;
        }
        let local = next.get();
        next.set(local + 1);
        let seq = global_index(local, w.plan.threads, k);
        let (name, outcome, sent, done, transfer) = w.exchange(seq, deadline).await;
        if now >= window_start {
            w.note_if_slow(name, outcome, done - now, done - t0);
        }
        {
            let mut rec = w.recorder.borrow_mut();
            rec.tick(done - t0);
            // Only requests that started inside the window count; their latency is plain service time.
            if now >= window_start {
                rec.record(name, outcome, done - now, sent.map(|s| done - s), done - t0);
                rec.record_transfer(transfer);
            }
        }
        if outcome == Outcome::Connect {
            // Back off a little so a dead server does not turn this loop into a busy spin.
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

impl Worker {
    async fn connect(&mut self) -> Result<Connection, String> {
        let begun = Instant::now();
        let connection = Connection::open(self.plan.target.addr)
            .await?
            .with_rates(self.plan.rates);
        self.recorder
            .borrow_mut()
            .connect
            .saturating_record(micros(begun.elapsed()));
        Ok(connection)
    }

    fn connect_failed(&self, error: String) {
        let errors = self.shared.connect_errors.fetch_add(1, Ordering::Relaxed) + 1;
        *self.shared.last_error.lock().unwrap() = error;
        if errors >= UNREACHABLE_AFTER && !self.shared.any_response.load(Ordering::Relaxed) {
            self.shared.abort.store(true, Ordering::Relaxed);
        }
    }

    /// Sends request number `seq` and reads the whole response. Returns the request kind, how it ended, when its
    /// bytes left (None if they never did), when it finished, and its bytes and time to first byte when answered.
    async fn exchange(
        &mut self,
        seq: u64,
        deadline: Instant,
    ) -> (usize, Outcome, Option<Instant>, Instant, Option<Transfer>) {
        let name = self.plan.pick(&mut self.rng);
        // Reuse the kept-alive connection unless the server closed it; otherwise open one.
        let reusable = match self.connection.take() {
            Some(c) if !self.plan.new_connection_per_request && c.is_reusable() => Some(c),
            _ => None,
        };
        let mut connection = match reusable {
            Some(c) => c,
            None => match self.connect().await {
                Ok(c) => c,
                Err(e) => {
                    self.connect_failed(e);
                    return (name, Outcome::Connect, None, Instant::now(), None);
                }
            },
        };
        let serialized = self.serialized.clone();
        if serialized[name].is_none() {
            self.render(name, seq);
        }
        // Taken out of `self` while in use, so the retry below can open a connection (which needs `&mut self`).
        let scratch = std::mem::take(&mut self.scratch);
        let bytes: &[u8] = serialized[name].as_deref().unwrap_or(&scratch);
        let method = &self.plan.requests[name].method;
        let (head, idempotent) = (*method == Method::HEAD, is_idempotent(method));
        let sent = Instant::now();
        let limit = (sent + self.plan.timeout).min(deadline);
        let mut result = tokio::time::timeout_at(limit.into(), connection.send(bytes, head)).await;
        // The keep-alive race: the server closed the idle connection as the request left. Nothing reached the
        // application, so an idempotent request is sent once more on a new connection, and counted.
        if matches!(result, Ok(Err(SendError::ClosedBeforeResponse))) && idempotent {
            self.recorder.borrow_mut().retried += 1;
            match self.connect().await {
                Ok(fresh) => {
                    connection = fresh;
                    result = tokio::time::timeout_at(limit.into(), connection.send(bytes, head)).await;
                }
                Err(e) => {
                    self.connect_failed(e);
                    result = Ok(Err(SendError::Io));
                }
            }
        }
        let mut transfer = None;
        let outcome = match result {
            Ok(Ok(answer)) => {
                transfer = Some(Transfer {
                    ttfb: answer.first_byte.saturating_duration_since(sent),
                    sent: answer.sent,
                    received: answer.received,
                });
                if !self.shared.any_response.load(Ordering::Relaxed) {
                    self.shared.any_response.store(true, Ordering::Relaxed);
                }
                if !self.plan.new_connection_per_request {
                    self.connection = Some(connection);
                }
                Outcome::Status(answer.status)
            }
            Ok(Err(_)) => Outcome::Io,
            Err(_) => Outcome::Timeout,
        };
        self.scratch = scratch;
        self.plan.progress.fetch_add(1, Ordering::Relaxed);
        (name, outcome, Some(sent), Instant::now(), transfer)
    }

    /// Keeps the request just exchanged among the slowest when it is one: its method and path (the rendered one for
    /// a templated path, still in `self.path`) are copied only then.
    fn note_if_slow(&self, name: usize, outcome: Outcome, latency: Duration, at: Duration) {
        if !self.recorder.borrow().is_among_slowest(latency) {
            return;
        }
        let spec = &self.plan.requests[name];
        let path = if self.serialized[name].is_some() {
            spec.path.source()
        } else {
            self.path.as_str()
        };
        self.recorder.borrow_mut().keep_slow(SlowRequest {
            latency_us: micros(latency),
            name: spec.name.clone(),
            request: format!("{} {path}", spec.method),
            outcome: outcome.label(),
            at_ms: at.as_millis() as u64,
        });
    }

    /// Renders request kind `name`'s templated path for request `seq` and serialises it into `scratch`.
    fn render(&mut self, name: usize, seq: u64) {
        let spec = &self.plan.requests[name];
        spec.path.render(seq, &mut self.rng, &mut self.path);
        connection::serialize(
            &spec.method,
            &self.path,
            self.plan.target.host.as_bytes(),
            &spec.headers,
            &spec.body,
            self.plan.new_connection_per_request,
            &mut self.scratch,
        );
    }
}

/// Methods whose repetition has the same effect as one send (RFC 9110, 9.2.2): only these are retried.
pub(crate) fn is_idempotent(method: &Method) -> bool {
    matches!(
        *method,
        Method::GET | Method::HEAD | Method::PUT | Method::DELETE | Method::OPTIONS | Method::TRACE
    )
}
