//! A lab server's `/metrics`, sampled during a run: a time series per query, in the report and its HTML charts.
//!
//! The lab table shows how a run ended; some lessons are in how it went: memory that climbs steadily (a leak, with
//! its slope), event-loop lag that spikes when a CPU-bound request arrives, a queue that fills and drains. This is
//! the seed's "monitoring loop during load tests", done by the harness: a thread scrapes the server every
//! `every` (1 s by default, like a Prometheus scraping at its tightest common interval) from the start of the
//! load to its end, and each query in [`query`] turns consecutive scrapes into points.
//!
//! Sampling costs the server a scrape per interval (rendering its exposition): cheap for a lab's few series, and
//! off unless the lab's `[sampling]` section or `--sample` asks for it, so the lessons that measure CPU or memory
//! are not disturbed by default.

pub mod exposition;
pub mod query;

use std::net::SocketAddr;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

pub use query::Query;
use query::Reading;

/// What to sample: named queries, how often.
#[derive(Debug, Clone, PartialEq)]
pub struct Sampling {
    /// Time between scrapes.
    pub every: Duration,
    /// `(name, query)`, in the order given.
    pub series: Vec<(String, Query)>,
}

/// The default interval.
pub const EVERY: Duration = Duration::from_secs(1);

impl Sampling {
    /// Parses `--sample` arguments: `NAME=QUERY`, or a bare `QUERY` named after its metric.
    pub fn parse_arg(arg: &str) -> Result<(String, Query), String> {
        let (name, text) = match arg.split_once('=') {
            // `name=query`, but not a matcher's `=` inside braces or parentheses.
            Some((name, rest)) if !name.contains(['{', '(']) => (Some(name.trim().to_string()), rest),
            _ => (None, arg),
        };
        let query: Query = text.parse()?;
        let name = name.unwrap_or_else(|| default_name(&query));
        Ok((name, query))
    }
}

/// A query's name when none is given: its metric's, with `_rate` or `_p99` for the derived shapes.
fn default_name(query: &Query) -> String {
    match query {
        Query::Value(s) => s.name.clone(),
        Query::Rate(s) => format!("{}_rate", s.name),
        Query::Quantile(q, s) => format!("{}_p{}", s.name, (q * 100.0 * 10.0).round() / 10.0),
    }
}

/// The time series of one variant's run.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Timeline {
    /// Milliseconds between scrapes.
    pub every_ms: u64,
    /// Scrapes answered.
    pub scrapes: u64,
    /// Scrapes that failed (no answer in time, not 200, not parseable), with the first reason.
    pub scrape_errors: u64,
    /// Why the first failed scrape failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_error: Option<String>,
    /// By name.
    pub series: std::collections::BTreeMap<String, Series>,
}

/// One query over the run.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Series {
    /// The query, as PromQL.
    pub query: String,
    /// What a point counts: `bytes`, `seconds`, `per_second` (a rate) or empty (a plain number).
    #[serde(default)]
    pub unit: String,
    /// `[seconds since the load began, value]`.
    pub points: Vec<[f64; 2]>,
    /// The smallest point.
    pub min: Option<f64>,
    /// The largest point.
    pub max: Option<f64>,
    /// The last point.
    pub last: Option<f64>,
    /// Least-squares slope, per second, of a value query: how fast it climbs (memory in a leak) or falls.
    pub slope_per_s: Option<f64>,
}

/// Scrapes `addr`'s `/metrics` every `sampling.every` until `stop` is dropped (or sent to), then once more, and
/// returns the timeline. Runs on the caller's thread: start it beside the load.
pub fn sample(addr: SocketAddr, sampling: &Sampling, stop: mpsc::Receiver<()>) -> Timeline {
    let began = Instant::now();
    let mut timeline = Timeline {
        every_ms: sampling.every.as_millis() as u64,
        ..Timeline::default()
    };
    let mut previous: Vec<Option<Reading>> = vec![None; sampling.series.len()];
    let mut previous_at = 0.0;
    let mut points: Vec<Vec<[f64; 2]>> = vec![Vec::new(); sampling.series.len()];
    let mut next = began;
    loop {
        // Wait for the next tick; the load's end (the sender dropped) cuts the wait short for a last scrape.
        let last_round = !matches!(
            stop.recv_timeout(next.saturating_duration_since(Instant::now())),
            Err(mpsc::RecvTimeoutError::Timeout)
        );
        let at = began.elapsed().as_secs_f64();
        match scrape(addr) {
            Ok(scrape) => {
                timeline.scrapes += 1;
                for (i, (_, query)) in sampling.series.iter().enumerate() {
                    let Some(now) = query.read(&scrape) else { continue };
                    let interval = at - previous_at;
                    // The last scrape comes as soon as the load ends: a rate or a quantile over a sliver of an
                    // interval is noise, so only a value (memory now) is kept from a short one.
                    let whole = interval >= sampling.every.as_secs_f64() / 2.0 || matches!(query, Query::Value(_));
                    if let Some(value) = query.point(previous[i].as_ref(), &now, interval).filter(|_| whole) {
                        points[i].push([round_ms(at), value]);
                    }
                    previous[i] = Some(now);
                }
                previous_at = at;
            }
            Err(e) => {
                timeline.scrape_errors += 1;
                timeline.first_error.get_or_insert(e);
            }
        }
        if last_round {
            break;
        }
        next += sampling.every;
    }
    for ((name, query), points) in sampling.series.iter().zip(points) {
        timeline.series.insert(name.clone(), Series::new(query, points));
    }
    timeline
}

