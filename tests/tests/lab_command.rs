//! `cargo xtask lab` end to end: a real run of the baseline lab, its JSON against the report contract, and the
//! errors a user meets first.

use workbench_tests::{lab_report, run_xtask, texts};

#[test]
fn baseline_lab_writes_a_report_that_follows_the_contract() {
    let output = run_xtask(&["lab", "baseline", "--quick", "--duration", "1s", "--json"]);
    let (stdout, stderr) = texts(&output);
    // 0: every lesson held, 3: one did not. Timing verdicts are not judged by tests (machines are noisy).
    assert!(
        matches!(output.status.code(), Some(0 | 3)),
        "status {:?}\n{stderr}",
        output.status
    );
    let report: serde_json::Value =
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{stdout}"));

    assert_eq!(report["schema"], 1);
    assert_eq!(report["lab"], "baseline");
    assert_eq!(report["profile"], "quick");
    assert!(report["started_at"].as_str().unwrap().ends_with('Z'));
    assert!(report["machine"]["cpus"].as_u64().unwrap() >= 1);
    assert!(!report["machine"]["cpu_model"].as_str().unwrap().is_empty());

    let variants = report["variants"].as_array().unwrap();
    let names: Vec<&str> = variants.iter().map(|v| v["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "hyper-current-thread",
            "hyper-multi-thread",
            "axum-current-thread",
            "axum-multi-thread"
        ]
    );
    for v in variants {
        let name = v["name"].as_str().unwrap();
        assert_eq!(v["load"]["mode"], "closed", "{name}");
        assert_eq!(v["load"]["duration_s"], 1.0, "{name}");
        assert_eq!(v["load"]["connections"], 50, "{name}");
        assert!(v["achieved_rps"].as_f64().unwrap() > 0.0, "{name}");
        let requests = v["requests"].as_u64().unwrap();
        assert!(requests > 0, "{name}");
        assert_eq!(v["errors"], 0, "{name}");
        assert_eq!(v["dropped"], 0, "{name}");
        for p in ["p50", "p90", "p99", "p999", "max"] {
            assert!(v["latency_us"][p].as_u64().unwrap() > 0, "{name} {p}");
        }
        assert!(v["latency_us"]["p50"].as_u64() <= v["latency_us"]["max"].as_u64());
        assert!(v["server"]["rss_peak_bytes"].as_u64().unwrap() > 0, "{name}");
        assert!(v["server"]["cpu_seconds"].as_f64().unwrap() > 0.0, "{name}");
        assert!(v["server"]["cpu_us_per_request"].as_f64().unwrap() > 0.0, "{name}");
        // The server counted every request the generator completed, warm-up included.
        assert!(v["counters"]["requests"].as_u64().unwrap() >= requests, "{name}");
    }
    let lessons = report["lessons"].as_array().unwrap();
    assert_eq!(lessons.len(), 2);
    for l in lessons {
        for key in [
            "claim",
            "metric",
            "baseline",
            "variant",
            "expected_ratio",
            "observed_ratio",
            "holds",
        ] {
            assert!(l.get(key).is_some(), "lesson lacks {key}: {l}");
        }
    }
    // The report files are named on stderr and exist.
    let json_path = stderr
        .lines()
        .find_map(|l| l.strip_prefix("report: "))
        .expect("report path on stderr");
    let written: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(json_path.trim()).unwrap()).unwrap();
    assert_eq!(written, report);
    let html = std::fs::read_to_string(json_path.trim().replace(".json", ".html")).unwrap();
    assert!(html.contains("<svg") && html.contains("hyper-multi-thread") && html.contains("Latency by percentile"));
}

#[test]
fn repeat_tallies_every_lesson_over_the_runs_and_exits_by_it() {
    let output = run_xtask(&["lab", "baseline", "--repeat", "2", "--duration", "1s"]);
    let (stdout, stderr) = texts(&output);
    assert!(matches!(output.status.code(), Some(0 | 3)), "{stderr}");
    assert!(
        stdout.contains("Lesson truth: 2 run(s) of each lab, profile quick"),
        "{stdout}"
    );
    // Two runs, each with its own report, then one row per lesson of the lab, counted out of two.
    assert_eq!(stdout.matches("baseline (round ").count(), 2, "{stdout}");
    for claim in ["axum's router costs little", "on one thread too"] {
        let row = stdout
            .lines()
            .find(|l| l.contains(claim) && l.contains("/2"))
            .unwrap_or_else(|| panic!("no tally row for {claim:?}:\n{stdout}"));
        assert!(row.contains('✓') || row.contains('✗'), "{row}");
    }
    // The exit status is the tally's: 0 exactly when every lesson was judged and held in both runs.
    let all_held = stdout.contains("2 of 2 lessons judged and holding in every run");
    assert_eq!(output.status.code(), Some(if all_held { 0 } else { 3 }), "{stdout}");
}

