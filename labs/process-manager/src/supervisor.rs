//! The supervisor: apps, their instance slots, and every way an instance is started, replaced or stopped.
//!
//! Each app has `instances` *slots*; a slot holds at most one current instance. Everything the supervisor does is
//! one of four moves on a slot:
//!
//! - **launch** — start an instance, wait for `READY=1`, make it the slot's current one;
//! - **crash** — the current instance exited on its own: ask the [`Backoff`] when to launch again, or give up
//!   ("errored");
//! - **replace** — the rolling move, for `reload` and for a memory limit: launch the new instance *beside* the
//!   old one, and only when it is ready make it current and stop the old one. The port never lacks a process that
//!   accepts, so no connection is refused;
//! - **stop** — SIGTERM, then SIGKILL after `kill_timeout`. The instance is taken out of its slot *first*, so its
//!   exit is not mistaken for a crash.
//!
//! Why `std::sync::Mutex` for the state: it is only ever held for a few field updates and never across an
//! `.await`, which is exactly the case tokio's documentation recommends the standard mutex for. Operations on one
//! app (start, stop, reload, delete) are serialised by a per-app `tokio::sync::Mutex`, which *is* held across
//! awaits: a reload takes seconds, and a second reload must wait for the first rather than interleave with it.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use serde::Serialize;
use tokio::sync::watch;

use crate::ecosystem::{AppSpec, Ecosystem};
use crate::instance::{self, describe, Paths, Started};
use crate::procfs;
use crate::restart_policy::{self, Decision, RestartPolicy};

/// A slot's state, in PM2's words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// Started, not ready yet.
    Launching,
    /// Ready and serving.
    Online,
    /// Crashed; waiting for its backoff delay before the next launch.
    WaitingRestart,
    /// Being stopped.
    Stopping,
    /// Stopped by a command.
    Stopped,
    /// Crashed too often in a row (or could not start): left stopped.
    Errored,
}

/// One row of `list`.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct Row {
    /// App name.
    pub app: String,
    /// Slot number.
    pub id: usize,
    /// Current pid.
    pub pid: Option<u32>,
    /// Status.
    pub status: String,
    /// Since the current instance started.
    pub uptime_ms: u64,
    /// Restarts of this slot after crashes.
    pub restarts: u64,
    /// CPU use over the last memory/CPU poll, in % of one core.
    pub cpu_percent: f64,
    /// Resident memory.
    pub memory_bytes: u64,
    /// Why it is errored, or the last crash.
    pub last_error: Option<String>,
}

/// The current instance of a slot.
struct Live {
    pid: u32,
    started: Instant,
    exited: watch::Receiver<bool>,
}

struct Slot {
    status: Status,
    current: Option<Live>,
    backoff: Backoff,
    restarts: u64,
    /// Bumped by every decision about the slot (stop, a new launch): a delayed launch or a late ready that
    /// carries an old token is no longer wanted.
    token: u64,
    /// A replacement (reload, memory) is under way: the memory poll leaves the slot alone.
    replacing: bool,
    last_error: Option<String>,
    cpu: Option<(Instant, f64, f64)>,
    memory: u64,
}

struct App {
    spec: AppSpec,
    listener: Option<Arc<std::net::TcpListener>>,
    slots: Vec<Slot>,
    ops: Arc<tokio::sync::Mutex<()>>,
}

/// Whose restart policy the slots follow: the reference, or the learner's (the exercise variant).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PolicyCode {
    /// `exercise/solution.rs`.
    #[default]
    Reference,
    /// `exercise/src/lib.rs`, the learner's.
    Learner,
}

/// A slot's crash history: the reference's [`restart_policy::Backoff`] or the learner's, behind one trait (the two
/// crates have the same API but their own types).
trait CrashHistory: Send {
    fn on_crash(&mut self, uptime: Duration) -> Decision;
    fn in_a_row(&self) -> u32;
}

macro_rules! crash_history {
    ($($module:ident)::+) => {
        impl CrashHistory for $($module)::+::Backoff {
            fn on_crash(&mut self, uptime: Duration) -> Decision {
                match $($module)::+::Backoff::on_crash(self, uptime) {
                    $($module)::+::Decision::RestartAfter(delay) => Decision::RestartAfter(delay),
                    $($module)::+::Decision::Errored => Decision::Errored,
                }
            }

            fn in_a_row(&self) -> u32 {
                $($module)::+::Backoff::in_a_row(self)
            }
        }
    };
}
crash_history!(crate::restart_policy);
crash_history!(exercise_process_manager);

