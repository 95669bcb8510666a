//! `cargo xtask exercise [<lab>[/<exercise>]] [--reset] [--solution]`: what to do next, where, and how to check it;
//! restore the starter (keeping a backup of your file); show the reference once you have solved it.

use std::io::BufRead;
use std::process::{Command, ExitCode};

use anyhow::Context;
use clap::Args;

use crate::UsageError;
use learner::progress;
use learner::{exercises, Found};

/// Arguments of `cargo xtask exercise`.
#[derive(Args)]
pub struct ExerciseArgs {
    /// The exercise: `<lab>` or `<lab>/<exercise>`; without it, the next one you have not solved.
    pub exercise: Option<String>,
    /// Put the starter back as it was committed (your file is backed up first).
    #[arg(long, conflicts_with = "solution")]
    pub reset: bool,
    /// With --reset: do not ask for confirmation.
    #[arg(long, requires = "reset")]
    pub yes: bool,
    /// Show the reference solution (only once you have solved the exercise).
    #[arg(long)]
    pub solution: bool,
}

/// Runs the command.
pub fn run(args: ExerciseArgs) -> anyhow::Result<ExitCode> {
    let labs = lab_harness::discover(&crate::root())?;
    let path = progress::path(&crate::root());
    let progress = progress::load(&path);
    let found = match &args.exercise {
        Some(spec) => exercises::find(&labs, spec)?,
        None => match exercises::next_unsolved(&labs, &progress) {
            Some(found) => found,
            None => {
                println!("Every exercise is solved. `cargo xtask list` shows the labs to run.");
                return Ok(ExitCode::SUCCESS);
            }
        },
    };
    if args.reset {
        return reset(&found, args.yes, &path);
    }
    if args.solution {
        if !progress.exercises.get(&found.key()).is_some_and(|p| p.solved) {
            return Err(UsageError(format!(
                "solve {0} first (`cargo xtask check {0}`); the reference is shown once your code passes. Stuck? `cargo xtask hint {0}`",
                found.key()
            ))
            .into());
        }
        print!("{}", std::fs::read_to_string(found.reference())?);
        return Ok(ExitCode::SUCCESS);
    }
    println!("Exercise {}\n", found.key());
    println!("{}\n", found.task());
    println!("Edit:   {}", found.starter_relative(&crate::root()).display());
    println!("Check:  cargo xtask check {}", found.key());
    println!("Hint:   cargo xtask hint {}", found.key());
    println!("Watch:  cargo xtask watch   (re-checks on every save)");
    Ok(ExitCode::SUCCESS)
}

fn reset(found: &Found, yes: bool, progress_path: &std::path::Path) -> anyhow::Result<ExitCode> {
    let relative = found.starter_relative(&crate::root());
    if !yes {
        eprint!(
            "Replace {} with the starter? Your file is backed up first. [y/N] ",
            relative.display()
        );
        let mut answer = String::new();
        std::io::stdin().lock().read_line(&mut answer)?;
        if !matches!(answer.trim(), "y" | "Y" | "yes") {
            println!("Left as it is.");
            return Ok(ExitCode::SUCCESS);
        }
    }
    let pristine = Command::new("git")
        .current_dir(crate::root())
        .args(["show", &format!("HEAD:{}", relative.display())])
        .output()
        .context("running git show")?;
    anyhow::ensure!(
        pristine.status.success(),
        "git cannot show the committed starter: {}",
        String::from_utf8_lossy(&pristine.stderr).trim()
    );
    let backups = progress_path
        .parent()
        .unwrap_or(std::path::Path::new("."))
        .join("backups");
    std::fs::create_dir_all(&backups)?;
    let stamp = humantime::format_rfc3339_seconds(std::time::SystemTime::now())
        .to_string()
        .replace(':', "-");
    let backup = backups.join(format!("{}-{}-{stamp}.rs", found.lab.name, found.exercise.name));
    std::fs::copy(found.starter(), &backup).with_context(|| format!("backing up to {}", backup.display()))?;
    std::fs::write(found.starter(), &pristine.stdout)?;
    println!(
        "Restored {} as committed; your version is in {}",
        relative.display(),
        backup.display()
    );
    Ok(ExitCode::SUCCESS)
}