fn round_ms(seconds: f64) -> f64 {
    (seconds * 1000.0).round() / 1000.0
}

/// One scrape, parsed.
fn scrape(addr: SocketAddr) -> Result<Vec<exposition::Sample>, String> {
    let (status, body) =
        crate::probe::get(addr, "/metrics", Duration::from_secs(2)).map_err(|e| crate::error_chain(&e))?;
    if status != 200 {
        return Err(format!("GET /metrics answered {status}"));
    }
    exposition::parse(&String::from_utf8_lossy(&body)).map_err(|e| format!("/metrics is not Prometheus text: {e}"))
}

impl Series {
    fn new(query: &Query, points: Vec<[f64; 2]>) -> Series {
        let values = points.iter().map(|p| p[1]);
        Series {
            query: query.to_string(),
            unit: unit(query).into(),
            min: values.clone().min_by(f64::total_cmp),
            max: values.max_by(f64::total_cmp),
            last: points.last().map(|p| p[1]),
            // A level's slope says something (memory climbing 1 MiB a second); a rate's or a quantile's wobble
            // does not, and is left out.
            slope_per_s: matches!(query, Query::Value(_)).then(|| slope(&points)).flatten(),
            points,
        }
    }
}

/// The unit of a query's points, from the Prometheus naming convention (`_bytes`, `_seconds`).
fn unit(query: &Query) -> &'static str {
    match query {
        Query::Rate(_) => "per_second",
        Query::Value(s) | Query::Quantile(_, s) if s.name.ends_with("_bytes") => "bytes",
        Query::Value(s) | Query::Quantile(_, s) if s.name.ends_with("_seconds") => "seconds",
        _ => "",
    }
}

impl Series {
    /// A point's value for people: MiB, a duration, a rate.
    pub fn human(&self, value: f64) -> String {
        match self.unit.as_str() {
            "bytes" => format!("{:.1} MiB", value / 1048576.0),
            "seconds" => lab_load_generator::report::human_us((value * 1e6).round().max(0.0) as u64),
            "per_second" => format!("{}/s", plain(value)),
            _ => plain(value),
        }
    }

    /// One line: first → last, the range, the slope.
    pub fn summary(&self) -> String {
        let (Some(first), Some(last), Some(min), Some(max)) =
            (self.points.first().map(|p| p[1]), self.last, self.min, self.max)
        else {
            return format!("{}: no points", self.query);
        };
        let mut line = format!(
            "{}: {} → {} (min {}, max {}",
            self.query,
            self.human(first),
            self.human(last),
            self.human(min),
            self.human(max)
        );
        if let Some(slope) = self.slope_per_s {
            let sign = if slope < 0.0 { "-" } else { "+" };
            line += &format!(", slope {sign}{} a second", self.human(slope.abs()));
        }
        line += &format!(", {} points)", self.points.len());
        line
    }
}

fn plain(value: f64) -> String {
    if value.abs() >= 100.0 || value == value.trunc() {
        format!("{value:.0}")
    } else {
        format!("{value:.3}")
    }
}

/// The least-squares slope of `points` (`None` for fewer than two distinct times).
pub fn slope(points: &[[f64; 2]]) -> Option<f64> {
    let n = points.len() as f64;
    if points.len() < 2 {
        return None;
    }
    let mean_t = points.iter().map(|p| p[0]).sum::<f64>() / n;
    let mean_v = points.iter().map(|p| p[1]).sum::<f64>() / n;
    let spread: f64 = points.iter().map(|p| (p[0] - mean_t).powi(2)).sum();
    if spread == 0.0 {
        return None;
    }
    Some(points.iter().map(|p| (p[0] - mean_t) * (p[1] - mean_v)).sum::<f64>() / spread)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sample_arguments_take_an_optional_name() {
        let (name, query) = Sampling::parse_arg("rss=process_resident_memory_bytes").unwrap();
        assert_eq!(
            (name.as_str(), query.to_string().as_str()),
            ("rss", "process_resident_memory_bytes")
        );
        let (name, _) = Sampling::parse_arg("histogram_quantile(0.99, event_loop_lag_seconds)").unwrap();
        assert_eq!(name, "event_loop_lag_seconds_p99");
        let (name, _) = Sampling::parse_arg("rate(http_requests_total{status=\"500\"})").unwrap();
        assert_eq!(name, "http_requests_total_rate");
        assert!(Sampling::parse_arg("rss=").is_err());
    }

    #[test]
    fn the_slope_of_a_steady_climb_is_its_rate() {
        let points: Vec<[f64; 2]> = (0..10).map(|t| [t as f64, 100.0 + 2.5 * t as f64]).collect();
        assert!((slope(&points).unwrap() - 2.5).abs() < 1e-9);
        assert_eq!(slope(&points[..1]), None);
    }
}
