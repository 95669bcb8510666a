//! `incident check NAME`: is the learner's fix a fix? First the drill's grader (its counters — how many times a
//! pattern was compiled, whether pricing calls overlapped, where the SDK ran — decided without a clock), then one run
//! under the drill's load with three builds side by side: the code as shipped, the reference fix, and the learner's.
//!
//! The learner's build passes when it meets the objective and holds the drill's lessons against the shipped code
//! *in the same run*. The run must also show the problem — the shipped code missing the objective and the reference
//! meeting it — or it cannot judge anything (a much faster machine, or one busy with something else) and says so.

use std::process::ExitCode;

use clap::Args;
use lab_harness::drill::{lessons_for_yours, Drill, BROKEN, FIXED, YOURS};

use super::start::{relative, LoadArgs, Objective};

/// Arguments of `cargo xtask incident check`.
#[derive(Args)]
pub struct CheckArgs {
    /// The drill.
    pub name: String,
    #[command(flatten)]
    pub load: LoadArgs,
}

/// Runs the command.
pub fn run(drill: &Drill, args: &CheckArgs) -> anyhow::Result<ExitCode> {
    println!(
        "checking drill {} — {}",
        drill.name,
        relative(&drill.learner_file()).display()
    );
    let graded = crate::check::run_grader(&drill.text.package, &drill.text.grader)?;
    if !graded.compiled || !graded.failed.is_empty() {
        if graded.compiled {
            println!(
                "\n{} of {} expectations met: the fix is not there yet (`cargo xtask incident hint {}` helps).",
                graded.passed.len(),
                graded.passed.len() + graded.failed.len(),
                drill.name
            );
        }
        return Ok(ExitCode::FAILURE);
    }
    println!("\nAll expectations met. Now under load: the shipped code, the reference fix and yours, in one run…");
    let mut manifest = drill.manifest.clone();
    manifest.lessons.extend(lessons_for_yours(drill));
    let options = args.load.options(drill, &[BROKEN, FIXED, YOURS]);
    let mut progress = crate::progress_bar::RunProgress::new();
    let report = lab_harness::run_lab(&crate::root(), &manifest, &options, &mut |e| progress.on(e))?;
    drop(progress);
    let (json, _) = report.save(&crate::root())?;
    println!("{}\n{}", report.table(), report.verdicts());
    let objective = |name: &str| {
        report
            .variants
            .iter()
            .find(|v| v.name == name)
            .and_then(|v| Objective::of(drill, v))
    };
    let (Some(broken), Some(fixed), Some(yours)) = (objective(BROKEN), objective(FIXED), objective(YOURS)) else {
        anyhow::bail!("the run is missing a variant or its SLO: see {}", json.display());
    };
    for (name, o) in [("shipped", &broken), ("reference", &fixed), ("yours", &yours)] {
        println!("{}", o.line(name));
    }
    println!("report: {}", relative(&json).display());
    if broken.met() || !fixed.met() {
        println!(
            "\nThis run cannot judge a fix: {}. Run it again on a quieter machine, or set --rate.",
            if broken.met() {
                "the shipped code met the objective too"
            } else {
                "the reference fix missed the objective too"
            }
        );
        return Ok(ExitCode::FAILURE);
    }
    let lessons_hold = report
        .lessons
        .iter()
        .filter(|l| l.variant == YOURS)
        .all(|l| l.holds && l.observed_ratio.is_some());
    let solved = yours.met() && lessons_hold;
    super::record(drill, |state| state.fixed |= solved)?;
    if solved {
        println!(
            "\n✓ Incident {} resolved: your build meets the objective, beside the shipped one in the same run. \
             `cargo xtask incident solution {}` shows the reference.",
            drill.name, drill.name
        );
        Ok(ExitCode::SUCCESS)
    } else {
        println!("\n✗ Not yet: compare your row with the reference's, and read `cargo xtask incident evidence` again.");
        Ok(ExitCode::FAILURE)
    }
}
