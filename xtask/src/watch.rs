//! `cargo xtask watch [<lab>[/<exercise>]]`: checks the exercise, then again every time its file is saved.
//! Type `h` (hint), `n` (next exercise) or `q` (quit), then Enter.
//!
//! Saves are noticed by polling the file's modification time every 200 ms: simple, portable, and well inside the
//! two seconds a learner should wait to see the result of a save.

use std::io::BufRead;
use std::process::ExitCode;
use std::sync::mpsc;
use std::time::{Duration, SystemTime};

use clap::Args;

use learner::progress;
use learner::{exercises, Found};

use crate::{check, hint};

/// Arguments of `cargo xtask watch`.
#[derive(Args)]
pub struct WatchArgs {
    /// The exercise: `<lab>` or `<lab>/<exercise>`; without it, the next one you have not solved.
    pub exercise: Option<String>,
}

fn modified(found: &Found) -> Option<SystemTime> {
    std::fs::metadata(found.starter()).and_then(|m| m.modified()).ok()
}

/// Runs the command until `q` or the end of input.
pub fn run(args: WatchArgs) -> anyhow::Result<ExitCode> {
    let labs = lab_harness::discover(&crate::root())?;
    let progress_path = progress::path(&crate::root());
    let mut found = match &args.exercise {
        Some(spec) => exercises::find(&labs, spec)?,
        None => match exercises::next_unsolved(&labs, &progress::load(&progress_path)) {
            Some(found) => found,
            None => {
                println!("Every exercise is solved.");
                return Ok(ExitCode::SUCCESS);
            }
        },
    };
    let (keys, typed) = mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines() {
            let Ok(line) = line else { break };
            if keys.send(line.trim().to_string()).is_err() {
                break;
            }
        }
        // End of input: quit, as `q` would.
        let _ = keys.send("q".into());
    });
    let mut seen = modified(&found);
    check::check_and_record(&found)?;
    loop {
        println!(
            "\nwatching {} — save it to re-check; type h (hint), n (next), q (quit), then Enter",
            found.starter_relative(&crate::root()).display()
        );
        loop {
            match typed.recv_timeout(Duration::from_millis(200)) {
                Ok(key) if key == "q" => return Ok(ExitCode::SUCCESS),
                Ok(key) if key == "h" => {
                    hint::show_next(&found)?;
                    break;
                }
                Ok(key) if key == "n" => {
                    let progress = progress::load(&progress_path);
                    let current = found.key();
                    match exercises::all(&labs)
                        .into_iter()
                        .find(|f| f.key() != current && !progress.exercises.get(&f.key()).is_some_and(|p| p.solved))
                    {
                        Some(next) => {
                            found = next;
                            seen = modified(&found);
                            check::check_and_record(&found)?;
                        }
                        None => println!("No other unsolved exercise."),
                    }
                    break;
                }
                Ok(other) if !other.is_empty() => {
                    println!("unknown key {other:?}: h, n or q");
                    break;
                }
                _ => {}
            }
            let now = modified(&found);
            if now != seen {
                seen = now;
                println!(
                    "\n{} changed — checking again",
                    found.starter_relative(&crate::root()).display()
                );
                check::check_and_record(&found)?;
                break;
            }
        }
    }
}