type Backoff = Box<dyn CrashHistory>;

fn backoff(code: PolicyCode, policy: RestartPolicy) -> Backoff {
    match code {
        PolicyCode::Reference => Box::new(restart_policy::Backoff::new(policy)),
        PolicyCode::Learner => Box::new(exercise_process_manager::Backoff::new(
            exercise_process_manager::RestartPolicy {
                base: policy.base,
                max_restarts: policy.max_restarts,
            },
        )),
    }
}

/// Counters over the supervisor's life (the lab's `/stats`).
#[derive(Debug, Default, Serialize, Clone)]
pub struct Counters {
    /// Instances that exited on their own.
    pub crashes: u64,
    /// Launches after a crash.
    pub restarts: u64,
    /// Slots that went errored.
    pub errored: u64,
    /// Instances replaced because they went over `max_memory`.
    pub memory_restarts: u64,
    /// The most any replaced instance's RSS was over its limit at the read that noticed it: what the read
    /// interval decides.
    pub memory_over_limit_when_seen_max_bytes: u64,
    /// The most any replaced instance's peak RSS went over its limit, until it exited: the read interval, plus
    /// what it allocated while its replacement started and while it drained.
    pub memory_overshoot_max_bytes: u64,
    /// Instances replaced by `reload`.
    pub reloaded: u64,
    /// Instances stopped with SIGKILL after `kill_timeout`.
    pub killed_after_timeout: u64,
}

/// The supervisor. Cheap to clone (an `Arc` inside).
#[derive(Clone)]
pub struct Supervisor {
    inner: Arc<Inner>,
}

struct Inner {
    paths: Paths,
    policy_code: PolicyCode,
    apps: Mutex<BTreeMap<String, App>>,
    counters: Mutex<Counters>,
    generation: AtomicU64,
    /// Listening sockets bound before the apps were started (the lab binds its port first, to print it).
    prebound: Mutex<BTreeMap<SocketAddr, std::net::TcpListener>>,
}

/// How often a draining instance's peak memory is read (a leak's requests may still be allocating).
const PEAK_READ_EVERY: Duration = Duration::from_millis(10);

/// Which apps a command is about.
pub fn matches(target: &str, name: &str) -> bool {
    target == "all" || target == name
}

impl Supervisor {
    /// A supervisor with no apps, keeping its files under `paths`.
    pub fn new(paths: Paths) -> Supervisor {
        Supervisor::with_policy_code(paths, PolicyCode::Reference)
    }

    /// The same, with the restart policy's code chosen (the lab's exercise variant runs the learner's).
    pub fn with_policy_code(paths: Paths, policy_code: PolicyCode) -> Supervisor {
        Supervisor {
            inner: Arc::new(Inner {
                paths,
                policy_code,
                apps: Mutex::new(BTreeMap::new()),
                counters: Mutex::new(Counters::default()),
                generation: AtomicU64::new(0),
                prebound: Mutex::new(BTreeMap::new()),
            }),
        }
    }

    /// Where its files are.
    pub fn paths(&self) -> &Paths {
        &self.inner.paths
    }

    /// Uses `listener` for the app that listens on `addr` (instead of binding it).
    pub fn prebind(&self, listener: std::net::TcpListener) -> std::io::Result<SocketAddr> {
        let addr = listener.local_addr()?;
        lock(&self.inner.prebound).insert(addr, listener);
        Ok(addr)
    }

    /// The counters so far.
    pub fn counters(&self) -> Counters {
        lock(&self.inner.counters).clone()
    }

    fn count(&self, update: impl FnOnce(&mut Counters)) {
        update(&mut lock(&self.inner.counters));
    }

    fn app_ops(&self, name: &str) -> Option<Arc<tokio::sync::Mutex<()>>> {
        lock(&self.inner.apps).get(name).map(|a| a.ops.clone())
    }

