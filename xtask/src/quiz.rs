//! `cargo xtask quiz`: grade a file of answers offline (`--answers FILE`, `--json` for tools), or validate every
//! question bank (`--check`, which CI runs through the tests).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use quiz::answers::AnswerSheet;

use crate::UsageError;

/// Arguments of `cargo xtask quiz`.
#[derive(Args)]
#[command(group = clap::ArgGroup::new("what").required(true).args(["answers", "check"]))]
pub struct QuizArgs {
    /// Grade this answer file (TOML: `name = "…"` and an `[answers]` table of question id = answer).
    #[arg(long)]
    answers: Option<PathBuf>,
    /// Validate every bank in quiz/banks and report each problem with file and line.
    #[arg(long)]
    check: bool,
    /// Only this topic's answers.
    topic: Option<String>,
    /// Print the graded result as JSON on stdout.
    #[arg(long, requires = "answers")]
    json: bool,
}

/// Runs the command.
pub fn run(args: QuizArgs) -> anyhow::Result<ExitCode> {
    let dir = crate::root().join("quiz/banks");
    let banks = match quiz::load_banks(&dir) {
        Ok(banks) => banks,
        Err(errors) => {
            for e in &errors {
                eprintln!("error: {e}");
            }
            return Ok(ExitCode::from(2));
        }
    };
    if args.check {
        let questions: usize = banks.iter().map(|b| b.questions.len()).sum();
        println!("{questions} questions in {} banks: all valid", banks.len());
        return Ok(ExitCode::SUCCESS);
    }
    let path = args.answers.expect("clap requires --answers or --check");
    let mut sheet = AnswerSheet::load(&path).map_err(|e| UsageError(e.to_string()))?;
    if let Some(topic) = &args.topic {
        if !banks.iter().any(|b| &b.topic == topic) {
            let known: Vec<&str> = banks.iter().map(|b| b.topic.as_str()).collect();
            return Err(UsageError(format!("no topic {topic:?}; the topics are: {}", known.join(", "))).into());
        }
        sheet.answers.retain(|(id, _, _)| id.starts_with(&format!("{topic}-")));
    }
    let graded = quiz::grade_answers(&banks, &sheet).map_err(|e| UsageError(e.to_string()))?;
    record(&graded)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&graded)?);
        return Ok(ExitCode::SUCCESS);
    }
    for r in &graded.results {
        println!(
            "{} {} ({}) — score {:.2}",
            if r.passed { "✓" } else { "✗" },
            r.id,
            r.kind,
            r.score
        );
        if !r.found.is_empty() {
            println!("  found: {}", r.found.join("; "));
        }
        if !r.missed.is_empty() {
            println!("  missed: {}", r.missed.join("; "));
        }
        for note in &r.notes {
            println!("  note: {note}");
        }
        println!(
            "  model answer: {}",
            r.model_answer.split_whitespace().collect::<Vec<_>>().join(" ")
        );
        println!(
            "  why: {}\n",
            r.explanation.split_whitespace().collect::<Vec<_>>().join(" ")
        );
    }
    for (topic, score) in &graded.by_topic {
        println!("{topic}: {} of {} passed", score.passed, score.answered);
    }
    if !graded.unknown_ids.is_empty() {
        println!("unknown question ids (not graded): {}", graded.unknown_ids.join(", "));
    }
    Ok(ExitCode::SUCCESS)
}

/// Keeps each question's latest grade in the progress file (`cargo xtask progress` shows them per topic).
fn record(graded: &quiz::Graded) -> anyhow::Result<()> {
    let path = crate::progress_store::path(&crate::root());
    let mut progress = crate::progress_store::load(&path);
    let at = humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string();
    for r in &graded.results {
        let record = crate::progress_store::QuizRecord {
            topic: r.topic.clone(),
            score: r.score,
            passed: r.passed,
            at: at.clone(),
        };
        progress.quiz.insert(r.id.clone(), record);
    }
    crate::progress_store::save(&path, &progress)
}
