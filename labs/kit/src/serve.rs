//! Binding, the `listening on ADDR` line, the standard routes and graceful shutdown.

use std::net::SocketAddr;

use axum::routing::get;
use axum::{Json, Router};
use tokio::net::TcpListener;

use crate::{Counters, RuntimeFlavor, ServeError, ServerArgs};

/// Adds `GET /healthz` and `GET /stats` to a lab's router.
pub fn with_standard_routes(router: Router, counters: Counters) -> Router {
    router
        .route("/healthz", get(|| async { "ok" }))
        .route("/stats", get(move || async move { Json(counters.to_json()) }))
}

/// Builds the tokio runtime a lab server runs on.
pub fn build_runtime(flavor: RuntimeFlavor) -> std::io::Result<tokio::runtime::Runtime> {
    match flavor {
        RuntimeFlavor::CurrentThread => tokio::runtime::Builder::new_current_thread().enable_all().build(),
        RuntimeFlavor::MultiThread => tokio::runtime::Builder::new_multi_thread().enable_all().build(),
    }
}

/// Binds the listener — or takes the one a supervisor passed down ([`crate::supervised`]) — and announces its
/// address on stdout (`listening on ADDR`: the harness waits for this line), and to the supervisor, if any, that the
/// server is ready.
pub async fn bind(args: &ServerArgs) -> Result<TcpListener, ServeError> {
    let addr = SocketAddr::new(args.host, args.port);
    let bound = |source| ServeError::Bind { addr, source };
    let listener = match crate::supervised::inherited_listener() {
        Some(inherited) => inherited.and_then(TcpListener::from_std).map_err(bound)?,
        None => TcpListener::bind(addr).await.map_err(bound)?,
    };
    let local = listener.local_addr().map_err(bound)?;
    // Flush so the line is not stuck in a pipe buffer.
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    writeln!(out, "listening on {local}")
        .and_then(|()| out.flush())
        .map_err(ServeError::Announce)?;
    if let Err(e) = crate::supervised::notify_ready() {
        eprintln!("warning: could not tell the supervisor this server is ready ($NOTIFY_SOCKET): {e}");
    }
    Ok(listener)
}

/// Resolves when the process receives SIGTERM (how the harness stops a lab) or SIGINT (Ctrl-C).
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    #[tokio::test]
    async fn healthz_and_stats_answer() {
        let counters = Counters::new(&["hits"]);
        counters.add("hits", 3);
        let app = with_standard_routes(Router::new(), counters);
        let health = app
            .clone()
            .oneshot(axum::http::Request::get("/healthz").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(health.status(), 200);
        let stats = app
            .oneshot(axum::http::Request::get("/stats").body(Body::empty()).unwrap())
            .await
            .unwrap();
        let body = stats.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(&body[..], br#"{"hits":3}"#);
    }
}
