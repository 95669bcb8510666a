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
//!
//! | file | what it holds |
//! |---|---|
//! | `mod.rs` | the state (apps, slots, counters) and the commands: start, stop, restart, reload, delete, signal, list |
//! | [`moves`] | the four moves on a slot: launch, crash, replace, stop |
//! | [`memory`] | the memory and CPU poll, and the rolling memory restart |
//! | [`policy`] | the restart policy's two implementations (the reference, the learner's) behind one trait |

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use serde::Serialize;
use tokio::sync::watch;

use crate::ecosystem::{AppSpec, Ecosystem};
use crate::instance::{self, Paths};

mod memory;
mod moves;
mod policy;

pub use policy::PolicyCode;
use policy::{backoff, Backoff};

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
