//! `cargo xtask logs` end to end: a gigabyte of JSON lines streamed through stdin in bounded memory, with exact
//! counts and percentiles; a file that cannot be opened is a usage error naming it.

use std::io::Write;
use std::process::{Command, Stdio};

use workbench_tests::{run_xtask, texts, xtask_binary};

#[test]
fn a_gigabyte_of_logs_is_streamed_in_bounded_memory() {
    let mut child = Command::new(xtask_binary())
        .args(["logs", "-", "--json"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    // 1,000 distinct lines (durations 1..=1000 µs, every 100th a 503), repeated to just over 1 GiB.
    let mut block = Vec::new();
    for i in 1..=1000u64 {
        let status = if i % 100 == 0 { 503 } else { 200 };
        writeln!(
            block,
            r#"{{"time":1764720000000,"level":"INFO","msg":"request completed","request_id":"r{i}","route":"/order/{{id}}","order_id":{i},"status":{status},"latency_us":{i}}}"#
        )
        .unwrap();
    }
    let repeats = (1u64 << 30).div_ceil(block.len() as u64);
    let writer = std::thread::spawn(move || {
        for _ in 0..repeats {
            stdin.write_all(&block).unwrap();
        }
        // A last line cut off mid-write, as a killed process leaves it.
        stdin.write_all(br#"{"level":"INFO","latency_us":"#).unwrap();
    });
    let output = child.wait_with_output().unwrap();
    writer.join().unwrap();
    let (stdout, stderr) = texts(&output);
    assert!(output.status.success(), "{stderr}");
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let requests = repeats * 1000;
    assert_eq!(report["requests"], requests);
    assert_eq!(report["lines"], requests + 1);
    assert_eq!(report["truncated_last_lines"], 1);
    assert_eq!(report["server_errors"], repeats * 10);
    assert_eq!(report["latency_us"]["p50"], 500);
    assert_eq!(report["latency_us"]["max"], 1000);
    let rss = report["peak_rss_bytes"].as_u64().unwrap();
    assert!(rss > 0 && rss < 64 << 20, "read 1 GiB holding {rss} bytes at its peak");
}

#[test]
fn a_missing_file_is_a_usage_error_naming_it() {
    let output = run_xtask(&["logs", "/no/such/service.log"]);
    let (_, stderr) = texts(&output);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("/no/such/service.log"), "{stderr}");
}
