//! Capacity search: the highest arrival rate at which a service still meets an objective (`p99<50ms`).
//!
//! The seed guide's `runStressTest` raises the number of virtual users until errors appear and calls the last good
//! level the capacity. That measures the tester as much as the service (a closed loop slows down with the server),
//! and "no errors yet" is not an objective anyone promised. This search keeps what is right about it — step up
//! until it breaks — and measures each step the honest way:
//!
//! - every step is a fixed-rate (open model) run of its own, long enough to be judged, latency from the due time;
//! - a step *meets* the objective when every threshold holds, nothing was dropped and errors stayed within the
//!   objective's limit (an error is never fast enough);
//! - the rate doubles until a step misses, then the search bisects between the last rate met and the first missed
//!   until they are within `precision` of each other;
//! - the answer is confirmed by a run three steps long (a queue that grows slowly shows only in a longer run); if it
//!   misses there, the search bisects again below it;
//! - a step whose generator was saturated proves nothing about the server, nor one whose verdict the generator's
//!   own lateness could flip (a latency is read as anywhere between `value − send lag p99` and `value`, as the
//!   harness reads lessons): the search stops there and reports only that the capacity is *at least* the last rate
//!   met. A late generator that cannot change the verdict (3 ms of lag against a 500 ms objective) is no reason to
//!   stop.

mod html;

use std::time::Duration;

use serde::Serialize;

use crate::plan::{LoadError, Plan};
use crate::report::{LoadReport, Percentiles};
use crate::schedule::Mode;
use crate::threshold::Threshold;

/// How to search.
#[derive(Debug, Clone)]
pub struct Search {
    /// The first rate tried, in requests per second.
    pub start_rps: f64,
    /// Unmeasured warm-up of each step.
    pub warmup: Duration,
    /// Measured length of each step.
    pub step: Duration,
    /// Stop bisecting once the highest rate met is within this fraction of the lowest missed (0.05 = 5%).
    pub precision: f64,
    /// Most steps in all.
    pub max_steps: usize,
}

impl Default for Search {
    fn default() -> Self {
        Search {
            start_rps: 100.0,
            warmup: Duration::from_secs(1),
            step: Duration::from_secs(5),
            precision: 0.05,
            max_steps: 20,
        }
    }
}

/// How one step went.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "verdict", content = "why")]
pub enum Verdict {
    /// Every threshold held.
    Met,
    /// These thresholds (or drops) failed.
    Missed(Vec<String>),
    /// The generator could not keep the schedule: the step says nothing about the server.
    GeneratorLimit(Vec<String>),
}

/// One step of the search, as the table and the report show it.
#[derive(Debug, Clone, Serialize)]
pub struct Step {
    /// The rate asked for.
    pub target_rps: f64,
    /// A longer run at the answer, checking it (see [`search`]).
    pub confirmation: bool,
    /// The rate achieved.
    pub achieved_rps: f64,
    /// Latency from the due time, µs.
    pub p50_us: u64,
    /// 95th percentile, µs.
    pub p95_us: u64,
    /// 99th percentile, µs.
    pub p99_us: u64,
    /// Failed requests.
    pub errors: u64,
    /// Requests never sent.
    pub dropped: u64,
    /// The generator's send lag p99, µs.
    pub send_lag_p99_us: u64,
    /// The verdict.
    #[serde(flatten)]
    pub verdict: Verdict,
}

/// The result of a search.
#[derive(Debug, Clone, Serialize)]
pub struct Capacity {
    /// The objective, as written.
    pub objective: Vec<String>,
    /// Every step, in the order run.
    pub steps: Vec<Step>,
    /// The highest rate that met the objective, if any did.
    pub capacity_rps: Option<f64>,
    /// True when the search stopped before finding a rate that missed (the generator's limit, or the step budget):
    /// the capacity is then a lower bound.
    pub at_least: bool,
    /// True when the answer also met the objective over a run three steps long.
    pub confirmed: bool,
    /// Why the search ended, in a sentence.
    pub ended: String,
}

