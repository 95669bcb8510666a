//! Hello world on bare hyper: an accept loop and a `service_fn` that matches the path by hand.
//!
//! - **+** the least work per request a Rust HTTP/1.1 server does: no router, no boxing, no middleware;
//! - **−** everything a router gives for free is written by hand: routing, 404s, the health and stats endpoints,
//!   graceful shutdown (hyper-util's `GracefulShutdown` below).

use std::convert::Infallible;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::GracefulShutdown;
use lab_kit::Counters;
use tokio::net::TcpListener;

/// Answers one request.
pub fn respond(request: &Request<Incoming>, counters: &Counters) -> Response<Full<Bytes>> {
    let text = |status: StatusCode, body: Bytes| {
        let mut response = Response::new(Full::new(body));
        *response.status_mut() = status;
        response
    };
    match (request.method(), request.uri().path()) {
        (&hyper::Method::GET, "/") => {
            counters.incr("requests");
            text(StatusCode::OK, Bytes::from_static(crate::HELLO.as_bytes()))
        }
        (&hyper::Method::GET, "/healthz") => text(StatusCode::OK, Bytes::from_static(b"ok")),
        (&hyper::Method::GET, "/stats") => {
            let mut response = text(StatusCode::OK, Bytes::from(counters.to_json().to_string()));
            response.headers_mut().insert(
                hyper::header::CONTENT_TYPE,
                hyper::header::HeaderValue::from_static("application/json"),
            );
            response
        }
        _ => text(StatusCode::NOT_FOUND, Bytes::from_static(b"not found\n")),
    }
}

/// Serves connections from `listener` until SIGTERM/Ctrl-C, then lets open connections finish their request.
pub async fn serve(listener: TcpListener, counters: Counters) -> anyhow::Result<()> {
    let graceful = GracefulShutdown::new();
    let shutdown = lab_kit::shutdown_signal();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let _ = stream.set_nodelay(true);
                let counters = counters.clone();
                let service = service_fn(move |request| {
                    let response = respond(&request, &counters);
                    async move { Ok::<_, Infallible>(response) }
                });
                let connection = http1::Builder::new().serve_connection(TokioIo::new(stream), service);
                let connection = graceful.watch(connection);
                tokio::spawn(async move {
                    let _ = connection.await;
                });
            }
            _ = &mut shutdown => break,
        }
    }
    // Idle keep-alive connections close at once; busy ones after their response. Bounded, as a deploy would be.
    let _ = tokio::time::timeout(std::time::Duration::from_secs(5), graceful.shutdown()).await;
    Ok(())
}
