//! A worker: one process, one current-thread runtime — one Node.js process of a cluster. It takes its connections
//! the way its distribution says, serves the [`crate::server`] routes, talks to the primary over IPC, and drains
//! and exits when the primary says so (or at once, if the primary is gone: an orphan must not keep the port).

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use axum::response::IntoResponse;
use lab_kit::Counters;
use sendfd::RecvWithFd;
use serde::{Deserialize, Serialize};
use tokio::net::{TcpListener, TcpStream, UnixDatagram, UnixStream};
use tokio::sync::Notify;

use crate::chat::{Bus, Chat};
use crate::fds;
use crate::ipc::{Message, Peer};
use crate::server::{app, Service, Shared, COUNTERS};

/// The environment variable that makes the binary a worker; its value is the [`WorkerConfig`] as JSON.
pub const ENV: &str = "LAB_CLUSTERING_WORKER";

/// How connections reach the workers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Distribution {
    /// The primary accepts and hands each connection to the next worker (Node's default on Linux).
    RoundRobin,
    /// Every worker accepts on the one inherited listening socket.
    SharedListener,
    /// Every worker binds its own socket with SO_REUSEPORT; the kernel hashes connections over them.
    Reuseport,
}

/// Where the rate limit and sessions live.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum StateMode {
    /// Each process's own memory.
    Local,
    /// The primary's, over IPC.
    Primary,
    /// Redis at `REDIS_URL`.
    Redis,
}

/// What a worker is told by its primary.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WorkerConfig {
    /// Its slot, 0-based.
    pub index: usize,
    /// How it gets connections.
    pub distribution: Distribution,
    /// The cluster's address (for `reuseport`).
    pub addr: SocketAddr,
    /// Where state lives.
    pub state: StateMode,
    /// With `--state redis`: the Redis URL and the prefix of this cluster's keys.
    pub redis: Option<(String, String)>,
    /// Rate limit per key per window.
    pub limit: u32,
    /// Whose rate limiter counts.
    pub limiter: crate::state::Limiter,
    /// The window, ms.
    pub window_ms: u64,
    /// Hash rounds per `/work`.
    pub rounds: u32,
    /// Freeze this worker's event loop `(after, for)` ms after it starts — a stuck worker (a long synchronous
    /// loop, a blocking call) — only in the first incarnation of worker 0.
    pub stall_ms: Option<(u64, u64)>,
    /// Crash this many ms after start (only the first incarnation of worker 0).
    pub crash_ms: Option<u64>,
}

/// Sleeps `after`, then ends the process at once with status 1 — no drain, no goodbye to the primary: what an
/// uncaught exception does to a Node.js process. Connections it held are reset; requests in flight are lost.
pub async fn crash_after(after: Duration) {
    tokio::time::sleep(after).await;
    eprintln!("crashing on purpose (--crash-after {after:?})");
    std::process::exit(1);
}

/// The worker's `main` when this process was started as a worker ([`ENV`] is set); `None` otherwise.
pub fn main_if_worker() -> Option<ExitCode> {
    std::env::var(ENV).ok().map(|config| main(&config))
}

/// The worker's `main`.
pub fn main(config: &str) -> ExitCode {
    let config: WorkerConfig = match serde_json::from_str(config) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {ENV} is not a worker configuration: {e}");
            return ExitCode::FAILURE;
        }
    };
    let runtime = match lab_kit::build_runtime(lab_kit::RuntimeFlavor::CurrentThread) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: worker {}: {e}", config.index);
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(serve(config.clone())) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: worker {}: {e:#}", config.index);
            ExitCode::FAILURE
        }
    }
}

