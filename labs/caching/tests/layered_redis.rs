//! The `layered` variant against a real Redis (`REDIS_URL`, which CI sets after starting redis-server): two server
//! processes share L2, a write in one invalidates the other's L1, and Redis dying mid-run costs no request.
//! Skipped, saying why, when `REDIS_URL` is not set.

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;

fn redis_url(db: u8) -> Option<String> {
    match std::env::var("REDIS_URL") {
        Ok(url) => {
            // A database of its own per test: FLUSHDB below must not touch anyone else's keys.
            let base = url.trim_end_matches('/');
            let base = match base.rsplit_once('/') {
                Some((head, tail)) if tail.chars().all(|c| c.is_ascii_digit()) && !head.ends_with('/') => head,
                _ => base,
            };
            Some(format!("{base}/{db}"))
        }
        Err(_) => {
            eprintln!("skipped: REDIS_URL is not set (start redis-server and export REDIS_URL=redis://127.0.0.1:6379)");
            None
        }
    }
}

fn flush(url: &str) {
    let mut connection = redis::Client::open(url).unwrap().get_connection().unwrap();
    redis::cmd("FLUSHDB").exec(&mut connection).unwrap();
}

/// A lab server process, killed on drop; its stderr is collected for assertions.
struct Server {
    child: Child,
    addr: std::net::SocketAddr,
    stderr: Arc<Mutex<String>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(redis: &str, db_file: &std::path::Path) -> Server {
    let mut child = Command::new(env!("CARGO_BIN_EXE_lab-caching"))
        .args(["--variant", "layered", "--db-latency-ms", "0", "--db"])
        .arg(db_file)
        .env("REDIS_URL", redis)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = Arc::new(Mutex::new(String::new()));
    let mut pipe = child.stderr.take().unwrap();
    let sink = stderr.clone();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = pipe.read(&mut buf) {
            if n == 0 {
                break;
            }
            sink.lock().unwrap().push_str(&String::from_utf8_lossy(&buf[..n]));
        }
    });
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("first line {line:?}; stderr: {}", stderr.lock().unwrap()))
        .parse()
        .unwrap();
    Server { child, addr, stderr }
}

async fn http(server: &Server, method: &str, path: &str, body: &str) -> (u16, String) {
    let stream = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(connection);
    let request = hyper::Request::builder()
        .method(method)
        .uri(path)
        .header("host", server.addr.to_string())
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body.to_string())))
        .unwrap();
    let response = sender.send_request(request).await.unwrap();
    let status = response.status().as_u16();
    (
        status,
        String::from_utf8_lossy(&response.into_body().collect().await.unwrap().to_bytes()).into_owned(),
    )
}

async fn stat(server: &Server, name: &str) -> u64 {
    let (_, body) = http(server, "GET", "/stats", "").await;
    serde_json::from_str::<serde_json::Value>(&body).unwrap()[name]
        .as_u64()
        .unwrap()
}

async fn price(server: &Server, id: u32) -> i64 {
    let (status, body) = http(server, "GET", &format!("/product/{id}"), "").await;
    assert_eq!(status, 200, "{body}");
    serde_json::from_str::<serde_json::Value>(&body).unwrap()["price_cents"]
        .as_i64()
        .unwrap()
}

#[tokio::test]
async fn two_processes_share_l2_and_a_write_in_one_invalidates_the_other() {
    let Some(url) = redis_url(14) else { return };
    flush(&url);
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("catalogue.sqlite");
    let a = start(&url, &db);
    let b = start(&url, &db);

    price(&a, 1).await;
    assert_eq!(
        (stat(&a, "misses").await, stat(&a, "db_queries").await),
        (1, 1),
        "A loads from the database"
    );
    price(&b, 1).await;
    assert_eq!(
        (stat(&b, "l2_hits").await, stat(&b, "db_queries").await),
        (1, 0),
        "B finds it in the shared L2"
    );
    price(&b, 1).await;
    assert_eq!(stat(&b, "l1_hits").await, 1, "then in its own L1");

    let (status, _) = http(&a, "PUT", "/product/1", r#"{"price_cents": 4242}"#).await;
    assert_eq!(status, 204);
    // A publishes the invalidation; B drops its L1 copy when the message arrives. Probe until it has.
    let deadline = Instant::now() + Duration::from_secs(5);
    while price(&b, 1).await != 4242 {
        assert!(
            Instant::now() < deadline,
            "B still serves the old price 5 s after the write"
        );
        tokio::task::yield_now().await;
    }
    assert_eq!(stat(&b, "db_queries").await, 1, "B reloaded from the database once");
}

#[tokio::test]
async fn redis_going_away_mid_run_fails_no_request() {
    if redis_url(0).is_none() {
        return;
    }
    // A Redis of our own, so it can be killed.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut redis = Command::new("redis-server")
        .args(["--port", &port.to_string(), "--save", "", "--appendonly", "no"])
        .stdout(Stdio::null())
        .spawn()
        .expect("redis-server must be installed where REDIS_URL is set");
    let url = format!("redis://127.0.0.1:{port}/0");
    lab_kit::testing::eventually("redis-server to start", || {
        redis::Client::open(url.as_str()).unwrap().get_connection().is_ok()
    });
    let dir = tempfile::tempdir().unwrap();
    let server = start(&url, &dir.path().join("catalogue.sqlite"));
    for id in 1..=20 {
        price(&server, id).await;
    }
    assert_eq!(stat(&server, "l2_errors").await, 0);

    redis.kill().unwrap();
    redis.wait().unwrap();
    for id in 1..=60 {
        price(&server, id).await; // 1..=20 from L1, the rest from the database: every one a 200
    }
    assert!(stat(&server, "l2_errors").await > 0, "the failures are counted");
    assert_eq!(
        stat(&server, "db_queries").await,
        60,
        "20 before, 40 new after Redis went away"
    );
    assert!(
        server.stderr.lock().unwrap().contains("warning: Redis"),
        "and logged: {}",
        server.stderr.lock().unwrap()
    );
}
