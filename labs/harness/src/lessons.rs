//! Judging a lab's claims. A lesson is a *ratio* between two variants measured in the same run on the same
//! machine — never an absolute time, which would only describe the machine.
//!
//! For a metric where lower is better (latency, queries) the ratio is `baseline / variant`; where higher is better
//! (throughput) it is `variant / baseline`. Either way, "at least 10" means "the variant wins by 10×".

use lab_load_generator::report::human_us;
use serde::{Deserialize, Serialize};

use crate::manifest::{Better, Exercise, Lesson};
pub use crate::metric::metric_value;
use crate::report::VariantResult;

/// A lesson's verdict in one run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Verdict {
    /// The sentence.
    pub claim: String,
    /// The metric compared.
    pub metric: String,
    /// Which way is better.
    pub better: Better,
    /// Compared against.
    pub baseline: String,
    /// Should win.
    pub variant: String,
    /// The ratio the claim needs.
    pub expected_ratio: f64,
    /// The most the winner's value may be, besides the ratio (a reload must lose zero requests, not merely fewer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant_at_most: Option<f64>,
    /// The ratio measured; `null` when it could not be judged.
    pub observed_ratio: Option<f64>,
    /// The baseline's value of the metric.
    pub baseline_value: Option<f64>,
    /// The variant's value.
    pub variant_value: Option<f64>,
    /// Whether the claim held in this run.
    pub holds: bool,
    /// Why it was not judged, when it was not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl Verdict {
    /// `✓ claim — 812.0× (needs ≥ 50×)`.
    pub fn line(&self) -> String {
        match (self.observed_ratio, &self.note) {
            (Some(ratio), _) => format!(
                "{} {} — measured {}{}× (needs ≥ {}×{}; {} {} vs {} {})",
                if self.holds { "✓" } else { "✗" },
                self.claim,
                // A zero denominator was read as one: the true ratio is at least this (unbounded).
                if self.denominator() == Some(0.0) { "≥ " } else { "" },
                round(ratio),
                round(self.expected_ratio),
                match self.variant_at_most {
                    Some(most) => format!(" and {} ≤ {}", self.variant, self.show(most)),
                    None => String::new(),
                },
                self.baseline,
                self.show(self.baseline_value.unwrap_or_default()),
                self.variant,
                self.show(self.variant_value.unwrap_or_default()),
            ),
            (None, note) => format!(
                "? {} — not judged: {}",
                self.claim,
                note.as_deref().unwrap_or("no data")
            ),
        }
    }
}

impl Verdict {
    /// The value the ratio divides by: the winner's for lower-is-better, the baseline's for higher-is-better.
    fn denominator(&self) -> Option<f64> {
        match self.better {
            Better::Lower => self.variant_value,
            Better::Higher => self.baseline_value,
        }
    }

    /// A metric's value with its unit: `482.30ms`, `81299 req/s`, `1200`.
    fn show(&self, value: f64) -> String {
        if self.metric.contains("_us.") {
            human_us(value as u64)
        } else if self.metric == "achieved_rps" || self.metric == "goodput.rps" {
            format!("{value:.0} req/s")
        } else if self.metric == "server.cpu_us_per_request" {
            format!("{value:.1} µs of CPU per request")
        } else {
            round(value)
        }
    }
}

/// A ratio or value with as many decimals as it deserves: `812`, `17.3`, `0.93`.
pub fn round(x: f64) -> String {
    if x >= 100.0 {
        format!("{x:.0}")
    } else if x >= 10.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.2}")
    }
}

/// Judges every lesson against the variants that ran.
pub fn judge(lessons: &[Lesson], results: &[VariantResult]) -> Vec<Verdict> {
    lessons.iter().map(|lesson| judge_one(lesson, results)).collect()
}

/// The range the true value of `metric` lies in, given what the generator may have got wrong in this run.
///
/// This is how a run that was not perfect can still be judged honestly: a lesson is left unjudged only when the
/// generator's error could change its verdict, not whenever the generator had a bad moment.
///
/// - Counters (`counters.*`) and the server's own CPU (`server.*`) are measured at the server: the generator cannot
///   have got them wrong.
/// - Latencies and throughputs: the generator's own rule ([`lab_load_generator::report::GeneratorReport`]'s
///   `latency_bounds` and `throughput_bounds`), the same one its capacity search judges steps with.
pub fn generator_error_bounds(result: &VariantResult, metric: &str, value: f64) -> (f64, f64) {
    let generator = &result.load.generator;
    if metric.starts_with("counters.") || metric.starts_with("server.") {
        (value, value)
    } else if metric.contains("_us.") {
        generator.latency_bounds(value)
    } else {
        generator.throughput_bounds(value)
    }
}

