//! The primary: Node's `cluster.isPrimary` branch. It starts N workers (this same binary, re-executed with
//! [`crate::worker::ENV`] set), gives them the way to get connections, replaces any that dies, keeps the state of
//! `--state primary`, adds up the workers' counters for `/stats`, and on SIGTERM tells every worker to drain and
//! waits for them.
//!
//! | distribution | the primary's part |
//! |---|---|
//! | `shared-listener` | binds once; every worker inherits the listening socket (fd 3) and calls accept on it |
//! | `reuseport` | gives up the port; every worker binds its own SO_REUSEPORT socket on it |
//! | `round-robin` | accepts every connection itself and passes it to the next worker over a Unix socket (SCM_RIGHTS) |

use std::collections::{BTreeMap, HashSet};
use std::fmt::Write;
use std::os::fd::{AsRawFd, OwnedFd};
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use command_fds::{CommandFdExt, FdMapping};
use sendfd::SendWithFd;
use serde_json::Value;
use tokio::net::{TcpListener, UnixDatagram, UnixStream};
use tokio::sync::watch;

use crate::fds;
use crate::ipc::{Message, Peer};
use crate::state::State;
use crate::worker::{Distribution, WorkerConfig};

/// How long a worker may take to drain before it is killed.
const DRAIN: Duration = Duration::from_secs(10);
/// The pause before replacing a worker that died: a worker that dies at start would otherwise be restarted in a
/// tight loop (PM2 grows this pause exponentially; the process-manager lab does too).
const RESTART_PAUSE: Duration = Duration::from_millis(100);

/// How long the primary waits for a worker's counters.
const REPORT_WITHIN: Duration = Duration::from_secs(1);

/// A worker as the primary sees it.
struct Slot {
    peer: Peer,
    /// Where its connections go (`round-robin`).
    handoff: Option<UnixDatagram>,
}

/// What the primary keeps.
pub struct Cluster {
    workers: usize,
    config: WorkerConfig,
    slots: Mutex<Vec<Option<Arc<Slot>>>>,
    ready: Mutex<HashSet<usize>>,
    restarts: AtomicU64,
    /// When each slot's worker died, until its replacement says it serves.
    down_since: Mutex<Vec<Option<std::time::Instant>>>,
    /// How long the last replacement took, from the death to the new worker's `ready`.
    replaced_in_ms: AtomicU64,
    state: State,
    /// The listening socket the workers inherit (`shared-listener`).
    listener: Option<std::net::TcpListener>,
    next: AtomicUsize,
}

/// Runs the cluster on `listener` (bound by lab-kit, which has announced its address) until SIGTERM or Ctrl-C.
pub async fn run(workers: usize, config: WorkerConfig, listener: TcpListener) -> anyhow::Result<()> {
    let mut config = config;
    config.addr = listener.local_addr()?;
    let (inherited, accepting) = match config.distribution {
        Distribution::SharedListener => (Some(listener.into_std()?), None),
        // The workers bind the port themselves; the primary must not hold it without SO_REUSEPORT.
        Distribution::Reuseport => {
            drop(listener);
            (None, None)
        }
        Distribution::RoundRobin => (None, Some(listener)),
    };
    let cluster = Arc::new(Cluster {
        workers,
        state: State::with(config.limiter, config.limit, Duration::from_millis(config.window_ms)),
        config,
        slots: Mutex::new(vec![None; workers]),
        ready: Mutex::default(),
        restarts: AtomicU64::new(0),
        down_since: Mutex::new(vec![None; workers]),
        replaced_in_ms: AtomicU64::new(0),
        listener: inherited,
        next: AtomicUsize::new(0),
    });
    let (stop_tx, stop) = watch::channel(false);
    let supervisors: Vec<_> = (0..workers)
        .map(|index| tokio::spawn(supervise(cluster.clone(), index, stop.clone())))
        .collect();
    if let Some(listener) = accepting {
        tokio::spawn(hand_out(cluster.clone(), listener));
    }
    lab_kit::shutdown_signal().await;
    let _ = stop_tx.send(true);
    for supervisor in supervisors {
        let _ = supervisor.await;
    }
    Ok(())
}

