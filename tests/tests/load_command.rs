//! `cargo xtask load` end to end, against the baseline lab's real server: JSON, thresholds, scenarios, a new
//! connection per request, HdrHistogram logs and their merge, and the refusals that protect a learner.
//!
//! Thresholds are tested in the closed model: a fixed-rate run on a machine busy with other tests may fail the
//! generator's self-check (timer lag), and then its thresholds are rightly not judged at all.

use std::time::{Duration, Instant};

use workbench_tests::{lab_server_binary, run_xtask, texts, LabProcess};

fn hello_server() -> LabProcess {
    let binary = lab_server_binary("lab-baseline");
    LabProcess::start(&binary, &["--variant".into(), "axum-multi-thread".into()], &[])
        .expect("start the baseline server")
}

fn json(stdout: &str) -> serde_json::Value {
    serde_json::from_str(stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}"))
}

#[test]
fn fixed_rate_run_reports_json_and_writes_a_mergeable_hdr_log() {
    let server = hello_server();
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("run.hlog");
    let url = format!("http://{}/", server.addr);
    let output = run_xtask(&[
        "load",
        &url,
        "--rate",
        "400",
        "--duration",
        "2s",
        "--slo",
        "10s",
        "--json",
        "--hdr-log",
        log.to_str().unwrap(),
    ]);
    let (stdout, stderr) = texts(&output);
    assert!(output.status.success(), "{stderr}");
    let report = json(&stdout);
    assert_eq!(report["load"]["mode"], "fixed-rate");
    assert_eq!(report["load"]["target_rps"], 400.0);
    assert_eq!(report["requests"], 800, "400 req/s for 2 s, every one sent");
    assert_eq!(report["outcomes"]["200"], 800);
    assert_eq!(report["errors"], 0);
    assert!((report["achieved_rps"].as_f64().unwrap() - 400.0).abs() < 8.0);
    // Every hello-world answer is a success well within a 10 s objective: goodput counts all 800.
    assert_eq!(report["goodput"]["slo_ms"], 10000.0);
    assert_eq!(report["goodput"]["requests"], 800);

    // Two copies of the same log merge into twice the requests: histograms are added, not averaged.
    let log = log.to_str().unwrap();
    let merged = run_xtask(&["load", "merge", log, log]);
    let (stdout, stderr) = texts(&merged);
    assert!(merged.status.success(), "{stderr}");
    assert!(stdout.contains("┆ 1600 "), "{stdout}");
}

#[test]
fn a_violated_threshold_fails_the_run_and_names_the_rule() {
    let server = hello_server();
    let url = format!("http://{}/", server.addr);
    let output = run_xtask(&[
        "load",
        &url,
        "--connections",
        "2",
        "--duration",
        "1s",
        "--threshold",
        "p50<1us",
        "--threshold",
        "errors<1%",
    ]);
    let (stdout, stderr) = texts(&output);
    assert_eq!(output.status.code(), Some(1), "{stdout}{stderr}");
    assert!(stderr.contains("threshold p50<1us violated: measured"), "{stderr}");
    assert!(
        !stderr.contains("errors<1%"),
        "the rule that held is not reported: {stderr}"
    );
    assert!(stdout.contains("p99") && stdout.contains("│ all "), "{stdout}");
}

#[test]
fn a_scenario_reports_each_named_request_apart() {
    let server = hello_server();
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("mix.toml");
    std::fs::write(
        &scenario,
        "[[request]]\nname = \"hello\"\nweight = 3\npath = \"/\"\n\n[[request]]\nname = \"missing\"\nweight = 1\npath = \"/nope/{seq}\"\n",
    )
    .unwrap();
    let url = format!("http://{}/", server.addr);
    let output = run_xtask(&[
        "load",
        &url,
        "--connections",
        "4",
        "--duration",
        "1s",
        "--json",
        "--scenario",
        scenario.to_str().unwrap(),
    ]);
    let (stdout, stderr) = texts(&output);
    assert!(output.status.success(), "{stderr}");
    let report = json(&stdout);
    let hello = report["by_name"]["hello"]["requests"].as_u64().unwrap();
    let missing = &report["by_name"]["missing"];
    assert!(hello > 0 && missing["requests"].as_u64().unwrap() > 0);
    // Every request to the missing path is a 404, counted as an error of that name only.
    assert_eq!(missing["errors"], missing["requests"]);
    assert_eq!(report["by_name"]["hello"]["errors"], 0);
    assert_eq!(report["outcomes"]["404"], missing["requests"]);
}

#[test]
fn a_new_connection_per_request_is_timed_apart() {
    let server = hello_server();
    let url = format!("http://{}/", server.addr);
    let output = run_xtask(&[
        "load",
        &url,
        "--rate",
        "200",
        "--duration",
        "1s",
        "--new-connection",
        "--json",
    ]);
    let (stdout, stderr) = texts(&output);
    assert!(output.status.success(), "{stderr}");
    let report = json(&stdout);
    assert_eq!(report["requests"], 200);
    assert_eq!(report["connects"], 200, "one connect per request");
    assert!(report["connect_us"]["p50"].as_u64().unwrap() > 0);
}

#[test]
fn a_remote_target_is_refused_before_anything_is_sent() {
    let output = run_xtask(&["load", "http://192.0.2.1:80/", "--rate", "10", "--duration", "1s"]);
    let (_, stderr) = texts(&output);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("not on this machine") && stderr.contains("--allow-remote"),
        "{stderr}"
    );
}

#[test]
fn an_unreachable_target_fails_fast_counting_connection_errors() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let started = Instant::now();
    let output = run_xtask(&["load", &format!("http://127.0.0.1:{port}/"), "--duration", "30s"]);
    let (_, stderr) = texts(&output);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "took {:?}",
        started.elapsed()
    );
    assert!(
        stderr.contains("unreachable: 1") && stderr.contains("connection errors"),
        "{stderr}"
    );
}

#[test]
fn a_bad_threshold_points_at_the_bad_part() {
    let output = run_xtask(&["load", "http://127.0.0.1:9/", "--threshold", "p99<50xs"]);
    let (_, stderr) = texts(&output);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("unknown unit \"xs\"") && stderr.contains("  p99<50xs\n        ^^"),
        "{stderr}"
    );
}

#[test]
fn a_broken_scenario_names_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("broken.toml");
    std::fs::write(&scenario, "[[request]]\nname = \"a\"\npath = \"/{zipf:many}\"\n").unwrap();
    let output = run_xtask(&["load", "http://127.0.0.1:9/", "--scenario", scenario.to_str().unwrap()]);
    let (_, stderr) = texts(&output);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!("{}:1:", scenario.display())) && stderr.contains("zipf"),
        "{stderr}"
    );
}
