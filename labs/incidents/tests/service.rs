//! The incident server as the harness runs it: each drill's route answers, bad input is a 400, the counters the
//! drills are judged by move as they should, and the in-process CPU profile finds what the shipped code spends its
//! time on — and does not find it in the fix. Counters and profile shares only; no timing is asserted.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
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

/// `POST path` with `body` on a new connection: (status, body).
fn post(addr: SocketAddr, path: &str, body: &[u8]) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: lab\r\nContent-Type: text/csv\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).unwrap();
    // A refused upload may be answered (and the connection closed) before all of it is sent.
    let _ = stream.write_all(body);
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response);
    let response = String::from_utf8_lossy(&response);
    let status = response.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = response.split_once("\r\n\r\n").map_or("", |(_, b)| b).to_string();
    (status, body)
}

fn orders(rows: usize) -> String {
    let mut csv = String::from("id,customer,email,amount_cents,created_at\n");
    for i in 0..rows {
        csv.push_str(&format!("{i},Ada,ada@example.com,100,2026-11-27\n"));
    }
    csv
}

#[test]
fn an_import_is_checked_row_by_row_and_bad_ones_are_refused_with_their_line() {
    for (variant, on_loop) in [("broken", 1_000), ("fixed", 0)] {
        let server = server(variant);
        let (status, body) = post(server.addr, "/orders/import", orders(1_000).as_bytes());
        assert_eq!(status, 200, "{variant}: {body}");
        assert!(
            body.contains("\"orders\":1000") && body.contains("\"total_cents\":100000"),
            "{body}"
        );
        let bad = orders(2) + "2,Ben,not-an-address,100,2026-11-27\n";
        let (status, body) = post(server.addr, "/orders/import", bad.as_bytes());
        assert_eq!(status, 422, "{variant}: {body}");
        assert!(body.contains("\"line\":4") && body.contains("not-an-address"), "{body}");
        assert_eq!(
            post(server.addr, "/orders/import", b"id\n\xff\xfe\n").0,
            400,
            "not UTF-8"
        );
        let too_big = vec![b'x'; lab_incidents::server::MAX_IMPORT + 1];
        assert_eq!(post(server.addr, "/orders/import", &too_big).0, 413);
        let (status, body) = server.get("/orders/recent");
        assert_eq!(status, 200);
        assert!(
            body.contains("\"imports\":1") && body.contains("\"orders\":1000"),
            "{body}"
        );
        let stats = server.stats();
        assert_eq!(stats["import_rows_checked"], 1_003, "{variant}: {stats}");
        assert_eq!(
            stats["import_rows_checked_on_event_loop"],
            on_loop + 3 * usize::from(on_loop > 0),
            "{variant}: {stats}"
        );
        server.terminate();
    }
}

#[test]
fn the_account_page_calls_five_real_services_the_shipped_code_fails_with_any_the_fix_degrades() {
    // Reviews fails its 5th call: the shipped page fails with it; the fix leaves reviews out. Recommendations
    // answers in 800 ms: the fix stops waiting at 100 ms, and after 5 timeouts stops calling (its breaker).
    for (variant, ok, recommendation_calls) in [("broken", 5, 6), ("fixed", 6, 5)] {
        let server = server(variant);
        let mut answered = 0;
        for user in 0..6 {
            let (status, body) = server.get(&format!("/account/{user}"));
            match status {
                200 => {
                    answered += 1;
                    assert!(body.contains(&format!("for user {user}")), "{variant}: {body}");
                }
                502 => assert!(body.contains("reviews answered 500"), "{variant}: {body}"),
                other => panic!("{variant}: {other} {body}"),
            }
        }
        assert_eq!(answered, ok, "{variant}");
        assert_eq!(server.get("/account/not-a-number").0, 400);
        let stats = server.stats();
        assert_eq!(stats["downstream_calls_profile"], 6, "{variant}: {stats}");
        assert_eq!(
            stats["downstream_calls_recommendations"], recommendation_calls,
            "{variant}: {stats}"
        );
        if variant == "fixed" {
            assert_eq!(
                stats["downstream_abandoned"], 5,
                "five calls cut off at the deadline: {stats}"
            );
            assert_eq!(
                stats["downstream_in_flight_max"], 5,
                "the five calls of a page overlap: {stats}"
            );
        } else {
            assert_eq!(
                stats["downstream_in_flight_max"], 1,
                "one page at a time, one call at a time: {stats}"
            );
        }
        server.terminate();
    }
}

