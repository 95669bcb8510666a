//! Answer files and their grading. An answer file is TOML (DESIGN.md, "answer files"):
//!
//! ```toml
//! name = "Ada"                 # optional: who answered
//! [answers]
//! "caching-1" = "Use a TTL for …"
//! "caching-6" = 2
//! "caching-7" = [0, 2, 4]
//! "caching-4" = 2.2
//! ```
//!
//! A malformed file, or an answer of the wrong shape for its question, is an error naming file and line; an id
//! that no bank has is reported in `unknown_ids`, never silently dropped.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use toml::Spanned;

use crate::bank::{Bank, Kind};
use crate::grade::{expected_shape, grade, Answer};

/// A parsed answer file.
#[derive(Debug, Clone)]
pub struct AnswerSheet {
    /// Who answered.
    pub name: Option<String>,
    /// (question id, raw value, line), in id order.
    pub answers: Vec<(String, toml::Value, usize)>,
    /// The file, for messages.
    pub file: String,
}

/// An answer file that cannot be graded.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{file}:{line}: {message}")]
pub struct AnswerError {
    /// The file.
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSheet {
    name: Option<String>,
    #[serde(default)]
    answers: BTreeMap<String, Spanned<toml::Value>>,
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

impl AnswerSheet {
    /// Reads an answer file.
    pub fn load(path: &Path) -> Result<AnswerSheet, AnswerError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| AnswerError {
            file: file.clone(),
            line: 1,
            message: format!("cannot read: {e}"),
        })?;
        AnswerSheet::parse(&text, &file)
    }

    /// Parses answer-file text; `file` names it in errors.
    pub fn parse(text: &str, file: &str) -> Result<AnswerSheet, AnswerError> {
        let raw: RawSheet = toml::from_str(text).map_err(|e| AnswerError {
            file: file.into(),
            line: e.span().map_or(1, |s| line_of(text, s.start)),
            message: e.message().trim().to_string(),
        })?;
        let answers = raw
            .answers
            .into_iter()
            .map(|(id, v)| (id, v.get_ref().clone(), line_of(text, v.span().start)))
            .collect();
        Ok(AnswerSheet {
            name: raw.name,
            answers,
            file: file.into(),
        })
    }
}

/// One graded answer (the `results` entries of `--json`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GradedQuestion {
    /// Question id.
    pub id: String,
    /// Its topic.
    pub topic: String,
    /// Its kind.
    pub kind: String,
    /// The answer as given, in words: the text, the chosen choices' text, the items in the order given, the number.
    pub answer: String,
    /// 0..=1.
    pub score: f64,
    /// Passed.
    pub passed: bool,
    /// Concepts earned.
    pub found: Vec<String>,
    /// Concepts missed, or what was wrong.
    pub missed: Vec<String>,
    /// Remarks (negations, lists, misconceptions).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// Shown after answering.
    pub model_answer: String,
    /// Shown after answering.
    pub explanation: String,
}

/// Answers and passes per topic.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct TopicScore {
    /// Questions answered.
    pub answered: usize,
    /// Of which passed.
    pub passed: usize,
}

/// A graded answer file (the `--json` document).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Graded {
    /// Who answered.
    pub name: Option<String>,
    /// In id order.
    pub results: Vec<GradedQuestion>,
    /// Per topic.
    pub by_topic: BTreeMap<String, TopicScore>,
    /// Ids in the file that no bank has.
    pub unknown_ids: Vec<String>,
}

fn to_answer(kind: &Kind, value: &toml::Value) -> Option<Answer> {
    let index = |v: &toml::Value| v.as_integer().and_then(|i| usize::try_from(i).ok());
    match kind {
        Kind::Single { .. } => index(value).map(Answer::Choice),
        Kind::Multi { .. } | Kind::Order { .. } => value
            .as_array()?
            .iter()
            .map(index)
            .collect::<Option<Vec<_>>>()
            .map(Answer::Choices),
        Kind::Numeric { .. } => value
            .as_float()
            .or(value.as_integer().map(|i| i as f64))
            .map(Answer::Number),
        Kind::Text { .. } => value.as_str().map(|s| Answer::Text(s.to_string())),
    }
}

/// The answer in words, for whoever reads it later (an instructor's dashboard): an index becomes its choice's text.
fn in_words(kind: &Kind, answer: &Answer) -> String {
    let pick = |options: &[String], i: &usize| options.get(*i).cloned().unwrap_or_else(|| format!("#{i}"));
    match (kind, answer) {
        (Kind::Single { choices, .. }, Answer::Choice(i)) => pick(choices, i),
        (Kind::Multi { choices, .. }, Answer::Choices(given)) => {
            given.iter().map(|i| pick(choices, i)).collect::<Vec<_>>().join("; ")
        }
        (Kind::Order { items, .. }, Answer::Choices(given)) => {
            given.iter().map(|i| pick(items, i)).collect::<Vec<_>>().join(" → ")
        }
        (_, Answer::Number(x)) => x.to_string(),
        (_, Answer::Text(text)) => text.trim().to_string(),
        (_, Answer::Choice(i)) => format!("#{i}"),
        (_, Answer::Choices(given)) => format!("{given:?}"),
    }
}

/// Grades every answer of `sheet` against `banks`.
pub fn grade_answers(banks: &[Bank], sheet: &AnswerSheet) -> Result<Graded, AnswerError> {
    let mut graded = Graded {
        name: sheet.name.clone(),
        results: vec![],
        by_topic: BTreeMap::new(),
        unknown_ids: vec![],
    };
    for (id, value, line) in &sheet.answers {
        let Some(question) = banks.iter().flat_map(|b| &b.questions).find(|q| &q.id == id) else {
            graded.unknown_ids.push(id.clone());
            continue;
        };
        let answer = to_answer(&question.kind, value).ok_or_else(|| AnswerError {
            file: sheet.file.clone(),
            line: *line,
            message: format!(
                "{id} is a {} question: its answer is {}, not {value}",
                question.kind.name(),
                expected_shape(&question.kind)
            ),
        })?;
        let g = grade(question, &answer);
        let topic = graded.by_topic.entry(question.topic.clone()).or_default();
        topic.answered += 1;
        topic.passed += usize::from(g.passed);
        graded.results.push(GradedQuestion {
            id: id.clone(),
            topic: question.topic.clone(),
            kind: question.kind.name().into(),
            answer: in_words(&question.kind, &answer),
            score: (g.score * 1000.0).round() / 1000.0,
            passed: g.passed,
            found: g.found,
            missed: g.missed,
            notes: g.notes,
            model_answer: question.model_answer.trim().to_string(),
            explanation: question.explanation.trim().to_string(),
        });
    }
    Ok(graded)
}