/// Judges one step's report against the objective.
pub fn judge(report: &LoadReport, objective: &[Threshold]) -> Verdict {
    if report.generator.saturated() {
        return Verdict::GeneratorLimit(report.generator.invalid_reasons.clone());
    }
    let mut missed: Vec<String> = objective.iter().filter_map(|t| t.check(report).err()).collect();
    // Missed as measured, but met if the generator's lateness was all in the measurement: undecided.
    let lag = report.generator.send_lag_us.p99;
    if !missed.is_empty() && lag > 0 {
        let optimistic = at_lower_bound(report);
        if objective.iter().all(|t| t.check(&optimistic).is_ok()) {
            return Verdict::GeneratorLimit(vec![format!(
                "the generator's send lag (p99 {}) could be what missed the objective",
                crate::report::human_us(lag)
            )]);
        }
    }
    if report.dropped > 0 {
        missed.push(format!(
            "{} requests were never sent: the service fell behind",
            report.dropped
        ));
    }
    if missed.is_empty() {
        Verdict::Met
    } else {
        Verdict::Missed(missed)
    }
}

/// `report` with every latency at the lower end of what the generator's error allows
/// ([`crate::report::GeneratorReport::latency_bounds`]): the most of it the generator's lateness can explain.
fn at_lower_bound(report: &LoadReport) -> LoadReport {
    let generator = &report.generator;
    let shift = |p: &mut Percentiles| {
        let low = |v: &mut u64| *v = generator.latency_bounds(*v as f64).0 as u64;
        for v in [&mut p.p50, &mut p.p90, &mut p.p99, &mut p.p999, &mut p.max] {
            low(v);
        }
        if let Some(v) = &mut p.p95 {
            low(v);
        }
    };
    let mut r = report.clone();
    shift(&mut r.latency_us);
    for named in r.by_name.values_mut() {
        shift(&mut named.latency_us);
    }
    r
}

/// The next rate to try, given the highest rate met and the lowest missed so far; `None` when the search is done.
pub fn next_rate(met: Option<f64>, missed: Option<f64>, start: f64, precision: f64) -> Option<f64> {
    match (met, missed) {
        (None, None) => Some(start),
        // Still meeting it: double.
        (Some(lo), None) => Some(lo * 2.0),
        // Missed from the start: halve, down to one request a second.
        (None, Some(hi)) => (hi / 2.0 >= 1.0).then_some(hi / 2.0),
        // Bisect until the bracket is tight.
        (Some(lo), Some(hi)) => (hi > lo * (1.0 + precision)).then_some((lo + hi) / 2.0),
    }
}

