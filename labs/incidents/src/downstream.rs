//! The five services behind the account page (drill `five-services`): real HTTP servers on loopback, started with
//! the lab's server, on a thread and event loop of their own — they stand for other teams' services on other
//! machines, so they must not share the loop whose behaviour the drill measures.
//!
//! | service | behaves |
//! |---|---|
//! | profile, orders, inventory | answers in 5 ms |
//! | recommendations | answers in 800 ms: the dependency that has gone slow |
//! | reviews | answers in 5 ms, but one call in five gets a 500 |

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use exercise_incidents::support::SERVICES;

/// How the slow dependency answers.
pub const SLOW_SERVICE_LATENCY: Duration = Duration::from_millis(800);

/// How the healthy ones answer.
pub const HEALTHY_LATENCY: Duration = Duration::from_millis(5);

/// One service's behaviour and call count.
struct Service {
    name: &'static str,
    latency: Duration,
    fail_every: u64,
    calls: AtomicU64,
}

async fn answer(State(service): State<Arc<Service>>, Path(user): Path<String>) -> Response {
    let n = service.calls.fetch_add(1, Ordering::Relaxed) + 1;
    tokio::time::sleep(service.latency).await;
    if service.fail_every > 0 && n.is_multiple_of(service.fail_every) {
        return (StatusCode::INTERNAL_SERVER_ERROR, "internal error\n").into_response();
    }
    format!("{{\"{}\":\"for user {user}\"}}", service.name).into_response()
}

/// Starts the five services; their addresses in `SERVICES` order.
pub fn start() -> std::io::Result<[SocketAddr; 5]> {
    let mut listeners = Vec::new();
    for _ in SERVICES {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        listeners.push(listener);
    }
    let mut addrs = [SocketAddr::from(([127, 0, 0, 1], 0)); 5];
    for (addr, listener) in addrs.iter_mut().zip(&listeners) {
        *addr = listener.local_addr()?;
    }
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    std::thread::Builder::new()
        .name("downstream-services".into())
        .spawn(move || {
            runtime.block_on(async move {
                let mut servers = tokio::task::JoinSet::new();
                for (name, listener) in SERVICES.into_iter().zip(listeners) {
                    let service = Arc::new(Service {
                        name,
                        latency: if name == "recommendations" {
                            SLOW_SERVICE_LATENCY
                        } else {
                            HEALTHY_LATENCY
                        },
                        fail_every: if name == "reviews" { 5 } else { 0 },
                        calls: AtomicU64::new(0),
                    });
                    let app = Router::new()
                        .route(&format!("/{name}/{{user}}"), get(answer))
                        .with_state(service);
                    let listener = tokio::net::TcpListener::from_std(listener).expect("a listener made above");
                    servers.spawn(async move { axum::serve(listener, app).await });
                }
                // They serve until the process ends.
                while servers.join_next().await.is_some() {}
            });
        })?;
    Ok(addrs)
}
