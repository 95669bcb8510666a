//! `cargo xtask check <lab>[/<exercise>]`: grade the learner's code by its tests, then — only when they pass — by
//! measured performance against the reference, in the same run. Records the result in the progress file. (Reading
//! the grader's output and the record itself are in the `learner` crate.)

use std::process::{Command, ExitCode};

use clap::Args;
use lab_harness::RunOptions;

use learner::outcome::{parse_test_output, sentence};
use learner::{exercises, Found, Outcome};

/// Arguments of `cargo xtask check`.
#[derive(Args)]
pub struct CheckArgs {
    /// The exercise: `<lab>` or `<lab>/<exercise>` (see `cargo xtask list`).
    pub exercise: String,
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
    learner::outcome::record(&learner::progress::path(&crate::root()), found, &outcome)?;
    Ok(outcome)
}

fn cargo() -> Command {
    let mut command = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    command.current_dir(crate::root()).env("RUST_BACKTRACE", "0");
    command
}

/// What a grader said: whether the code compiled, and each expectation met or not (with the failure's message).
pub struct Graded {
    /// It compiled.
    pub compiled: bool,
    /// Expectations met, by test name.
    pub passed: Vec<String>,
    /// Expectations not met, with the message.
    pub failed: Vec<(String, String)>,
}

/// Builds and runs the test target `grader` of `package`, printing the compiler's errors about the learner's code,
/// then one line per expectation. Shared by `check` (exercises) and `incident check` (drills).
pub fn run_grader(package: &str, grader: &str) -> anyhow::Result<Graded> {
    // The grader's test target, built (1) and then run (2) with the same cargo arguments.
    let command = |extra: &[&str]| {
        let mut command = cargo();
        command.args(["test", "--quiet", "--package", package, "--test", grader]);
        command.args(extra);
        command
    };
    // 1. Does it compile? Show the compiler's errors about the learner's code, plainly.
    let build = command(&["--no-run", "--message-format=short"]).output()?;
    if !build.status.success() {
        println!("✗ your code does not compile:");
        for line in String::from_utf8_lossy(&build.stderr)
            .lines()
            .filter(|l| l.contains("error") || l.contains("warning: unused"))
        {
            println!("  {line}");
        }
        return Ok(Graded {
            compiled: false,
            passed: vec![],
            failed: vec![],
        });
    }
    // 2. The grader, one line per expectation.
    let tests = command(&["--", "--format=pretty"]).output()?;
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
    Ok(Graded {
        compiled: true,
        passed,
        failed,
    })
}

/// Compiles, runs the grader, and runs the gate when the grader passes. Prints as it goes.
pub fn check(found: &Found) -> anyhow::Result<Outcome> {
    let e = found.exercise;
    println!(
        "checking {} — {}",
        found.key(),
        found.starter_relative(&crate::root()).display()
    );

    let graded = run_grader(&e.package, &e.grader)?;
    if !graded.compiled || !graded.failed.is_empty() {
        if graded.compiled {
            println!(
                "\n{} of {} expectations met. Edit {} and run `cargo xtask check {}` again; `cargo xtask hint {}` helps.",
                graded.passed.len(),
                graded.passed.len() + graded.failed.len(),
                found.starter_relative(&crate::root()).display(),
                found.key(),
                found.key()
            );
        }
        return Ok(Outcome {
            compiled: graded.compiled,
            passed: graded.passed,
            failed: graded.failed,
            gate_passed: None,
            gates: vec![],
        });
    }
    let passed = graded.passed;
    let failed = graded.failed;

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
    let mut progress = crate::progress_bar::RunProgress::new();
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
        gates: report
            .gates
            .iter()
            .map(learner::progress::GateRecord::from_verdict)
            .collect(),
    })
}