/// What the generator may have got wrong in one variant's run, in words: `naive: send lag p99 2.10ms`.
fn generator_error(result: &VariantResult) -> String {
    let generator = &result.load.generator;
    if generator.saturated() {
        format!(
            "{}: generator {:.0}% busy",
            result.name,
            generator.busiest_thread_load * 100.0
        )
    } else {
        format!("{}: send lag p99 {}", result.name, human_us(generator.send_lag_us.p99))
    }
}

/// A ratio of one metric between two variants, and the range it could have had within the generator's error.
struct Ratio {
    measured: f64,
    lowest: f64,
    highest: f64,
}

impl Ratio {
    /// `numerator / denominator`, each a variant and its value of `metric`. A zero is read as one (so "no queries
    /// at all" gives a finite ratio, a lower bound) — except where the error range reaches zero: that end is ∞.
    fn of(metric: &str, numerator: (&VariantResult, f64), denominator: (&VariantResult, f64)) -> Ratio {
        let nonzero = |x: f64| if x == 0.0 { 1.0 } else { x };
        let (n_low, n_high) = generator_error_bounds(numerator.0, metric, numerator.1);
        let (d_low, d_high) = generator_error_bounds(denominator.0, metric, denominator.1);
        Ratio {
            measured: numerator.1 / nonzero(denominator.1),
            lowest: n_low / nonzero(d_high),
            highest: if d_low == 0.0 && d_high > 0.0 {
                f64::INFINITY
            } else {
                n_high / nonzero(d_low)
            },
        }
    }

    /// The verdict of `passes` when it is the same across the whole range; `None` when the generator's error could
    /// change it.
    fn decided(&self, passes: impl Fn(f64) -> bool) -> Option<bool> {
        (passes(self.lowest) == passes(self.highest)).then(|| passes(self.measured))
    }

    /// `4.00× to 10.0×`.
    fn range(&self) -> String {
        let highest = if self.highest.is_finite() {
            round(self.highest)
        } else {
            "∞".into()
        };
        format!("{}× to {highest}×", round(self.lowest))
    }
}

fn judge_one(lesson: &Lesson, results: &[VariantResult]) -> Verdict {
    let mut verdict = Verdict {
        claim: lesson.claim.clone(),
        metric: lesson.metric.clone(),
        better: lesson.better,
        baseline: lesson.baseline.clone(),
        variant: lesson.variant.clone(),
        expected_ratio: lesson.at_least,
        variant_at_most: lesson.variant_at_most,
        observed_ratio: None,
        baseline_value: None,
        variant_value: None,
        holds: false,
        note: None,
    };
    let find = |name: &str| results.iter().find(|r| r.name == name);
    let (Some(base), Some(var)) = (find(&lesson.baseline), find(&lesson.variant)) else {
        verdict.note = Some("both variants must run in the same session".into());
        return verdict;
    };
    let (Some(b), Some(v)) = (metric_value(base, &lesson.metric), metric_value(var, &lesson.metric)) else {
        verdict.note = Some(format!("{} was not measured", lesson.metric));
        return verdict;
    };
    verdict.baseline_value = Some(b);
    verdict.variant_value = Some(v);
    // The winner's value is the numerator: baseline / variant when lower is better, variant / baseline otherwise.
    let ratio = match lesson.better {
        Better::Lower => Ratio::of(&lesson.metric, (base, b), (var, v)),
        Better::Higher => Ratio::of(&lesson.metric, (var, v), (base, b)),
    };
    let Some(holds) = ratio.decided(|r| r >= lesson.at_least) else {
        verdict.note = Some(format!(
            "the generator's error could change the verdict: measured {}×, but anywhere from {} within its error ({}; {}) — run it again on a quieter machine",
            round(ratio.measured),
            ratio.range(),
            generator_error(base),
            generator_error(var),
        ));
        return verdict;
    };
    verdict.observed_ratio = Some(ratio.measured);
    verdict.holds = holds && lesson.variant_at_most.is_none_or(|most| v <= most);
    verdict
}

