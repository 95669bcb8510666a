//! The result of a run: what was asked, what was achieved, latency percentiles, and the generator's self-check.
//!
//! The JSON field names follow the run report contract in DESIGN.md (`achieved_rps`, `requests`, `errors`,
//! `dropped`, `latency_us { p50, p90, p99, p999, max }` …); the harness embeds this object per variant.

use std::collections::BTreeMap;
use std::time::Duration;

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

use crate::plan::Plan;
use crate::recorder::{NamedStats, Recorder};
use crate::schedule::{Mode, Schedule};

/// Latency percentiles in microseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Percentiles {
    /// Median.
    pub p50: u64,
    /// 90th percentile.
    pub p90: u64,
    /// 95th percentile (the seed guide's key figure beside p99). Absent in reports written before it was added.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p95: Option<u64>,
    /// 99th percentile.
    pub p99: u64,
    /// 99.9th percentile.
    pub p999: u64,
    /// Slowest.
    pub max: u64,
}

impl Percentiles {
    /// Reads the percentiles off a histogram (all zero when it is empty).
    pub fn of(h: &Histogram<u64>) -> Percentiles {
        if h.is_empty() {
            return Percentiles::default();
        }
        Percentiles {
            p50: h.value_at_quantile(0.50),
            p90: h.value_at_quantile(0.90),
            p95: Some(h.value_at_quantile(0.95)),
            p99: h.value_at_quantile(0.99),
            p999: h.value_at_quantile(0.999),
            max: h.max(),
        }
    }
}

/// The load that was asked for.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LoadSpec {
    /// `fixed-rate` or `closed`.
    pub mode: String,
    /// Requests per second asked for (fixed-rate only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_rps: Option<f64>,
    /// Length of the measured window, seconds.
    pub duration_s: f64,
    /// Connections used.
    pub connections: usize,
    /// How arrivals were spaced (fixed-rate only): `even` or `poisson`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arrivals: Option<String>,
}

/// One named request's share of the results.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NamedReport {
    /// Requests attempted in the measured window.
    pub requests: u64,
    /// Of which failed (status >= 400, connect, timeout, i/o).
    pub errors: u64,
    /// Latency (from the due time in the open model).
    pub latency_us: Percentiles,
    /// Service time (from the send).
    pub service_us: Percentiles,
}

/// How the generator itself fared: a run it could not drive is not a measurement of the server.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GeneratorReport {
    /// Generator threads.
    pub threads: usize,
    /// CPU time all generator threads used.
    pub cpu_seconds: f64,
    /// Busiest thread's CPU time over its wall time (1.0 = saturated).
    pub busiest_thread_load: f64,
    /// How late connections waiting for a due time were woken (open model).
    pub send_lag_us: Percentiles,
    /// How the generator's threads were scheduled: `SCHED_FIFO` (ahead of everything, where permitted),
    /// `nice -10`, or `nice 0` when it could not raise its priority (lab servers run at nice 19).
    #[serde(default)]
    pub priority: String,
    /// False when the generator could not keep its schedule: do not quote the numbers.
    pub valid: bool,
    /// Why it is not valid.
    pub invalid_reasons: Vec<String>,
    /// Things worth knowing that do not invalidate the run.
    pub notes: Vec<String>,
}

/// Goodput: the throughput that met a latency objective. In the closed model a server can post a high request
/// rate by answering slowly to many connections at once; goodput counts only the successful responses that
/// arrived within the objective, which is the throughput users get.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct Goodput {
    /// The objective, in milliseconds.
    pub slo_ms: f64,
    /// Successful requests in the measured window that met it.
    pub requests: u64,
    /// Those per second.
    pub rps: f64,
}

