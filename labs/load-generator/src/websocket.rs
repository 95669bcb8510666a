//! WebSocket load: many connections held open, messages sent at a fixed rate, and how long each took to come back
//! — delivery latency end to end, as a chat or a price feed is judged.
//!
//! `cargo xtask load ws://127.0.0.1:3000/feed --connections 10000 --hold 30s --rate 2000` opens the connections
//! (at most [`CONNECT_CONCURRENCY`] handshakes at once, so the server's accept queue is not flooded), holds them
//! for the hold time, and meanwhile sends `rate` messages a second spread over the connections in turn, on the
//! open model's schedule ([`crate::pacer`]). Each message is a small JSON text,
//! `{"seq":17,"sent_ns":123456789,"pad":"…"}`, stamped with the time it was *due* on the schedule; whatever comes
//! back on any connection and carries a `seq` and a `sent_ns` is a *receipt*, and its latency is now minus
//! `sent_ns` — the generator's own clock at both ends, so
//! an echo server, a broadcast (one message, many receipts) and a server that wraps the message in its own JSON are
//! all measured the same way. A message no receipt came back for by the end of the grace period is *lost*.
//!
//! # File descriptors
//!
//! Every connection is a file descriptor, and a shell's default soft limit is often 1024. The generator raises its
//! soft limit up to the hard limit when it needs to; past the hard limit it refuses before opening anything, and
//! says which limit and how to raise it. (The server needs as many; the labs' servers raise theirs the same way.)

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::stream::{SplitSink, StreamExt};
use futures_util::SinkExt;
use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

use crate::generator_thread::run_measured;
use crate::pacer::Pacer;
use crate::plan::LoadError;
use crate::recorder::{micros, new_histogram};
use crate::report::{generator_verdict, GeneratorReport, LoadReport, LoadSpec, Percentiles};
use crate::schedule::{Phase, Schedule};
use crate::target::Target;

/// The most WebSocket handshakes in flight at once while connections open.
pub const CONNECT_CONCURRENCY: usize = 256;
/// Descriptors the generator needs beyond one per connection (runtime, stdio, files).
const SPARE_FDS: u64 = 64;

/// A WebSocket run.
#[derive(Debug, Clone)]
pub struct WsPlan {
    /// Where to connect (`ws://host:port/path`, parsed like an HTTP target and held to loopback the same way).
    pub target: Target,
    /// Connections to open and hold.
    pub connections: usize,
    /// How long to hold them once all are open.
    pub hold: Duration,
    /// Messages per second over all connections during the hold; none when `None`.
    pub rate: Option<f64>,
    /// Bytes in each message (at least the JSON's own ~40).
    pub message_size: usize,
    /// The longest wait for a handshake, and for the last receipts after the hold.
    pub timeout: Duration,
    /// The pacer's shortest gap between wake-ups ([`crate::pacer::DEFAULT_PACING`]).
    pub pacing: Duration,
}

/// What a WebSocket run measured.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WsReport {
    /// Connections asked for.
    pub connections: usize,
    /// Of which opened (TCP connected and the handshake answered 101).
    pub opened: u64,
    /// Of which could not be opened.
    pub failed: u64,
    /// The last reason one could not be opened.
    pub last_failure: Option<String>,
    /// Connections the server closed (or that broke) before the hold ended.
    pub closed_early: u64,
    /// TCP connect plus handshake, per connection.
    pub connect_us: Percentiles,
    /// From the first connect to the last connection open.
    pub open_all_s: f64,
    /// How long the connections were held.
    pub hold_s: f64,
    /// Messages per second asked for.
    pub target_rate: Option<f64>,
    /// Messages sent.
    pub sent: u64,
    /// Messages sent that came back at least once.
    pub delivered: u64,
    /// Messages sent that never came back.
    pub lost: u64,
    /// Messages received in all (a broadcast makes this larger than `delivered`).
    pub receipts: u64,
    /// From a message's send to each of its receipts.
    pub delivery_us: Percentiles,
    /// The file-descriptor soft limit the run had (raised where needed).
    pub fd_limit: u64,
    /// CPU time the generator's thread used.
    pub cpu_seconds: f64,
    /// Its CPU time over its wall time.
    pub busiest_thread_load: f64,
    /// How late messages left.
    pub send_lag_us: Percentiles,
    /// False when the generator could not keep its schedule: do not quote the numbers.
    pub valid: bool,
    /// Why not.
    pub invalid_reasons: Vec<String>,
}

