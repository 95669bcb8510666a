//! Every variant through `app()` into a real file: redaction never leaks, every line of a request carries its
//! correlation id (spawned work included), and every line produced is in the file once the pipeline is dropped.
//! Then the real server over a stalled pipe: the lossy variant drops lines and says so, the backpressure variant
//! drops none, and SIGTERM leaves a complete file. Counts are exact; nothing here times anything.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use lab_kit::Counters;
use lab_logging::pipeline::{Pipeline, Variant};
use lab_logging::redact::Redactor;
use lab_logging::server::{app, AppState, COUNTERS};
use lab_logging::sink::{Sink, SinkKind};
use tower::ServiceExt;

const VARIANTS: [Variant; 5] = [
    Variant::Println,
    Variant::TracingSync,
    Variant::NonBlockingLossy,
    Variant::NonBlockingBackpressure,
    Variant::Filtered,
];

/// Sends `n` orders through `variant` into a log file, drops the service (flushing it), and returns the file's
/// lines, the response ids, and the final /stats.
async fn run(
    variant: Variant,
    n: u64,
    id_of: impl Fn(u64) -> Option<String>,
) -> (Vec<serde_json::Value>, Vec<String>, serde_json::Value) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("out.log");
    let counters = Counters::new(COUNTERS);
    let sink = Sink::open(&SinkKind::File(file.clone()), counters.clone()).unwrap();
    let pipeline = Pipeline::build(variant, sink, Arc::new(Redactor::default()), counters.clone(), 1 << 16);
    let state = Arc::new(AppState::new(pipeline, counters));
    let router = app(state.clone());
    let mut ids = Vec::new();
    for i in 0..n {
        let mut request =
            Request::get(format!("/order/{}", 1000 + i)).header("authorization", format!("Bearer secret.token.{i}"));
        if let Some(id) = id_of(i) {
            request = request.header("x-request-id", id);
        }
        let response = router
            .clone()
            .oneshot(request.body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        ids.push(response.headers()["x-request-id"].to_str().unwrap().to_string());
        response.into_body().collect().await.unwrap();
    }
    let stats = router
        .clone()
        .oneshot(Request::get("/stats").body(Body::empty()).unwrap())
        .await
        .unwrap();
    let stats: serde_json::Value =
        serde_json::from_slice(&stats.into_body().collect().await.unwrap().to_bytes()).unwrap();
    // Dropping the last handle on the state drops the pipeline, which flushes everything into the file.
    drop(router);
    let state = Arc::try_unwrap(state).unwrap_or_else(|_| panic!("a request still holds the state"));
    drop(state);
    let text = std::fs::read_to_string(&file).unwrap();
    let lines = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    (lines, ids, stats)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_reaches_the_file_in_any_variant() {
    for variant in VARIANTS {
        let (lines, _, _) = run(variant, 20, |_| None).await;
        let text: String = lines.iter().map(|l| l.to_string()).collect();
        for secret in ["4111 1111 1111", "secret.token", "Bearer tok.", "tok.10"] {
            assert!(!text.contains(secret), "{variant:?} leaked {secret:?}");
        }
        if variant != Variant::Filtered {
            assert!(
                text.contains("[REDACTED]"),
                "{variant:?}: redacted values are marked, not silently removed"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_line_of_a_request_carries_its_id_spawned_work_included() {
    for variant in VARIANTS {
        // Even requests bring their own id; odd ones bring ids that could forge log lines, and get a fresh one.
        let (lines, ids, stats) = run(variant, 10, |i| {
            Some(if i % 2 == 0 {
                format!("client-{i}")
            } else {
                format!("bad id {i}\", \"level\": \"forged")
            })
        })
        .await;
        for (i, id) in ids.iter().enumerate() {
            if i % 2 == 0 {
                assert_eq!(id, &format!("client-{i}"), "{variant:?}: a sane id is kept");
            } else {
                assert!(!id.starts_with("bad"), "{variant:?}: {id:?}");
            }
        }
        let expected_lines = if variant == Variant::Filtered { 0 } else { 5 * 10 };
        assert_eq!(lines.len(), expected_lines, "{variant:?}");
        assert_eq!(stats["lines_produced"], expected_lines as u64, "{variant:?}");
        if variant == Variant::Filtered {
            continue;
        }
        let mut by_id: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for line in &lines {
            let id = line["request_id"]
                .as_str()
                .unwrap_or_else(|| panic!("{variant:?}: a line without an id: {line}"));
            by_id.entry(id).or_default().push(line["msg"].as_str().unwrap());
        }
        assert_eq!(by_id.len(), 10, "{variant:?}");
        for id in &ids {
            let mut messages = by_id[id.as_str()].clone();
            messages.sort();
            assert_eq!(
                messages,
                [
                    "fraud check done",
                    "payment authorized",
                    "receipt rendered",
                    "request completed",
                    "request received"
                ],
                "{variant:?}: request {id}"
            );
        }
    }
}

/// The real server, over a pipe that stalls at once for 1.5 s; returns /stats once `requests` orders were served
/// and the stall is over, and the number of lines in the file after SIGTERM.
fn stalled_server(variant: &str, requests: usize) -> (serde_json::Value, usize) {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("out.log");
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_lab-logging"));
    command
        .args([
            "--variant",
            variant,
            "--port",
            "0",
            "--sink",
            "pipe",
            "--stall-at",
            "0ms",
            "--stall-for",
            "1500ms",
        ])
        .args(["--queue-lines", "64", "--log-file"])
        .arg(&log);
    let server = lab_kit::testing::ServerProcess::start(command);
    // Requests from 4 threads at once: a blocked logger blocks one of them, not the test.
    std::thread::scope(|scope| {
        for t in 0..4 {
            let server = &server;
            scope.spawn(move || {
                for i in 0..requests / 4 {
                    assert_eq!(server.get(&format!("/order/{}", t * 1000 + i)).0, 200);
                }
            });
        }
    });
    // Once the stall is over every queued line reaches the pipe; then stop the server as the harness does.
    lab_kit::testing::eventually("the queue to drain into the pipe", || {
        server.stats()["lines_buffered"] == 0
    });
    let stats = server.stats();
    assert!(server.terminate().success(), "a graceful stop");
    let lines = std::fs::read_to_string(&log).unwrap().lines().count();
    (stats, lines)
}

#[test]
fn a_stalled_sink_makes_the_lossy_logger_drop_and_say_so_and_the_file_holds_the_rest() {
    let (stats, lines) = stalled_server("non-blocking-lossy", 400);
    let produced = stats["lines_produced"].as_u64().unwrap();
    let dropped = stats["lines_dropped"].as_u64().unwrap();
    assert_eq!(produced, 400 * 5);
    assert!(dropped > 0, "a 64-line queue cannot hold 1.5 s of lines: {stats}");
    assert_eq!(
        lines as u64,
        produced - dropped,
        "after SIGTERM the file holds every line not dropped: {stats}"
    );
}

#[test]
fn backpressure_drops_nothing_and_sigterm_leaves_a_complete_file() {
    let (stats, lines) = stalled_server("non-blocking-backpressure", 200);
    assert_eq!(stats["lines_dropped"], 0, "{stats}");
    assert_eq!(lines, 200 * 5, "every line, flushed at the graceful stop: {stats}");
}
