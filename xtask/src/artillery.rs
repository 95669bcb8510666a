//! `cargo xtask load --artillery test.yml [URL]`: an Artillery test file run by the workbench's generator (see
//! `lab_load_generator::artillery` for what is supported and how its arrivals differ from Artillery's).

use std::path::Path;
use std::process::ExitCode;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::Duration;

use lab_load_generator::artillery::{self, Options, Test};
use lab_load_generator::{Target, Threshold};

use crate::UsageError;

/// What the command line adds to the file.
pub struct Flags<'a> {
    /// A URL that replaces `config.target`.
    pub url: Option<&'a str>,
    pub allow_remote: bool,
    pub json: bool,
    /// `--threshold` rules, checked beside the file's `ensure`.
    pub thresholds: Vec<Threshold>,
    pub max_users: usize,
    pub pacing: Option<Duration>,
}

/// Loads the file, runs it, prints the report and the users, and checks `ensure` and the thresholds.
pub fn run(file: &Path, flags: Flags) -> anyhow::Result<ExitCode> {
    let test = Test::load(file).map_err(|e| UsageError(e.to_string()))?;
    let url = flags.url.or(test.target.as_deref()).ok_or_else(|| {
        UsageError(format!(
            "{}: no config.target, and no URL given: add one of them",
            file.display()
        ))
    })?;
    let target = Target::parse(url, flags.allow_remote).map_err(|e| UsageError(e.to_string()))?;
    let options = Options {
        target,
        timeout: test.timeout.unwrap_or(Duration::from_secs(10)),
        max_users: flags.max_users,
        pacing: flags.pacing.unwrap_or(lab_load_generator::pacer::DEFAULT_PACING),
        progress: Arc::new(AtomicU64::new(0)),
    };
    let length: Duration = test.phases.iter().map(|p| p.duration).sum();
    if !flags.json {
        eprintln!(
            "{}: {} phase(s), {:.0}s, {} scenario(s) → {}",
            file.display(),
            test.phases.len(),
            length.as_secs_f64(),
            test.scenarios.len(),
            url
        );
    }
    let run = artillery::run(&test, &options)?;
    if flags.json {
        println!("{}", serde_json::to_string_pretty(&run)?);
    } else {
        println!("{}", run.report.table());
        let u = &run.users;
        println!(
            "virtual users: {} created · {} completed · {} failed · {} dropped (over --max-users) · {} unfinished · peak {} alive",
            u.created, u.completed, u.failed, u.dropped, u.unfinished, u.peak_alive
        );
        for (why, count) in &u.failures {
            println!("  failed ×{count}: {why}");
        }
    }
    let mut failed = false;
    let rules: Vec<&Threshold> = test.ensure.iter().chain(&flags.thresholds).collect();
    if !rules.is_empty() && !run.report.generator.valid {
        eprintln!("ensure not judged: the run is not a valid measurement");
        failed = true;
    } else {
        for rule in rules {
            match rule.check(&run.report) {
                Ok(()) => eprintln!("✓ ensure {}", rule.text()),
                Err(violation) => {
                    eprintln!("✗ {violation}");
                    failed = true;
                }
            }
        }
    }
    Ok(if failed { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}
