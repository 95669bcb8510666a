//! The four moves on a slot (see the module docs of [`super`]): launch, crash, replace (rolling), stop.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio::sync::watch;

use super::{lock, Live, Status, Supervisor};
use crate::ecosystem::AppSpec;
use crate::instance::{self, describe, Started};
use crate::procfs;
use crate::restart_policy::Decision;

/// How often a draining instance's peak memory is read (a leak's requests may still be allocating).
const PEAK_READ_EVERY: Duration = Duration::from_millis(10);

impl Supervisor {
    pub(super) fn listener_for(&self, spec: &AppSpec) -> anyhow::Result<Option<Arc<std::net::TcpListener>>> {
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

    pub(super) async fn start_all_slots(&self, name: &str) {
        let Some(ops) = self.app_ops(name) else { return };
        let _one_at_a_time = ops.lock().await;
        let count = lock(&self.inner.apps).get(name).map_or(0, |a| a.slots.len());
        let launches: Vec<_> = (0..count).map(|id| self.launch(name.to_string(), id)).collect();
        futures_util::future::join_all(launches).await;
    }

    /// Launches an instance into slot `id` and waits until it is ready, crashed or replaced by a newer decision.
    pub(super) async fn launch(&self, name: String, id: usize) {
        let Some(token) = self.with_slot(&name, id, |_, slot| {
            slot.token += 1;
            slot.status = Status::Launching;
            slot.token
        }) else {
            return;
        };
        self.launch_with_token(name, id, token).await;
    }

    pub(super) async fn launch_with_token(&self, name: String, id: usize, token: u64) {
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
    pub(super) async fn spawn_ready(&self, name: &str, id: usize) -> Result<Started, (anyhow::Error, Duration)> {
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
    pub(super) fn install(&self, name: &str, id: usize, started: Started) -> Option<Live> {
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
    pub(super) fn crashed(&self, name: &str, id: usize, uptime: Duration, reason: String) {
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
    pub(super) async fn replace(&self, name: &str, id: usize) -> anyhow::Result<Option<u64>> {
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
    pub(super) async fn terminate(&self, name: &str, mut live: Live) -> u64 {
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

    pub(super) async fn stop_started(&self, name: &str, mut started: Started) {
        let timeout = lock(&self.inner.apps)
            .get(name)
            .map_or(Duration::from_secs(5), |a| a.spec.kill_timeout);
        instance::signal(started.pid, libc::SIGTERM);
        if tokio::time::timeout(timeout, started.child.wait()).await.is_err() {
            let _ = started.child.start_kill();
            let _ = started.child.wait().await;
        }
    }

    pub(super) async fn stop_slots(&self, name: &str, then: Status) {
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
}
