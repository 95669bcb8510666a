//! Draining without the keep-alive race: after SIGTERM, a request sent on an idle kept-alive connection is still
//! answered — with `Connection: close` — instead of meeting a closed socket; in-flight requests finish; nothing new
//! is accepted; idle connections are closed once the grace period is over.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const GET: &[u8] = b"GET /work?ms=10 HTTP/1.1\r\nHost: lab\r\n\r\n";

/// Reads one response (this app's bodies are short and sent with a length) and returns its head and body.
async fn response(stream: &mut TcpStream) -> String {
    let mut text = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = stream.read(&mut buf).await.unwrap();
        text.extend_from_slice(&buf[..n]);
        let s = String::from_utf8_lossy(&text).to_string();
        if let Some((head, body)) = s.split_once("\r\n\r\n") {
            let length: usize = head
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length: ")
                        .map(|v| v.trim().parse().unwrap())
                })
                .unwrap();
            if body.len() >= length {
                return s;
            }
        }
        assert!(n > 0, "the connection closed mid-response: {s:?}");
    }
}

#[tokio::test]
async fn an_idle_connection_is_answered_with_connection_close_after_sigterm_not_reset() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let grace = Duration::from_millis(500);
    let server = tokio::spawn(lab_process_manager::drain::serve_and_drain(
        listener,
        lab_process_manager::server::app(),
        grace,
        async {
            let _ = stopped.await;
        },
    ));
    let (mut kept, mut idle) = (
        TcpStream::connect(addr).await.unwrap(),
        TcpStream::connect(addr).await.unwrap(),
    );
    for stream in [&mut kept, &mut idle] {
        stream.write_all(GET).await.unwrap();
        let answer = response(stream).await;
        assert!(answer.starts_with("HTTP/1.1 200") && !answer.to_ascii_lowercase().contains("connection: close"));
    }
    let sigterm = Instant::now();
    stop.send(()).unwrap();
    // No new connection is accepted: once the server has seen the signal it drops its listener, and a connect is
    // refused. Probed, not slept for: the server runs on this test's thread, so each yield lets it move on.
    let refused = tokio::time::timeout(Duration::from_secs(5), async {
        while TcpStream::connect(addr).await.is_ok() {
            tokio::task::yield_now().await;
        }
    })
    .await;
    assert!(
        refused.is_ok(),
        "the draining server still accepted new connections after 5 s"
    );
    // ...but a kept-alive connection that was idle at SIGTERM gets its next request answered, and told to close.
    kept.write_all(GET).await.unwrap();
    let answer = response(&mut kept).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.to_ascii_lowercase().contains("connection: close"), "{answer}");
    let mut rest = [0u8; 16];
    assert_eq!(kept.read(&mut rest).await.unwrap(), 0, "closed after that answer");
    // The connection that stayed silent is closed once the grace period is over, and then the server is done.
    assert_eq!(idle.read(&mut rest).await.unwrap(), 0);
    assert!(
        sigterm.elapsed() >= grace,
        "idle connections are kept for the grace period"
    );
    server.await.unwrap().unwrap();
}