/// The whole result of a run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LoadReport {
    /// What was asked.
    pub load: LoadSpec,
    /// Responses per second received in the measured window.
    pub achieved_rps: f64,
    /// Requests attempted in the measured window.
    pub requests: u64,
    /// Of which failed.
    pub errors: u64,
    /// Requests never sent because the run's deadline passed (open model).
    pub dropped: u64,
    /// Requests sent more than 1 ms behind schedule because every connection was busy (open model).
    pub late: u64,
    /// Idempotent requests sent again on a new connection because a kept-alive one was closed by the server
    /// before any byte of the response (the keep-alive race). Each is counted once, with its one outcome.
    #[serde(default)]
    pub retried: u64,
    /// Latency: from the due time (open model) or the send (closed model).
    pub latency_us: Percentiles,
    /// Service time, from the send: what a naive timer would report.
    pub service_us: Percentiles,
    /// TCP connect time (meaningful with a new connection per request).
    pub connect_us: Percentiles,
    /// TCP connections opened.
    pub connects: u64,
    /// Time to first byte of the answered requests: from the send to the response's first byte. An export that
    /// streams starts answering long before it ends; one that builds its whole body first does not.
    #[serde(default)]
    pub ttfb_us: Percentiles,
    /// Request bytes written in the measured window (bodies included; an upload cut short by an early answer
    /// counts what left).
    #[serde(default)]
    pub bytes_sent: u64,
    /// Response bytes read in the measured window, heads and bodies as they came over the wire (compressed, when
    /// the server compressed).
    #[serde(default)]
    pub bytes_received: u64,
    /// `bytes_received` per answered request.
    #[serde(default)]
    pub bytes_per_response: f64,
    /// Outcome counts: status codes, `connect`, `timeout`, `io`.
    pub outcomes: BTreeMap<String, u64>,
    /// Per named request, when there is more than one.
    #[serde(skip_serializing_if = "BTreeMap::is_empty", default)]
    pub by_name: BTreeMap<String, NamedReport>,
    /// Responses per second of the run, warm-up included, for each whole second of the schedule.
    pub throughput_per_s: Vec<u64>,
    /// (percentile, µs) pairs for a latency spectrum chart.
    pub latency_spectrum: Vec<(f64, u64)>,
    /// Throughput at the latency objective, when the plan had one.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub goodput: Option<Goodput>,
    /// The measured window's slowest requests, slowest first, with their paths (HTTP runs).
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub slowest: Vec<crate::recorder::SlowRequest>,
    /// The generator's self-check.
    pub generator: GeneratorReport,
    /// Full latency histogram, for thresholds, merging and charts (not serialised).
    #[serde(skip)]
    pub histogram: Option<Histogram<u64>>,
    /// Per-second histograms for an interval log: (second, request name, histogram).
    #[serde(skip)]
    pub intervals: Vec<(u64, String, Histogram<u64>)>,
}

/// Wall and CPU time of one generator thread.
#[derive(Debug, Clone, Copy)]
pub struct ThreadUsage {
    /// From thread start to end.
    pub wall: Duration,
    /// CPU time, when /proc could tell.
    pub cpu: Option<Duration>,
    /// How the thread was scheduled (see `pacer::raise_priority`).
    pub priority: crate::pacer::Priority,
}

/// Percentiles a spectrum chart plots: denser towards the tail, where the lessons are.
const SPECTRUM: [f64; 12] = [
    0.0, 0.5, 0.75, 0.9, 0.95, 0.99, 0.995, 0.999, 0.9995, 0.9999, 0.99999, 1.0,
];

/// A generator thread busier than this could not have kept a schedule (open model), may have been the limit of the
/// throughput it measured (closed model), and may have read responses late.
pub const SATURATED_LOAD: f64 = 0.95;
/// The generator's promise: sends leave within 1 ms of their due time at p99 (see `pacer`). A run that broke it
/// is not quoted; whether a lesson can still be judged from it depends on the size of the lag against what the
/// lesson compares (the harness decides that, from `send_lag_us`).
pub const MAX_SEND_LAG_P99_US: u64 = 1_000;

impl GeneratorReport {
    /// True when a generator thread was busy past [`SATURATED_LOAD`]: it may have read every answer late.
    pub fn saturated(&self) -> bool {
        self.busiest_thread_load > SATURATED_LOAD
    }

    /// The range the server's own share of a latency measured as `value_us` lies in. A thread that woke up to
    /// `send_lag_us.p99` late to send was as late to read the answer, so at least `value − lag`; a saturated
    /// generator may have read every answer late, so nothing below `value` is ruled out. The capacity search and
    /// the labs' lessons judge with this one rule.
    pub fn latency_bounds(&self, value_us: f64) -> (f64, f64) {
        if self.saturated() {
            (0.0, value_us)
        } else {
            ((value_us - self.send_lag_us.p99 as f64).max(0.0), value_us)
        }
    }

    /// The range a throughput measured as `value` lies in: a saturated generator's figure is its own ceiling, so
    /// the server's is at least that.
    pub fn throughput_bounds(&self, value: f64) -> (f64, f64) {
        if self.saturated() {
            (value, f64::INFINITY)
        } else {
            (value, value)
        }
    }
}

