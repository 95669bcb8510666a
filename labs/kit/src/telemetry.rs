//! `/metrics` on every lab: Prometheus text exposition of what a Node.js service gets from prom-client's
//! `collectDefaultMetrics` and an HTTP middleware, so a learner can point Prometheus, Grafana or `curl` at any lab.
//!
//! | family | kind | what |
//! |---|---|---|
//! | `http_requests_total{method, route, status}` | counter | requests answered, by *route template* |
//! | `http_request_duration_seconds{method, route}` | histogram | time to the response head |
//! | `http_requests_in_flight` | gauge | requests being handled now |
//! | `event_loop_lag_seconds` | histogram | how late a 10 ms timer fires ([`crate::LoopLag`]) |
//! | `process_cpu_seconds_total`, `process_resident_memory_bytes`, … | | the process, read at scrape time |
//! | `tokio_workers`, `tokio_alive_tasks`, `tokio_global_queue_depth`, `tokio_worker_busy_seconds_total{worker}` | | the runtime's stable metrics |
//!
//! # Why the route template and never the raw path
//!
//! A label value is a time series. `/product/{id}` is one series; `/product/1` … `/product/10000` are ten thousand,
//! each with a histogram's worth of buckets, in the server's memory and in Prometheus's. The middleware reads axum's
//! [`MatchedPath`], so a request is labelled with the route it matched; the metrics lab measures what the other
//! choice costs.
//!
//! # Why the `metrics` facade with its Prometheus exporter
//!
//! It is what most Rust services use: `metrics::counter!` anywhere in the code, one recorder installed by `main`.
//! The exporter keeps histograms as fixed buckets (set below; without them it would keep summaries), but it
//! buffers each raw observation until its *upkeep* (or a scrape) folds them into the buckets: without upkeep the
//! buffer grows with every request. Measured in the metrics lab at ~136k requests/s: upkeep every 5 s let the
//! server's peak RSS reach 15 MiB against 6 MiB uninstrumented; lab-kit runs it every second.

use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::extract::{MatchedPath, Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::Method;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::loop_lag::LoopLag;

/// Requests answered.
pub const REQUESTS: &str = "http_requests_total";
/// Time from the request's arrival to its response head.
pub const REQUEST_DURATION: &str = "http_request_duration_seconds";
/// Requests being handled.
pub const IN_FLIGHT: &str = "http_requests_in_flight";
/// Event-loop lag.
pub const LOOP_LAG: &str = "event_loop_lag_seconds";

/// Request latency buckets, seconds: 100 µs to 10 s, about three per decade, as Prometheus's defaults are.
const LATENCY_BUCKETS: &[f64] = &[
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];
/// Lag buckets, seconds: a healthy loop is late by well under a millisecond; a blocked one by tens or hundreds.
const LAG_BUCKETS: &[f64] = &[0.0001, 0.0005, 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0];

/// How often the exporter's histograms are maintained.
const UPKEEP_EVERY: Duration = Duration::from_secs(1);

/// The process's metrics: the installed recorder's handle, the lag probe, the start time.
pub struct Telemetry {
    prometheus: PrometheusHandle,
    lag: LoopLag,
    started: SystemTime,
}

static TELEMETRY: OnceLock<Telemetry> = OnceLock::new();

/// The process's telemetry, installing the global `metrics` recorder the first time.
pub fn telemetry() -> &'static Telemetry {
    TELEMETRY.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Full(REQUEST_DURATION.into()), LATENCY_BUCKETS)
            .and_then(|b| b.set_buckets_for_metric(Matcher::Full(LOOP_LAG.into()), LAG_BUCKETS))
            .expect("bucket lists are not empty")
            .build_recorder();
        let prometheus = recorder.handle();
        // Only one recorder per process; a second install (a test that builds two servers) keeps the first.
        let _ = metrics::set_global_recorder(recorder);
        metrics::describe_counter!(
            REQUESTS,
            "HTTP requests answered, by method, route template and status."
        );
        metrics::describe_histogram!(
            REQUEST_DURATION,
            metrics::Unit::Seconds,
            "Time from a request's arrival to its response head, by method and route template."
        );
        metrics::describe_gauge!(IN_FLIGHT, "HTTP requests being handled.");
        metrics::describe_histogram!(
            LOOP_LAG,
            metrics::Unit::Seconds,
            "How late a 10 ms timer on the server's runtime fires: time the loop spent on something that did not yield."
        );
        Telemetry {
            prometheus,
            lag: LoopLag::default(),
            started: SystemTime::now(),
        }
    })
}

