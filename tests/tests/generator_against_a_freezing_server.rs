//! The generator against the load-generator lab's real freezing server (the `lab-coordinated-omission` binary,
//! started per test and stopped on drop). The test lives here, not in either package, because the instrument
//! depends on no server and no lab depends on the instrument.
//!
//! These are the instrument's acceptance checks. The effect measured is enormous (half-second freezes against
//! sub-millisecond requests), so the bounds hold on a loaded 2-core machine; finer timing ratios belong to
//! `cargo xtask lab`, not to tests.

use std::time::Duration;

use lab_harness::process::LabProcess;
use lab_load_generator::{run, Mode, Plan, RequestSpec, Target};

/// The freezing server, started as the harness starts every lab server (ready when `/healthz` answers, stopped
/// on drop even when the test panics).
struct Server {
    _process: LabProcess,
    url: String,
}

fn start(args: &[&str]) -> Server {
    let binary = workbench_tests::lab_server_binary("lab-coordinated-omission");
    let args: Vec<String> = ["--variant", "freezing"]
        .iter()
        .chain(args)
        .map(|a| a.to_string())
        .collect();
    let process = LabProcess::start(&binary, &args, &[]).expect("start the freezing server");
    Server {
        url: format!("http://{}/", process.addr),
        _process: process,
    }
}

#[test]
fn fixed_rate_sees_the_freezes_that_service_time_hides() {
    let server = start(&["--freeze-ms", "500", "--every-ms", "2000"]);
    let target = Target::parse(&server.url, false).unwrap();
    let mode = Mode::fixed_rate(2000.0, Duration::ZERO, Duration::ZERO, Duration::from_secs(6));
    let report = run(&Plan::new(target, vec![RequestSpec::get("/").unwrap()], mode)).unwrap();

    // A quarter of the time the server is frozen: requests due then wait up to 500 ms, so p99 is near 500 ms.
    assert!(
        report.latency_us.p99 >= 300_000,
        "p99 from due time {} µs",
        report.latency_us.p99
    );
    // Only the few requests in flight when a freeze begins have a long *service* time: well under 1%. (Measured
    // 10x+ apart on an idle 2-core machine; 8x with a compile running beside it, so the check asks for 4x: the
    // point is the order of magnitude, and cargo test never judges fine timing ratios.)
    assert!(
        report.service_us.p99 * 4 <= report.latency_us.p99,
        "service p99 {} µs should be far below corrected p99 {} µs",
        report.service_us.p99,
        report.latency_us.p99
    );
    assert!(
        (report.achieved_rps - 2000.0).abs() <= 40.0,
        "achieved {} req/s",
        report.achieved_rps
    );
    assert_eq!(report.requests, 12_000);
    assert_eq!(report.errors, 0);
    assert_eq!(report.dropped, 0);
    assert!(report.late > 0, "requests due during a freeze are sent late");
}

#[test]
fn closed_loop_with_one_connection_under_reports_the_tail() {
    let server = start(&["--freeze-ms", "300", "--every-ms", "1000"]);
    let target = Target::parse(&server.url, false).unwrap();
    let mode = Mode::Closed {
        warmup: Duration::ZERO,
        duration: Duration::from_secs(2),
    };
    let mut plan = Plan::new(target, vec![RequestSpec::get("/").unwrap()], mode);
    plan.connections = 1;
    let report = run(&plan).unwrap();
    // One request per freeze is slow; thousands are fast. The naive p99 misses the freeze entirely.
    assert!(report.requests > 200, "only {} requests", report.requests);
    assert!(
        report.latency_us.p99 < 100_000,
        "naive p99 {} µs",
        report.latency_us.p99
    );
    assert!(
        report.latency_us.max >= 100_000,
        "but the max shows a freeze: {} µs",
        report.latency_us.max
    );
}

#[test]
fn an_unreachable_target_fails_fast_with_the_error_count() {
    // Bind then drop a listener: the port is (almost certainly) closed now.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let target = Target::parse(&format!("http://127.0.0.1:{port}/"), false).unwrap();
    let mode = Mode::fixed_rate(2000.0, Duration::ZERO, Duration::ZERO, Duration::from_secs(30));
    let started = std::time::Instant::now();
    let err = run(&Plan::new(target, vec![RequestSpec::get("/").unwrap()], mode)).unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
    let text = err.to_string();
    assert!(
        text.contains("unreachable") && text.contains("connection errors"),
        "{text}"
    );
}