/// What the generator's own figures say about a run: reasons it is not a valid measurement, and notes.
///
/// A run that keeps a schedule (fixed rate, arriving virtual users, WebSocket messages at a rate) is invalid when
/// a generator thread was saturated or sends left more than [`MAX_SEND_LAG_P99_US`] late at p99. The closed
/// model runs flat out by design, so a saturated generator there is a note: its capacity may be the generator's.
/// Every engine judges its run with this one function.
pub(crate) fn generator_verdict(
    keeps_schedule: bool,
    busiest: f64,
    send_lag_p99_us: u64,
) -> (Vec<String>, Vec<String>) {
    let (mut invalid, mut notes) = (Vec::new(), Vec::new());
    if busiest > SATURATED_LOAD && !keeps_schedule {
        notes.push(format!(
            "the generator was {:.0}% busy: this capacity may be the generator's limit as much as the server's",
            busiest * 100.0
        ));
    } else if busiest > SATURATED_LOAD {
        invalid.push(format!(
            "a generator thread was busy {:.0}% of the time: it could not keep up; add --threads or lower the load",
            busiest * 100.0
        ));
    }
    if keeps_schedule && send_lag_p99_us > MAX_SEND_LAG_P99_US {
        invalid.push(format!(
            "send lag p99 was {:.1} ms: requests left later than due because the generator was starved of CPU",
            send_lag_p99_us as f64 / 1000.0
        ));
    }
    (invalid, notes)
}

/// The weakest priority any generator thread ran at: that is the one that could have kept a send waiting.
fn priority_label(usage: &[ThreadUsage]) -> String {
    use crate::pacer::Priority;
    let weakest = usage.iter().map(|u| u.priority).max_by_key(|p| match p {
        Priority::Realtime => i32::MIN,
        Priority::Nice(n) => *n,
    });
    weakest.map_or_else(String::new, Priority::label)
}

pub(crate) fn build(plan: &Plan, schedule: Option<&Schedule>, rec: &Recorder, usage: &[ThreadUsage]) -> LoadReport {
    let keeps_schedule = matches!(plan.mode, Mode::FixedRate { .. });
    assemble(plan, schedule, rec, usage, keeps_schedule)
}