impl Telemetry {
    /// The event-loop lag probe's readings.
    pub fn lag(&self) -> &LoopLag {
        &self.lag
    }

    /// Starts, on the current runtime, what keeps the metrics true: the exporter's upkeep and the lag probe.
    pub fn start(&'static self) {
        tokio::spawn(async move {
            let mut every = tokio::time::interval(UPKEEP_EVERY);
            loop {
                every.tick().await;
                self.prometheus.run_upkeep();
            }
        });
        tokio::spawn(self.lag.clone().probe());
    }

    /// The exposition: the recorder's families, then the process's and the runtime's, read now.
    pub fn render(&self) -> String {
        let mut out = self.prometheus.render();
        process_metrics(self.started, &mut out);
        if let Ok(handle) = tokio::runtime::Handle::try_current() {
            runtime_metrics(&handle.metrics(), &mut out);
        }
        out
    }
}

/// Adds `GET /metrics` and the request metrics of every route already on `router` (the routes the lab declared;
/// `/metrics` itself is not counted).
pub fn instrument(router: Router) -> Router {
    expose(track_requests(router))
}

/// The request metrics of every route already on `router`, without adding `/metrics`: for a server that serves
/// its exposition its own way (a cluster's worker answers with the whole cluster's).
pub fn track_requests(router: Router) -> Router {
    // The in-flight gauge has no labels: its handle is fetched once here rather than looked up on every request
    // (the metrics lab measures what a lookup per call costs). Fetching it registers it, so only instrumented
    // servers show it.
    let in_flight = metrics::gauge!(IN_FLIGHT);
    router.route_layer(middleware::from_fn_with_state(in_flight, track))
}

/// Adds `GET /metrics` without per-request metrics: for a variant whose lesson is the cost of the request path
/// itself (the baseline lab's), where a middleware would be part of what is measured.
pub fn expose(router: Router) -> Router {
    let router = router.route("/metrics", get(|| async { exposition() }));
    // Beside the metrics, on a lab built with the profiler: the CPU profile the harness takes during a run.
    #[cfg(feature = "profiling")]
    let router = router.route("/debug/pprof/profile", get(crate::profiler::profile));
    router
}

fn exposition() -> Response {
    (
        [(CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        telemetry().render(),
    )
        .into_response()
}

/// Counts a request as in flight while it is handled, even if the client goes away mid-way (the guard's drop).
struct InFlight(metrics::Gauge);

impl InFlight {
    fn enter(gauge: metrics::Gauge) -> InFlight {
        gauge.increment(1.0);
        InFlight(gauge)
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.decrement(1.0);
    }
}

async fn track(State(in_flight): State<metrics::Gauge>, request: Request, next: Next) -> Response {
    let began = Instant::now();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |p| p.as_str().to_string());
    // A method is a label too: anything but the standard ones is one value, so a client cannot mint series.
    let method: &'static str = match *request.method() {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    };
    let guard = InFlight::enter(in_flight);
    let response = next.run(request).await;
    drop(guard);
    let status = response.status().as_u16().to_string();
    metrics::counter!(REQUESTS, "method" => method, "route" => route.clone(), "status" => status).increment(1);
    metrics::histogram!(REQUEST_DURATION, "method" => method, "route" => route).record(began.elapsed().as_secs_f64());
    response
}

/// One family in the text format: HELP, TYPE, and its samples (`suffix` holds labels, if any).
fn family(out: &mut String, name: &str, kind: &str, help: &str, samples: &[(String, f64)]) {
    use std::fmt::Write;
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
    for (labels, value) in samples {
        let _ = writeln!(out, "{name}{labels} {value}");
    }
    out.push('\n');
}

/// The process, as Prometheus's client libraries all name it.
#[allow(unsafe_code)]
fn process_metrics(started: SystemTime, out: &mut String) {
    let one = |v: f64| vec![(String::new(), v)];
    // SAFETY: getrusage and getrlimit fill structs we own; sysconf takes a constant.
    let (usage, fd_limit, page) = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut usage);
        let mut limit: libc::rlimit = std::mem::zeroed();
        libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit);
        (usage, limit.rlim_cur, libc::sysconf(libc::_SC_PAGESIZE).max(1) as f64)
    };
    let seconds = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    let cpu = seconds(usage.ru_utime) + seconds(usage.ru_stime);
    family(
        out,
        "process_cpu_seconds_total",
        "counter",
        "User and system CPU time spent, in seconds.",
        &one(cpu),
    );
    // statm: size and resident, in pages.
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let mut pages = statm.split_whitespace().map(|v| v.parse::<f64>().unwrap_or(0.0));
    let (virtual_pages, resident_pages) = (pages.next().unwrap_or(0.0), pages.next().unwrap_or(0.0));
    family(
        out,
        "process_resident_memory_bytes",
        "gauge",
        "Resident memory size in bytes.",
        &one(resident_pages * page),
    );
    family(
        out,
        "process_virtual_memory_bytes",
        "gauge",
        "Virtual memory size in bytes.",
        &one(virtual_pages * page),
    );
    let open_fds = std::fs::read_dir("/proc/self/fd").map_or(0, |d| d.count()) as f64;
    family(
        out,
        "process_open_fds",
        "gauge",
        "Number of open file descriptors.",
        &one(open_fds),
    );
    family(
        out,
        "process_max_fds",
        "gauge",
        "Maximum number of open file descriptors.",
        &one(fd_limit as f64),
    );
    let start = started.duration_since(UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64());
    family(
        out,
        "process_start_time_seconds",
        "gauge",
        "Start time of the process since the Unix epoch, in seconds.",
        &one(start),
    );
}