    fn names(&self, target: &str) -> anyhow::Result<Vec<String>> {
        let names: Vec<String> = lock(&self.inner.apps)
            .keys()
            .filter(|n| matches(target, n))
            .cloned()
            .collect();
        if names.is_empty() && target != "all" {
            anyhow::bail!("no app named {target:?} (see `workbench-pm list`)");
        }
        Ok(names)
    }

    /// Adds the ecosystem's apps and starts them; apps already there are left alone and named in the answer.
    pub async fn start(&self, ecosystem: &Ecosystem) -> anyhow::Result<String> {
        let mut started = Vec::new();
        let mut already = Vec::new();
        for spec in &ecosystem.apps {
            if lock(&self.inner.apps).contains_key(&spec.name) {
                already.push(spec.name.clone());
                continue;
            }
            let listener = self.listener_for(spec)?;
            let slots = (0..spec.instances)
                .map(|_| Slot {
                    status: Status::Stopped,
                    current: None,
                    backoff: backoff(self.inner.policy_code, spec.restart),
                    restarts: 0,
                    token: 0,
                    replacing: false,
                    last_error: None,
                    cpu: None,
                    memory: 0,
                })
                .collect();
            lock(&self.inner.apps).insert(
                spec.name.clone(),
                App {
                    spec: spec.clone(),
                    listener,
                    slots,
                    ops: Arc::new(tokio::sync::Mutex::new(())),
                },
            );
            self.spawn_poller(spec.name.clone());
            started.push(spec.name.clone());
        }
        for name in &started {
            self.start_all_slots(name).await;
        }
        let mut message = String::new();
        if !started.is_empty() {
            message += &format!("started {}", started.join(", "));
        }
        if !already.is_empty() {
            message += &format!(
                "{}already running: {} (use reload or restart)",
                if message.is_empty() { "" } else { "; " },
                already.join(", ")
            );
        }
        Ok(message)
    }

    fn listener_for(&self, spec: &AppSpec) -> anyhow::Result<Option<Arc<std::net::TcpListener>>> {
        let Some(addr) = spec.listen else {
            return Ok(None);
        };
        if let Some(listener) = lock(&self.inner.prebound).remove(&addr) {
            return Ok(Some(Arc::new(listener)));
        }
        // std sets SO_REUSEADDR on Unix: a port just closed (connections in TIME_WAIT) can be bound again at once.
        let listener =
            std::net::TcpListener::bind(addr).with_context(|| format!("app {}: binding {addr}", spec.name))?;
        Ok(Some(Arc::new(listener)))
    }

    async fn start_all_slots(&self, name: &str) {
        let Some(ops) = self.app_ops(name) else { return };
        let _one_at_a_time = ops.lock().await;
        let count = lock(&self.inner.apps).get(name).map_or(0, |a| a.slots.len());
        let launches: Vec<_> = (0..count).map(|id| self.launch(name.to_string(), id)).collect();
        futures_util::future::join_all(launches).await;
    }

    /// Launches an instance into slot `id` and waits until it is ready, crashed or replaced by a newer decision.
    async fn launch(&self, name: String, id: usize) {
        let Some(token) = self.with_slot(&name, id, |_, slot| {
            slot.token += 1;
            slot.status = Status::Launching;
            slot.token
        }) else {
            return;
        };
        self.launch_with_token(name, id, token).await;
    }

    async fn launch_with_token(&self, name: String, id: usize, token: u64) {
        match self.spawn_ready(&name, id).await {
            Ok(started) => {
                let installed = self.with_slot(&name, id, |_, slot| slot.token == token);
                if installed == Some(true) {
                    self.install(&name, id, started);
                } else {
                    // Stopped or deleted while it was starting: it is not wanted.
                    self.stop_started(&name, started).await;
                }
            }
            Err((e, uptime)) => {
                let still_wanted = self.with_slot(&name, id, |_, slot| slot.token == token) == Some(true);
                if !still_wanted {
                    return;
                }
                if uptime.is_zero() {
                    // It never ran (no such program, not executable): no delay can fix that. Errored at once.
                    self.with_slot(&name, id, |_, slot| {
                        slot.status = Status::Errored;
                        slot.token += 1;
                        slot.last_error = Some(format!("{e:#}"));
                    });
                    self.count(|c| c.errored += 1);
                } else {
                    self.crashed(&name, id, uptime, format!("{e:#}"));
                }
            }
        }
    }