/// [`build`], saying whether the run kept a schedule (the virtual users of an Artillery run do, though their
/// report is laid out as a closed run's: no single target rate).
pub(crate) fn assemble(
    plan: &Plan,
    schedule: Option<&Schedule>,
    rec: &Recorder,
    usage: &[ThreadUsage],
    keeps_schedule: bool,
) -> LoadReport {
    let total: NamedStats = rec.total();
    let (mode, target_rps, window) = match (&plan.mode, schedule) {
        (Mode::FixedRate { phases }, Some(s)) => {
            let steady = phases.iter().find(|p| p.steady).map_or(0.0, |p| p.to_rps);
            ("fixed-rate", Some(steady), s.steady_window().1)
        }
        (Mode::Closed { duration, .. }, _) => ("closed", None, *duration),
        (Mode::FixedRate { .. }, None) => unreachable!("fixed rate always has a schedule"),
    };
    let failures: u64 = ["connect", "timeout", "io"]
        .iter()
        .filter_map(|k| total.outcomes.get(*k))
        .sum();
    let responses = total.requests - failures;
    let achieved_rps = responses as f64 / window.as_secs_f64().max(1e-9);

    let cpu: Option<Duration> = usage.iter().map(|u| u.cpu).sum();
    let busiest = usage
        .iter()
        .filter_map(|u| u.cpu.map(|c| c.as_secs_f64() / u.wall.as_secs_f64().max(1e-9)))
        .fold(0.0, f64::max);
    let send_lag = Percentiles::of(&rec.send_lag);
    let (invalid, mut notes) = generator_verdict(keeps_schedule, busiest, send_lag.p99);
    if rec.dropped > 0 {
        notes.push(format!(
            "{} requests were never sent before the deadline: the server fell behind the schedule",
            rec.dropped
        ));
    }
    if total.requests > 0 && rec.late as f64 / total.requests as f64 > 0.1 {
        notes.push(format!(
            "{:.0}% of sends found all {} connections busy and waited: the server fell behind this rate (Little's law: connections ≥ rate × latency); the wait is counted in their latency",
            rec.late as f64 * 100.0 / total.requests as f64,
            plan.connections
        ));
    }

    let by_name = if plan.requests.len() > 1 {
        plan.requests
            .iter()
            .zip(&rec.by_name)
            .map(|(spec, s)| {
                let report = NamedReport {
                    requests: s.requests,
                    errors: s.errors,
                    latency_us: Percentiles::of(&s.latency),
                    service_us: Percentiles::of(&s.service),
                };
                (spec.name.clone(), report)
            })
            .collect()
    } else {
        BTreeMap::new()
    };
    let intervals = rec
        .intervals
        .iter()
        .flatten()
        .map(|((second, name), h)| (*second, plan.requests[*name].name.clone(), h.clone()))
        .collect();
    // Whole seconds of the schedule only: a last, partial second (responses that drained after the schedule's end)
    // would chart as a collapse in throughput that did not happen.
    let length = match (&plan.mode, schedule) {
        (_, Some(s)) => s.length(),
        (Mode::Closed { warmup, duration }, None) => *warmup + *duration,
        (Mode::FixedRate { .. }, None) => unreachable!("fixed rate always has a schedule"),
    };
    let mut timeline = rec.timeline.clone();
    timeline.truncate(length.as_secs_f64().floor().max(1.0) as usize);
    let latency_spectrum = if total.latency.is_empty() {
        Vec::new()
    } else {
        SPECTRUM
            .iter()
            .map(|q| (q * 100.0, total.latency.value_at_quantile(*q)))
            .collect()
    };

    LoadReport {
        load: LoadSpec {
            mode: mode.into(),
            target_rps,
            duration_s: window.as_secs_f64(),
            connections: plan.connections,
            arrivals: (mode == "fixed-rate").then(|| plan.arrivals.name().to_string()),
        },
        achieved_rps,
        requests: total.requests,
        errors: total.errors,
        dropped: rec.dropped,
        late: rec.late,
        retried: rec.retried,
        latency_us: Percentiles::of(&total.latency),
        service_us: Percentiles::of(&total.service),
        connect_us: Percentiles::of(&rec.connect),
        connects: rec.connect.len(),
        ttfb_us: Percentiles::of(&rec.ttfb),
        bytes_sent: rec.bytes_sent,
        bytes_received: rec.bytes_received,
        bytes_per_response: if rec.ttfb.is_empty() {
            0.0
        } else {
            rec.bytes_received as f64 / rec.ttfb.len() as f64
        },
        outcomes: total.outcomes,
        by_name,
        throughput_per_s: timeline,
        latency_spectrum,
        goodput: rec.slo_us.map(|slo_us| Goodput {
            slo_ms: slo_us as f64 / 1000.0,
            requests: rec.within_slo,
            rps: rec.within_slo as f64 / window.as_secs_f64().max(1e-9),
        }),
        slowest: rec.slowest.clone(),
        generator: GeneratorReport {
            threads: plan.threads,
            cpu_seconds: cpu.map_or(0.0, |c| c.as_secs_f64()),
            busiest_thread_load: busiest,
            send_lag_us: send_lag,
            priority: priority_label(usage),
            valid: invalid.is_empty(),
            invalid_reasons: invalid,
            notes,
        },
        histogram: Some(total.latency),
        intervals,
    }
}

/// Formats microseconds for people: `850µs`, `12.3ms`, `1.52s`.
pub fn human_us(us: u64) -> String {
    match us {
        0..=999 => format!("{us}µs"),
        1_000..=999_999 => format!("{:.2}ms", us as f64 / 1e3),
        _ => format!("{:.2}s", us as f64 / 1e6),
    }
}

/// Formats a byte count for people: `512 B`, `12.3 KiB`, `48.0 MiB`.
pub fn human_bytes(bytes: f64) -> String {
    match bytes {
        b if b < 1024.0 => format!("{b:.0} B"),
        b if b < 1024.0 * 1024.0 => format!("{:.1} KiB", b / 1024.0),
        b if b < 1024.0 * 1024.0 * 1024.0 => format!("{:.1} MiB", b / (1024.0 * 1024.0)),
        b => format!("{:.2} GiB", b / (1024.0 * 1024.0 * 1024.0)),
    }
}

