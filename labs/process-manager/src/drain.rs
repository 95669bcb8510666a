//! Serving, and draining on SIGTERM without losing a request to the keep-alive race.
//!
//! The usual graceful shutdown (axum's `with_graceful_shutdown`, hyper's `graceful_shutdown`) stops accepting,
//! lets in-flight requests finish, and closes *idle* kept-alive connections at once. That last step has a race no
//! server-side timing can win: a client may be sending its next request on an idle connection at the very moment
//! the close is on its way. The request is lost; an HTTP client may resend it only if it is idempotent (a GET),
//! never a POST. In the lab, one POST in a reload was lost this way in one quick run of three.
//!
//! This server drains in three steps instead:
//!
//! 1. **stop accepting**: the listener is dropped (in cluster mode the socket stays open in the other instances
//!    and in the supervisor, which keep accepting);
//! 2. **say goodbye in-band** for `grace`: every response now carries `Connection: close`, so each kept-alive
//!    connection is closed by the server right after its next answer — the client reads the header and will not
//!    reuse it. No connection is closed while a request could be on its way in it;
//! 3. after `grace`, whatever is still open gets hyper's graceful shutdown (in-flight requests finish, idle
//!    connections close): only clients silent for the whole grace period meet a close, and they are not sending.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::http::{header, HeaderValue, Request};
use axum::Router;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tower::ServiceExt;

/// Serves `router` on `listener` until `stop` resolves, then drains as the module docs say.
pub async fn serve_and_drain(
    listener: TcpListener,
    router: Router,
    grace: Duration,
    stop: impl std::future::Future<Output = ()>,
) -> std::io::Result<()> {
    let draining = Arc::new(AtomicBool::new(false));
    let (close_now, closing) = watch::channel(false);
    let mut connections = JoinSet::new();
    tokio::pin!(stop);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let _ = stream.set_nodelay(true);
                connections.spawn(serve_one(stream, router.clone(), draining.clone(), closing.clone()));
            }
            () = &mut stop => break,
        }
        // Reap finished connections as we go, so a long-lived server does not keep their results.
        while connections.try_join_next().is_some() {}
    }
    // ANCHOR: drain
    // 1. Stop accepting.
    drop(listener);
    // 2. Every answer from now on closes its connection.
    draining.store(true, Ordering::Relaxed);
    let all_closed = async { while connections.join_next().await.is_some() {} };
    tokio::pin!(all_closed);
    tokio::select! {
        () = &mut all_closed => return Ok(()),
        () = tokio::time::sleep(grace) => {}
    }
    // 3. The rest: finish what is in flight, close what is idle.
    let _ = close_now.send(true);
    all_closed.await;
    // ANCHOR_END: drain
    Ok(())
}

async fn serve_one(
    stream: tokio::net::TcpStream,
    router: Router,
    draining: Arc<AtomicBool>,
    mut closing: watch::Receiver<bool>,
) {
    let service = hyper::service::service_fn(move |request: Request<hyper::body::Incoming>| {
        let router = router.clone();
        let draining = draining.clone();
        async move {
            let mut response = router.oneshot(request.map(axum::body::Body::new)).await?;
            if draining.load(Ordering::Relaxed) {
                // hyper sees this header and closes the connection once the response is written.
                response
                    .headers_mut()
                    .insert(header::CONNECTION, HeaderValue::from_static("close"));
            }
            Ok::<_, std::convert::Infallible>(response)
        }
    });
    let connection = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service);
    tokio::pin!(connection);
    // The watch's guard stays inside this future: it is not Send, and must not live across an await.
    let told_to_close = async move {
        let _ = closing.wait_for(|close| *close).await;
    };
    let close = tokio::select! {
        _ = connection.as_mut() => false,
        () = told_to_close => true,
    };
    if close {
        connection.as_mut().graceful_shutdown();
        let _ = connection.await;
    }
}
