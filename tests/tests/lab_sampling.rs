//! `cargo xtask lab --sample`: the server's `/metrics` scraped during a real run, each query a time series in the
//! JSON report and a chart in the HTML one. Counts and shapes are asserted, not timings.

use workbench_tests::{lab_report, run_xtask, texts};

#[test]
fn sampled_series_are_in_the_report_and_its_charts() {
    let (report, stderr) = lab_report(&[
        "metrics",
        "--variant",
        "instrumented",
        "--duration",
        "3s",
        "--sample",
        "rss=process_resident_memory_bytes",
        "--sample",
        "rate(http_requests_total{route=\"/users/{id}\"})",
        "--sample",
        "histogram_quantile(0.99, http_request_duration_seconds)",
    ]);
    let timeline = &report["variants"][0]["timeline"];
    assert_eq!(timeline["every_ms"], 1000);
    assert_eq!(timeline["scrape_errors"], 0, "{timeline}");
    // A scrape at the start, one a second through 3 s of load, one at the end.
    let scrapes = timeline["scrapes"].as_u64().unwrap();
    assert!((4..=6).contains(&scrapes), "{scrapes} scrapes");

    let series = &timeline["series"];
    let points = |name: &str| series[name]["points"].as_array().unwrap().clone();
    let rss = points("rss");
    assert_eq!(rss.len() as u64, scrapes, "a value is read at every scrape");
    assert!(rss.iter().all(|p| p[1].as_f64().unwrap() > 1_048_576.0), "{rss:?}");
    assert_eq!(series["rss"]["unit"], "bytes");
    assert!(series["rss"]["slope_per_s"].is_number());

    // Rates and quantiles need two scrapes; the sliver after the load's end is not a point.
    let rate = points("http_requests_total_rate");
    assert!(!rate.is_empty() && (rate.len() as u64) < scrapes, "{rate:?}");
    assert!(
        rate.iter().any(|p| p[1].as_f64().unwrap() > 0.0),
        "requests were counted: {rate:?}"
    );
    assert_eq!(series["http_requests_total_rate"]["unit"], "per_second");
    let p99 = points("http_request_duration_seconds_p99");
    assert!(
        p99.iter().all(|p| (0.0..=10.0).contains(&p[1].as_f64().unwrap())),
        "within the buckets: {p99:?}"
    );

    let html_path = stderr
        .lines()
        .find_map(|l| {
            l.trim()
                .strip_suffix(".html")
                .map(|p| format!("{}.html", p.trim_start_matches("report:").trim()))
        })
        .unwrap_or_else(|| panic!("no HTML report named:\n{stderr}"));
    let html = std::fs::read_to_string(&html_path).unwrap();
    assert!(html.contains("<h2>Sampled from /metrics</h2>"), "{html_path}");
    for name in ["rss", "http_requests_total_rate", "http_request_duration_seconds_p99"] {
        assert!(
            html.contains(&format!("aria-label=\"{name} over time\"")),
            "{name} has no chart"
        );
    }
}

#[test]
fn a_bad_query_is_refused_before_anything_runs() {
    let output = run_xtask(&["lab", "metrics", "--sample", "histogram_quantile(99, x)"]);
    let (_, stderr) = texts(&output);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("between 0 and 1"), "{stderr}");
}
