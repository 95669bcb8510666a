//! `cargo xtask submit DIR [--name NAME]`: the learner's side of a team session — one file in the class folder with
//! their progress, quiz grades and newest lab reports (see `classroom::submission` for what goes in and why).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use classroom::submission::{self, Submission, SubmitError};
use learner::progress;

use crate::UsageError;

/// Arguments of `cargo xtask submit`.
#[derive(Args)]
pub struct SubmitArgs {
    /// The class folder the instructor named (a network share, a synced folder, a clone of a shared repository).
    /// It must exist: a mistyped path is an error, not a new folder nobody reads.
    dir: PathBuf,
    /// Your name as the dashboard shows it; needed the first time, remembered after. Your file is
    /// `<name>.json`: submitting again replaces it, and a file of that name from someone else is never overwritten.
    #[arg(long)]
    name: Option<String>,
}

/// Runs the command.
pub fn run(args: SubmitArgs) -> anyhow::Result<ExitCode> {
    let root = crate::root();
    let progress_path = progress::path(&root);
    let usage = |e: SubmitError| match e {
        SubmitError::Io { .. } => anyhow::Error::new(e),
        other => UsageError(other.to_string()).into(),
    };
    let identity = submission::identity(&progress_path, args.name.as_deref()).map_err(usage)?;
    let reports = submission::newest_reports(&root);
    let learner = progress::load(&progress_path);
    let submission = Submission::gather(&identity, learner, reports, env!("CARGO_PKG_VERSION"));
    let path = submission.write(&args.dir).map_err(usage)?;
    submission::save_identity(&progress_path, &identity).map_err(usage)?;

    let solved = submission.progress.exercises.values().filter(|e| e.solved).count();
    let passed = submission.progress.quiz.values().filter(|q| q.passed).count();
    let labs: Vec<&str> = submission.reports.iter().map(|r| r.lab.as_str()).collect();
    println!(
        "submitted as {:?} to {}: {} exercises ({solved} solved), {} quiz answers ({passed} passed), {} drills, {}.",
        identity.name,
        path.display(),
        submission.progress.exercises.len(),
        submission.progress.quiz.len(),
        submission.progress.incidents.len(),
        if labs.is_empty() {
            "no lab reports yet (`cargo xtask lab <lab>` makes one)".to_string()
        } else {
            format!("the newest report of {} labs ({})", labs.len(), labs.join(", "))
        }
    );
    println!("Run it again at the next break: your file is replaced, nobody else's is touched.");
    Ok(ExitCode::SUCCESS)
}
