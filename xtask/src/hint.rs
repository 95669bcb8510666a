//! `cargo xtask hint <lab>[/<exercise>]`: hints in stages. Each call reveals one more, from a nudge to a near
//! solution, and shows the ones already seen; the count is kept in the progress file.

use std::process::ExitCode;

use clap::Args;

use learner::exercises;
use learner::progress;

/// Arguments of `cargo xtask hint`.
#[derive(Args)]
pub struct HintArgs {
    /// The exercise: `<lab>` or `<lab>/<exercise>`.
    pub exercise: String,
}

/// Runs the command.
pub fn run(args: HintArgs) -> anyhow::Result<ExitCode> {
    let labs = lab_harness::discover(&crate::root())?;
    let found = exercises::find(&labs, &args.exercise)?;
    show_next(&found)?;
    Ok(ExitCode::SUCCESS)
}

/// Reveals the next hint (if any is left) and prints every hint revealed so far.
pub fn show_next(found: &exercises::Found) -> anyhow::Result<()> {
    let path = progress::path(&crate::root());
    let mut progress = progress::load(&path);
    let hints = &found.exercise.hints;
    let entry = progress.exercises.entry(found.key()).or_default();
    let fresh = entry.hints_shown < hints.len();
    if fresh {
        entry.hints_shown += 1;
    }
    let shown = entry.hints_shown;
    progress::save(&path, &progress)?;
    for (i, hint) in hints.iter().take(shown).enumerate() {
        println!("hint {} of {}: {hint}\n", i + 1, hints.len());
    }
    if !fresh {
        println!("That was the last hint. The reference is shown by `cargo xtask exercise {} --solution` once you have solved it.", found.key());
    }
    Ok(())
}
