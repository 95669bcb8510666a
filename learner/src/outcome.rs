//! What one `cargo xtask check` found, read from the grader's libtest output, and how it is recorded.
//!
//! The grader's tests are named as sentences (`a_thousand_concurrent_misses_load_once`), so each failure is
//! reported as one line a learner can act on, not as a wall of cargo output.

use std::path::Path;

use crate::exercises::Found;
use crate::progress::{self, GateRecord, LastCheck, SaveError};

/// What one check found.
pub struct Outcome {
    /// The code compiled.
    pub compiled: bool,
    /// Tests that passed, by name.
    pub passed: Vec<String>,
    /// Tests that failed, with the first line of their message.
    pub failed: Vec<(String, String)>,
    /// The performance gate: None when it did not run.
    pub gate_passed: Option<bool>,
    /// Each gate's measurement, when the gate ran.
    pub gates: Vec<GateRecord>,
}

impl Outcome {
    /// Tests and gate passed.
    pub fn solved(&self) -> bool {
        self.compiled && self.failed.is_empty() && !self.passed.is_empty() && self.gate_passed == Some(true)
    }
}

/// A test's name as the sentence it was written as: `a_fresh_value_is_a_hit` → `a fresh value is a hit`.
pub fn sentence(test_name: &str) -> String {
    test_name.rsplit("::").next().unwrap_or(test_name).replace('_', " ")
}

/// Reads libtest's pretty output: `test NAME ... ok|FAILED`, then each failure's first panic message line.
pub fn parse_test_output(stdout: &str) -> (Vec<String>, Vec<(String, String)>) {
    let mut passed = Vec::new();
    let mut failed_names = Vec::new();
    for line in stdout.lines() {
        if let Some(rest) = line.strip_prefix("test ") {
            if let Some(name) = rest.strip_suffix(" ... ok") {
                passed.push(name.to_string());
            } else if let Some(name) = rest.strip_suffix(" ... FAILED") {
                failed_names.push(name.to_string());
            }
        }
    }
    let lines: Vec<&str> = stdout.lines().collect();
    let failed = failed_names
        .into_iter()
        .map(|name| {
            let header = format!("---- {name} stdout ----");
            let message = lines
                .iter()
                .position(|l| *l == header)
                .and_then(|at| {
                    lines[at..]
                        .iter()
                        .position(|l| l.contains("panicked at"))
                        .map(|p| at + p + 1)
                })
                .and_then(|at| lines.get(at))
                .map_or_else(|| "failed".to_string(), |l| l.trim().to_string());
            (name, message)
        })
        .collect();
    (passed, failed)
}

impl GateRecord {
    /// From the harness's verdict.
    pub fn from_verdict(verdict: &lab_harness::lessons::GateVerdict) -> GateRecord {
        GateRecord {
            metric: verdict.metric.clone(),
            relative_to: verdict.relative_to.clone(),
            at_most: verdict.at_most,
            observed_ratio: verdict.observed_ratio,
            passed: verdict.passed,
        }
    }
}

/// The first gate's ratio: what a leaderboard ranks by (lower is faster; unmeasured ranks last).
pub fn rank_ratio(gates: &[GateRecord]) -> f64 {
    gates.first().and_then(|g| g.observed_ratio).unwrap_or(f64::INFINITY)
}

/// Records `outcome` for `found` in the progress file at `progress_path`: solved stays solved; the last check is
/// replaced; a solving check whose first gate measured a lower ratio than the best so far becomes the best.
pub fn record(progress_path: &Path, found: &Found, outcome: &Outcome) -> Result<(), SaveError> {
    let mut progress = progress::load(progress_path);
    let entry = progress.exercises.entry(found.key()).or_default();
    entry.solved |= outcome.solved();
    if outcome.solved() && (entry.best_gates.is_empty() || rank_ratio(&outcome.gates) < rank_ratio(&entry.best_gates)) {
        entry.best_gates = outcome.gates.clone();
    }
    entry.last_check = Some(LastCheck {
        at: humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
        tests_passed: outcome.passed.len(),
        tests_total: outcome.passed.len() + outcome.failed.len(),
        gate_passed: outcome.gate_passed,
        gates: outcome.gates.clone(),
    });
    progress::save(progress_path, &progress)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_become_one_line_each() {
        let out = "\nrunning 3 tests\ntest a_fresh_value_is_a_hit ... ok\ntest one_load ... FAILED\ntest ttl ... FAILED\n\nfailures:\n\n---- one_load stdout ----\n\nthread 'one_load' (12) panicked at labs/x.rs:10:5:\nnot yet implemented: implement single-flight get_or_load\nnote: run with `RUST_BACKTRACE=1`\n\n---- ttl stdout ----\nthread 'ttl' panicked at labs/x.rs:20:5:\nassertion `left == right` failed: expired after the TTL\n";
        let (passed, failed) = parse_test_output(out);
        assert_eq!(passed, ["a_fresh_value_is_a_hit"]);
        assert_eq!(
            failed[0],
            (
                "one_load".to_string(),
                "not yet implemented: implement single-flight get_or_load".to_string()
            )
        );
        assert_eq!(failed[1].1, "assertion `left == right` failed: expired after the TTL");
        assert_eq!(
            sentence("a_thousand_concurrent_misses_load_once"),
            "a thousand concurrent misses load once"
        );
    }
}
