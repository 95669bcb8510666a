//! `cargo xtask incident …` end to end, and the drills' meta-check (as `exercises.rs` does for exercises): the
//! learner's file is the code as shipped, that code fails the drill's grader, the reference fix passes it. Timing
//! verdicts are judged by `cargo xtask incident check`, not here; what is asserted are counters and files.

use lab_harness::drill::discover_drills;
use workbench_tests::{cargo_test, incident, root, texts};

#[test]
fn every_drill_ships_broken_code_that_fails_its_grader_and_a_reference_that_passes() {
    let drills = discover_drills(root()).unwrap();
    assert!(drills.len() >= 3, "{} drills", drills.len());
    for drill in &drills {
        let learner = std::fs::read_to_string(drill.learner_file()).unwrap();
        let shipped = std::fs::read_to_string(drill.shipped()).unwrap();
        assert_eq!(
            learner,
            shipped,
            "{}: {} must start as the code as shipped ({})",
            drill.name,
            drill.learner_file().display(),
            drill.shipped().display()
        );
        let graded = cargo_test(&drill.text.package, &drill.text.grader);
        let (stdout, stderr) = texts(&graded);
        assert!(
            !graded.status.success() && stdout.contains("test result: FAILED"),
            "{}: the shipped code passed its grader:\n{stdout}{stderr}",
            drill.name
        );
        assert!(!drill.text.hints.is_empty());
    }
    let reference = cargo_test("lab-incidents", "reference_fixes_pass_graders");
    let (stdout, stderr) = texts(&reference);
    assert!(
        reference.status.success(),
        "a reference fix fails its grader:\n{stdout}{stderr}"
    );
}

#[test]
fn list_hint_answer_and_solution_follow_the_learner_and_keep_progress() {
    let scratch = tempfile::tempdir().unwrap();
    let (code, stdout, _) = incident(&["list"], scratch.path());
    assert_eq!(code, Some(0));
    for name in [
        "regex-per-request",
        "lock-across-await",
        "blocking-in-async",
        "memory-leak",
        "csv-upload",
        "five-services",
        "db-degradation",
        "flash-sale",
        "canary",
        "chat-rooms",
    ] {
        assert!(stdout.contains(name), "{stdout}");
    }

    let (code, _, stderr) = incident(&["start", "no-such-drill"], scratch.path());
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("no drill \"no-such-drill\"") && stderr.contains("lock-across-await"),
        "{stderr}"
    );

    let (code, _, stderr) = incident(&["evidence", "lock-across-await"], scratch.path());
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("cargo xtask incident start lock-across-await"),
        "{stderr}"
    );

    let (_, first, _) = incident(&["hint", "lock-across-await"], scratch.path());
    let (_, second, _) = incident(&["hint", "lock-across-await"], scratch.path());
    assert!(
        first.contains("hint 1 of 3") && !first.contains("hint 2 of 3"),
        "{first}"
    );
    assert!(
        second.contains("hint 1 of 3") && second.contains("hint 2 of 3"),
        "{second}"
    );

    // A confident answer that blames the wrong resource fails; the right one passes and is recorded.
    let wrong = "The pricing service is too slow, so we should add more instances and more worker threads.";
    let (code, stdout, _) = incident(&["answer", "lock-across-await", wrong], scratch.path());
    assert_eq!(code, Some(1), "{stdout}");
    assert!(stdout.contains("misconception"), "{stdout}");
    let right = "A mutex serialises the quotes: the guard is held across the 20 ms await on the pricing call, so \
                 throughput is flat at 1/20 ms while the CPU is idle. Release the lock before the await and lock \
                 again to record the quote.";
    let (code, stdout, _) = incident(&["answer", "lock-across-await", right], scratch.path());
    assert_eq!(code, Some(0), "{stdout}");
    let progress = std::fs::read_to_string(scratch.path().join("progress.toml")).unwrap();
    assert!(
        progress.contains("[incidents.\"incidents/lock-across-await\"]"),
        "{progress}"
    );
    assert!(
        progress.contains("diagnosed = true") && progress.contains("hints_shown = 2"),
        "{progress}"
    );
    assert!(progress.contains("[quiz.incidents-2]"), "{progress}");

    // The reference waits until the drill is fixed or every hint has been read.
    let (code, _, stderr) = incident(&["solution", "lock-across-await"], scratch.path());
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("2 of 3 so far"), "{stderr}");
    let (_, third, _) = incident(&["hint", "lock-across-await"], scratch.path());
    assert!(
        third.contains("hint 3 of 3") && third.contains("incident solution"),
        "{third}"
    );
    let (code, stdout, _) = incident(&["solution", "lock-across-await"], scratch.path());
    assert_eq!(code, Some(0));
    assert!(
        stdout.contains("pub async fn quote") && stdout.contains("drop the guard"),
        "{stdout}"
    );
}

