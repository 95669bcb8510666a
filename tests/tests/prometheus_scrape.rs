//! `cargo xtask lab --prometheus` against a real Prometheus: a private one scrapes the variant during its run, and
//! the p99 its `histogram_quantile` computes lands in the report beside the generator's. Prometheus comes with
//! Debian's `prometheus` package, which `.ci/run` installs; without it (a laptop) the test says so and checks the
//! clear refusal instead, except under CI, where Prometheus must be there.

use workbench_tests::{lab_report, run_xtask, texts};

#[test]
fn a_private_prometheus_reports_its_p99_beside_the_generators() {
    if lab_harness::prometheus::installed().is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must install prometheus (.ci/run) so this test runs against it"
        );
        eprintln!("prometheus is not installed: checking that --prometheus is refused with how to install it");
        let output = run_xtask(&["lab", "metrics", "--prometheus"]);
        let (_, stderr) = texts(&output);
        assert_eq!(output.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains("apt-get install prometheus"), "{stderr}");
        return;
    }
    let (report, _) = lab_report(&[
        "metrics",
        "--variant",
        "instrumented",
        "--variant",
        "naive",
        "--duration",
        "3s",
        "--prometheus",
    ]);
    let variant = |name: &str| {
        report["variants"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["name"] == name)
            .unwrap_or_else(|| panic!("no {name} in the report"))
            .clone()
    };

    let instrumented = variant("instrumented");
    let p = &instrumented["prometheus"];
    assert_eq!(
        p["query"],
        "histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket[3s])))"
    );
    assert_eq!(p["window_s"], 3);
    // Scrapes once a second from before the load began to after it ended.
    assert!(p["scrapes"].as_u64().unwrap() >= 3, "{p}");
    // lab-kit's latency buckets run from 100 µs to 10 s: the interpolated p99 lies inside them.
    let p99 = p["p99_us"].as_f64().unwrap_or_else(|| panic!("no p99: {p}"));
    assert!(p99 > 0.0 && p99 <= 10e6, "{p99}");
    assert!(instrumented["latency_us"]["p99"].as_u64().unwrap() > 0);

    // The naive registry keeps its own numbers; lab-kit's histogram is absent, and the report says why.
    let naive = variant("naive");
    assert!(naive["prometheus"]["p99_us"].is_null(), "{}", naive["prometheus"]);
    assert!(
        naive["prometheus"]["note"]
            .as_str()
            .unwrap()
            .contains("not instrumented"),
        "{}",
        naive["prometheus"]
    );
}