/// An exercise's performance gate, judged in one run: the learner's variant against the reference's.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GateVerdict {
    /// `<lab>/<exercise>`-style name of the exercise.
    pub exercise: String,
    /// The metric compared.
    pub metric: String,
    /// The learner's variant.
    pub variant: String,
    /// The variant compared against (the reference).
    pub relative_to: String,
    /// The largest ratio allowed.
    pub at_most: f64,
    /// variant / relative_to, when both were measured.
    pub observed_ratio: Option<f64>,
    /// Whether the gate passed.
    pub passed: bool,
    /// Why it failed or was not judged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl GateVerdict {
    /// `✓ gate single-flight: counters.db_queries 1.02× of single-flight (at most 2×)`.
    pub fn line(&self) -> String {
        let mark = if self.passed { "✓" } else { "✗" };
        match self.observed_ratio {
            Some(r) => format!(
                "{mark} gate {}: {} is {}× the {}'s (at most {}×){}",
                self.exercise,
                self.metric,
                round(r),
                self.relative_to,
                round(self.at_most),
                self.note.as_deref().map(|n| format!(" — {n}")).unwrap_or_default()
            ),
            None => format!(
                "{mark} gate {}: {} not judged: {}",
                self.exercise,
                self.metric,
                self.note.as_deref().unwrap_or("no data")
            ),
        }
    }
}