#[test]
fn a_lab_or_all_is_required_and_json_is_for_one_run() {
    for args in [
        &["lab"][..],
        &["lab", "--all", "--json"],
        &["lab", "baseline", "--repeat", "2", "--json"],
    ] {
        let output = run_xtask(args);
        let (_, stderr) = texts(&output);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
    }
}

#[test]
fn an_unknown_lab_lists_the_known_ones() {
    let output = run_xtask(&["lab", "cashing"]);
    let (_, stderr) = texts(&output);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("unknown lab \"cashing\"") && stderr.contains("baseline") && stderr.contains("load-generator"),
        "{stderr}"
    );
}

#[test]
fn an_unknown_variant_lists_the_known_ones() {
    let output = run_xtask(&["lab", "baseline", "--variant", "express"]);
    let (_, stderr) = texts(&output);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("no variant \"express\"") && stderr.contains("axum-multi-thread"),
        "{stderr}"
    );
}

#[test]
fn list_shows_every_lab() {
    // A progress file of its own, so the learner's progress does not change the snapshot.
    let dir = tempfile::tempdir().unwrap();
    let output = workbench_tests::xtask(&["list"])
        .env("WORKBENCH_PROGRESS", dir.path().join("p.toml"))
        .output()
        .unwrap();
    let (stdout, stderr) = texts(&output);
    assert!(output.status.success(), "{stderr}");
    insta::assert_snapshot!(stdout);
}

#[test]
fn the_layered_variant_runs_against_a_real_redis() {
    let Ok(url) = std::env::var("REDIS_URL") else {
        eprintln!("skipped: REDIS_URL is not set (CI starts a redis-server and sets it)");
        return;
    };
    let output = workbench_tests::xtask(&["lab", "caching", "--variant", "layered", "--duration", "1s", "--json"])
        .env("REDIS_URL", &url)
        .output()
        .unwrap();
    let (stdout, stderr) = texts(&output);
    assert!(matches!(output.status.code(), Some(0 | 3)), "{stderr}");
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let layered = &report["variants"][0];
    assert_eq!(layered["name"], "layered");
    assert_eq!(layered["errors"], 0);
    assert_eq!(layered["counters"]["l2_errors"], 0, "Redis answered every call");
    let lookups: u64 = ["l1_hits", "l2_hits", "misses"]
        .iter()
        .map(|k| layered["counters"][k].as_u64().unwrap())
        .sum();
    assert!(
        lookups >= layered["requests"].as_u64().unwrap(),
        "every request went through the cache"
    );
}

#[test]
fn without_redis_url_the_layered_variant_is_skipped_with_the_reason() {
    let output = workbench_tests::xtask(&["lab", "caching", "--variant", "layered", "--duration", "1s"])
        .env_remove("REDIS_URL")
        .output()
        .unwrap();
    let (stdout, stderr) = texts(&output);
    assert!(output.status.success(), "{stderr}");
    assert!(stdout.contains("layered skipped: REDIS_URL is not set"), "{stdout}");
}

/// A server that dies during its run (the clustering lab's crash drill) is a result, not a failed run: its
/// requests fail, the report says it exited, and the other variants and lessons go on.
#[test]
fn a_server_that_dies_mid_run_is_reported_not_fatal() {
    let (report, _) = lab_report(&["clustering", "--variant", "single-crash", "--duration", "4s"]);
    let variant = &report["variants"][0];
    assert!(
        variant["notes"]["server"]
            .as_str()
            .unwrap()
            .contains("exited during the run"),
        "{variant}"
    );
    assert!(
        variant["errors"].as_u64().unwrap() > 0,
        "the requests after the crash failed: {variant}"
    );
}
