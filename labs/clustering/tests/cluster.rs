//! The cluster as a learner runs it: the real binary, a primary and two workers, driven over fresh TCP connections
//! so that the distribution decides for every request. Counters are asserted exactly; nothing here is timed.

use std::io::Write;
use std::net::SocketAddr;
use std::process::{Command, Stdio};

use lab_kit::testing::{eventually, get, request, stats, ServerProcess};

fn start(args: &[&str]) -> ServerProcess {
    let mut command = Command::new(env!("CARGO_BIN_EXE_lab-clustering"));
    command.args(args).stderr(Stdio::inherit());
    let server = ServerProcess::start(command);
    eventually("the cluster to be ready", || get(server.addr, "/healthz").0 == 200);
    server
}

/// `/stats`, or `None` while a worker is being replaced (the connection may reach the one that died).
fn stats_if_up(addr: SocketAddr) -> Option<serde_json::Value> {
    serde_json::from_str(&get(addr, "/stats").1).ok()
}

/// CPU clock ticks `pid` has used.
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = stat.rfind(')').map_or("", |i| &stat[i + 1..]);
    let fields: Vec<&str> = after.split_whitespace().collect();
    fields.get(11).and_then(|u| u.parse::<u64>().ok()).unwrap_or(0)
        + fields.get(12).and_then(|s| s.parse::<u64>().ok()).unwrap_or(0)
}

/// Live child processes of `pid`, from /proc.
fn children(pid: u32) -> Vec<u32> {
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|p| {
            let stat = std::fs::read_to_string(format!("/proc/{p}/stat")).unwrap_or_default();
            let after = stat.rfind(')').map_or("", |i| &stat[i + 1..]);
            after.split_whitespace().nth(1) == Some(&pid.to_string())
        })
        .collect()
}

fn alive(pid: u32) -> bool {
    std::path::Path::new(&format!("/proc/{pid}")).exists()
        && !std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .unwrap_or_default()
            .contains(") Z ")
}

#[test]
fn a_limit_kept_per_worker_admits_once_per_worker_and_the_primary_keeps_it_exact() {
    for (state, admitted) in [("local", 6), ("primary", 3)] {
        let server = start(&[
            "--variant",
            "round-robin",
            "--workers",
            "2",
            "--state",
            state,
            "--limit",
            "3",
        ]);
        // Round-robin hands the 40 connections out in turn: 20 reach each worker, each over the limit.
        let statuses: Vec<u16> = (0..40).map(|_| get(server.addr, "/limited/k").0).collect();
        let s = stats(server.addr);
        assert_eq!(s["admitted"], admitted, "--state {state}: {s}");
        assert_eq!(s["rejected"], 40 - admitted, "--state {state}: {s}");
        assert_eq!(statuses.iter().filter(|s| **s == 429).count(), 40 - admitted);
        assert_eq!(s["workers"], 2);
    }
}

#[test]
fn a_session_kept_per_worker_is_found_by_half_the_reads() {
    for (state, found) in [("local", 5), ("primary", 10)] {
        let server = start(&["--variant", "round-robin", "--workers", "2", "--state", state]);
        assert_eq!(request(server.addr, "POST", "/login/ada").0, 204);
        // Ten reads on ten new connections alternate between the workers: with per-process sessions only the
        // five that reach the worker where ada logged in find her.
        let statuses: Vec<u16> = (0..10).map(|_| get(server.addr, "/me/ada").0).collect();
        let s = stats(server.addr);
        assert_eq!(s["sessions_found"], found, "--state {state}: {statuses:?} {s}");
        assert_eq!(s["sessions_missing"], 10 - found, "--state {state}: {s}");
    }
}

/// Whether `REDIS_URL` names a Redis for the `--state redis` tests; without it they are skipped, saying why — except
/// under CI, which must set it (`.ci/run` starts redis-server).
fn redis_is_set() -> bool {
    if std::env::var_os("REDIS_URL").is_some() {
        return true;
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "CI must set REDIS_URL (.ci/run starts redis-server)"
    );
    eprintln!("skipped: REDIS_URL is not set");
    false
}