/// Makes sure this process may hold `connections` sockets: raises the soft limit up to the hard limit, or says
/// precisely why it cannot. Returns the soft limit in force.
#[allow(unsafe_code)]
pub fn ensure_fd_limit(connections: usize) -> Result<u64, LoadError> {
    let needed = connections as u64 + SPARE_FDS;
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes one rlimit into the struct we own.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return Err(LoadError::Io(std::io::Error::last_os_error()));
    }
    if limit.rlim_cur >= needed {
        return Ok(limit.rlim_cur);
    }
    if limit.rlim_max < needed {
        return Err(LoadError::Plan(format!(
            "{connections} connections need about {needed} file descriptors, and this process may open at most {} \
             (the hard limit of RLIMIT_NOFILE, `ulimit -Hn`). Raise it (as root: `ulimit -Hn {needed}` in the shell \
             that runs cargo, or LimitNOFILE= for a systemd service), or ask for fewer --connections",
            limit.rlim_max
        )));
    }
    let raised = libc::rlimit {
        rlim_cur: needed,
        rlim_max: limit.rlim_max,
    };
    // SAFETY: setrlimit reads the struct we pass; a soft limit at or below the hard limit needs no privilege.
    if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } != 0 {
        return Err(LoadError::Io(std::io::Error::last_os_error()));
    }
    Ok(needed)
}

type Sink = SplitSink<WebSocketStream<TcpStream>, Message>;

/// Counts shared by the connections' reader tasks (one thread: `RefCell`).
struct Tally {
    t0: Instant,
    delivery: Histogram<u64>,
    receipts: u64,
    /// One bit per message sent: set at its first receipt.
    seen: Vec<u64>,
    delivered: u64,
    closed_early: u64,
    holding: bool,
}

impl Tally {
    fn receive(&mut self, text: &[u8]) {
        let (Some(seq), Some(sent_ns)) = (number_after(text, b"seq"), number_after(text, b"sent_ns")) else {
            return;
        };
        let now_ns = self.t0.elapsed().as_nanos() as u64;
        self.receipts += 1;
        self.delivery.saturating_record(now_ns.saturating_sub(sent_ns) / 1000);
        let (word, bit) = ((seq / 64) as usize, seq % 64);
        if let Some(w) = self.seen.get_mut(word) {
            if *w & (1 << bit) == 0 {
                *w |= 1 << bit;
                self.delivered += 1;
            }
        }
    }
}

/// The number after `"key":` (or `\"key\":`, when a server quoted the message inside its own JSON).
fn number_after(text: &[u8], key: &[u8]) -> Option<u64> {
    let at = text
        .windows(key.len() + 1)
        .position(|w| w[..key.len()] == *key && (w[key.len()] == b'"' || w[key.len()] == b'\\'))?;
    let rest = &text[at + key.len()..];
    let start = rest.iter().take(4).position(u8::is_ascii_digit)?;
    let digits = rest[start..].iter().take_while(|b| b.is_ascii_digit()).count();
    std::str::from_utf8(&rest[start..start + digits]).ok()?.parse().ok()
}

/// The message number `seq`, sent `sent_ns` after t0, padded to `size` bytes.
fn message(seq: u64, sent_ns: u64, size: usize) -> String {
    let mut text = format!("{{\"seq\":{seq},\"sent_ns\":{sent_ns},\"pad\":\"");
    let pad = size.saturating_sub(text.len() + 2);
    text.extend(std::iter::repeat_n('x', pad));
    text.push_str("\"}");
    text
}

/// Opens the connections, holds them, sends the messages, and reports.
pub fn run(plan: &WsPlan) -> Result<WsReport, LoadError> {
    if plan.connections == 0 {
        return Err(LoadError::Plan("need at least one connection".into()));
    }
    if plan.rate.is_some_and(|r| !(r > 0.0 && r.is_finite())) {
        return Err(LoadError::Plan(
            "--rate must be a positive number of messages per second".into(),
        ));
    }
    let fd_limit = ensure_fd_limit(plan.connections)?;
    let plan = plan.clone();
    let realtime = plan.rate.is_some();
    let (mut report, usage) = run_measured("load-ws", realtime, move || async move { hold_and_send(&plan).await })?;
    let cpu = usage.cpu.map_or(0.0, |c| c.as_secs_f64());
    report.cpu_seconds = cpu;
    report.busiest_thread_load = cpu / usage.wall.as_secs_f64().max(1e-9);
    report.fd_limit = fd_limit;
    // Messages at a rate keep a schedule, judged as a fixed-rate run's; holding connections alone does not.
    let (invalid, _) = generator_verdict(realtime, report.busiest_thread_load, report.send_lag_us.p99);
    report.valid = invalid.is_empty();
    report.invalid_reasons = invalid;
    Ok(report)
}