// ANCHOR: supervise
/// Keeps worker `index` running: starts it, and when it exits without being asked to, counts a restart and
/// starts another.
async fn supervise(cluster: Arc<Cluster>, index: usize, mut stop: watch::Receiver<bool>) {
    let mut first = true;
    loop {
        let mut child = match start_worker(&cluster, index, first) {
            Ok(child) => child,
            Err(e) => {
                eprintln!("primary: could not start worker {index}: {e:#}");
                tokio::time::sleep(RESTART_PAUSE).await;
                continue;
            }
        };
        first = false;
        let stopping = tokio::select! {
            status = child.wait() => {
                eprintln!("primary: worker {index} exited ({}); starting another", status.map_or_else(|e| e.to_string(), |s| s.to_string()));
                false
            }
            _ = stop.wait_for(|stop| *stop) => true,
        };
        let slot = cluster.slots.lock().unwrap()[index].take();
        cluster.ready.lock().unwrap().remove(&index);
        if stopping {
            if let Some(slot) = slot {
                slot.peer.send(Message::Shutdown);
            }
            if tokio::time::timeout(DRAIN, child.wait()).await.is_err() {
                let _ = child.kill().await;
            }
            return;
        }
        cluster.restarts.fetch_add(1, Ordering::Relaxed);
        cluster.down_since.lock().unwrap()[index] = Some(std::time::Instant::now());
        tokio::time::sleep(RESTART_PAUSE).await;
    }
}
// ANCHOR_END: supervise

/// Starts worker `index`: this binary again, with its configuration in the environment and its descriptors at
/// fixed numbers ([`fds`]).
fn start_worker(cluster: &Arc<Cluster>, index: usize, first: bool) -> anyhow::Result<tokio::process::Child> {
    let mut config = cluster.config.clone();
    config.index = index;
    if !(first && index == 0) {
        config.stall_ms = None;
        config.crash_ms = None;
    }
    let (ours, theirs) = std::os::unix::net::UnixStream::pair()?;
    let mut mappings = vec![FdMapping {
        parent_fd: OwnedFd::from(theirs),
        child_fd: fds::IPC,
    }];
    if let Some(listener) = &cluster.listener {
        mappings.push(FdMapping {
            parent_fd: OwnedFd::from(listener.try_clone()?),
            child_fd: fds::LISTENER,
        });
    }
    let handoff = if config.distribution == Distribution::RoundRobin {
        let (ours, theirs) = std::os::unix::net::UnixDatagram::pair()?;
        mappings.push(FdMapping {
            parent_fd: OwnedFd::from(theirs),
            child_fd: fds::HANDOFF,
        });
        ours.set_nonblocking(true)?;
        Some(UnixDatagram::from_std(ours)?)
    } else {
        None
    };
    let mut command = tokio::process::Command::new(std::env::current_exe()?);
    command
        .env(crate::worker::ENV, serde_json::to_string(&config)?)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .kill_on_drop(true);
    command.fd_mappings(mappings)?;
    let child = command.spawn()?;
    ours.set_nonblocking(true)?;
    let (peer, incoming) = Peer::start(UnixStream::from_std(ours)?);
    cluster.slots.lock().unwrap()[index] = Some(Arc::new(Slot {
        peer: peer.clone(),
        handoff,
    }));
    tokio::spawn(answer(cluster.clone(), index, peer, incoming));
    Ok(child)
}

/// Answers worker `index`'s requests.
async fn answer(
    cluster: Arc<Cluster>,
    index: usize,
    peer: Peer,
    mut incoming: tokio::sync::mpsc::UnboundedReceiver<Message>,
) {
    while let Some(message) = incoming.recv().await {
        let reply = |id, value: Value| peer.send(Message::Reply { id, value });
        match message {
            Message::Ready { .. } => {
                cluster.ready.lock().unwrap().insert(index);
                if let Some(died) = cluster.down_since.lock().unwrap()[index].take() {
                    cluster
                        .replaced_in_ms
                        .store(died.elapsed().as_millis() as u64, Ordering::Relaxed);
                }
            }
            Message::Admit { id, key } => reply(id, cluster.state.admit(&key).into()),
            Message::Login { id, user } => {
                cluster.state.login(&user);
                reply(id, true.into());
            }
            Message::Session { id, user } => reply(id, cluster.state.has_session(&user).into()),
            Message::ClusterReady { id } => reply(id, (cluster.ready.lock().unwrap().len() == cluster.workers).into()),
            Message::ClusterMetrics { id } => {
                let (cluster, peer) = (cluster.clone(), peer.clone());
                tokio::spawn(async move {
                    let text = cluster.metrics().await;
                    peer.send(Message::Reply { id, value: text.into() });
                });
            }
            Message::ClusterStats { id } => {
                let (cluster, peer) = (cluster.clone(), peer.clone());
                tokio::spawn(async move {
                    let stats = cluster.stats().await;
                    peer.send(Message::Reply { id, value: stats });
                });
            }
            // The chat's bus (`--state primary`): one message in, one out to every worker, the sender's included.
            Message::ChatPublish { room, text } => {
                for peer in cluster.peers() {
                    peer.send(Message::ChatDeliver {
                        room,
                        text: text.clone(),
                    });
                }
            }
            other => eprintln!("primary: unexpected message from worker {index}: {other:?}"),
        }
    }
}