    /// Starts an instance of slot `id` and waits for it to be ready. On failure: the error and how long it lived.
    async fn spawn_ready(&self, name: &str, id: usize) -> Result<Started, (anyhow::Error, Duration)> {
        let generation = self.inner.generation.fetch_add(1, Ordering::Relaxed);
        let (spec, listener) = {
            let apps = lock(&self.inner.apps);
            let Some(app) = apps.get(name) else {
                return Err((anyhow::anyhow!("app {name} was deleted"), Duration::ZERO));
            };
            (app.spec.clone(), app.listener.clone())
        };
        let mut started = instance::start(&spec, id, generation, listener.as_ref(), &self.inner.paths)
            .map_err(|e| (e, Duration::ZERO))?;
        match started.ready(spec.ready_timeout).await {
            Ok(()) => Ok(started),
            Err(e) => {
                let uptime = started.at.elapsed();
                let _ = started.child.start_kill();
                let _ = started.child.wait().await;
                Err((e, uptime))
            }
        }
    }

    /// Makes a ready instance the slot's current one and watches it. Returns the instance it replaced.
    fn install(&self, name: &str, id: usize, started: Started) -> Option<Live> {
        let (tx, rx) = watch::channel(false);
        let pid = started.pid;
        let at = started.at;
        // One lock for both: the token read is the one the new instance is installed under.
        let (token, old) = self.with_slot(name, id, |_, slot| {
            slot.status = Status::Online;
            let old = slot.current.replace(Live {
                pid,
                started: at,
                exited: rx,
            });
            (slot.token, old)
        })?;
        let supervisor = self.clone();
        let name = name.to_string();
        let mut started = started;
        tokio::spawn(async move {
            let status = started.child.wait().await.ok();
            let _ = tx.send(true);
            // Still the slot's current instance, and the slot not re-decided? Then nobody asked it to exit: a crash.
            let crashed = supervisor.with_slot(&name, id, |_, slot| {
                slot.token == token && slot.current.as_ref().is_some_and(|c| c.pid == pid)
            });
            if crashed == Some(true) {
                supervisor.crashed(&name, id, at.elapsed(), describe(status));
            }
        });
        old
    }

    /// The current instance of a slot exited on its own (or a launch failed): schedule the next launch.
    fn crashed(&self, name: &str, id: usize, uptime: Duration, reason: String) {
        let decision = self.with_slot(name, id, |_, slot| {
            slot.current = None;
            slot.last_error = Some(reason.clone());
            slot.token += 1;
            let decision = slot.backoff.on_crash(uptime);
            match decision {
                Decision::RestartAfter(_) => {
                    slot.status = Status::WaitingRestart;
                    slot.restarts += 1;
                }
                Decision::Errored => {
                    slot.status = Status::Errored;
                    slot.last_error = Some(format!(
                        "{reason}; {} crashes in a row, not restarting (`workbench-pm restart {name}` when fixed)",
                        slot.backoff.in_a_row()
                    ));
                }
            }
            (decision, slot.token)
        });
        let Some((decision, token)) = decision else { return };
        self.count(|c| c.crashes += 1);
        match decision {
            Decision::Errored => self.count(|c| c.errored += 1),
            Decision::RestartAfter(delay) => {
                self.count(|c| c.restarts += 1);
                let supervisor = self.clone();
                let name = name.to_string();
                tokio::spawn(async move {
                    tokio::time::sleep(delay).await;
                    let wanted = supervisor.with_slot(&name, id, |_, slot| {
                        let wanted = slot.token == token && slot.status == Status::WaitingRestart;
                        if wanted {
                            slot.status = Status::Launching;
                        }
                        wanted
                    });
                    if wanted == Some(true) {
                        supervisor.launch_with_token(name, id, token).await;
                    }
                });
            }
        }
    }