#[test]
fn the_order_history_scans_every_order_without_the_index_and_twenty_index_entries_with_it() {
    for (variant, plan) in [("broken", "SCAN orders"), ("fixed", "SEARCH orders USING INDEX")] {
        let server = server(variant);
        let (status, body) = server.get("/customers/42/orders");
        assert_eq!(status, 200, "{variant}: {body}");
        let page: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(page["orders"].as_array().unwrap().len(), 20, "{variant}: {body}");
        assert_eq!(server.get("/customers/forty-two/orders").0, 400);
        let stats = server.stats();
        assert_eq!(stats["db_queries"], 1, "{variant}: {stats}");
        assert!(
            stats["query_plan"].as_str().unwrap().contains(plan),
            "{variant}: {stats}"
        );
        let full_scan = stats["db_fullscan_steps"].as_u64().unwrap();
        if variant == "broken" {
            assert!(
                full_scan >= u64::from(exercise_incidents::support::SEEDED_ORDERS) - 1,
                "{stats}"
            );
        } else {
            assert_eq!(full_scan, 0, "{stats}");
        }
        server.terminate();
    }
}

#[test]
fn simultaneous_views_of_a_cold_product_page_build_it_many_times_shipped_and_once_fixed() {
    for variant in ["broken", "fixed"] {
        let server = server(variant);
        let addr = server.addr;
        let views: Vec<_> = (0..20)
            .map(|_| std::thread::spawn(move || get(addr, "/product/42")))
            .collect();
        for view in views {
            let (status, body) = view.join().unwrap();
            assert_eq!(status, 200, "{variant}: {body}");
            assert!(body.contains("Product 42"), "{body}");
        }
        assert_eq!(server.get("/product/forty-two").0, 400);
        let stats = server.stats();
        // Sent at once, the views arrive within the 50 ms build: in the shipped code each is a miss with its own
        // query (all twenty, unless a busy machine spreads them out — hence "more than one"); the fix sends one.
        let queries = stats["catalogue_queries"].as_u64().unwrap();
        let duplicates = stats["catalogue_duplicate_builds"].as_u64().unwrap();
        if variant == "broken" {
            assert!(queries > 1, "{variant}: {stats}");
            assert_eq!(duplicates, queries - 1, "{variant}: {stats}");
        } else {
            assert_eq!(queries, 1, "{variant}: {stats}");
            assert_eq!(duplicates, 0, "{variant}: {stats}");
        }
        server.terminate();
    }
}

/// `GET path` on a new connection: (status, head, body).
fn get_with_head(addr: SocketAddr, path: &str) -> (u16, String, String) {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    write!(stream, "GET {path} HTTP/1.1\r\nHost: lab\r\nConnection: close\r\n\r\n").unwrap();
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    (status, head.to_ascii_lowercase(), body.to_string())
}

#[test]
fn a_hundred_cold_products_at_once_queue_for_the_shipped_pool_and_the_fix_refuses_the_excess_with_a_429() {
    for variant in ["broken", "fixed"] {
        let server = server(variant);
        let addr = server.addr;
        // A hundred distinct pages at once are 1.25 s of the catalogue's work (100 × 50 ms over 4 connections);
        // however the machine spreads the requests, far more arrive within the fix's 30 ms budget than it can take.
        let views: Vec<_> = (0..100)
            .map(|id| std::thread::spawn(move || get_with_head(addr, &format!("/product/{}", 1000 + id))))
            .collect();
        let (mut built, mut refused) = (0, 0);
        for view in views {
            let (status, head, body) = view.join().unwrap();
            match status {
                200 => built += 1,
                429 => {
                    refused += 1;
                    assert!(
                        head.contains("retry-after: 1"),
                        "{variant}: a refusal says when to retry: {head}"
                    );
                    assert!(body.contains("the catalogue is busy"), "{variant}: {body}");
                }
                other => panic!("{variant}: status {other}: {body}"),
            }
        }
        let stats = server.stats();
        assert_eq!(stats["catalogue_shed"].as_u64().unwrap(), refused, "{variant}: {stats}");
        assert_eq!(
            stats["catalogue_queries"].as_u64().unwrap(),
            built,
            "{variant}: {stats}"
        );
        if variant == "broken" {
            assert_eq!(
                refused, 0,
                "the shipped pool waits up to 30 s: every view is built, late"
            );
        } else {
            assert!(refused > 0 && built >= 4, "{variant}: {built} built, {refused} refused");
        }
        server.terminate();
    }
}