impl Cluster {
    /// The live workers' IPC ends.
    fn peers(&self) -> Vec<Peer> {
        let slots = self.slots.lock().unwrap();
        slots.iter().flatten().map(|s| s.peer.clone()).collect()
    }

    /// Every live worker's exposition added up ([`crate::aggregate`]), with the primary's own two series.
    async fn metrics(&self) -> String {
        let peers = self.peers();
        let mut texts = Vec::new();
        for peer in peers {
            if let Some(Value::String(text)) = peer.ask(REPORT_WITHIN, |id| Message::Expose { id }).await {
                texts.push(text);
            }
        }
        let mut out = crate::aggregate::merge(texts.iter().map(String::as_str));
        let _ = write!(
            out,
            "# HELP cluster_workers Worker processes the primary keeps running.\n# TYPE cluster_workers gauge\ncluster_workers {}\n\
             # HELP cluster_workers_reporting Workers whose metrics are in this scrape (a busy one may miss it).\n# TYPE cluster_workers_reporting gauge\ncluster_workers_reporting {}\n\
             # HELP cluster_restarts_total Workers replaced after they died.\n# TYPE cluster_restarts_total counter\ncluster_restarts_total {}\n",
            self.workers,
            texts.len(),
            self.restarts.load(Ordering::Relaxed)
        );
        out
    }

    /// Every live worker's counters added up, plus the cluster's own: `workers`, `workers_reporting` (a worker
    /// busy on the CPU for over a second cannot answer, as a blocked Node.js worker cannot answer `process.send`),
    /// `restarts`, `replaced_in_ms` (from the last death to its replacement serving), and `busiest_worker_share`
    /// (the largest share of the requests one worker served: 0.5 is an even split of two).
    async fn stats(&self) -> Value {
        let peers = self.peers();
        let mut totals: BTreeMap<String, u64> = BTreeMap::new();
        let mut served = Vec::new();
        for peer in peers {
            // Shorter than the worker's own wait for this answer, so a busy worker costs a missing share, not the
            // whole answer.
            let Some(Value::Object(counters)) = peer.ask(REPORT_WITHIN, |id| Message::Report { id }).await else {
                continue;
            };
            for (name, value) in counters {
                let n = value.as_u64().unwrap_or(0);
                if name == "served" {
                    served.push(n);
                }
                *totals.entry(name).or_default() += n;
            }
        }
        let mut stats = serde_json::to_value(&totals).expect("numbers serialise");
        stats["workers"] = self.workers.into();
        stats["workers_reporting"] = served.len().into();
        stats["restarts"] = self.restarts.load(Ordering::Relaxed).into();
        stats["replaced_in_ms"] = self.replaced_in_ms.load(Ordering::Relaxed).into();
        let all: u64 = served.iter().sum();
        let busiest = served.iter().max().copied().unwrap_or(0);
        let share = if all == 0 { 0.0 } else { busiest as f64 / all as f64 };
        stats["busiest_worker_share"] = ((share * 1000.0).round() / 1000.0).into();
        stats
    }
}

// ANCHOR: hand_out
/// `round-robin`: accepts every connection and passes it to the next worker that is up, as Node's primary does.
/// The worker gets its own copy of the descriptor; the primary closes its copy at once.
async fn hand_out(cluster: Arc<Cluster>, listener: TcpListener) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let slots: Vec<Arc<Slot>> = cluster.slots.lock().unwrap().iter().flatten().cloned().collect();
        if slots.is_empty() {
            continue; // No worker is up: the connection is closed, and the client sees a reset.
        }
        let slot = &slots[cluster.next.fetch_add(1, Ordering::Relaxed) % slots.len()];
        let Some(handoff) = &slot.handoff else { continue };
        loop {
            if handoff.writable().await.is_err() {
                break;
            }
            match handoff.send_with_fd(b"c", &[stream.as_raw_fd()]) {
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
                _ => break,
            }
        }
    }
}
// ANCHOR_END: hand_out
