//! `cargo xtask`: the workbench's one entry point. Thin on purpose: it parses the command line (the doc
//! comments below are the `--help`), calls the library crates, and prints. One module per command.

mod artillery;
mod book;
mod check;
mod class;
mod exercise;
mod hint;
mod incident;
mod lab;
mod list;
mod load;
mod logs;
mod pm;
mod progress;
mod progress_bar;
mod quiz;
mod submit;
mod watch;
mod websocket;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Backend Performance Workbench: labs that prove performance lessons with numbers measured on your machine.
#[derive(Parser)]
#[command(name = "cargo xtask", bin_name = "cargo xtask", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// List the labs, what they teach, their variants and lessons.
    List,
    /// Run a lab: every variant under the same load, the comparison table, and the lessons' verdicts (✓/✗).
    ///
    /// Exit status: 0 when every lesson held, 3 when one did not, 2 on bad input, 1 on other failures.
    Lab(lab::LabArgs),
    /// Load-test a URL: fixed rate (open model, latency from the due time) or closed model, percentile table.
    ///
    /// Exit status: 0 when every threshold held, 1 when one was violated or the run failed, 2 on bad input.
    Load(Box<load::LoadArgs>),
    /// Show an exercise: the task, the file to edit, how to check it (without a name: the next one unsolved).
    Exercise(exercise::ExerciseArgs),
    /// Grade an exercise: its tests, then — when they pass — its performance beside the reference.
    ///
    /// Exit status: 0 when solved (tests and gate), 1 when not, 2 on bad input.
    Check(check::CheckArgs),
    /// Show the next hint for an exercise (each call reveals one more).
    Hint(hint::HintArgs),
    /// Check an exercise every time its file is saved.
    Watch(watch::WatchArgs),
    /// Exercises solved, labs run and quiz scores.
    Progress,
    /// Interview questions: answer them in the terminal (`--review`: missed first), grade a file of answers or a
    /// team's folder offline, validate the banks, or calibrate the grader.
    ///
    /// Exit status: 0 when graded (or valid), 2 on a broken answer file or bank (named with file and line).
    Quiz(quiz::QuizArgs),
    /// Read JSON-lines logs: requests, error rate, latency percentiles from the logged durations, the slowest
    /// routes, one request's lines in order (`--request-id`). Streams files of any size; bad lines are counted.
    ///
    /// Exit status: 0 when read, 2 when a file cannot be opened.
    Logs(logs::LogsArgs),
    /// The process manager (workbench-pm): start an ecosystem file's apps, then list, reload, restart, stop,
    /// delete them and read their logs, in PM2's words (`cargo xtask pm help`).
    ///
    /// Exit status: workbench-pm's (0 done, 1 failed, 2 bad arguments).
    Pm(pm::PmArgs),
    /// Incident drills: a service missing its objective under load — see the symptom (`start`), read the evidence
    /// (`evidence`: counters, lag, memory, the CPU flamegraph), diagnose (`answer`), fix it and prove it (`check`).
    ///
    /// Exit status: 0 when done (a diagnosis or a fix that passed), 1 when not, 2 on bad input.
    Incident(incident::IncidentArgs),
    /// Build the guide (book/) into target/book with mdBook as a library, and check its internal links.
    Book(book::BookArgs),
    /// Team training, the learner's side: write your progress, quiz grades and newest lab reports as one file into
    /// the class folder (atomically; submitting again replaces your file, never someone else's).
    ///
    /// Exit status: 0 when written, 2 on bad input (no such folder, a name taken by another learner), 1 otherwise.
    Submit(submit::SubmitArgs),
    /// Team training, the instructor's side: read every submission in the class folder and show the room — per
    /// learner, per question (what to re-teach), per exercise (a leaderboard by same-run ratio), per lesson (each
    /// machine's ratio) — in the terminal and as one HTML page; `--watch` serves it and refreshes as files arrive.
    ///
    /// Exit status: 0 when read (broken files are named and skipped), 2 when the folder cannot be read.
    Class(class::ClassArgs),
}

/// The workspace root: xtask lives one folder below it.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask is inside the workspace")
        .to_path_buf()
}

/// Bad input from the user: printed plainly, exit status 2.
#[derive(Debug)]
pub struct UsageError(pub String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

/// Restores the default SIGPIPE action: `cargo xtask list | head` should end quietly, as Unix tools do, instead of
/// panicking on a closed stdout (Rust ignores SIGPIPE by default).
#[allow(unsafe_code)]
fn quiet_on_closed_pipe() {
    #[cfg(unix)]
    // SAFETY: signal(2) with SIG_DFL at start-up, before any other thread exists.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

fn main() -> ExitCode {
    quiet_on_closed_pipe();
    // Ctrl-C (and SIGTERM/SIGHUP) must not leave a lab server running: kill them all, then exit as interrupted.
    let _ = ctrlc::set_handler(|| {
        lab_harness::process::kill_all();
        eprintln!("\ninterrupted: lab servers stopped");
        std::process::exit(130);
    });
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::List => list::run(),
        Command::Lab(args) => lab::run(args),
        Command::Load(args) => load::run(*args),
        Command::Exercise(args) => exercise::run(args),
        Command::Check(args) => check::run(args),
        Command::Hint(args) => hint::run(args),
        Command::Watch(args) => watch::run(args),
        Command::Progress => progress::run(),
        Command::Quiz(args) => quiz::run(args),
        Command::Book(args) => book::run(args),
        Command::Logs(args) => logs::run(args),
        Command::Pm(args) => pm::run(args),
        Command::Incident(args) => incident::run(args),
        Command::Submit(args) => submit::run(args),
        Command::Class(args) => class::run(args),
    };
    match outcome {
        Ok(code) => code,
        Err(error) => {
            if let Some(usage) = error.downcast_ref::<UsageError>() {
                eprintln!("error: {usage}");
                return ExitCode::from(2);
            }
            if let Some(lookup) = error.downcast_ref::<learner::NoSuchExercise>() {
                eprintln!("error: {lookup}");
                return ExitCode::from(2);
            }
            if let Some(manifest) = error.downcast_ref::<lab_harness::ManifestError>() {
                eprintln!("error: {manifest}");
                return ExitCode::from(2);
            }
            // The harness says what kind of failure it was (bad input 2, environment 1, a lesson 3).
            if let Some(run) = error.downcast_ref::<lab_harness::RunError>() {
                eprintln!("error: {}", lab_harness::error_chain(run));
                return ExitCode::from(run.exit_status());
            }
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
