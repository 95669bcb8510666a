//! `cargo xtask load ws://…` end to end against WebSocket servers written for the test: every message sent comes
//! back from an echo server; a server that drops every tenth message shows exactly those as lost; a connection
//! count past the file-descriptor limit is refused before anything opens. Counts are asserted, never timings.

use std::net::SocketAddr;

use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use tokio_tungstenite::tungstenite::Message;
use workbench_tests::{run_xtask, serve_on_loopback, texts};

/// An echo server that answers every text message, except those `drop` picks, on loopback from its own thread.
fn start_server(drop: fn(&str) -> bool) -> SocketAddr {
    serve_on_loopback(move |listener| async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let Ok(ws) = tokio_tungstenite::accept_async(stream).await else {
                    return;
                };
                let (mut sink, mut stream) = ws.split();
                while let Some(Ok(message)) = stream.next().await {
                    if let Message::Text(text) = message {
                        if !drop(text.as_str()) && sink.send(Message::Text(text)).await.is_err() {
                            return;
                        }
                    }
                }
            });
        }
    })
}

fn run(addr: SocketAddr, connections: &str) -> (Option<i32>, Value, String) {
    let url = format!("ws://{addr}/feed");
    let output = run_xtask(&[
        "load",
        &url,
        "--connections",
        connections,
        "--hold",
        "2s",
        "--rate",
        "400",
        "--message-size",
        "128",
        "--json",
    ]);
    let (stdout, stderr) = texts(&output);
    let report = serde_json::from_str(&stdout).unwrap_or(Value::Null);
    (output.status.code(), report, stderr)
}

#[test]
fn every_message_comes_back_from_an_echo_server_over_held_connections() {
    let addr = start_server(|_| false);
    let (code, report, stderr) = run(addr, "300");
    assert_eq!(code, Some(0), "{stderr}\n{report}");
    assert_eq!(report["opened"], 300);
    assert_eq!(report["failed"], 0);
    assert_eq!(report["closed_early"], 0);
    // 400 messages a second for 2 s, each echoed once.
    assert_eq!(report["sent"], 800);
    assert_eq!(report["delivered"], 800);
    assert_eq!(report["receipts"], 800);
    assert_eq!(report["lost"], 0);
    assert!(report["fd_limit"].as_u64().unwrap() >= 300);
}

#[test]
fn messages_a_server_drops_are_counted_as_lost() {
    // Drop the messages whose number ends in 0: seq 0, 10, …, 790 — 80 of the 800.
    let addr =
        start_server(|text| text.starts_with("{\"seq\":") && text[7..].split(',').next().unwrap().ends_with('0'));
    let (code, report, stderr) = run(addr, "50");
    assert_eq!(code, Some(1), "lost messages fail the run: {stderr}\n{report}");
    assert_eq!(report["sent"], 800);
    assert_eq!(report["lost"], 80);
    assert_eq!(report["delivered"], 720);
}

#[test]
fn more_connections_than_the_hard_fd_limit_are_refused_before_opening_any() {
    let addr = start_server(|_| false);
    let (code, _, stderr) = run(addr, "2000000000");
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("file descriptors") && stderr.contains("ulimit -Hn"),
        "{stderr}"
    );
}