async fn serve(config: WorkerConfig) -> anyhow::Result<()> {
    lab_kit::telemetry().start();
    let ipc = std::os::unix::net::UnixStream::from(fds::adopt(fds::IPC));
    ipc.set_nonblocking(true)?;
    let (primary, incoming) = Peer::start(UnixStream::from_std(ipc)?);
    let shared = match config.state {
        StateMode::Local => Shared::Local(crate::state::State::with(
            config.limiter,
            config.limit,
            Duration::from_millis(config.window_ms),
        )),
        StateMode::Primary => Shared::Primary(primary.clone()),
        StateMode::Redis => {
            let (url, prefix) = config
                .redis
                .clone()
                .ok_or_else(|| anyhow::anyhow!("--state redis without a URL"))?;
            let window = Duration::from_millis(config.window_ms);
            Shared::Redis(crate::redis_state::RedisState::connect(&url, prefix, config.limit, window).await?)
        }
    };
    let chat = match (&config.state, &config.redis) {
        (StateMode::Primary, _) => Arc::new(Chat::new(Bus::Primary(primary.clone()))),
        (StateMode::Redis, Some((url, prefix))) => Chat::over_redis(url, prefix.clone()).await?,
        _ => Arc::new(Chat::new(Bus::Local)),
    };
    let service = Arc::new(Service {
        counters: Counters::new(COUNTERS),
        shared,
        primary: Some(primary.clone()),
        rounds: config.rounds,
        chat,
    });
    let drain = Arc::new(Notify::new());
    tokio::spawn(obey(incoming, primary.clone(), service.clone(), drain.clone()));
    if let Some((after, length)) = config.stall_ms {
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(after)).await;
            eprintln!("worker {}: stalling its event loop for {length} ms", config.index);
            // Blocks the only thread of this runtime: nothing else in this worker runs meanwhile.
            std::thread::sleep(Duration::from_millis(length));
        });
    }
    if let Some(after) = config.crash_ms {
        tokio::spawn(crash_after(Duration::from_millis(after)));
    }
    // Requests are counted per worker; `/metrics` answers for the whole cluster ([`crate::aggregate`]).
    let cluster_metrics = {
        let primary = primary.clone();
        move || async move {
            match primary
                .ask(Duration::from_secs(3), |id| Message::ClusterMetrics { id })
                .await
            {
                Some(serde_json::Value::String(text)) => (
                    [(
                        axum::http::header::CONTENT_TYPE,
                        "text/plain; version=0.0.4; charset=utf-8",
                    )],
                    text,
                )
                    .into_response(),
                _ => (
                    axum::http::StatusCode::SERVICE_UNAVAILABLE,
                    "the primary did not answer\n",
                )
                    .into_response(),
            }
        }
    };
    let router =
        lab_kit::telemetry::track_requests(app(service)).route("/metrics", axum::routing::get(cluster_metrics));
    let stop = async move {
        tokio::select! {
            _ = drain.notified() => {}
            _ = lab_kit::shutdown_signal() => {}
        }
    };
    let ready = Message::Ready { worker: config.index };
    match config.distribution {
        Distribution::SharedListener => {
            let listener = std::net::TcpListener::from(fds::adopt(fds::LISTENER));
            listener.set_nonblocking(true)?;
            primary.send(ready);
            axum::serve(TcpListener::from_std(listener)?, router)
                .with_graceful_shutdown(stop)
                .await?;
        }
        Distribution::Reuseport => {
            let listener = bind_reuseport(config.addr)?;
            primary.send(ready);
            axum::serve(listener, router).with_graceful_shutdown(stop).await?;
        }
        Distribution::RoundRobin => {
            let handoff = std::os::unix::net::UnixDatagram::from(fds::adopt(fds::HANDOFF));
            handoff.set_nonblocking(true)?;
            let listener = HandedOff {
                socket: UnixDatagram::from_std(handoff)?,
                addr: config.addr,
            };
            primary.send(ready);
            axum::serve(listener, router).with_graceful_shutdown(stop).await?;
        }
    }
    Ok(())
}

/// Answers the primary: counters when asked, drain when told; exits when the primary is gone.
async fn obey(
    mut incoming: tokio::sync::mpsc::UnboundedReceiver<Message>,
    primary: Peer,
    service: Arc<Service>,
    drain: Arc<Notify>,
) {
    while let Some(message) = incoming.recv().await {
        match message {
            Message::Report { id } => primary.send(Message::Counters {
                id,
                counters: service.counters_json(),
            }),
            Message::Expose { id } => primary.send(Message::Reply {
                id,
                value: lab_kit::telemetry().render().into(),
            }),
            Message::Shutdown => drain.notify_one(),
            Message::ChatDeliver { room, text } => service.chat.from_bus(room, text.into()),
            other => eprintln!("worker: unexpected message from the primary: {other:?}"),
        }
    }
    // The primary died (killed, crashed): nobody supervises this worker or will stop it. Leave now.
    std::process::exit(0);
}

// ANCHOR: reuseport
/// A listening socket of its own on the shared port: SO_REUSEPORT lets every worker bind the same address, and the
/// kernel spreads new connections over the sockets by a hash of their addresses and ports.
fn bind_reuseport(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = socket2::Socket::new(socket2::Domain::for_address(addr), socket2::Type::STREAM, None)?;
    socket.set_reuse_port(true)?;
    socket.set_reuse_address(true)?;
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    socket.listen(1024)?;
    TcpListener::from_std(socket.into())
}
// ANCHOR_END: reuseport

/// Connections handed over by the primary, one per datagram with its descriptor attached (SCM_RIGHTS), served as
/// if this worker had accepted them.
struct HandedOff {
    socket: UnixDatagram,
    addr: SocketAddr,
}

impl axum::serve::Listener for HandedOff {
    type Io = TcpStream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (TcpStream, SocketAddr) {
        loop {
            if self.socket.readable().await.is_err() {
                continue;
            }
            let mut byte = [0u8; 1];
            let mut fd = [-1; 1];
            match self.socket.recv_with_fd(&mut byte, &mut fd) {
                Ok((_, 1)) => {
                    let stream = std::net::TcpStream::from(fds::adopt(fd[0]));
                    let peer = stream.peer_addr();
                    if stream.set_nonblocking(true).is_err() {
                        continue;
                    }
                    match (TcpStream::from_std(stream), peer) {
                        (Ok(stream), Ok(peer)) => return (stream, peer),
                        _ => continue,
                    }
                }
                Ok((0, 0)) => {
                    // The primary closed its end: no more connections will come. Wait for the drain.
                    std::future::pending::<()>().await;
                }
                Ok(_) | Err(_) => continue,
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<SocketAddr> {
        Ok(self.addr)
    }
}