impl LoadReport {
    /// The percentile table `cargo xtask load` prints on stdout.
    pub fn table(&self) -> String {
        let mut t = comfy_table::Table::new();
        t.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED);
        t.set_header([
            "request", "requests", "errors", "p50", "p90", "p95", "p99", "p99.9", "max",
        ]);
        let row = |name: &str, requests: u64, errors: u64, p: &Percentiles| {
            vec![
                name.to_string(),
                requests.to_string(),
                errors.to_string(),
                human_us(p.p50),
                human_us(p.p90),
                p.p95.map_or("–".into(), human_us),
                human_us(p.p99),
                human_us(p.p999),
                human_us(p.max),
            ]
        };
        for (name, r) in &self.by_name {
            t.add_row(row(name, r.requests, r.errors, &r.latency_us));
        }
        let label = if self.load.mode == "fixed-rate" {
            "all (from due time)"
        } else {
            "all"
        };
        t.add_row(row(label, self.requests, self.errors, &self.latency_us));
        if self.load.mode == "fixed-rate" {
            t.add_row(row(
                "all (service time only)",
                self.requests,
                self.errors,
                &self.service_us,
            ));
        }
        let mut out = t.to_string();
        out.push('\n');
        out.push_str(&self.summary());
        out
    }

    /// The lines under the table: rates, errors, the generator's self-check.
    pub fn summary(&self) -> String {
        let mut lines = Vec::new();
        match self.load.target_rps {
            None if self.load.mode == "virtual-users" => lines.push(format!(
                "rate: {:.1} req/s over {:.1}s from virtual users (open model: users arrive on schedule; each \
                 sends its requests one after another) · at most {} alive at once",
                self.achieved_rps, self.load.duration_s, self.load.connections
            )),
            Some(target) => lines.push(format!(
                "rate: {:.1} req/s achieved of {:.0} target over {:.1}s · {} connections · {} late · {} dropped",
                self.achieved_rps, target, self.load.duration_s, self.load.connections, self.late, self.dropped
            )),
            None => lines.push(format!(
                "rate: {:.1} req/s over {:.1}s with {} connections (closed model: capacity, not user latency)",
                self.achieved_rps, self.load.duration_s, self.load.connections
            )),
        }
        if let Some(g) = self.goodput {
            lines.push(format!(
                "goodput: {:.1} req/s answered successfully within {} ({} requests)",
                g.rps,
                human_us((g.slo_ms * 1000.0) as u64),
                g.requests
            ));
        }
        let outcomes: Vec<String> = self.outcomes.iter().map(|(k, v)| format!("{k}: {v}")).collect();
        lines.push(format!("outcomes: {}", outcomes.join(", ")));
        if self.connects > 0 {
            lines.push(format!(
                "connects: {} · connect time p50 {} p99 {}",
                self.connects,
                human_us(self.connect_us.p50),
                human_us(self.connect_us.p99)
            ));
        }
        if self.bytes_received > 0 {
            lines.push(format!(
                "transfer: {} sent, {} received ({} per response) · time to first byte p50 {} p95 {} p99 {}",
                human_bytes(self.bytes_sent as f64),
                human_bytes(self.bytes_received as f64),
                human_bytes(self.bytes_per_response),
                human_us(self.ttfb_us.p50),
                self.ttfb_us.p95.map_or("–".into(), human_us),
                human_us(self.ttfb_us.p99)
            ));
        }
        if let Some(slowest) = self.slowest.first() {
            lines.push(format!(
                "slowest: {} {} → {} at {:.1}s{}",
                human_us(slowest.latency_us),
                slowest.request,
                slowest.outcome,
                slowest.at_ms as f64 / 1000.0,
                if self.slowest.len() > 1 {
                    format!(" (the {} slowest are in the JSON report)", self.slowest.len())
                } else {
                    String::new()
                }
            ));
        }
        let g = &self.generator;
        lines.push(format!(
            "generator: {} thread(s), {:.2}s CPU ({:.1} µs/request), busiest thread {:.0}% busy, send lag p99 {}",
            g.threads,
            g.cpu_seconds,
            if self.requests > 0 {
                g.cpu_seconds * 1e6 / self.requests as f64
            } else {
                0.0
            },
            g.busiest_thread_load * 100.0,
            human_us(g.send_lag_us.p99)
        ));
        for note in &g.notes {
            lines.push(format!("note: {note}"));
        }
        for reason in &g.invalid_reasons {
            lines.push(format!("INVALID: {reason}"));
        }
        lines.join("\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_microseconds_for_people() {
        assert_eq!(human_us(850), "850µs");
        assert_eq!(human_us(12_345), "12.35ms");
        assert_eq!(human_us(1_520_000), "1.52s");
        assert_eq!(human_bytes(512.0), "512 B");
        assert_eq!(human_bytes(48.0 * 1024.0 * 1024.0), "48.0 MiB");
    }

    #[test]
    fn empty_histograms_give_zero_percentiles() {
        assert_eq!(
            Percentiles::of(&crate::recorder::new_histogram()),
            Percentiles::default()
        );
    }
}
