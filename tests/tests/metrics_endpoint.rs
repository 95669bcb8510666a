//! Every lab serves `/metrics`: Prometheus text that `promtool check metrics` accepts, requests counted by route
//! template, and the process and runtime families. promtool comes with Debian's `prometheus` package, which
//! `.ci/run` installs; without it (a laptop) the check is skipped and says so, except under CI, where it must run.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

use workbench_tests::{eventually, lab_server_binary, LabProcess};

/// Each lab's server and a variant that needs no outside service.
const LABS: &[(&str, &str)] = &[
    ("lab-baseline", "axum-multi-thread"),
    ("lab-caching", "lru"),
    ("lab-query-batching", "join"),
    ("lab-worker-pools", "bounded-pool"),
    ("lab-coordinated-omission", "freezing"),
    ("lab-metrics", "instrumented"),
];

fn get(server: &LabProcess, path: &str) -> String {
    let (status, body) = lab_harness::probe::get(server.addr, path, Duration::from_secs(10)).unwrap();
    assert_eq!(status, 200, "GET {path}");
    String::from_utf8(body.to_vec()).unwrap()
}

/// The value of the sample `series` (name and labels exactly as exposed), 0 when absent.
fn sample(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or(0.0)
}

/// `promtool check metrics` on the text: `Ok(false)` when promtool is not installed.
fn promtool_accepts(text: &str) -> Result<bool, String> {
    let Ok(mut child) = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    else {
        return Ok(false);
    };
    child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    if output.status.success() {
        Ok(true)
    } else {
        Err(format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ))
    }
}

#[test]
fn every_lab_serves_metrics_that_promtool_accepts() {
    let mut checked = 0;
    for (package, variant) in LABS {
        let server = LabProcess::start(
            &lab_server_binary(package),
            &["--variant".into(), variant.to_string()],
            &[],
        )
        .unwrap_or_else(|e| panic!("{package}: {e}"));
        let healthz = "http_requests_total{method=\"GET\",route=\"/healthz\",status=\"200\"}";
        let before = sample(&get(&server, "/metrics"), healthz);
        for _ in 0..3 {
            get(&server, "/healthz");
        }
        // The lag probe's first reading comes 10 ms after start: wait for it rather than sleep.
        let mut text = String::new();
        assert!(
            eventually(Duration::from_secs(5), || {
                text = get(&server, "/metrics");
                text.contains("event_loop_lag_seconds_count")
            }),
            "{package}: the lag probe never reported"
        );
        for family in [
            "process_cpu_seconds_total",
            "process_resident_memory_bytes",
            "process_open_fds",
            "tokio_workers",
            "tokio_alive_tasks",
            "tokio_worker_busy_seconds_total",
            "event_loop_lag_seconds",
        ] {
            assert!(
                text.contains(&format!("# TYPE {family} ")),
                "{package}: no {family}:\n{text}"
            );
        }
        if *package == "lab-baseline" {
            // Its lesson is the request path's own cost: no middleware on it.
            assert!(
                !text.contains("http_requests_total"),
                "{package} counts requests:\n{text}"
            );
        } else {
            assert_eq!(
                sample(&text, healthz) - before,
                3.0,
                "{package}: three more /healthz:\n{text}"
            );
        }
        match promtool_accepts(&text) {
            Ok(true) => checked += 1,
            Ok(false) => {}
            Err(problems) => panic!("{package}: promtool check metrics refused it:\n{problems}\n{text}"),
        }
    }
    if checked == 0 {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must install promtool (Debian package prometheus)"
        );
        eprintln!("promtool is not installed: the exposition format was not checked (apt-get install prometheus)");
    }
}

/// The Grafana dashboard in labs/metrics reads only families a lab really exposes: every metric name in its
/// queries is a `# TYPE` family of an instrumented lab's `/metrics` (a histogram's `_bucket` series included).
#[test]
fn the_grafana_dashboard_queries_only_families_the_labs_expose() {
    let path = workbench_tests::root().join("labs/metrics/grafana-dashboard.json");
    let dashboard: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap())
        .unwrap_or_else(|e| panic!("{}: not JSON: {e}", path.display()));
    let server = LabProcess::start(
        &lab_server_binary("lab-metrics"),
        &["--variant".into(), "instrumented".into()],
        &[],
    )
    .unwrap();
    let mut text = String::new();
    assert!(eventually(Duration::from_secs(5), || {
        text = get(&server, "/metrics");
        text.contains("event_loop_lag_seconds_count")
    }));
    let families: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE ")?.split(' ').next())
        .collect();
    let name = regex::Regex::new(r"\b([a-z_]+)\{").unwrap();
    let mut queried = 0;
    for panel in dashboard["panels"].as_array().unwrap() {
        for target in panel["targets"].as_array().unwrap() {
            let expr = target["expr"].as_str().unwrap();
            for capture in name.captures_iter(expr) {
                let metric = &capture[1];
                let family = metric.strip_suffix("_bucket").unwrap_or(metric);
                assert!(
                    families.contains(&family),
                    "{expr}: no family {family} on /metrics ({families:?})"
                );
                queried += 1;
            }
        }
    }
    assert!(queried >= 10, "the dashboard queries {queried} series");
}
