//! `cargo xtask incident answer NAME [TEXT | --file F]`: the diagnosis, graded by the quiz's free-text grader against
//! the drill's question (`quiz/banks/incidents.toml`). Its rubric is the evidence's: the resource that ran out, the
//! cause in the code, the fix — and a confident answer that names the wrong resource (more instances for a lock, a
//! bigger heap for a leak) is marked down as the misconception it is.

use std::io::{BufRead, IsTerminal};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use lab_harness::drill::Drill;
use quiz::{AnswerSheet, Bank, Question};

use crate::UsageError;

/// Arguments of `cargo xtask incident answer`.
#[derive(Args)]
pub struct AnswerArgs {
    /// The drill.
    pub name: String,
    /// Your diagnosis, in a few sentences (or use --file, or type it when asked).
    pub text: Option<String>,
    /// Read the diagnosis from this file.
    #[arg(long, conflicts_with = "text")]
    pub file: Option<PathBuf>,
}

/// The drill's diagnosis question.
pub fn question<'a>(banks: &'a [Bank], drill: &Drill) -> anyhow::Result<&'a Question> {
    banks
        .iter()
        .flat_map(|b| &b.questions)
        .find(|q| q.id == drill.text.question)
        .ok_or_else(|| {
            UsageError(format!(
                "drill {} names the question {:?}, which no bank has",
                drill.name, drill.text.question
            ))
            .into()
        })
}

/// Runs the command.
pub fn run(drill: &Drill, args: &AnswerArgs) -> anyhow::Result<ExitCode> {
    let banks = quiz::load_banks(&crate::root().join("quiz/banks")).map_err(crate::quiz::bank_errors)?;
    let question = question(&banks, drill)?;
    let text = match (&args.text, &args.file) {
        (Some(text), _) => text.clone(),
        (None, Some(file)) => {
            std::fs::read_to_string(file).map_err(|e| UsageError(format!("cannot read {}: {e}", file.display())))?
        }
        (None, None) => typed(question)?,
    };
    if text.trim().is_empty() {
        return Err(UsageError("the diagnosis is empty".into()).into());
    }
    let sheet = AnswerSheet {
        name: None,
        answers: vec![(question.id.clone(), toml::Value::String(text), 0)],
        file: "(incident answer)".into(),
    };
    let graded = quiz::grade_answers(&banks, &sheet).map_err(|e| UsageError(e.to_string()))?;
    let passed = graded.results.iter().all(|r| r.passed);
    for r in &graded.results {
        crate::quiz::print_result(r);
    }
    crate::quiz::record(&graded)?;
    super::record(drill, |state| state.diagnosed |= passed)?;
    if passed {
        println!(
            "Diagnosed. Now fix {} and run `cargo xtask incident check {}`.",
            super::start::relative(&drill.learner_file()).display(),
            drill.name
        );
        Ok(ExitCode::SUCCESS)
    } else {
        println!(
            "Not yet: read `cargo xtask incident evidence {}` again, or take a hint.",
            drill.name
        );
        Ok(ExitCode::FAILURE)
    }
}

/// Reads the diagnosis from the terminal (or a pipe): lines until an empty line or the end of input.
fn typed(question: &Question) -> anyhow::Result<String> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        println!("{}\n\nYour diagnosis (end with an empty line):", question.prompt);
    }
    let mut text = String::new();
    for line in stdin.lock().lines() {
        let line = line?;
        if line.trim().is_empty() && !text.is_empty() {
            break;
        }
        text.push_str(&line);
        text.push('\n');
    }
    Ok(text)
}
