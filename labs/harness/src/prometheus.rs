//! `--prometheus`: a private Prometheus scraping each variant's server during its run, and the p99 it computes
//! from the latency histogram's buckets, written beside the load generator's own.
//!
//! The two rarely agree, and neither is wrong. The generator times every request, from when it was due to be sent,
//! into an HDR histogram with three significant digits. Prometheus sees only the server's bucket counts, once a
//! second, and `histogram_quantile` interpolates linearly inside the bucket the 99th percentile falls in: with
//! buckets at 1 ms and 2.5 ms, a true p99 of 1.1 ms and one of 2.4 ms can read alike. The server's clock also starts
//! when the request reaches the handler, so the queueing before it, which the generator counts, is not in it.
//!
//! Each variant gets its own Prometheus (own port, data in a temporary folder, 1 s scrapes), started after the
//! server is healthy and stopped with it, so no series outlives its variant. Prometheus runs at `nice 19`, like the
//! servers: its scrapes must not take CPU from the generator.

use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::error::{Context, RunError};
use crate::process::OwnedChild;

/// The histogram lab-kit's middleware records request latency in.
pub const LATENCY_HISTOGRAM: &str = "http_request_duration_seconds";

/// What Prometheus said about one variant's run.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct PrometheusReading {
    /// The PromQL evaluated at the end of the run.
    pub query: String,
    /// Its answer, in µs; `None` when the server records no request latency histogram.
    pub p99_us: Option<f64>,
    /// The range `rate()` looked back over: the measured part of the run.
    pub window_s: u64,
    /// Scrapes Prometheus made of the server during the run.
    pub scrapes: u64,
    /// Why there is no p99, when there is none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Where the `prometheus` executable is, if it is installed.
pub fn installed() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join("prometheus"))
        .find(|p| p.is_file())
}

/// What to tell someone who asked for `--prometheus` without Prometheus.
pub const NOT_INSTALLED: &str =
    "--prometheus needs the `prometheus` executable on PATH: `sudo apt-get install prometheus` \
     on Debian or Ubuntu, `brew install prometheus` on macOS, or a release from prometheus.io/download";

/// A Prometheus of our own, scraping one server.
pub struct PrivatePrometheus {
    process: OwnedChild,
    addr: SocketAddr,
    /// Its config, data and log; removed on drop.
    dir: tempfile::TempDir,
}

impl PrivatePrometheus {
    /// Starts Prometheus scraping `target`'s `/metrics` every second, and waits until it is ready and has scraped
    /// the target once.
    pub fn start(target: SocketAddr) -> Result<PrivatePrometheus, RunError> {
        let binary = installed().ok_or_else(|| RunError::BadInput(NOT_INSTALLED.into()))?;
        let dir = tempfile::Builder::new()
            .prefix("workbench-prometheus-")
            .tempdir()
            .context("making Prometheus's folder")?;
        let config = dir.path().join("prometheus.yml");
        std::fs::write(
            &config,
            format!(
                "global:\n  scrape_interval: 1s\n  scrape_timeout: 900ms\n  evaluation_interval: 1s\n\
                 scrape_configs:\n  - job_name: lab\n    static_configs:\n      - targets: ['{target}']\n"
            ),
        )
        .context("writing prometheus.yml")?;
        let addr = free_loopback_port()?;
        let log = std::fs::File::create(dir.path().join("prometheus.log")).context("creating Prometheus's log")?;
        let mut command = Command::new(&binary);
        command
            .arg(format!("--config.file={}", config.display()))
            .arg(format!("--storage.tsdb.path={}", dir.path().join("data").display()))
            .arg(format!("--web.listen-address={addr}"))
            .arg("--log.level=warn")
            .stdin(Stdio::null())
            .stdout(log.try_clone().context("Prometheus's log")?)
            .stderr(log);
        let process = OwnedChild::spawn(&mut command).with_context(|| format!("starting {}", binary.display()))?;
        let mut prometheus = PrivatePrometheus { process, addr, dir };
        prometheus.wait_until(Duration::from_secs(30), "ready", |p| {
            Ok(crate::probe::get(p.addr, "/-/ready", Duration::from_secs(1)).is_ok_and(|(status, _)| status == 200))
        })?;
        prometheus.wait_until(Duration::from_secs(10), "its first scrape of the server", |p| {
            Ok(p.query("up", None)?.is_some_and(|up| up == 1.0))
        })?;
        Ok(prometheus)
    }

