//! `cargo xtask check <lab>[/<exercise>]`: grade the learner's code by its tests, then — only when they pass — by
//! measured performance against the reference, in the same run. Records the result in the progress file.
//!
//! The grader's tests are named as sentences (`a_thousand_concurrent_misses_load_once`), so each failure is
//! reported as one line a learner can act on, not as a wall of cargo output.

use std::process::{Command, ExitCode};

use clap::Args;
use lab_harness::RunOptions;

use crate::exercises::{self, Found};
use crate::progress_store::{self, LastCheck};

/// Arguments of `cargo xtask check`.
#[derive(Args)]
pub struct CheckArgs {
    /// The exercise: `<lab>` or `<lab>/<exercise>` (see `cargo xtask list`).
    pub exercise: String,
}

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
}

impl Outcome {
    /// Tests and gate passed.
    pub fn solved(&self) -> bool {
        self.compiled && self.failed.is_empty() && !self.passed.is_empty() && self.gate_passed == Some(true)
    }
}

/// Runs the command.
pub fn run(args: CheckArgs) -> anyhow::Result<ExitCode> {
    let labs = lab_harness::discover(&crate::root())?;
    let found = exercises::find(&labs, &args.exercise)?;
    let outcome = check_and_record(&found)?;
    Ok(if outcome.solved() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Checks the exercise and records the outcome in the progress file.
pub fn check_and_record(found: &Found) -> anyhow::Result<Outcome> {
    let outcome = check(found)?;
    record(found, &outcome)?;
    Ok(outcome)
}

fn sentence(test_name: &str) -> String {
    test_name.rsplit("::").next().unwrap_or(test_name).replace('_', " ")
}

fn cargo() -> Command {
    let mut command = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    command.current_dir(crate::root()).env("RUST_BACKTRACE", "0");
    command
}

/// Compiles, runs the grader, and runs the gate when the grader passes. Prints as it goes.
pub fn check(found: &Found) -> anyhow::Result<Outcome> {
    let e = found.exercise;
    println!("checking {} — {}", found.key(), found.starter_relative().display());

    // 1. Does it compile? Show the compiler's errors about the learner's code, plainly.
    // The grader's test target, built (1) and then run (2) with the same cargo arguments.
    let grader = |extra: &[&str]| {
        let mut command = cargo();
        command.args(["test", "--quiet", "--package", &e.package, "--test", &e.grader]);
        command.args(extra);
        command
    };
    let build = grader(&["--no-run", "--message-format=short"]).output()?;
    if !build.status.success() {
        println!("✗ your code does not compile:");
        for line in String::from_utf8_lossy(&build.stderr)
            .lines()
            .filter(|l| l.contains("error") || l.contains("warning: unused"))
        {
            println!("  {line}");
        }
        return Ok(Outcome {
            compiled: false,
            passed: vec![],
            failed: vec![],
            gate_passed: None,
        });
    }

    // 2. The grader, one line per expectation.
    let tests = grader(&["--", "--format=pretty"]).output()?;
    let stdout = String::from_utf8_lossy(&tests.stdout);
    let (passed, failed) = parse_test_output(&stdout);
    for name in &passed {
        println!("✓ {}", sentence(name));
    }
    for (name, message) in &failed {
        println!("✗ {}: {message}", sentence(name));
    }
    if passed.is_empty() && failed.is_empty() {
        anyhow::bail!(
            "the grader ran no test:\n{stdout}{}",
            String::from_utf8_lossy(&tests.stderr)
        );
    }
    if !failed.is_empty() {
        println!(
            "\n{} of {} expectations met. Edit {} and run `cargo xtask check {}` again; `cargo xtask hint {}` helps.",
            passed.len(),
            passed.len() + failed.len(),
            found.starter_relative().display(),
            found.key(),
            found.key()
        );
        return Ok(Outcome {
            compiled: true,
            passed,
            failed,
            gate_passed: None,
        });
    }

    // 3. The performance gate, measured in one run beside the reference (and the naive baseline, for scale).
    println!(
        "\nAll {} expectations met. Now the performance gate: your variant beside the reference, under load…",
        passed.len()
    );
    let mut variants = vec![e.perf_variant.clone()];
    for gate in &e.gate {
        if !variants.contains(&gate.relative_to) {
            variants.push(gate.relative_to.clone());
        }
    }
    // The lab names its naive baseline in lab.toml: the learner sees how far both came from it.
    if !variants.contains(&found.lab.baseline) {
        variants.push(found.lab.baseline.clone());
    }
    let options = RunOptions {
        variants,
        ..RunOptions::default()
    };
    let mut progress = crate::progress::Progress::new();
    let report = lab_harness::run_lab(&crate::root(), found.lab, &options, &mut |event| progress.on(event))?;
    println!("{}", report.table());
    for gate in &report.gates {
        println!("{}", gate.line());
    }
    let gate_passed = !report.gates.is_empty() && report.gates.iter().all(|g| g.passed);
    if gate_passed {
        println!(
            "\n✓ {} solved. See the reference with `cargo xtask exercise {} --solution`.",
            found.key(),
            found.key()
        );
    } else {
        println!("\nThe tests pass but the gate does not: compare your variant's row with the reference's.");
    }
    Ok(Outcome {
        compiled: true,
        passed,
        failed,
        gate_passed: Some(gate_passed),
    })
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

fn record(found: &Found, outcome: &Outcome) -> anyhow::Result<()> {
    let path = progress_store::path(&crate::root());
    let mut progress = progress_store::load(&path);
    let entry = progress.exercises.entry(found.key()).or_default();
    entry.solved |= outcome.solved();
    entry.last_check = Some(LastCheck {
        at: humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
        tests_passed: outcome.passed.len(),
        tests_total: outcome.passed.len() + outcome.failed.len(),
        gate_passed: outcome.gate_passed,
    });
    progress_store::save(&path, &progress)
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