/// Runs the search on `base` (its target, requests, connections and threads; its mode is replaced by each step's
/// fixed rate). `on_step` sees each step as it completes.
pub fn search(
    base: &Plan,
    objective: &[Threshold],
    how: &Search,
    mut on_step: impl FnMut(&Step),
) -> Result<Capacity, LoadError> {
    let mut steps = Vec::new();
    let (mut met, mut missed) = (None::<f64>, None::<f64>);
    let mut met_rates: Vec<f64> = Vec::new();
    let mut ended = String::new();
    let mut at_least = false;
    let mut confirmed = false;
    let mut run_step = |step_rate: f64, length: Duration, confirmation: bool, steps: &mut Vec<Step>| {
        let mut plan = base.clone();
        plan.mode = Mode::fixed_rate(step_rate, how.warmup, Duration::ZERO, length);
        plan.progress = Default::default();
        let report = crate::run(&plan)?;
        let verdict = judge(&report, objective);
        let step = Step {
            target_rps: step_rate,
            confirmation,
            achieved_rps: report.achieved_rps,
            p50_us: report.latency_us.p50,
            p95_us: report.latency_us.p95.unwrap_or(report.latency_us.p99),
            p99_us: report.latency_us.p99,
            errors: report.errors,
            dropped: report.dropped,
            send_lag_p99_us: report.generator.send_lag_us.p99,
            verdict: verdict.clone(),
        };
        on_step(&step);
        steps.push(step);
        Ok::<_, LoadError>(verdict)
    };
    let generator_limit = |step_rate: f64, why: &[String]| {
        format!(
            "the generator could not judge {} req/s on this machine ({}): the service's capacity is at least the last rate met, and no higher rate was measured",
            rate(step_rate),
            why.join("; ")
        )
    };
    'search: for _ in 0..=CONFIRMATIONS {
        // Bracket: double while met, then bisect.
        while let Some(step_rate) = next_rate(met, missed, how.start_rps, how.precision) {
            if steps.len() >= how.max_steps {
                at_least = missed.is_none();
                ended = format!("stopped after {} steps", how.max_steps);
                break 'search;
            }
            match run_step(step_rate, how.step, false, &mut steps)? {
                Verdict::Met => {
                    met = Some(step_rate);
                    met_rates.push(step_rate);
                }
                Verdict::Missed(_) => missed = Some(step_rate),
                Verdict::GeneratorLimit(why) => {
                    at_least = true;
                    ended = generator_limit(step_rate, &why);
                    break 'search;
                }
            }
        }
        // Confirm: a queue that grows slowly shows only in a longer run. If the answer misses there, it was not
        // the capacity: bisect again below it.
        let Some(answer) = met else { break };
        match run_step(answer, how.step * CONFIRMATION_LENGTH, true, &mut steps)? {
            Verdict::Met => {
                confirmed = true;
                break;
            }
            Verdict::Missed(_) => {
                missed = Some(answer);
                met_rates.retain(|r| *r < answer);
                met = met_rates.iter().copied().reduce(f64::max);
            }
            Verdict::GeneratorLimit(why) => {
                at_least = true;
                ended = generator_limit(answer, &why);
                break;
            }
        }
    }
    if ended.is_empty() {
        ended = match (met, missed) {
            (Some(lo), Some(hi)) if confirmed => format!(
                "{} req/s met the objective, also over a run {CONFIRMATION_LENGTH}x as long, and {} req/s did not",
                rate(lo),
                rate(hi)
            ),
            (Some(lo), _) => format!(
                "{} req/s met the objective in steps but no answer was confirmed",
                rate(lo)
            ),
            (None, Some(_)) => "no rate down to 1 req/s met the objective".into(),
            _ => "done".into(),
        };
    }
    Ok(Capacity {
        objective: objective.iter().map(|t| t.text().to_string()).collect(),
        steps,
        capacity_rps: if confirmed || at_least { met } else { None },
        at_least,
        confirmed,
        ended,
    })
}

/// How many times an answer may fail its confirmation before the search gives up.
const CONFIRMATIONS: usize = 3;
/// A confirmation run is this many steps long.
const CONFIRMATION_LENGTH: u32 = 3;

impl Capacity {
    /// The steps as a terminal table, and the answer under it.
    pub fn table(&self) -> String {
        let mut t = comfy_table::Table::new();
        t.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED);
        t.set_header([
            "target req/s",
            "step",
            "achieved",
            "p50",
            "p95",
            "p99",
            "errors",
            "dropped",
            "send lag p99",
            "verdict",
        ]);
        for s in &self.steps {
            let verdict = match &s.verdict {
                Verdict::Met => "✓ met".to_string(),
                Verdict::Missed(why) => format!("✗ {}", why.join("; ")),
                Verdict::GeneratorLimit(_) => "⚠ generator limit".to_string(),
            };
            t.add_row([
                rate(s.target_rps),
                if s.confirmation {
                    "confirm".into()
                } else {
                    String::new()
                },
                rate(s.achieved_rps),
                crate::report::human_us(s.p50_us),
                crate::report::human_us(s.p95_us),
                crate::report::human_us(s.p99_us),
                s.errors.to_string(),
                s.dropped.to_string(),
                crate::report::human_us(s.send_lag_p99_us),
                verdict,
            ]);
        }
        let answer = match self.capacity_rps {
            Some(r) if self.at_least => format!(
                "capacity: at least {} req/s meeting {}",
                rate(r),
                self.objective.join(", ")
            ),
            Some(r) => format!("capacity: {} req/s meeting {}", rate(r), self.objective.join(", ")),
            None => format!("capacity: no rate met {}", self.objective.join(", ")),
        };
        format!("{t}\n{answer} ({})", self.ended)
    }
}

