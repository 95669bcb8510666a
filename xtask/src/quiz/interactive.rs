//! `cargo xtask quiz [topic]` in a terminal: questions one at a time — choices with the arrow keys, several with
//! space, an order picked item by item, numbers typed, free text over several lines — each graded at once with the
//! same grader as `--answers`, and kept in the progress file. `--review` asks in Leitner order: what you missed
//! first, then what you have not answered, then what you know least well.

use std::collections::BTreeMap;
use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;

use dialoguer::{Input, MultiSelect, Select};
use quiz::answers::AnswerSheet;
use quiz::{Bank, Kind, Question};

use crate::UsageError;

/// What to ask.
pub struct Session {
    /// One topic, or every topic.
    pub topic: Option<String>,
    /// Leitner order instead of the banks' order.
    pub review: bool,
    /// At most this many questions.
    pub limit: usize,
}

/// The questions of a session, in the order to ask them.
pub fn questions<'a>(banks: &'a [Bank], session: &Session) -> anyhow::Result<Vec<&'a Question>> {
    let pool: Vec<&Question> = match &session.topic {
        Some(topic) => crate::quiz::bank_of(banks, topic)?.questions.iter().collect(),
        None => banks.iter().flat_map(|b| &b.questions).collect(),
    };
    let mut ordered = pool.clone();
    if session.review {
        let progress = learner::progress::load(&learner::progress::path(&crate::root()));
        let seen: BTreeMap<String, quiz::review::Seen> = progress
            .quiz
            .iter()
            .map(|(id, r)| {
                let seen = quiz::review::Seen {
                    leitner_box: r.leitner_box,
                    passed: r.passed,
                    at: r.at.clone(),
                };
                (id.clone(), seen)
            })
            .collect();
        let ids: Vec<&str> = pool.iter().map(|q| q.id.as_str()).collect();
        let order = quiz::review::review_order(&ids, &seen);
        ordered = order
            .iter()
            .filter_map(|id| pool.iter().find(|q| q.id == *id).copied())
            .collect();
    }
    ordered.truncate(session.limit);
    Ok(ordered)
}

/// Asks one question; `None` when the learner quit (Esc, Ctrl-D, or `q` at a text prompt).
fn ask(q: &Question) -> anyhow::Result<Option<toml::Value>> {
    let theme = dialoguer::theme::SimpleTheme;
    let answer = match &q.kind {
        Kind::Single { choices, .. } => Select::with_theme(&theme)
            .with_prompt("↑↓ to choose, Enter to answer, Esc to stop")
            .items(choices)
            .default(0)
            .interact_opt()?
            .map(|i| toml::Value::Integer(i as i64)),
        Kind::Multi { choices, .. } => MultiSelect::with_theme(&theme)
            .with_prompt("↑↓ to move, Space to pick every right one, Enter to answer, Esc to stop")
            .items(choices)
            .interact_opt()?
            .map(|picked| toml::Value::Array(picked.into_iter().map(|i| toml::Value::Integer(i as i64)).collect())),
        Kind::Order { items, .. } => {
            let mut left: Vec<usize> = (0..items.len()).collect();
            let mut order = Vec::new();
            while left.len() > 1 {
                let names: Vec<&str> = left.iter().map(|i| items[*i].as_str()).collect();
                let Some(pick) = Select::with_theme(&theme)
                    .with_prompt(format!("Which comes {}? (Esc to stop)", ordinal(order.len() + 1)))
                    .items(&names)
                    .default(0)
                    .interact_opt()?
                else {
                    return Ok(None);
                };
                order.push(left.remove(pick));
            }
            order.extend(left);
            Some(toml::Value::Array(
                order.into_iter().map(|i| toml::Value::Integer(i as i64)).collect(),
            ))
        }
        Kind::Numeric { unit, .. } => {
            let prompt = match unit {
                Some(unit) => format!("Your answer (in {unit})"),
                None => "Your answer".to_string(),
            };
            let value: f64 = Input::with_theme(&theme).with_prompt(prompt).interact_text()?;
            Some(toml::Value::Float(value))
        }
        Kind::Text { .. } => {
            println!("Your answer, in sentences; an empty line ends it (a lone q stops the quiz):");
            let mut lines = Vec::new();
            let stdin = std::io::stdin();
            loop {
                print!("> ");
                std::io::stdout().flush()?;
                let mut line = String::new();
                if stdin.lock().read_line(&mut line)? == 0 {
                    return Ok(None);
                }
                let line = line.trim_end().to_string();
                if line.is_empty() && !lines.is_empty() {
                    break;
                }
                if line == "q" && lines.is_empty() {
                    return Ok(None);
                }
                if !line.is_empty() {
                    lines.push(line);
                }
            }
            Some(toml::Value::String(lines.join("\n")))
        }
    };
    Ok(answer)
}

fn ordinal(n: usize) -> String {
    match n {
        1 => "first".into(),
        2 => "second".into(),
        3 => "third".into(),
        _ => format!("{n}th"),
    }
}

/// Runs a session in the terminal.
pub fn run(banks: &[Bank], session: &Session) -> anyhow::Result<ExitCode> {
    if !std::io::stdin().is_terminal() || !std::io::stdout().is_terminal() {
        return Err(UsageError(
            "the interactive quiz needs a terminal; to grade a file of answers use --answers FILE".into(),
        )
        .into());
    }
    let asked = questions(banks, session)?;
    if asked.is_empty() {
        println!("No questions to ask.");
        return Ok(ExitCode::SUCCESS);
    }
    let mut by_topic: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for (n, q) in asked.iter().enumerate() {
        println!(
            "\n[{}/{}] {} ({})\n{}\n",
            n + 1,
            asked.len(),
            q.id,
            q.kind.name(),
            q.prompt
        );
        let Some(answer) = ask(q)? else {
            println!("Stopped.");
            break;
        };
        let sheet = AnswerSheet {
            name: None,
            answers: vec![(q.id.clone(), answer, 0)],
            file: "(terminal)".into(),
        };
        let graded = quiz::grade_answers(banks, &sheet).map_err(|e| UsageError(e.to_string()))?;
        for r in &graded.results {
            println!();
            crate::quiz::print_result(r);
            let entry = by_topic.entry(r.topic.clone()).or_default();
            entry.0 += 1;
            entry.1 += usize::from(r.passed);
        }
        crate::quiz::record(&graded)?;
    }
    for (topic, (answered, passed)) in &by_topic {
        println!("{topic}: {passed} of {answered} passed");
    }
    Ok(ExitCode::SUCCESS)
}
