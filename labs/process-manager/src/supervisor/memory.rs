//! The memory and CPU poll: each online instance read every `memory_poll`, and one over `max_memory` replaced
//! the rolling way. How far over the limit an instance is when the poll notices is what the interval decides (the
//! lab's memory lesson); how far its peak goes is that, plus what it allocates while its replacement starts and
//! while it drains.

use std::time::Instant;

use super::{lock, Status, Supervisor};
use crate::procfs;

impl Supervisor {
    /// Reads each online instance's memory and CPU every `memory_poll`; replaces one that is over `max_memory`.
    pub(super) fn spawn_poller(&self, name: String) {
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
    pub(super) fn poll(&self, name: &str) -> Vec<(usize, u64)> {
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

    pub(super) async fn memory_restart(&self, name: &str, id: usize, over_when_seen: u64) {
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
}