/// A rate as people read it: whole requests per second, a decimal below 100.
pub(crate) fn rate(r: f64) -> String {
    if r >= 100.0 {
        format!("{r:.0}")
    } else {
        format!("{r:.1}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step_report(p99_us: u64, lag_p99_us: u64, busiest: f64, dropped: u64) -> LoadReport {
        let lag = serde_json::json!({ "p50": 0, "p90": 0, "p99": lag_p99_us, "p999": lag_p99_us, "max": lag_p99_us });
        let json = serde_json::json!({
            "load": { "mode": "fixed-rate", "target_rps": 100.0, "duration_s": 1.0, "connections": 1 },
            "achieved_rps": 100.0, "requests": 100, "errors": 0, "dropped": dropped, "late": 0,
            "latency_us": { "p50": 10, "p90": 20, "p99": p99_us, "p999": p99_us, "max": p99_us },
            "service_us": { "p50": 0, "p90": 0, "p99": 0, "p999": 0, "max": 0 },
            "connect_us": { "p50": 0, "p90": 0, "p99": 0, "p999": 0, "max": 0 },
            "connects": 1, "outcomes": {}, "throughput_per_s": [], "latency_spectrum": [],
            "generator": { "threads": 1, "cpu_seconds": 0.1, "busiest_thread_load": busiest, "send_lag_us": lag,
                "valid": lag_p99_us < 1000, "invalid_reasons": [], "notes": [] }
        });
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn a_late_generator_stops_the_search_only_when_its_lag_could_flip_the_verdict() {
        let objective: Vec<Threshold> = vec!["p99<500ms".parse().unwrap()];
        // 3 ms of lag beside a 400 ms p99: met whatever the lag (the run is "invalid", the verdict is not).
        assert_eq!(judge(&step_report(400_000, 3_000, 0.2, 0), &objective), Verdict::Met);
        // 510 ms with 3 ms of lag: missed at both ends.
        assert!(matches!(
            judge(&step_report(510_000, 3_000, 0.2, 0), &objective),
            Verdict::Missed(_)
        ));
        // 510 ms with 20 ms of lag: the server's part may be 490 ms. Undecided: the generator's limit.
        assert!(matches!(
            judge(&step_report(510_000, 20_000, 0.2, 0), &objective),
            Verdict::GeneratorLimit(_)
        ));
        // A saturated generator proves nothing, met or not.
        assert!(matches!(
            judge(&step_report(100_000, 0, 0.99, 0), &objective),
            Verdict::GeneratorLimit(_)
        ));
        // Requests never sent: the service fell behind, whatever the percentiles say.
        assert!(matches!(
            judge(&step_report(100_000, 0, 0.2, 5), &objective),
            Verdict::Missed(_)
        ));
    }

    #[test]
    fn the_rate_doubles_until_a_miss_then_bisects_to_the_precision() {
        let next = |met, missed| next_rate(met, missed, 100.0, 0.05);
        assert_eq!(next(None, None), Some(100.0));
        assert_eq!(next(Some(100.0), None), Some(200.0));
        assert_eq!(next(Some(800.0), Some(1600.0)), Some(1200.0));
        assert_eq!(next(Some(1000.0), Some(1040.0)), None, "within 5%: done");
        assert_eq!(next(None, Some(100.0)), Some(50.0), "missed from the start: halve");
        assert_eq!(next(None, Some(1.5)), None, "nothing below 1 req/s");
    }

    #[test]
    fn a_search_converges_on_a_simulated_service() {
        // A service that meets the objective up to 3300 req/s: the bracket closes around it.
        let (mut met, mut missed) = (None, None);
        let mut steps = 0;
        while let Some(rate) = next_rate(met, missed, 100.0, 0.05) {
            steps += 1;
            if rate <= 3300.0 {
                met = Some(rate)
            } else {
                missed = Some(rate)
            }
        }
        let (lo, hi) = (met.unwrap(), missed.unwrap());
        assert!(lo <= 3300.0 && hi > 3300.0 && hi <= lo * 1.05, "{lo}..{hi}");
        assert!(steps <= 12, "{steps} steps");
    }
}