/// Judges the gates of every exercise whose variant ran, against its reference variant in the same run.
pub fn judge_gates(exercises: &[Exercise], results: &[VariantResult]) -> Vec<GateVerdict> {
    let find = |name: &str| results.iter().find(|r| r.name == name);
    let mut verdicts = Vec::new();
    for exercise in exercises {
        let Some(learner) = find(&exercise.perf_variant) else {
            continue;
        };
        for gate in &exercise.gate {
            let mut verdict = GateVerdict {
                exercise: exercise.name.clone(),
                metric: gate.metric.clone(),
                variant: learner.name.clone(),
                relative_to: gate.relative_to.clone(),
                at_most: gate.at_most,
                observed_ratio: None,
                passed: false,
                note: None,
            };
            match find(&gate.relative_to) {
                None => {
                    verdict.note = Some(format!(
                        "run --variant {} too: the gate compares within one run",
                        gate.relative_to
                    ))
                }
                Some(reference) => {
                    if let (Some(l), Some(r)) = (
                        metric_value(learner, &gate.metric),
                        metric_value(reference, &gate.metric),
                    ) {
                        let ratio = Ratio::of(&gate.metric, (learner, l), (reference, r));
                        let Some(within) = ratio.decided(|x| x <= gate.at_most) else {
                            verdict.note = Some(format!(
                                "the generator's error could change the verdict ({}× measured, {} within its error): run it again on a quieter machine",
                                round(ratio.measured),
                                ratio.range(),
                            ));
                            verdicts.push(verdict);
                            continue;
                        };
                        verdict.observed_ratio = Some(ratio.measured);
                        // Failed requests count against the learner only beyond what the reference had in the same
                        // run: a bounded pool sheds by design when the machine is busy, reference and learner alike.
                        let (mine, theirs) = (learner.load.errors, reference.load.errors);
                        let far_beyond = mine > theirs.saturating_mul(2) && mine > theirs + 5;
                        let too_many_errors = far_beyond || (theirs == 0 && mine > 0);
                        verdict.passed = within && !too_many_errors;
                        if too_many_errors {
                            verdict.note = Some(format!("{mine} of your requests failed (the reference: {theirs})"));
                        }
                    } else {
                        verdict.note = Some(format!("{} was not measured", gate.metric));
                    }
                }
            }
            verdicts.push(verdict);
        }
    }
    verdicts
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::Gate;

    #[test]
    fn goodput_is_a_metric_lessons_can_name() {
        let mut slow = result("slow", 10_000, 0, 1, 0);
        let mut fast = result("fast", 1_000, 0, 1, 0);
        for (r, rps) in [(&mut slow, 0.0), (&mut fast, 900.0)] {
            r.load.goodput = Some(lab_load_generator::report::Goodput {
                slo_ms: 500.0,
                requests: (rps * 5.0) as u64,
                rps,
            });
        }
        let v = judge(&[lesson("goodput.rps", Better::Higher, 5.0)], &[slow, fast]);
        assert_eq!((v[0].observed_ratio, v[0].holds), (Some(900.0), true));
        // None of the baseline's requests met the objective: the ratio is a lower bound, and says so.
        assert!(
            v[0].line().contains("≥ 900×") && v[0].line().contains("0 req/s"),
            "{}",
            v[0].line()
        );
    }

    /// A variant's result; `lag` is the generator's send lag p99 in µs (0 for a perfect generator).
    fn result(name: &str, p99: u64, errors: u64, queries: u64, lag: u64) -> VariantResult {
        let zero = serde_json::json!({ "p50": 0, "p90": 0, "p99": 0, "p999": 0, "max": 0 });
        let valid = lag <= 1000;
        let lag = serde_json::json!({ "p50": lag, "p90": lag, "p99": lag, "p999": lag, "max": lag });
        serde_json::from_value(serde_json::json!({
            "name": name,
            "load": { "mode": "fixed-rate", "target_rps": 100.0, "duration_s": 1.0, "connections": 1 },
            "achieved_rps": 100.0, "requests": 100, "errors": errors, "dropped": 0, "late": 0,
            "latency_us": { "p50": 1, "p90": 1, "p99": p99, "p999": p99, "max": p99 },
            "service_us": zero, "connect_us": zero, "connects": 1, "outcomes": {},
            "throughput_per_s": [], "latency_spectrum": [],
            "generator": { "threads": 1, "cpu_seconds": 0.1, "busiest_thread_load": 0.1, "send_lag_us": lag,
                "valid": valid, "invalid_reasons": [], "notes": [] },
            "server": { "rss_peak_bytes": 1, "cpu_seconds": 0.1 },
            "counters": { "db_queries": queries }
        }))
        .unwrap()
    }

    fn lesson(metric: &str, better: Better, at_least: f64) -> Lesson {
        Lesson {
            claim: "c".into(),
            metric: metric.into(),
            better,
            baseline: "slow".into(),
            variant: "fast".into(),
            at_least,
            variant_at_most: None,
        }
    }

    #[test]
    fn lessons_are_ratios_in_the_better_direction() {
        let results = [result("slow", 10_000, 0, 500, 0), result("fast", 1_000, 0, 0, 0)];
        let v = judge(&[lesson("latency_us.p99", Better::Lower, 5.0)], &results);
        assert_eq!((v[0].observed_ratio, v[0].holds), (Some(10.0), true));
        // Zero queries in the winner is read as one: 500x, a lower bound.
        let v = judge(&[lesson("counters.db_queries", Better::Lower, 1000.0)], &results);
        assert_eq!((v[0].observed_ratio, v[0].holds), (Some(500.0), false));
        assert!(v[0].line().contains("measured ≥ 500×"), "{}", v[0].line());
        let v = judge(&[lesson("achieved_rps", Better::Higher, 1.0)], &results);
        assert_eq!(v[0].observed_ratio, Some(1.0));
    }

    #[test]
    fn a_bound_on_the_winner_must_hold_besides_the_ratio() {
        let mut zero = lesson("counters.db_queries", Better::Lower, 10.0);
        zero.variant_at_most = Some(0.0);
        // 500 against 0: the ratio holds and so does the bound.
        let v = judge(
            std::slice::from_ref(&zero),
            &[result("slow", 1, 0, 500, 0), result("fast", 1, 0, 0, 0)],
        );
        assert!(v[0].holds, "{}", v[0].line());
        assert!(v[0].line().contains("and fast ≤ 0"), "{}", v[0].line());
        // 500 against 1: 500x is plenty, but one is not zero.
        let v = judge(&[zero], &[result("slow", 1, 0, 500, 0), result("fast", 1, 0, 1, 0)]);
        assert_eq!(
            (v[0].observed_ratio, v[0].holds),
            (Some(500.0), false),
            "{}",
            v[0].line()
        );
    }

    #[test]
    fn a_lesson_is_unjudged_only_when_the_generators_error_could_flip_it() {
        let p99 = lesson("latency_us.p99", Better::Lower, 5.0);
        // 10 ms vs 1 ms: 10x. A 2 ms send lag cannot bring it under 5x (8 ms / 1 ms at worst): judged, and holds.
        let v = judge(
            std::slice::from_ref(&p99),
            &[result("slow", 10_000, 0, 1, 2_000), result("fast", 1_000, 0, 1, 0)],
        );
        assert_eq!((v[0].observed_ratio, v[0].holds), (Some(10.0), true), "{:?}", v[0]);
        // A 6 ms lag could: 4 ms / 1 ms is under 5x. Not judged, and the line says why, with the range.
        let v = judge(
            std::slice::from_ref(&p99),
            &[result("slow", 10_000, 0, 1, 6_000), result("fast", 1_000, 0, 1, 0)],
        );
        assert!(v[0].observed_ratio.is_none(), "{:?}", v[0]);
        assert!(
            v[0].line().contains("could change the verdict") && v[0].line().contains("4.00× to 10.0×"),
            "{}",
            v[0].line()
        );
        // A failing verdict is judged when even the most favourable reading fails: 3 ms vs 1 ms with a 0.5 ms lag
        // on the winner is at most 6x... which would pass 5x, so it is not judged; with no lag it fails outright.
        let v = judge(
            std::slice::from_ref(&p99),
            &[result("slow", 3_000, 0, 1, 0), result("fast", 1_000, 0, 1, 500)],
        );
        assert!(v[0].observed_ratio.is_none(), "{:?}", v[0]);
        let v = judge(
            std::slice::from_ref(&p99),
            &[result("slow", 3_000, 0, 1, 0), result("fast", 1_000, 0, 1, 0)],
        );
        assert_eq!((v[0].observed_ratio, v[0].holds), (Some(3.0), false));
        // Counters are the server's: however late the generator, they are judged.
        let queries = lesson("counters.db_queries", Better::Lower, 5.0);
        let v = judge(
            &[queries],
            &[result("slow", 1, 0, 100, 50_000), result("fast", 1, 0, 10, 50_000)],
        );
        assert_eq!((v[0].observed_ratio, v[0].holds), (Some(10.0), true));
    }

    #[test]
    fn a_missing_run_is_not_judged() {
        let v = judge(
            &[lesson("latency_us.p99", Better::Lower, 5.0)],
            &[result("fast", 1_000, 0, 1, 0)],
        );
        assert!(v[0].note.as_deref().unwrap().contains("same session"));
    }

    #[test]
    fn gates_compare_the_learner_with_the_reference_and_fail_on_errors() {
        let exercise = Exercise {
            name: "ex".into(),
            starter: "s".into(),
            reference: "r".into(),
            package: "p".into(),
            hints: vec!["h".into()],
            grader: "g".into(),
            perf_variant: "learner".into(),
            gate: vec![Gate {
                metric: "counters.db_queries".into(),
                at_most: 2.0,
                relative_to: "reference".into(),
            }],
        };
        let judge = |learner: VariantResult| {
            judge_gates(
                std::slice::from_ref(&exercise),
                &[learner, result("reference", 1, 0, 100, 0)],
            )
        };
        assert!(judge(result("learner", 1, 0, 150, 0))[0].passed);
        let too_many = &judge(result("learner", 1, 0, 250, 0))[0];
        assert_eq!((too_many.observed_ratio, too_many.passed), (Some(2.5), false));
        let failing = &judge(result("learner", 1, 7, 100, 0))[0];
        assert!(!failing.passed && failing.note.as_deref() == Some("7 of your requests failed (the reference: 0)"));
        // The queries are counted by the server: a lagging generator does not stop the gate from being judged.
        let lagging = &judge(result("learner", 1, 0, 100, 20_000))[0];
        assert!(lagging.passed && lagging.observed_ratio == Some(1.0), "{lagging:?}");
        // Shedding as much as the reference did in the same run is not held against the learner.
        let busy = judge_gates(
            std::slice::from_ref(&exercise),
            &[result("learner", 1, 40, 100, 0), result("reference", 1, 30, 100, 0)],
        );
        assert!(busy[0].passed, "{:?}", busy[0]);
        assert!(
            judge_gates(&[exercise], &[result("reference", 1, 0, 1, 0)]).is_empty(),
            "no learner run, no gate"
        );
    }
}
