//! `pm-demo-app`: the service the lab runs under the supervisor — small, but it behaves like a real one where it
//! matters to a process manager.
//!
//! - It takes its listening socket from the supervisor (`LISTEN_FDS=1`, fd 3) or binds `--port` itself.
//! - It takes `--boot-time` to start (loading config, warming caches, connecting to a database) and only then says
//!   `READY=1` on `$NOTIFY_SOCKET`: a reload that did not wait for that would send traffic to nothing.
//! - On SIGTERM it **drains** (`--on-sigterm drain`, the default): stops accepting, answers on its open
//!   connections with `Connection: close` for `--drain-grace`, then closes the idle ones and exits (see
//!   [`crate::drain`] for why not close idle connections at once). Or it **exits at once**
//!   (`--on-sigterm exit`), which is what a Node.js process without a SIGTERM handler does: every request it was
//!   serving fails.
//! - Routes to misbehave on demand: `/work?ms=N` (a slow request), `/leak?kb=N` (memory kept forever, its pages
//!   written so RSS really grows), `/crash` (exit 1, like an uncaught exception); `--crash-after D` crashes at
//!   start-up (a crash loop).
//! - `/stats` is its own counters plus the supervisor's (asked over `$WORKBENCH_PM_SOCKET`), so the lab harness
//!   reads both in one place.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Query, State};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;

/// What to do on SIGTERM.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OnSigterm {
    /// Finish in-flight requests, then exit.
    Drain,
    /// Exit at once.
    Exit,
}

/// `pm-demo-app`'s flags.
#[derive(Debug, clap::Parser)]
#[command(about = "The process-manager lab's demo service: slow, leaking and crashing routes, READY=1 when booted")]
pub struct DemoArgs {
    /// How long start-up takes before it is ready.
    #[arg(long, default_value = "0s", value_parser = humantime::parse_duration)]
    pub boot_time: Duration,
    /// What SIGTERM does.
    #[arg(long, value_enum, default_value = "drain")]
    pub on_sigterm: OnSigterm,
    /// Draining: how long existing connections are still served (each answer closing its connection) before the
    /// idle ones are closed.
    #[arg(long, default_value = "1s", value_parser = humantime::parse_duration)]
    pub drain_grace: Duration,
    /// Crash (exit 1) this long after starting.
    #[arg(long, value_parser = humantime::parse_duration)]
    pub crash_after: Option<Duration>,
    /// The port to bind when no socket is inherited.
    #[arg(long, default_value_t = 3000)]
    pub port: u16,
}

#[derive(Default)]
struct Shared {
    requests: AtomicU64,
    leaked_bytes: AtomicU64,
    leak: Mutex<Vec<Box<[u8]>>>,
}

/// The most one request may leak or sleep: a typo in a URL must not take the machine down.
const MAX_LEAK_KB: u64 = 64 * 1024;
const MAX_WORK_MS: u64 = 10_000;

/// The demo app's router (testable without a socket).
pub fn app() -> Router {
    let shared = Arc::new(Shared::default());
    Router::new()
        .route("/", get(hello))
        .route("/work", get(work).post(work))
        .route("/leak", get(leak))
        .route("/crash", get(crash))
        .route("/healthz", get(|| async { "ok" }))
        .route("/stats", get(stats))
        .with_state(shared)
}

async fn hello(State(shared): State<Arc<Shared>>) -> String {
    shared.requests.fetch_add(1, Ordering::Relaxed);
    format!("hello from pid {}\n", std::process::id())
}

#[derive(Deserialize)]
struct Work {
    ms: Option<u64>,
}

async fn work(State(shared): State<Arc<Shared>>, Query(q): Query<Work>) -> String {
    shared.requests.fetch_add(1, Ordering::Relaxed);
    let ms = q.ms.unwrap_or(100).min(MAX_WORK_MS);
    // Waiting, not computing: a request that is slow because of a database or another service.
    tokio::time::sleep(Duration::from_millis(ms)).await;
    format!("worked {ms} ms in pid {}\n", std::process::id())
}

#[derive(Deserialize)]
struct Leak {
    kb: Option<u64>,
}

async fn leak(State(shared): State<Arc<Shared>>, Query(q): Query<Leak>) -> String {
    shared.requests.fetch_add(1, Ordering::Relaxed);
    let bytes = (q.kb.unwrap_or(64).min(MAX_LEAK_KB) * 1024) as usize;
    // Filled with a non-zero byte: zeroed memory may come from calloc as untouched pages, which RSS would not
    // count. Writing every page makes the leak as real as a cache that never evicts.
    let block = vec![0xA5u8; bytes].into_boxed_slice();
    shared.leak.lock().unwrap_or_else(|e| e.into_inner()).push(block);
    let total = shared.leaked_bytes.fetch_add(bytes as u64, Ordering::Relaxed) + bytes as u64;
    format!("leaked {total} bytes in pid {}\n", std::process::id())
}

async fn crash() -> &'static str {
    eprintln!("crashing on request, as an uncaught exception would");
    std::process::exit(1);
}

async fn stats(State(shared): State<Arc<Shared>>) -> Json<serde_json::Value> {
    let mut stats = serde_json::json!({
        "instance_requests": shared.requests.load(Ordering::Relaxed),
        "instance_leaked_bytes": shared.leaked_bytes.load(Ordering::Relaxed),
    });
    if let (Some(own), Some(theirs)) = (stats.as_object_mut(), lab_kit::supervised::supervisor_stats().await) {
        own.extend(theirs);
    }
    Json(stats)
}

/// `main` of `pm-demo-app`.
pub fn main(args: DemoArgs) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(serve(args))
}

async fn serve(args: DemoArgs) -> anyhow::Result<()> {
    if let Some(after) = args.crash_after {
        tokio::spawn(async move {
            tokio::time::sleep(after).await;
            eprintln!(
                "crashing {} after start (--crash-after)",
                humantime::format_duration(after)
            );
            std::process::exit(1);
        });
    }
    let listener = match lab_kit::supervised::inherited_listener() {
        Some(inherited) => inherited?,
        None => std::net::TcpListener::bind(("127.0.0.1", args.port))?,
    };
    listener.set_nonblocking(true)?;
    let listener = tokio::net::TcpListener::from_std(listener)?;
    // Start-up work: the connections already arriving wait in the socket's queue meanwhile (cluster mode), or are
    // served by the instance this one is replacing.
    tokio::time::sleep(args.boot_time).await;
    lab_kit::supervised::notify_ready()?;
    println!("pid {} ready", std::process::id());
    let on_sigterm = args.on_sigterm;
    // ANCHOR: on_sigterm
    let sigterm = async move {
        lab_kit::shutdown_signal().await;
        match on_sigterm {
            OnSigterm::Exit => {
                println!("pid {} exiting at once on SIGTERM", std::process::id());
                std::process::exit(0);
            }
            OnSigterm::Drain => println!("pid {} draining on SIGTERM", std::process::id()),
        }
    };
    crate::drain::serve_and_drain(listener, app(), args.drain_grace, sigterm).await?;
    // ANCHOR_END: on_sigterm
    println!("pid {} drained, exiting", std::process::id());
    Ok(())
}