    /// The rolling move: a new instance beside the old, ready first, then the old one stopped.
    async fn replace(&self, name: &str, id: usize) -> anyhow::Result<Option<u64>> {
        let online = self.with_slot(name, id, |_, slot| {
            let online = slot.status == Status::Online && slot.current.is_some();
            if online {
                slot.replacing = true;
            }
            online
        });
        if online != Some(true) {
            // Nothing is serving in this slot: a plain launch is all a reload can do.
            self.launch(name.to_string(), id).await;
            return Ok(None);
        }
        let result = self.spawn_ready(name, id).await;
        self.with_slot(name, id, |_, slot| slot.replacing = false);
        let started = result.map_err(|(e, _)| e.context(format!("{name}[{id}]: the new instance")))?;
        let limit = lock(&self.inner.apps).get(name).and_then(|a| a.spec.max_memory);
        let Some(old) = self.install(name, id, started) else {
            return Ok(None);
        };
        // The old instance accepts nothing new from here; its peak is final once its last requests are done.
        let peak = self.terminate(name, old).await;
        Ok(limit.map(|limit| peak.saturating_sub(limit)))
    }

    /// SIGTERM, then SIGKILL after the app's `kill_timeout`; waits until it has exited. Returns the highest peak
    /// RSS (`VmHWM`) read while it drained: requests still in flight may go on allocating after the signal.
    async fn terminate(&self, name: &str, mut live: Live) -> u64 {
        let timeout = lock(&self.inner.apps)
            .get(name)
            .map_or(Duration::from_secs(5), |a| a.spec.kill_timeout);
        let mut peak = procfs::peak_rss_bytes(live.pid).unwrap_or(0);
        instance::signal(live.pid, libc::SIGTERM);
        let deadline = tokio::time::Instant::now() + timeout;
        let mut killed = false;
        loop {
            let read_again = tokio::time::sleep(PEAK_READ_EVERY);
            tokio::select! {
                _ = live.exited.wait_for(|e| *e) => break,
                () = read_again => {
                    peak = peak.max(procfs::peak_rss_bytes(live.pid).unwrap_or(0));
                    if !killed && tokio::time::Instant::now() >= deadline {
                        instance::signal(live.pid, libc::SIGKILL);
                        self.count(|c| c.killed_after_timeout += 1);
                        killed = true;
                    }
                }
            }
        }
        peak
    }

    async fn stop_started(&self, name: &str, mut started: Started) {
        let timeout = lock(&self.inner.apps)
            .get(name)
            .map_or(Duration::from_secs(5), |a| a.spec.kill_timeout);
        instance::signal(started.pid, libc::SIGTERM);
        if tokio::time::timeout(timeout, started.child.wait()).await.is_err() {
            let _ = started.child.start_kill();
            let _ = started.child.wait().await;
        }
    }

    /// Stops every instance of the matching apps; `release` also closes their listening sockets.
    pub async fn stop(&self, target: &str) -> anyhow::Result<String> {
        let names = self.names(target)?;
        for name in &names {
            let Some(ops) = self.app_ops(name) else { continue };
            let _one_at_a_time = ops.lock().await;
            self.stop_slots(name, Status::Stopped).await;
            if let Some(app) = lock(&self.inner.apps).get_mut(name) {
                app.listener = None;
            }
        }
        Ok(format!("stopped {}", names.join(", ")))
    }

    async fn stop_slots(&self, name: &str, then: Status) {
        let lives: Vec<Live> = {
            let mut apps = lock(&self.inner.apps);
            let Some(app) = apps.get_mut(name) else { return };
            app.slots
                .iter_mut()
                .filter_map(|slot| {
                    slot.token += 1;
                    slot.status = then;
                    slot.current.take()
                })
                .collect()
        };
        let stops: Vec<_> = lives.into_iter().map(|live| self.terminate(name, live)).collect();
        futures_util::future::join_all(stops).await;
    }

    /// PM2's `restart`: every instance stopped, then started again (the port stays open; requests wait in its
    /// queue, or fail with the instances that were serving them).
    pub async fn restart(&self, target: &str) -> anyhow::Result<String> {
        let names = self.names(target)?;
        for name in &names {
            {
                let Some(ops) = self.app_ops(name) else { continue };
                let _one_at_a_time = ops.lock().await;
                self.stop_slots(name, Status::Stopping).await;
                let Some((spec, listener)) = lock(&self.inner.apps)
                    .get(name)
                    .map(|a| (a.spec.clone(), a.listener.clone()))
                else {
                    continue;
                };
                // The socket stays open if it is (a running app); a stopped app's is bound again.
                let listener = match listener {
                    Some(listener) => Some(listener),
                    None => self.listener_for(&spec)?,
                };
                if let Some(app) = lock(&self.inner.apps).get_mut(name) {
                    app.listener = listener;
                    // A person restarting an app starts it afresh: an errored one gets its max_restarts again.
                    for slot in &mut app.slots {
                        slot.backoff = backoff(self.inner.policy_code, spec.restart);
                    }
                }
            }
            self.start_all_slots(name).await;
        }
        Ok(format!("restarted {}", names.join(", ")))
    }