/// tokio's stable runtime metrics: the `collectDefaultMetrics` of an async Rust service.
fn runtime_metrics(metrics: &tokio::runtime::RuntimeMetrics, out: &mut String) {
    let one = |v: f64| vec![(String::new(), v)];
    let workers = metrics.num_workers();
    family(
        out,
        "tokio_workers",
        "gauge",
        "Worker threads of the runtime serving requests.",
        &one(workers as f64),
    );
    family(
        out,
        "tokio_alive_tasks",
        "gauge",
        "Tasks spawned and not yet finished.",
        &one(metrics.num_alive_tasks() as f64),
    );
    family(
        out,
        "tokio_global_queue_depth",
        "gauge",
        "Tasks waiting in the runtime's shared queue: work no worker has picked up yet.",
        &one(metrics.global_queue_depth() as f64),
    );
    let per_worker = |f: &dyn Fn(usize) -> f64| -> Vec<(String, f64)> {
        (0..workers).map(|w| (format!("{{worker=\"{w}\"}}"), f(w))).collect()
    };
    family(
        out,
        "tokio_worker_busy_seconds_total",
        "counter",
        "Time each worker spent running tasks, in seconds: busy / wall time is how saturated it is.",
        &per_worker(&|w| metrics.worker_total_busy_duration(w).as_secs_f64()),
    );
    family(
        out,
        "tokio_worker_parks_total",
        "counter",
        "Times each worker went to sleep for want of work.",
        &per_worker(&|w| metrics.worker_park_count(w) as f64),
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    async fn get(app: &Router, path: &str) -> (u16, String) {
        let response = app
            .clone()
            .oneshot(axum::http::Request::get(path).body(Body::empty()).unwrap())
            .await
            .unwrap();
        let status = response.status().as_u16();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        (status, String::from_utf8(body.to_vec()).unwrap())
    }

    #[tokio::test]
    async fn requests_are_counted_by_route_template_never_by_raw_path() {
        telemetry();
        let app = instrument(Router::new().route("/kit-test/{id}", axum::routing::get(|| async { "item" })));
        for id in 0..25 {
            assert_eq!(get(&app, &format!("/kit-test/{id}")).await.0, 200);
        }
        let (status, text) = get(&app, "/metrics").await;
        assert_eq!(status, 200);
        assert!(
            text.contains("http_requests_total{method=\"GET\",route=\"/kit-test/{id}\",status=\"200\"} 25"),
            "{text}"
        );
        assert!(!text.contains("/kit-test/7"), "a raw path became a label");
        assert!(text
            .contains("http_request_duration_seconds_bucket{method=\"GET\",route=\"/kit-test/{id}\",le=\"+Inf\"} 25"));
        assert!(text.contains("# HELP http_requests_total "));
        assert!(text.contains("http_requests_in_flight 0"));
        for family in [
            "process_cpu_seconds_total",
            "process_resident_memory_bytes",
            "tokio_alive_tasks",
            "tokio_workers",
        ] {
            assert!(text.contains(&format!("# TYPE {family} ")), "{family} missing:\n{text}");
        }
        // Not counted: /metrics itself.
        assert!(!text.contains("route=\"/metrics\""));
    }
}