/// `--state redis` against the Redis at `REDIS_URL` (CI starts one); skipped, saying why, without it.
#[test]
fn in_redis_the_limit_and_the_sessions_are_the_clusters() {
    if !redis_is_set() {
        return;
    }
    let server = start(&[
        "--variant",
        "round-robin",
        "--workers",
        "2",
        "--state",
        "redis",
        "--limit",
        "3",
    ]);
    for _ in 0..40 {
        get(server.addr, "/limited/k");
    }
    assert_eq!(request(server.addr, "POST", "/login/ada").0, 204);
    let found = (0..10).filter(|_| get(server.addr, "/me/ada").0 == 200).count();
    let s = stats(server.addr);
    assert_eq!(
        (s["admitted"].as_u64(), s["rejected"].as_u64()),
        (Some(3), Some(37)),
        "{s}"
    );
    assert_eq!(found, 10, "{s}");
}

/// Four members of one room on a two-worker cluster (round-robin: two on each worker); the first posts `posts`
/// messages. Returns how many frames each member received and the cluster's `/stats`.
fn chat_room_of_four(state: &str, posts: usize) -> (Vec<usize>, serde_json::Value) {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;
    let server = start(&["--variant", "round-robin", "--workers", "2", "--state", state]);
    let addr = server.addr;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let received = runtime.block_on(async {
        let mut members = Vec::new();
        for _ in 0..4 {
            let (socket, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/chat?room=1"))
                .await
                .expect("the chat endpoint takes a WebSocket");
            members.push(socket.split());
        }
        // Every member has joined on its worker once the cluster counts four.
        assert!(
            lab_kit::testing::poll_until(std::time::Duration::from_secs(10), || stats(addr)["chat_joined"] == 4),
            "four members joined: {}",
            stats(addr)
        );
        for i in 0..posts {
            members[0]
                .0
                .send(Message::text(format!("{{\"seq\":{i}}}")))
                .await
                .unwrap();
        }
        // A member has all it will get once the cluster has written every frame it delivered: the frames
        // counter is final when it stops at what the bus (or the local room) sends out.
        let expected_frames = if state == "local" { 2 * posts } else { 4 * posts };
        assert!(
            lab_kit::testing::poll_until(std::time::Duration::from_secs(10), || {
                stats(addr)["chat_frames"] == expected_frames
            }),
            "{expected_frames} frames delivered: {}",
            stats(addr)
        );
        let mut counts = Vec::new();
        for (_, stream) in &mut members {
            let mut n = 0;
            while n < posts {
                match tokio::time::timeout(std::time::Duration::from_millis(500), stream.next()).await {
                    Ok(Some(Ok(Message::Text(_)))) => n += 1,
                    Ok(Some(Ok(_))) => {}
                    _ => break,
                }
            }
            counts.push(n);
        }
        counts
    });
    (received, stats(addr))
}

#[test]
fn a_chat_message_reaches_the_other_workers_members_only_through_a_bus() {
    // Without a bus each worker delivers to its own members: the two on the poster's worker.
    let (received, s) = chat_room_of_four("local", 5);
    assert_eq!(received, [5, 0, 5, 0], "{s}");
    assert_eq!(
        (s["chat_posts"].as_u64(), s["chat_frames"].as_u64()),
        (Some(5), Some(10)),
        "{s}"
    );
    // Through the primary every member gets every message.
    every_member_gets_every_message_through_the_bus("primary");
}

/// Five messages through `state`'s bus reach all four members, each sent to the bus once and received by both
/// workers.
fn every_member_gets_every_message_through_the_bus(state: &str) {
    let (received, s) = chat_room_of_four(state, 5);
    assert_eq!(received, [5, 5, 5, 5], "--state {state}: {s}");
    assert_eq!(
        (s["chat_bus_sent"].as_u64(), s["chat_bus_received"].as_u64()),
        (Some(5), Some(10)),
        "--state {state}: {s}"
    );
}

/// The chat's bus in Redis pub/sub (CI starts one); skipped, saying why, without it.
#[test]
fn through_redis_pub_sub_a_chat_message_reaches_every_worker() {
    if !redis_is_set() {
        return;
    }
    every_member_gets_every_message_through_the_bus("redis");
}

#[test]
fn a_killed_worker_is_replaced_and_counted() {
    for variant in ["reuseport", "shared-listener", "round-robin"] {
        let server = start(&["--variant", variant, "--workers", "2"]);
        let workers = children(server.pid());
        assert_eq!(workers.len(), 2, "{variant}: {workers:?}");
        Command::new("kill")
            .args(["-9", &workers[0].to_string()])
            .status()
            .unwrap();
        eventually("the replacement to serve", || {
            stats_if_up(server.addr).is_some_and(|s| s["restarts"] == 1) && get(server.addr, "/healthz").0 == 200
        });
        let now = children(server.pid());
        assert_eq!(now.len(), 2, "{variant}: {now:?}");
        assert!(!now.contains(&workers[0]), "{variant}: the killed worker is gone");
        assert_eq!(get(server.addr, "/ping"), (200, "pong".into()));
    }
}

#[test]
fn sigterm_lets_in_flight_requests_finish_and_leaves_no_process() {
    let server = start(&["--variant", "round-robin", "--workers", "2", "--rounds", "3000000"]);
    let workers = children(server.pid());
    let addr = server.addr;
    let before: Vec<u64> = workers.iter().map(|w| cpu_ticks(*w)).collect();
    let slow = std::thread::spawn(move || get(addr, "/work"));
    // The request is in flight once a worker is busy hashing (a fifth of a second of CPU).
    eventually("the request to be in flight", || {
        workers.iter().zip(&before).any(|(w, b)| cpu_ticks(*w) > b + 20)
    });
    let exit = server.terminate();
    let (status, body) = slow.join().unwrap();
    assert_eq!(status, 200, "the in-flight request finished: {body}");
    assert!(exit.success(), "{exit}");
    eventually("every worker to exit", || workers.iter().all(|w| !alive(*w)));
}

#[test]
fn workers_leave_when_their_primary_is_killed() {
    let server = start(&["--variant", "reuseport", "--workers", "2"]);
    let workers = children(server.pid());
    server.kill();
    eventually("the orphaned workers to exit", || workers.iter().all(|w| !alive(*w)));
}

#[test]
fn bad_flags_and_a_port_in_use_are_named() {
    let out = Command::new(env!("CARGO_BIN_EXE_lab-clustering"))
        .args(["--variant", "reuseport", "--workers", "0"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("--workers"), "{stderr}");

    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let out = Command::new(env!("CARGO_BIN_EXE_lab-clustering"))
        .args(["--variant", "shared-listener", "--port", &port])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains(&format!("127.0.0.1:{port}")), "{stderr}");
}

#[test]
fn one_scrape_sees_the_whole_cluster() {
    let server = start(&["--variant", "round-robin", "--workers", "2"]);
    for _ in 0..10 {
        assert_eq!(get(server.addr, "/ping").0, 200);
    }
    let (status, text) = get(server.addr, "/metrics");
    assert_eq!(status, 200, "{text}");
    // Round-robin gave each worker five pings; whichever worker answered the scrape, the count is the cluster's.
    let pings: f64 = text
        .lines()
        .filter(|l| l.starts_with("http_requests_total{") && l.contains("route=\"/ping\""))
        .map(|l| l.rsplit_once(' ').unwrap().1.parse::<f64>().unwrap())
        .sum();
    assert_eq!(pings, 10.0, "{text}");
    assert!(
        text.contains("\ncluster_workers 2\n") && text.contains("\ncluster_workers_reporting 2\n"),
        "{text}"
    );
    assert_eq!(
        text.matches("# TYPE http_requests_total counter").count(),
        1,
        "one header per family"
    );
    if let Ok(mut promtool) = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    {
        promtool.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
        let out = promtool.wait_with_output().unwrap();
        let said = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
        assert!(!said.contains("error while linting"), "promtool: {said}\n{text}");
    }
}
