//! `--heap-profile` end to end: the memory drill's server built apart with dhat as its allocator, run under the
//! drill's load, and the allocation site that keeps the leaked sessions named in the report and the evidence. A test
//! binary of its own: the dhat build takes both cores for minutes the first time, and a drill run beside it (as in
//! `incidents.rs`, whose tests run in parallel) would be starved of the CPU its counters need.

use workbench_tests::incident;

#[test]
fn a_heap_profile_names_the_site_that_keeps_the_leaked_sessions() {
    let scratch = tempfile::tempdir().unwrap();
    // A dhat build of the server (target/heap-profile): every allocation's backtrace, the sites at the heap's peak.
    let (code, stdout, stderr) = incident(&["start", "memory-leak", "--heap-profile"], scratch.path());
    assert!(matches!(code, Some(0 | 1)), "{stdout}{stderr}");
    assert!(stdout.contains("heap-profiled build (dhat)"), "{stdout}");
    let reports = scratch.path().join("reports/memory-leak");
    let json = std::fs::read_dir(&reports)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().ends_with("Z.json"))
        .expect("a run report");
    let report: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    let profile = &report["variants"][0]["heap_profile"];
    let peak = profile["peak_bytes"].as_u64().unwrap();
    let top = &profile["top"][0];
    // The store keeps every session it loads: the site that loads them holds most of the heap at its peak.
    assert!(
        top["location"]
            .as_str()
            .unwrap()
            .contains("drills/memory_leak/broken.rs"),
        "{profile}"
    );
    assert!(
        top["bytes_at_peak"].as_u64().unwrap() * 2 > peak,
        "the leak's site holds over half the heap: {profile}"
    );
    let dhat = reports.join(profile["file"].as_str().unwrap());
    let written: serde_json::Value = serde_json::from_slice(&std::fs::read(&dhat).unwrap()).unwrap();
    assert_eq!(written["dhatFileVersion"], 2, "{}", dhat.display());

    let (code, stdout, stderr) = incident(&["evidence", "memory-leak"], scratch.path());
    assert_eq!(code, Some(0), "{stderr}");
    for expected in ["heap at its peak", "memory_leak/broken.rs", "dh_view.html"] {
        assert!(stdout.contains(expected), "{expected:?} missing:\n{stdout}");
    }
}
