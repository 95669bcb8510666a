//! Judging a lab's claims. A lesson is a *ratio* between two variants measured in the same run on the same
//! machine — never an absolute time, which would only describe the machine.
//!
//! For a metric where lower is better (latency, queries) the ratio is `baseline / variant`; where higher is better
//! (throughput) it is `variant / baseline`. Either way, "at least 10" means "the variant wins by 10×".

use lab_load_generator::report::human_us;
use serde::{Deserialize, Serialize};

use crate::manifest::{Better, Lesson};
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
                "{} {} — measured {}× (needs ≥ {}×; {} {} vs {} {})",
                if self.holds { "✓" } else { "✗" },
                self.claim,
                round(ratio),
                round(self.expected_ratio),
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
    /// A metric's value with its unit: `482.30ms`, `81299 req/s`, `1200`.
    fn show(&self, value: f64) -> String {
        if self.metric.contains("_us.") {
            human_us(value as u64)
        } else if self.metric == "achieved_rps" {
            format!("{value:.0} req/s")
        } else {
            round(value)
        }
    }
}

fn round(x: f64) -> String {
    if x >= 100.0 {
        format!("{x:.0}")
    } else if x >= 10.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.2}")
    }
}

/// Reads a dotted metric (`latency_us.p99`, `counters.db_queries`) off a variant's result.
pub fn metric_value(result: &VariantResult, metric: &str) -> Option<f64> {
    if let Some(counter) = metric.strip_prefix("counters.") {
        return result.counters.get(counter).and_then(|n| n.as_f64());
    }
    let json = serde_json::to_value(result).ok()?;
    json.pointer(&format!("/{}", metric.replace('.', "/")))?.as_f64()
}

/// Judges every lesson against the variants that ran.
pub fn judge(lessons: &[Lesson], results: &[VariantResult]) -> Vec<Verdict> {
    lessons.iter().map(|lesson| judge_one(lesson, results)).collect()
}

fn judge_one(lesson: &Lesson, results: &[VariantResult]) -> Verdict {
    let mut verdict = Verdict {
        claim: lesson.claim.clone(),
        metric: lesson.metric.clone(),
        better: lesson.better,
        baseline: lesson.baseline.clone(),
        variant: lesson.variant.clone(),
        expected_ratio: lesson.at_least,
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
    for r in [base, var] {
        if !r.load.generator.valid {
            verdict.note = Some(format!("the run of {} is not a valid measurement", r.name));
            return verdict;
        }
    }
    let (Some(b), Some(v)) = (metric_value(base, &lesson.metric), metric_value(var, &lesson.metric)) else {
        verdict.note = Some(format!("{} was not measured", lesson.metric));
        return verdict;
    };
    verdict.baseline_value = Some(b);
    verdict.variant_value = Some(v);
    // A zero denominator (no queries at all, say) is read as one: the ratio is then a lower bound.
    let nonzero = |x: f64| if x == 0.0 { 1.0 } else { x };
    let ratio = match lesson.better {
        Better::Lower => b / nonzero(v),
        Better::Higher => v / nonzero(b),
    };
    verdict.observed_ratio = Some(ratio);
    verdict.holds = ratio >= lesson.at_least;
    verdict
}