    /// Polls `done` until it says yes, failing after `within` (or at once if Prometheus exited) with its log.
    fn wait_until(
        &mut self,
        within: Duration,
        what: &str,
        mut done: impl FnMut(&Self) -> Result<bool, RunError>,
    ) -> Result<(), RunError> {
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            if let Some(status) = self.process.try_wait() {
                return Err(RunError::environment(format!(
                    "Prometheus exited ({status}) before {what}; its log:\n{}",
                    self.log_tail()
                )));
            }
            if done(self).unwrap_or(false) {
                return Ok(());
            }
            // A pause between polls, not a sleep standing in for readiness.
            std::thread::sleep(Duration::from_millis(100));
        }
        Err(RunError::environment(format!(
            "Prometheus on {} did not get to {what} within {within:?}; its log:\n{}",
            self.addr,
            self.log_tail()
        )))
    }

    fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(self.dir.path().join("prometheus.log")).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(10)..].join("\n")
    }

    /// Evaluates an instant query (at `at`, or now) and returns the first result's value: `None` for an empty
    /// result or NaN.
    pub fn query(&self, promql: &str, at: Option<SystemTime>) -> Result<Option<f64>, RunError> {
        let mut params = form_urlencoded::Serializer::new(String::new());
        params.append_pair("query", promql);
        if let Some(at) = at {
            let seconds = at.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs_f64();
            params.append_pair("time", &format!("{seconds:.3}"));
        }
        let path = format!("/api/v1/query?{}", params.finish());
        let (status, body) = crate::probe::get(self.addr, &path, Duration::from_secs(5))?;
        let answer: QueryAnswer = serde_json::from_slice(&body)
            .with_context(|| format!("Prometheus's answer to {promql:?} (status {status})"))?;
        if answer.status != "success" {
            return Err(RunError::environment(format!(
                "Prometheus could not evaluate {promql:?}: {}",
                answer.error.unwrap_or_default()
            )));
        }
        let value = answer
            .data
            .and_then(|d| d.result.into_iter().next())
            .and_then(|r| r.value.1.parse::<f64>().ok())
            .filter(|v| !v.is_nan());
        Ok(value)
    }

    /// After a run that ended at `ended`, whose measured part lasted `measured`: waits for a scrape after the end,
    /// then asks for the p99 over the measured part, as a dashboard would.
    pub fn reading(mut self, ended: SystemTime, measured: Duration) -> Result<PrometheusReading, RunError> {
        let ended_s = ended.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs_f64();
        self.wait_until(Duration::from_secs(5), "a scrape after the run", |p| {
            Ok(p.query("timestamp(up)", None)?.is_some_and(|t| t >= ended_s))
        })?;
        let window_s = measured.as_secs().max(2);
        let query = format!("histogram_quantile(0.99, sum by (le) (rate({LATENCY_HISTOGRAM}_bucket[{window_s}s])))");
        let at = Some(SystemTime::now());
        let p99 = self.query(&query, at)?;
        let scrapes = self
            .query(&format!("count_over_time(up[{}s])", window_s + 2), at)?
            .unwrap_or(0.0) as u64;
        let note = match p99 {
            Some(_) => None,
            None if self.query(&format!("count({LATENCY_HISTOGRAM}_bucket)"), at)?.is_none() => Some(format!(
                "this variant's /metrics has no {LATENCY_HISTOGRAM}: its requests are not instrumented"
            )),
            None => Some("no requests were observed in the window".into()),
        };
        self.process.stop(Duration::from_secs(5));
        Ok(PrometheusReading {
            query,
            p99_us: p99.map(|s| s * 1e6),
            window_s,
            scrapes,
            note,
        })
    }
}

/// A loopback port nobody is listening on (Prometheus binds it a moment later).
fn free_loopback_port() -> Result<SocketAddr, RunError> {
    let listener = TcpListener::bind("127.0.0.1:0").context("finding a free port for Prometheus")?;
    listener.local_addr().context("finding a free port for Prometheus")
}

#[derive(Deserialize)]
struct QueryAnswer {
    status: String,
    error: Option<String>,
    data: Option<QueryData>,
}

#[derive(Deserialize)]
struct QueryData {
    result: Vec<QueryResult>,
}

#[derive(Deserialize)]
struct QueryResult {
    value: (f64, String),
}
