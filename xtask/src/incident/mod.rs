//! `cargo xtask incident …`: the on-call drills. Each is a service that misses its latency objective under load;
//! the learner sees the symptom, reads the evidence, names the cause, fixes the code and proves the fix by
//! measurement — in that order, as on a real shift.
//!
//! | command | does | module |
//! |---|---|---|
//! | `list` | the drills and where the learner is in each | here |
//! | `start NAME` | runs the code as shipped under the drill's load: the objective missed, the table | [`start`] |
//! | `evidence NAME` | what that run recorded: counters, lag and memory over time, the CPU flamegraph | [`start`] |
//! | `answer NAME` | grades a written diagnosis against the evidence's rubric (the quiz grader) | [`answer`] |
//! | `check NAME` | grades the fix by counters, then runs it beside the shipped code and the reference | [`check`] |
//! | `hint NAME`, `solution NAME` | staged hints; the reference fix and diagnosis | here |
//!
//! The drills themselves (lab manifests plus `drill.toml`) are read by `lab_harness::drill`.

mod answer;
mod check;
mod start;

use std::process::ExitCode;

use clap::{Args, Subcommand};
use lab_harness::drill::{discover_drills, Drill};
use learner::progress;

use crate::UsageError;

/// Arguments of `cargo xtask incident`.
#[derive(Args)]
pub struct IncidentArgs {
    #[command(subcommand)]
    command: IncidentCommand,
}

#[derive(Subcommand)]
enum IncidentCommand {
    /// The drills, what each is about, and how far you are in each (started, diagnosed, fixed).
    List,
    /// Run the code as it shipped under the drill's load: the symptom, the objective missed, and the evidence
    /// recorded for `evidence` (with `--full`, the longer profile).
    Start(start::StartArgs),
    /// What the last `start` run recorded, as an on-call engineer reads it: the counters, event-loop lag, CPU and
    /// memory over time, the slowest percentiles, and where the CPU went (the flamegraph's file and top frames).
    Evidence(DrillName),
    /// Grade your diagnosis — the cause, the resource, the fix — written as an argument, in a file, or typed.
    Answer(answer::AnswerArgs),
    /// Grade your fix: the drill's tests (counters, not timing), then your build beside the shipped one and the
    /// reference under the drill's load, in one run. Exit status 0 when the objective holds.
    Check(check::CheckArgs),
    /// Show the next hint (each call reveals one more).
    Hint(DrillName),
    /// Show the reference fix and the reference diagnosis (once the drill is fixed, or every hint was read).
    Solution(DrillName),
}

/// A drill, by name.
#[derive(Args)]
pub struct DrillName {
    /// The drill (see `cargo xtask incident list`).
    pub name: String,
}

/// Runs the command.
pub fn run(args: IncidentArgs) -> anyhow::Result<ExitCode> {
    let drills = discover_drills(&crate::root())?;
    match args.command {
        IncidentCommand::List => list(&drills),
        IncidentCommand::Start(args) => start::start(find(&drills, &args.name)?, &args),
        IncidentCommand::Evidence(args) => start::evidence(find(&drills, &args.name)?),
        IncidentCommand::Answer(args) => answer::run(find(&drills, &args.name)?, &args),
        IncidentCommand::Check(args) => check::run(find(&drills, &args.name)?, &args),
        IncidentCommand::Hint(args) => hint(find(&drills, &args.name)?),
        IncidentCommand::Solution(args) => solution(find(&drills, &args.name)?),
    }
}

/// The drill called `name`; the error lists every drill.
pub fn find<'a>(drills: &'a [Drill], name: &str) -> anyhow::Result<&'a Drill> {
    drills.iter().find(|d| d.name == name).ok_or_else(|| {
        let known: Vec<&str> = drills.iter().map(|d| d.name.as_str()).collect();
        UsageError(format!("no drill {name:?}; the drills are: {}", known.join(", "))).into()
    })
}

/// Records something about `drill` in the progress file (atomically).
pub fn record(drill: &Drill, change: impl FnOnce(&mut progress::IncidentProgress)) -> anyhow::Result<()> {
    let path = progress::path(&crate::root());
    let mut progress = progress::load(&path);
    change(progress.incidents.entry(drill.key()).or_default());
    progress::save(&path, &progress)?;
    Ok(())
}

fn list(drills: &[Drill]) -> anyhow::Result<ExitCode> {
    let progress = progress::load(&progress::path(&crate::root()));
    println!("{}", table(drills, &progress));
    println!("Begin with `cargo xtask incident start <drill>`.");
    Ok(ExitCode::SUCCESS)
}

/// One row per drill: what happened, the file to fix, and how far the learner is (`list`, `progress`).
pub fn table(drills: &[Drill], progress: &progress::Progress) -> comfy_table::Table {
    let mut table = comfy_table::Table::new();
    table.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED);
    table.set_header(["drill", "what happened", "file to fix", "started", "diagnosed", "fixed"]);
    for drill in drills {
        let state = progress.incidents.get(&drill.key()).cloned().unwrap_or_default();
        let mark = |done: bool| if done { "✓" } else { "·" }.to_string();
        table.add_row([
            drill.name.clone(),
            drill.text.title.clone(),
            start::relative(&drill.learner_file()).display().to_string(),
            mark(state.started),
            mark(state.diagnosed),
            mark(state.fixed),
        ]);
    }
    table
}

fn hint(drill: &Drill) -> anyhow::Result<ExitCode> {
    let hints = &drill.text.hints;
    let mut shown = 0;
    record(drill, |state| {
        state.hints_shown = (state.hints_shown + 1).min(hints.len());
        shown = state.hints_shown;
    })?;
    for (i, hint) in hints.iter().take(shown).enumerate() {
        println!("hint {} of {}: {hint}\n", i + 1, hints.len());
    }
    if shown == hints.len() {
        println!(
            "That was the last hint; `cargo xtask incident solution {}` shows the reference.",
            drill.name
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn solution(drill: &Drill) -> anyhow::Result<ExitCode> {
    // As for exercises, the reference waits until it cannot spoil the drill: once fixed, or every hint was read.
    let progress = progress::load(&progress::path(&crate::root()));
    let state = progress.incidents.get(&drill.key()).cloned().unwrap_or_default();
    if !state.fixed && state.hints_shown < drill.text.hints.len() {
        return Err(UsageError(format!(
            "the reference is shown once the drill is fixed (`cargo xtask incident check {0}`) or every hint has \
             been read (`cargo xtask incident hint {0}`: {1} of {2} so far)",
            drill.name,
            state.hints_shown,
            drill.text.hints.len()
        ))
        .into());
    }
    let banks = quiz::load_banks(&crate::root().join("quiz/banks")).map_err(crate::quiz::bank_errors)?;
    let question = answer::question(&banks, drill)?;
    let shown = drill
        .reference()
        .strip_prefix(crate::root())
        .map(std::path::Path::to_path_buf)
        .unwrap_or_else(|_| drill.reference());
    println!(
        "The diagnosis, as the reference writes it:\n\n{}\n",
        question.model_answer.trim()
    );
    println!("The fix ({}):\n", shown.display());
    println!("{}", std::fs::read_to_string(drill.reference())?);
    Ok(ExitCode::SUCCESS)
}