#[test]
fn the_shipped_rollout_keeps_sending_the_failing_canary_its_share_the_fix_rolls_it_back() {
    for (variant, canary_requests) in [("broken", 30), ("fixed", 20)] {
        let server = server(variant);
        let mut failed = 0;
        for cart in 0..300 {
            let (status, body) = server.get(&format!("/checkout/{cart}"));
            match status {
                200 => {}
                500 => {
                    failed += 1;
                    assert!(body.contains("tax rule v2"), "{body}");
                }
                other => panic!("{variant}: {other} {body}"),
            }
        }
        assert_eq!(server.get("/checkout/a-cart").0, 400);
        let stats = server.stats();
        assert_eq!(stats["canary_requests"], canary_requests, "{variant}: {stats}");
        assert_eq!(stats["canary_errors"], failed, "every failure is the canary's: {stats}");
        assert!(failed > 0, "{variant}: the canary's bug shows");
        server.terminate();
    }
}

/// A WebSocket client of `/chat{query}` on `addr`: every text frame it receives is sent on the channel returned.
async fn chat_member(
    addr: SocketAddr,
    query: &str,
) -> (
    futures_util::stream::SplitSink<
        tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
        tokio_tungstenite::tungstenite::Message,
    >,
    tokio::sync::mpsc::UnboundedReceiver<String>,
) {
    use futures_util::StreamExt;
    let (socket, response) = tokio_tungstenite::connect_async(format!("ws://{addr}/chat{query}"))
        .await
        .expect("the chat endpoint takes a WebSocket");
    assert_eq!(response.status(), 101);
    let (sink, mut stream) = socket.split();
    let (frames, received) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Some(Ok(message)) = stream.next().await {
            if let tokio_tungstenite::tungstenite::Message::Text(text) = message {
                let _ = frames.send(text.to_string());
            }
        }
    });
    (sink, received)
}

/// The next `n` frames a member receives, waiting at most 10 s for them.
async fn next_frames(received: &mut tokio::sync::mpsc::UnboundedReceiver<String>, n: usize) -> Vec<String> {
    let mut frames = Vec::new();
    while frames.len() < n {
        match tokio::time::timeout(Duration::from_secs(10), received.recv()).await {
            Ok(Some(frame)) => frames.push(frame),
            _ => panic!("{} of {n} frames arrived: {frames:?}", frames.len()),
        }
    }
    frames
}

#[test]
fn chat_members_get_the_backlog_and_their_room_s_messages_and_the_shipped_rooms_wrap_each_one_per_member() {
    use futures_util::SinkExt;
    for (variant, envelopes) in [("broken", 6), ("fixed", 2)] {
        let server = server(variant);
        let addr = server.addr;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let (mut ada, mut to_ada) = chat_member(addr, "?room=7").await;
            let (_ben, mut to_ben) = chat_member(addr, "?room=7").await;
            let (_cy, mut to_cy) = chat_member(addr, "?room=8").await;
            for frames in [&mut to_ada, &mut to_ben, &mut to_cy] {
                let backlog = next_frames(frames, exercise_incidents::support::JOIN_BACKLOG).await;
                assert!(
                    backlog.iter().all(|f| f.contains("of the room's history")),
                    "{backlog:?}"
                );
            }
            ada.send(tokio_tungstenite::tungstenite::Message::text(
                r#"{"seq":1,"sent_ns":5}"#,
            ))
            .await
            .unwrap();
            ada.send(tokio_tungstenite::tungstenite::Message::text("second"))
                .await
                .unwrap();
            for frames in [&mut to_ada, &mut to_ben] {
                let got = next_frames(frames, 2).await;
                assert!(got[0].starts_with(r#"{"room":7,"from":"#), "{got:?}");
                assert!(got[0].contains(r#""text":"{\"seq\":1,\"sent_ns\":5}"}"#), "{got:?}");
                assert!(got[1].ends_with(r#""text":"second"}"#), "{got:?}");
            }
            assert!(to_cy.try_recv().is_err(), "room 8 hears nothing of room 7");
        });
        let stats = server.stats();
        assert_eq!(stats["chat_connections_max"], 3, "{variant}: {stats}");
        assert_eq!(stats["chat_posts"], 2, "{variant}: {stats}");
        assert_eq!(stats["chat_history_loads"], 2, "{variant}: one per room: {stats}");
        // Two messages to a room of two: wrapped once per member and once more for the room as shipped (3 each),
        // once each when fixed.
        assert_eq!(stats["chat_envelopes"], envelopes, "{variant}: {stats}");
        assert!(stats["heap_bytes"].as_u64().unwrap() > 0, "{stats}");
        drop(runtime);
        assert_eq!(server.get("/chat").0, 400, "a plain GET is not a handshake");
        assert_eq!(server.get("/chat?room=seven").0, 400);
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