    /// PM2's `reload`: each instance replaced in turn by a ready new one (see the module docs).
    pub async fn reload(&self, target: &str) -> anyhow::Result<String> {
        let names = self.names(target)?;
        let mut replaced = 0;
        for name in &names {
            let stopped = lock(&self.inner.apps)
                .get(name)
                .is_some_and(|a| a.listener.is_none() && a.spec.listen.is_some());
            if stopped {
                // Nothing to keep serving: a reload of a stopped app is a start.
                self.restart(name).await?;
                continue;
            }
            let Some(ops) = self.app_ops(name) else { continue };
            let _one_at_a_time = ops.lock().await;
            let count = lock(&self.inner.apps).get(name).map_or(0, |a| a.slots.len());
            for id in 0..count {
                self.replace(name, id).await?;
                replaced += 1;
                self.count(|c| c.reloaded += 1);
            }
        }
        Ok(format!(
            "reloaded {} ({replaced} instances, one at a time)",
            names.join(", ")
        ))
    }

    /// Stops the matching apps and forgets them (their sockets closed).
    pub async fn delete(&self, target: &str) -> anyhow::Result<String> {
        let names = self.names(target)?;
        for name in &names {
            let Some(ops) = self.app_ops(name) else { continue };
            let _one_at_a_time = ops.lock().await;
            self.stop_slots(name, Status::Stopped).await;
            lock(&self.inner.apps).remove(name);
        }
        Ok(format!("deleted {}", names.join(", ")))
    }

    /// Sends `signal` to the current instances of the matching apps (slot `id` only, if given), as PM2's
    /// `sendSignal` does. What follows is up to the instance and the supervisor: SIGKILL is a crash, restarted by the
    /// policy; SIGTERM makes a draining app exit, which is a crash too, since nobody asked the supervisor to stop it.
    pub fn signal(&self, target: &str, id: Option<usize>, signal: &str) -> anyhow::Result<String> {
        let number = signal_number(signal)?;
        let names = self.names(target)?;
        let mut sent = Vec::new();
        let apps = lock(&self.inner.apps);
        for name in &names {
            let Some(app) = apps.get(name) else { continue };
            for (slot_id, slot) in app.slots.iter().enumerate() {
                if id.is_some_and(|only| only != slot_id) {
                    continue;
                }
                if let Some(live) = &slot.current {
                    instance::signal(live.pid, number);
                    sent.push(format!("{name}[{slot_id}] (pid {})", live.pid));
                }
            }
        }
        if sent.is_empty() {
            anyhow::bail!(
                "no running instance of {target}{} to signal",
                id.map(|i| format!("[{i}]")).unwrap_or_default()
            );
        }
        Ok(format!("sent {signal} to {}", sent.join(", ")))
    }

