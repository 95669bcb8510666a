//! The incident server as the harness runs it: each drill's route answers, bad input is a 400, the counters the
//! drills are judged by move as they should, and the in-process CPU profile finds what the shipped code spends its
//! time on — and does not find it in the fix. Counters and profile shares only; no timing is asserted.

use std::net::SocketAddr;
use std::process::Command;
use std::time::{Duration, Instant};

use lab_kit::testing::{get, ServerProcess};

fn server(variant: &str) -> ServerProcess {
    let mut command = Command::new(env!("CARGO_BIN_EXE_lab-incidents"));
    command.args(["--variant", variant, "--port", "0"]);
    ServerProcess::start(command)
}

#[test]
fn every_route_answers_and_bad_input_is_a_400_with_a_sentence() {
    let server = server("fixed");
    let (status, body) = server.get("/signup/validate?email=ada@example.com");
    assert_eq!((status, body.contains("\"valid\":true")), (200, true), "{body}");
    let (status, body) = server.get("/quote/3");
    assert_eq!((status, body.contains("\"price_cents\":955")), (200, true), "{body}");
    let (status, body) = server.get("/convert?amount=1000&currency=usd");
    assert_eq!((status, body.contains("\"converted\":1080")), (200, true), "{body}");
    for bad in [
        "/signup/validate",
        "/signup/validate?email=",
        "/quote/not-a-number",
        "/convert?amount=1.5&currency=USD",
        "/convert?amount=100&currency=XYZ",
    ] {
        let (status, body) = server.get(bad);
        assert_eq!(status, 400, "{bad}: {body}");
        assert!(body.ends_with('\n') && body.len() > 10, "{bad}: {body:?}");
    }
    let long = format!("/signup/validate?email={}@example.com", "a".repeat(300));
    assert_eq!(server.get(&long).0, 400);
    assert_eq!(server.get("/login").0, 400);
    assert_eq!(server.get(&format!("/login?user={}", "u".repeat(65))).0, 400);
    let (status, body) = server.get("/login?user=ada");
    assert_eq!(status, 200, "{body}");
    let token: serde_json::Value = serde_json::from_str(&body).unwrap();
    let (status, body) = server.get(&format!("/session/{}", token["token"].as_str().unwrap()));
    assert_eq!((status, body.contains("\"user\":\"ada\"")), (200, true), "{body}");
    assert_eq!(server.get("/session/no-such-token").0, 404);
    server.terminate();
}

#[test]
fn the_shipped_session_store_keeps_every_sign_in_the_fix_keeps_five_hundred() {
    for (variant, kept) in [("broken", 1_500), ("fixed", 500)] {
        let server = server(variant);
        for i in 0..1_500 {
            assert_eq!(server.get(&format!("/login?user=user{i}")).0, 200);
        }
        let stats = server.stats();
        assert_eq!(stats["sessions_kept"], kept, "{variant}: {stats}");
        server.terminate();
    }
}

#[test]
fn the_shipped_code_compiles_per_request_and_calls_the_sdk_on_the_loop_the_fix_does_neither() {
    for (variant, compiled, on_loop) in [("broken", 20, 3), ("fixed", 1, 0)] {
        let server = server(variant);
        for i in 0..20 {
            assert_eq!(server.get(&format!("/signup/validate?email=u{i}@example.com")).0, 200);
        }
        for _ in 0..3 {
            assert_eq!(server.get("/convert?amount=100&currency=GBP").0, 200);
        }
        let stats = server.stats();
        assert_eq!(stats["regex_compiled"], compiled, "{variant}: {stats}");
        assert_eq!(stats["exchange_rate_calls"], 3, "{variant}: {stats}");
        assert_eq!(
            stats["exchange_rate_calls_on_event_loop"], on_loop,
            "{variant}: {stats}"
        );
        server.terminate();
    }
}

/// Sends sign-up checks one after another for `length`, on its own thread.
fn keep_busy(addr: SocketAddr, length: Duration) -> std::thread::JoinHandle<u64> {
    std::thread::spawn(move || {
        let until = Instant::now() + length;
        let mut sent = 0;
        while Instant::now() < until {
            get(addr, &format!("/signup/validate?email=user{sent}@example.com"));
            sent += 1;
        }
        sent
    })
}

/// The share of the profile's samples with a frame whose name contains `needle`.
fn share_of(profile: &serde_json::Value, needle: &str) -> f64 {
    profile["top_total"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["function"].as_str().unwrap().contains(needle))
        .map(|f| f["share"].as_f64().unwrap())
        .fold(0.0, f64::max)
}

#[test]
fn the_cpu_profile_finds_regex_compilation_in_the_shipped_code_and_not_in_the_fix() {
    let mut shares = Vec::new();
    for variant in ["broken", "fixed"] {
        let server = server(variant);
        let load = keep_busy(server.addr, Duration::from_millis(2500));
        let (status, body) = server.get("/debug/pprof/profile?seconds=2");
        assert_eq!(status, 200, "{body}");
        assert!(load.join().unwrap() > 0);
        let profile: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert!(
            profile["samples"].as_u64().unwrap() >= 20,
            "{variant}: {}",
            profile["samples"]
        );
        assert!(profile["svg"].as_str().unwrap().contains("<svg"));
        // The hot path of the shipped code: the validation handler, building the regex.
        shares.push((
            variant,
            share_of(&profile, "compile_regex"),
            share_of(&profile, "regex_syntax"),
        ));
        server.terminate();
    }
    let (_, broken_compile, broken_syntax) = shares[0];
    let (_, fixed_compile, _) = shares[1];
    assert!(
        broken_compile >= 0.5,
        "compile_regex in {:.0}% of the shipped code's samples: {shares:?}",
        broken_compile * 100.0
    );
    assert!(broken_syntax > 0.0 || broken_compile >= 0.5, "{shares:?}");
    assert!(
        fixed_compile <= 0.05,
        "compile_regex in {:.0}% of the fix's samples: {shares:?}",
        fixed_compile * 100.0
    );
}

#[test]
fn a_second_profile_while_one_runs_is_refused_and_a_bad_duration_is_a_400() {
    let server = server("fixed");
    assert_eq!(server.get("/debug/pprof/profile?seconds=0").0, 400);
    assert_eq!(server.get("/debug/pprof/profile?seconds=9999").0, 400);
    // Two profiles asked for at once: whichever arrives second finds the profiler taken for the other's 2 s.
    let addr = server.addr;
    let both: Vec<_> = (0..2)
        .map(|_| std::thread::spawn(move || get(addr, "/debug/pprof/profile?seconds=2").0))
        .collect();
    let mut statuses: Vec<u16> = both.into_iter().map(|t| t.join().unwrap()).collect();
    statuses.sort();
    assert_eq!(statuses, [200, 409]);
    server.terminate();
}