#[test]
fn start_records_the_symptom_and_evidence_shows_counters_series_and_the_flamegraph() {
    let scratch = tempfile::tempdir().unwrap();
    // The shipped regex drill compiles its pattern once per request: a counter, not a timing, is asserted.
    let (code, stdout, stderr) = incident(&["start", "regex-per-request"], scratch.path());
    assert!(matches!(code, Some(0 | 1)), "{stdout}{stderr}");
    assert!(
        stdout.contains("of requests answered within 50 ms at 400/s"),
        "{stdout}"
    );
    let reports = scratch.path().join("reports/regex-per-request");
    let json = std::fs::read_dir(&reports)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|x| x == "json"))
        .expect("a run report");
    let report: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    let broken = &report["variants"][0];
    assert_eq!(broken["name"], "broken");
    let compiled = broken["counters"]["regex_compiled"].as_u64().unwrap();
    // `requests` counts every request due, failed and never-sent ones too.
    let answered = broken["requests"].as_u64().unwrap() - broken["errors"].as_u64().unwrap();
    // Every request answered compiled the pattern once (warm-up requests too, and any still in flight at the end).
    assert!(
        compiled >= answered && answered > 0,
        "{compiled} compilations for {answered} requests"
    );
    // The tail's requests themselves: the slowest kept with their paths, slowest first, the first at least the p99.
    let slowest = broken["slowest"].as_array().expect("the slowest requests");
    assert_eq!(slowest.len(), 10, "{slowest:?}");
    assert!(slowest[0]["request"]
        .as_str()
        .unwrap()
        .starts_with("GET /signup/validate?email="));
    let latencies: Vec<u64> = slowest.iter().map(|s| s["latency_us"].as_u64().unwrap()).collect();
    assert!(latencies.windows(2).all(|w| w[0] >= w[1]), "{latencies:?}");
    assert!(
        latencies[0] >= broken["latency_us"]["p99"].as_u64().unwrap(),
        "{latencies:?}"
    );
    let profile = &broken["cpu_profile"];
    assert!(profile["samples"].as_u64().unwrap() > 0, "{profile}");
    let svg = reports.join(profile["flamegraph"].as_str().unwrap());
    assert!(
        std::fs::read_to_string(&svg).unwrap().contains("<svg"),
        "{}",
        svg.display()
    );

    let (code, stdout, stderr) = incident(&["evidence", "regex-per-request"], scratch.path());
    assert_eq!(code, Some(0), "{stderr}");
    for expected in [
        "regex_compiled = ",
        "loop_lag_p99",
        "CPU profile:",
        "flamegraph:",
        "where the CPU was",
        "the slowest requests",
    ] {
        assert!(stdout.contains(expected), "{expected:?} missing:\n{stdout}");
    }
    let progress = std::fs::read_to_string(scratch.path().join("progress.toml")).unwrap();
    assert!(progress.contains("started = true"), "{progress}");
}