    /// `list`'s rows.
    pub fn list(&self) -> Vec<Row> {
        let apps = lock(&self.inner.apps);
        let mut rows = Vec::new();
        for (name, app) in apps.iter() {
            for (id, slot) in app.slots.iter().enumerate() {
                let current = slot.current.as_ref();
                rows.push(Row {
                    app: name.clone(),
                    id,
                    pid: current.map(|c| c.pid),
                    status: serde_json::to_value(slot.status)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_string))
                        .unwrap_or_default(),
                    uptime_ms: current.map_or(0, |c| c.started.elapsed().as_millis() as u64),
                    restarts: slot.restarts,
                    cpu_percent: slot.cpu.map_or(0.0, |(_, _, percent)| percent),
                    memory_bytes: slot.memory,
                    last_error: slot.last_error.clone(),
                });
            }
        }
        rows
    }

    /// Stops everything, in order, gracefully (Ctrl-C, SIGTERM, `kill`).
    pub async fn shutdown(&self) {
        let _ = self.delete("all").await;
    }

    /// Reads each online instance's memory and CPU every `memory_poll`; replaces one that is over `max_memory`.
    fn spawn_poller(&self, name: String) {
        let supervisor = self.clone();
        tokio::spawn(async move {
            loop {
                let Some(poll) = lock(&supervisor.inner.apps).get(&name).map(|a| a.spec.memory_poll) else {
                    return; // Deleted.
                };
                tokio::time::sleep(poll).await;
                for (id, over) in supervisor.poll(&name) {
                    let supervisor = supervisor.clone();
                    let name = name.clone();
                    tokio::spawn(async move { supervisor.memory_restart(&name, id, over).await });
                }
            }
        });
    }

    /// One poll of app `name`: refreshes memory and CPU; returns the slots over their memory limit, and by how much.
    fn poll(&self, name: &str) -> Vec<(usize, u64)> {
        let mut apps = lock(&self.inner.apps);
        let Some(app) = apps.get_mut(name) else {
            return Vec::new();
        };
        let limit = app.spec.max_memory;
        let mut over = Vec::new();
        for (id, slot) in app.slots.iter_mut().enumerate() {
            let Some(live) = &slot.current else { continue };
            slot.memory = procfs::rss_bytes(live.pid).unwrap_or(0);
            if let Some(cpu) = procfs::cpu_seconds(live.pid) {
                let now = Instant::now();
                let percent = match slot.cpu {
                    Some((then, before, _)) if now > then => (cpu - before) / (now - then).as_secs_f64() * 100.0,
                    _ => 0.0,
                };
                slot.cpu = Some((now, cpu, percent.max(0.0)));
            }
            if let Some(limit) = limit.filter(|l| slot.memory > *l) {
                if slot.status == Status::Online && !slot.replacing {
                    slot.replacing = true;
                    over.push((id, slot.memory - limit));
                }
            }
        }
        over
    }

    async fn memory_restart(&self, name: &str, id: usize, over_when_seen: u64) {
        let Some(ops) = self.app_ops(name) else { return };
        let _one_at_a_time = ops.lock().await;
        self.with_slot(name, id, |_, slot| slot.replacing = false);
        match self.replace(name, id).await {
            Ok(overshoot) => self.count(|c| {
                c.memory_restarts += 1;
                c.memory_over_limit_when_seen_max_bytes = c.memory_over_limit_when_seen_max_bytes.max(over_when_seen);
                c.memory_overshoot_max_bytes = c.memory_overshoot_max_bytes.max(overshoot.unwrap_or(0));
            }),
            Err(e) => {
                self.with_slot(name, id, |_, slot| {
                    slot.last_error = Some(format!("memory restart failed: {e:#}"))
                });
            }
        }
    }

    fn with_slot<T>(&self, name: &str, id: usize, f: impl FnOnce(&AppSpec, &mut Slot) -> T) -> Option<T> {
        let mut apps = lock(&self.inner.apps);
        let app = apps.get_mut(name)?;
        let spec = &app.spec;
        app.slots.get_mut(id).map(|slot| f(spec, slot))
    }
}

/// `SIGKILL`, `KILL` or `9` → 9: the signals a person sends to a service, by name or number.
pub fn signal_number(name: &str) -> anyhow::Result<libc::c_int> {
    const NAMED: &[(&str, libc::c_int)] = &[
        ("HUP", libc::SIGHUP),
        ("INT", libc::SIGINT),
        ("QUIT", libc::SIGQUIT),
        ("KILL", libc::SIGKILL),
        ("USR1", libc::SIGUSR1),
        ("USR2", libc::SIGUSR2),
        ("TERM", libc::SIGTERM),
        ("CONT", libc::SIGCONT),
        ("STOP", libc::SIGSTOP),
    ];
    let upper = name.trim().to_ascii_uppercase();
    let bare = upper.strip_prefix("SIG").unwrap_or(&upper);
    if let Some((_, n)) = NAMED.iter().find(|(known, _)| *known == bare) {
        return Ok(*n);
    }
    match bare.parse::<libc::c_int>() {
        Ok(n) if NAMED.iter().any(|(_, known)| *known == n) => Ok(n),
        _ => anyhow::bail!(
            "unknown signal {name:?}: use one of {}",
            NAMED
                .iter()
                .map(|(n, _)| format!("SIG{n}"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// Locks a std mutex, carrying on after a panic elsewhere (the state is plain data, always consistent between
/// updates).
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}