async fn hold_and_send(plan: &WsPlan) -> std::io::Result<WsReport> {
    let opening = Instant::now();
    let mut connect = new_histogram();
    let (mut failed, mut last_failure) = (0u64, None);
    let total = plan.rate.map_or(0, |r| (r * plan.hold.as_secs_f64()).round() as u64);
    let tally = Rc::new(RefCell::new(Tally {
        t0: Instant::now(),
        delivery: new_histogram(),
        receipts: 0,
        seen: vec![0; total.div_ceil(64) as usize],
        delivered: 0,
        closed_early: 0,
        holding: true,
    }));
    // Open every connection, a bounded number of handshakes at a time.
    let config = WebSocketConfig::default().read_buffer_size(4096).write_buffer_size(0);
    let url = format!(
        "ws://{}{}",
        plan.target.host.to_str().unwrap_or("localhost"),
        plan.target.path
    );
    let mut sinks: Vec<Sink> = Vec::with_capacity(plan.connections);
    let mut readers = tokio::task::JoinSet::new();
    let opens = futures_util::stream::iter(0..plan.connections)
        .map(|_| open(plan.target.addr, url.clone(), config, plan.timeout))
        .buffer_unordered(CONNECT_CONCURRENCY);
    futures_util::pin_mut!(opens);
    while let Some(result) = opens.next().await {
        match result {
            Ok((stream, took)) => {
                connect.saturating_record(micros(took));
                let (sink, mut stream) = stream.split();
                sinks.push(sink);
                let tally = tally.clone();
                readers.spawn_local(async move {
                    while let Some(Ok(message)) = stream.next().await {
                        match message {
                            Message::Text(text) => tally.borrow_mut().receive(text.as_bytes()),
                            Message::Binary(bytes) => tally.borrow_mut().receive(&bytes),
                            Message::Close(_) => break,
                            _ => {}
                        }
                    }
                    let mut tally = tally.borrow_mut();
                    if tally.holding {
                        tally.closed_early += 1;
                    }
                });
            }
            Err(why) => {
                failed += 1;
                last_failure = Some(why);
            }
        }
    }
    let open_all = opening.elapsed();
    // Hold, sending on schedule: message j goes out on connection j mod n.
    let t0 = Instant::now() + Duration::from_millis(50);
    tally.borrow_mut().t0 = t0;
    let mut lag = new_histogram();
    let mut sent = 0u64;
    match plan.rate {
        Some(rate) if !sinks.is_empty() => {
            let schedule = Arc::new(Schedule::new(&[Phase {
                name: "messages",
                duration: plan.hold,
                from_rps: rate,
                to_rps: rate,
                steady: true,
            }]));
            let pacer = Rc::new(Pacer::new(
                schedule.clone(),
                t0,
                (1, 0),
                plan.pacing,
                Arc::new(AtomicBool::new(false)),
            ));
            let pacing = tokio::task::spawn_local({
                let pacer = pacer.clone();
                async move { pacer.run().await }
            });
            for j in 0..pacer.share() {
                pacer.wait(j).await;
                let now = Instant::now();
                let due = schedule.due(j).0;
                lag.saturating_record(micros(now.saturating_duration_since(t0 + due)));
                // Stamped with when it was due, not when it left: a generator that fell behind must not hide the
                // wait from the latency (coordinated omission), as in the HTTP open model.
                let text = message(j, due.as_nanos() as u64, plan.message_size);
                let open = sinks.len() as u64;
                let sink = &mut sinks[(j % open) as usize];
                // A connection that broke is skipped: its messages count as lost.
                let _ = sink.send(Message::text(text)).await;
                sent += 1;
            }
            pacing.await.expect("the pacer panicked")?;
        }
        _ => tokio::time::sleep_until((t0 + plan.hold).into()).await,
    }
    let held = t0.elapsed();
    // The last receipts: wait until everything sent came back, or the timeout.
    let grace = Instant::now() + plan.timeout.min(Duration::from_secs(5));
    while tally.borrow().delivered < sent && Instant::now() < grace {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    tally.borrow_mut().holding = false;
    for mut sink in sinks {
        let _ = tokio::time::timeout(Duration::from_millis(100), sink.close()).await;
    }
    readers.abort_all();
    while readers.join_next().await.is_some() {}
    let tally = Rc::try_unwrap(tally).ok().expect("every reader has ended").into_inner();
    Ok(WsReport {
        connections: plan.connections,
        opened: connect.len(),
        failed,
        last_failure,
        closed_early: tally.closed_early,
        connect_us: Percentiles::of(&connect),
        open_all_s: open_all.as_secs_f64(),
        hold_s: held.as_secs_f64(),
        target_rate: plan.rate,
        sent,
        delivered: tally.delivered,
        lost: sent - tally.delivered,
        receipts: tally.receipts,
        delivery_us: Percentiles::of(&tally.delivery),
        fd_limit: 0,
        cpu_seconds: 0.0,
        busiest_thread_load: 0.0,
        send_lag_us: Percentiles::of(&lag),
        valid: true,
        invalid_reasons: Vec::new(),
    })
}

/// One connection: TCP, then the WebSocket handshake, within `timeout`; returns how long both took.
async fn open(
    addr: SocketAddr,
    url: String,
    config: WebSocketConfig,
    timeout: Duration,
) -> Result<(WebSocketStream<TcpStream>, Duration), String> {
    let begun = Instant::now();
    let handshake = async {
        let stream = TcpStream::connect(addr).await.map_err(|e| format!("connect: {e}"))?;
        let _ = stream.set_nodelay(true);
        let (ws, _response) = tokio_tungstenite::client_async_with_config(url, stream, Some(config))
            .await
            .map_err(|e| format!("handshake: {e}"))?;
        Ok::<_, String>(ws)
    };
    match tokio::time::timeout(timeout, handshake).await {
        Ok(Ok(ws)) => Ok((ws, begun.elapsed())),
        Ok(Err(why)) => Err(why),
        Err(_) => Err(format!("no handshake within {timeout:?}")),
    }
}

impl WsReport {
    /// The run in the shape of an HTTP run's report, so a lab's table, lessons and objectives read a WebSocket run
    /// the same way: a *request* is a message sent, its latency the delivery latency of its receipts, an *error* a
    /// message nobody received (or a connection that could not open), the rate the messages' rate. What only a
    /// WebSocket run has (receipts, connections held, closed early) stays in the [`WsReport`] beside it.
    pub fn as_load_report(&self) -> LoadReport {
        let mut outcomes = BTreeMap::new();
        outcomes.insert("delivered".to_string(), self.delivered);
        if self.lost > 0 {
            outcomes.insert("lost".to_string(), self.lost);
        }
        if self.failed > 0 {
            outcomes.insert("connection failed".to_string(), self.failed);
        }
        LoadReport {
            load: LoadSpec {
                mode: "websocket".into(),
                target_rps: self.target_rate,
                duration_s: self.hold_s,
                connections: self.connections,
                arrivals: None,
            },
            achieved_rps: self.sent as f64 / self.hold_s.max(1e-9),
            requests: self.sent,
            errors: self.lost + self.failed,
            dropped: 0,
            late: 0,
            retried: 0,
            latency_us: self.delivery_us,
            service_us: self.delivery_us,
            connect_us: self.connect_us,
            connects: self.opened,
            ttfb_us: Percentiles::default(),
            bytes_sent: 0,
            bytes_received: 0,
            bytes_per_response: 0.0,
            outcomes,
            by_name: BTreeMap::new(),
            throughput_per_s: Vec::new(),
            latency_spectrum: Vec::new(),
            goodput: None,
            slowest: Vec::new(),
            generator: GeneratorReport {
                threads: 1,
                cpu_seconds: self.cpu_seconds,
                busiest_thread_load: self.busiest_thread_load,
                send_lag_us: self.send_lag_us,
                priority: String::new(),
                valid: self.valid,
                invalid_reasons: self.invalid_reasons.clone(),
                notes: Vec::new(),
            },
            histogram: None,
            intervals: Vec::new(),
        }
    }

    /// The result for people.
    pub fn summary(&self) -> String {
        use crate::report::human_us;
        let mut lines = vec![format!(
            "connections: {} of {} open in {:.2}s (handshake p50 {} p99 {}) · {} failed · {} closed early · fd limit {}",
            self.opened,
            self.connections,
            self.open_all_s,
            human_us(self.connect_us.p50),
            human_us(self.connect_us.p99),
            self.failed,
            self.closed_early,
            self.fd_limit
        )];
        if let Some(why) = &self.last_failure {
            lines.push(format!("last failure: {why}"));
        }
        match self.target_rate {
            Some(rate) => {
                let d = &self.delivery_us;
                lines.push(format!(
                    "messages: {} sent at {rate:.0}/s over {:.1}s · {} delivered · {} lost · {} receipts",
                    self.sent, self.hold_s, self.delivered, self.lost, self.receipts
                ));
                lines.push(format!(
                    "delivery latency: p50 {} · p90 {} · p95 {} · p99 {} · p99.9 {} · max {}",
                    human_us(d.p50),
                    human_us(d.p90),
                    d.p95.map_or("–".into(), human_us),
                    human_us(d.p99),
                    human_us(d.p999),
                    human_us(d.max)
                ));
            }
            None => lines.push(format!(
                "held {:.1}s without messages (add --rate to send)",
                self.hold_s
            )),
        }
        lines.push(format!(
            "generator: {:.2}s CPU, {:.0}% busy, send lag p99 {}{}",
            self.cpu_seconds,
            self.busiest_thread_load * 100.0,
            human_us(self.send_lag_us.p99),
            if self.valid {
                String::new()
            } else {
                format!(" — INVALID: {}", self.invalid_reasons.join("; "))
            }
        ));
        lines.join("\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_is_padded_to_its_size_and_read_back_wherever_it_is_quoted() {
        let text = message(17, 123_456, 100);
        assert_eq!(text.len(), 100);
        assert_eq!(number_after(text.as_bytes(), b"seq"), Some(17));
        assert_eq!(number_after(text.as_bytes(), b"sent_ns"), Some(123_456));
        // A chat server that wraps the message as a string inside its own JSON.
        let wrapped = serde_json::json!({ "from": "room", "message": text }).to_string();
        assert_eq!(number_after(wrapped.as_bytes(), b"seq"), Some(17));
        assert_eq!(number_after(wrapped.as_bytes(), b"sent_ns"), Some(123_456));
        assert_eq!(number_after(b"{\"sequence\":5}", b"seq"), None);
        // Smaller than the JSON itself: not padded, still whole.
        assert!(message(1, 2, 0).ends_with("\"pad\":\"\"}"));
    }

    #[test]
    fn a_run_reads_as_an_http_run_with_a_message_for_a_request() {
        let delivery = Percentiles {
            p50: 900,
            p90: 1_500,
            p95: Some(2_000),
            p99: 8_000,
            p999: 11_000,
            max: 13_000,
        };
        let report = WsReport {
            connections: 100,
            opened: 98,
            failed: 2,
            last_failure: Some("connect: refused".into()),
            closed_early: 0,
            connect_us: Percentiles::default(),
            open_all_s: 0.5,
            hold_s: 5.0,
            target_rate: Some(200.0),
            sent: 1_000,
            delivered: 997,
            lost: 3,
            receipts: 97_000,
            delivery_us: delivery,
            fd_limit: 1_024,
            cpu_seconds: 0.4,
            busiest_thread_load: 0.08,
            send_lag_us: Percentiles::default(),
            valid: true,
            invalid_reasons: Vec::new(),
        };
        let load = report.as_load_report();
        assert_eq!(load.load.mode, "websocket");
        assert_eq!((load.requests, load.errors, load.connects), (1_000, 5, 98));
        assert_eq!(load.achieved_rps, 200.0);
        assert_eq!(load.latency_us, delivery);
        assert_eq!(load.outcomes["delivered"], 997);
        assert_eq!(load.outcomes["lost"], 3);
        assert_eq!(load.outcomes["connection failed"], 2);
        assert!(load.generator.valid);
    }

    #[test]
    fn the_limit_is_raised_when_it_can_be_and_refused_with_the_reason_when_not() {
        let fine = ensure_fd_limit(100).unwrap();
        assert!(fine >= 164);
        let refused = ensure_fd_limit(usize::MAX / 4).unwrap_err().to_string();
        assert!(
            refused.contains("hard limit of RLIMIT_NOFILE") && refused.contains("--connections"),
            "{refused}"
        );
    }
}
