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

/// A service whose capacity is known by construction: the caching lab without a cache, one database connection,
/// 50 ms per query — about 20 requests a second at most, whatever the machine.
fn twenty_per_second_server() -> LabProcess {
    let binary = lab_server_binary("lab-caching");
    let args: Vec<String> = ["--variant", "naive", "--pool", "1", "--db-latency-ms", "50"]
        .map(String::from)
        .into();
    LabProcess::start(&binary, &args, &[]).expect("start the caching server")
}

#[test]
fn find_capacity_steps_up_then_bisects_and_reports_the_highest_rate_met() {
    let server = twenty_per_second_server();
    let url = format!("http://{}/product/{{uniform:1000}}", server.addr);
    let output = run_xtask(&[
        "load",
        &url,
        "--find-capacity",
        "--slo",
        "p99<500ms",
        "--rate",
        "5",
        "--duration",
        "2s",
        "--json",
    ]);
    let (stdout, stderr) = texts(&output);
    assert!(output.status.success(), "{stderr}");
    let result = json(&stdout);
    let capacity = result["capacity_rps"].as_f64().expect("some rate met the objective");
    let steps = result["steps"].as_array().unwrap();
    // 5 and 10 req/s are easy; 40 needs two connections' worth of database time and can never be met.
    assert!((5.0..40.0).contains(&capacity), "capacity {capacity}: {stdout}");
    assert!(steps.len() >= 4, "doubling, then bisecting: {stdout}");
    assert_eq!(steps[0]["target_rps"], 5.0);
    assert_eq!(
        steps[1]["target_rps"], 10.0,
        "the rate doubles while the objective is met"
    );
    let missed = steps.iter().filter(|s| s["verdict"] == "missed").count();
    assert!(missed >= 1, "the search found a rate that misses: {stdout}");
    // Every rate that missed is above the answer, and the answer was confirmed by a longer run at that rate.
    for step in steps {
        let rate = step["target_rps"].as_f64().unwrap();
        match step["verdict"].as_str().unwrap() {
            "met" => {}
            "missed" => assert!(rate > capacity, "{stdout}"),
            other => panic!("verdict {other}: {stdout}"),
        }
    }
    let last = steps.last().unwrap();
    assert_eq!(last["confirmation"], true, "{stdout}");
    assert_eq!(
        (last["target_rps"].as_f64(), last["verdict"].as_str()),
        (Some(capacity), Some("met"))
    );
    assert_eq!(result["confirmed"], true);
    assert_eq!(result["objective"][0], "p99<500ms");
    // The page beside the labs' reports: a point per step and the objective drawn in.
    let page = stderr
        .lines()
        .find_map(|l| l.strip_prefix("report: "))
        .unwrap_or_else(|| panic!("no report path: {stderr}"));
    let html = std::fs::read_to_string(page).unwrap();
    let points = steps.iter().filter(|s| s["confirmation"] == false).count();
    assert_eq!(html.matches("<circle").count(), points, "{page}");
    assert!(html.contains("objective 500.00ms"), "{page}");
}

#[test]
fn find_capacity_without_an_objective_is_a_usage_error() {
    let output = run_xtask(&["load", "http://127.0.0.1:9/", "--find-capacity"]);
    let (_, stderr) = texts(&output);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("--find-capacity needs an objective"), "{stderr}");
}

/// An upload server: answers every POST with 100,000 bytes once it has read the whole body.
fn upload_server() -> std::net::SocketAddr {
    use axum::routing::post;
    workbench_tests::serve_on_loopback(|listener| async move {
        let app = axum::Router::new().route(
            "/upload",
            post(|body: axum::body::Bytes| async move {
                assert_eq!(body.len(), 256 * 1024, "the whole generated body arrived");
                vec![b'x'; 100_000]
            }),
        );
        axum::serve(listener, app).await.unwrap();
    })
}

#[test]
fn a_generated_body_and_a_slow_reader_are_counted_byte_for_byte() {
    let addr = upload_server();
    let url = format!("http://{addr}/upload");
    let output = run_xtask(&[
        "load",
        &url,
        "--method",
        "POST",
        "--body",
        "abcd",
        "--body-size",
        "256KiB",
        "--read-rate",
        "4MB/s",
        "--connections",
        "1",
        "--duration",
        "1s",
        "--json",
    ]);
    let (stdout, stderr) = texts(&output);
    assert!(output.status.success(), "{stderr}");
    let report = json(&stdout);
    let requests = report["requests"].as_u64().unwrap();
    assert!(requests >= 1 && report["errors"] == 0, "{report}");
    let request_head = format!("POST /upload HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 262144\r\n\r\n").len() as u64;
    assert_eq!(
        report["bytes_sent"].as_u64().unwrap(),
        requests * (request_head + 262_144)
    );
    let received = report["bytes_received"].as_u64().unwrap();
    assert_eq!(received % requests, 0, "every response is the same size");
    let per_response = received / requests;
    assert!(
        (100_000..100_400).contains(&per_response),
        "a 100,000-byte body and its head: {per_response}"
    );
    assert_eq!(report["bytes_per_response"].as_f64().unwrap(), per_response as f64);
    assert!(report["ttfb_us"]["p50"].as_u64().unwrap() > 0);
    // Reading 100 kB at 4 MiB/s takes at least 23 ms, so one connection cannot finish more than 43 in a second.
    assert!(requests <= 43, "{requests} responses read at 4 MiB/s in one second");
}

#[test]
fn bad_sizes_and_rates_are_usage_errors() {
    for (flag, value) in [
        ("--read-rate", "fast"),
        ("--upload-rate", "0/s"),
        ("--body-size", "lots"),
    ] {
        let mut args = vec!["load", "http://127.0.0.1:9/", flag, value];
        if flag == "--body-size" {
            args.extend(["--body", "x"]);
        }
        let output = run_xtask(&args);
        let (_, stderr) = texts(&output);
        assert_eq!(output.status.code(), Some(2), "{flag} {value}: {stderr}");
        assert!(
            stderr.contains(value),
            "{flag} {value}: the message quotes the bad value: {stderr}"
        );
    }
}
