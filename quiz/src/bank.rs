//! Question banks: `quiz/banks/<topic>.toml`, one file per topic (format in DESIGN.md, "Quiz banks").
//!
//! Everything a grader could trip over later is checked when a bank is loaded, and reported as `file:line:
//! message`: a duplicate id (in any bank), a pattern that is not a valid regex, an answer that points past the
//! choices, an order that is not a permutation, a missing model answer or explanation, an unknown kind.

use std::path::{Path, PathBuf};

use regex::Regex;
use serde::Deserialize;
use toml::Spanned;

/// A bank problem, located.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{file}:{line}: {message}")]
pub struct BankError {
    /// The bank file.
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

/// One topic's questions.
#[derive(Debug, Clone)]
pub struct Bank {
    /// The topic (the file's stem).
    pub topic: String,
    /// Where it was read from.
    pub file: PathBuf,
    /// In file order.
    pub questions: Vec<Question>,
}

/// One question.
#[derive(Debug, Clone)]
pub struct Question {
    /// Stable id: `<topic>-<n>`.
    pub id: String,
    /// Its bank's topic.
    pub topic: String,
    /// `interview`, `scenario` or `lab`.
    pub source: String,
    /// The question.
    pub prompt: String,
    /// A good answer, shown after answering.
    pub model_answer: String,
    /// Why, shown after answering.
    pub explanation: String,
    /// How it is answered and graded.
    pub kind: Kind,
    /// Line in its bank, for messages.
    pub line: usize,
}

/// How a question is answered.
#[derive(Debug, Clone)]
pub enum Kind {
    /// One choice.
    Single {
        /// The choices.
        choices: Vec<String>,
        /// Index of the right one.
        answer: usize,
    },
    /// Several choices.
    Multi {
        /// The choices.
        choices: Vec<String>,
        /// Indices of the right ones, sorted.
        answer: Vec<usize>,
    },
    /// A number.
    Numeric {
        /// The right value.
        answer: f64,
        /// Accepted distance from it.
        tolerance: f64,
        /// Shown with the number.
        unit: Option<String>,
    },
    /// Items put in order.
    Order {
        /// The items, as shown.
        items: Vec<String>,
        /// Item indices in the right order.
        answer: Vec<usize>,
    },
    /// Free text graded by rubric.
    Text {
        /// Weighted concepts.
        rubric: Vec<Concept>,
        /// The score (0..=1) that passes.
        pass_score: f64,
    },
}

impl Kind {
    /// `single`, `multi`, `numeric`, `order` or `text`.
    pub fn name(&self) -> &'static str {
        match self {
            Kind::Single { .. } => "single",
            Kind::Multi { .. } => "multi",
            Kind::Numeric { .. } => "numeric",
            Kind::Order { .. } => "order",
            Kind::Text { .. } => "text",
        }
    }
}

/// A rubric concept: earned when any pattern matches outside a negation.
#[derive(Debug, Clone)]
pub struct Concept {
    /// What it is called in feedback.
    pub name: String,
    /// Alternatives, case-insensitive.
    pub patterns: Vec<Regex>,
    /// Its share of the score.
    pub weight: f64,
    /// A wrong idea: naming it costs its weight instead of earning it.
    pub misconception: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBank {
    topic: String,
    question: Vec<Spanned<RawQuestion>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawQuestion {
    id: String,
    kind: String,
    source: String,
    prompt: String,
    model_answer: Option<String>,
    explanation: Option<String>,
    pass_score: Option<f64>,
    rubric: Option<Vec<RawConcept>>,
    choices: Option<Vec<String>>,
    items: Option<Vec<String>>,
    answer: Option<toml::Value>,
    tolerance: Option<f64>,
    unit: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConcept {
    concept: String,
    any: Vec<String>,
    weight: f64,
    #[serde(default)]
    misconception: bool,
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// Reads and validates one bank file.
pub fn load_bank(path: &Path) -> Result<Bank, Vec<BankError>> {
    let file = path.display().to_string();
    let error = |line, message: String| BankError {
        file: file.clone(),
        line,
        message,
    };
    let text = std::fs::read_to_string(path).map_err(|e| vec![error(1, format!("cannot read: {e}"))])?;
    let raw: RawBank = toml::from_str(&text).map_err(|e| {
        vec![error(
            e.span().map_or(1, |s| line_of(&text, s.start)),
            e.message().trim().to_string(),
        )]
    })?;
    let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or_default();
    let mut errors = Vec::new();
    if raw.topic != stem {
        errors.push(error(
            1,
            format!("topic {:?} differs from the file name {stem:?}", raw.topic),
        ));
    }
    let mut questions: Vec<Question> = Vec::new();
    for spanned in raw.question {
        let line = line_of(&text, spanned.span().start);
        let q = spanned.into_inner();
        match question(q, &raw.topic, line) {
            Ok(question) => {
                if questions.iter().any(|known| known.id == question.id) {
                    errors.push(error(line, format!("duplicate id {:?}", question.id)));
                }
                questions.push(question);
            }
            Err(message) => errors.push(error(line, message)),
        }
    }
    if errors.is_empty() {
        Ok(Bank {
            topic: raw.topic,
            file: path.to_path_buf(),
            questions,
        })
    } else {
        Err(errors)
    }
}

fn question(q: RawQuestion, topic: &str, line: usize) -> Result<Question, String> {
    let at = |m: String| format!("{}: {m}", q.id);
    if !q.id.starts_with(&format!("{topic}-")) {
        return Err(at(format!("ids in this bank start with \"{topic}-\"")));
    }
    if !matches!(q.source.as_str(), "interview" | "scenario" | "lab") {
        return Err(at(format!("source {:?} is not interview, scenario or lab", q.source)));
    }
    let model_answer = q
        .model_answer
        .clone()
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| at("no model_answer".into()))?;
    let explanation = q
        .explanation
        .clone()
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| at("no explanation".into()))?;
    let index = |v: &toml::Value, n: usize| -> Result<usize, String> {
        v.as_integer()
            .and_then(|i| usize::try_from(i).ok())
            .filter(|i| *i < n)
            .ok_or_else(|| at(format!("answer {v} is not an index below {n}")))
    };
    let answer = q.answer.as_ref();
    let kind = match q.kind.as_str() {
        "single" => {
            let choices = q.choices.clone().ok_or_else(|| at("single needs choices".into()))?;
            let answer = index(answer.ok_or_else(|| at("no answer".into()))?, choices.len())?;
            Kind::Single { choices, answer }
        }
        "multi" => {
            let choices = q.choices.clone().ok_or_else(|| at("multi needs choices".into()))?;
            let list = answer
                .and_then(|a| a.as_array())
                .ok_or_else(|| at("multi needs answer = [indices]".into()))?;
            let mut answer = list
                .iter()
                .map(|v| index(v, choices.len()))
                .collect::<Result<Vec<_>, _>>()?;
            answer.sort_unstable();
            answer.dedup();
            Kind::Multi { choices, answer }
        }
        "numeric" => {
            let value = answer
                .and_then(|a| a.as_float().or(a.as_integer().map(|i| i as f64)))
                .ok_or_else(|| at("numeric needs a number answer".into()))?;
            let tolerance = q.tolerance.unwrap_or(0.0);
            if tolerance < 0.0 {
                return Err(at("tolerance must not be negative".into()));
            }
            Kind::Numeric {
                answer: value,
                tolerance,
                unit: q.unit.clone(),
            }
        }
        "order" => {
            let items = q.items.clone().ok_or_else(|| at("order needs items".into()))?;
            let list = answer
                .and_then(|a| a.as_array())
                .ok_or_else(|| at("order needs answer = [indices]".into()))?;
            let answer = list
                .iter()
                .map(|v| index(v, items.len()))
                .collect::<Result<Vec<_>, _>>()?;
            let mut sorted = answer.clone();
            sorted.sort_unstable();
            if sorted != (0..items.len()).collect::<Vec<_>>() {
                return Err(at("an order answer must name every item exactly once".into()));
            }
            Kind::Order { items, answer }
        }
        "text" => {
            let raw = q
                .rubric
                .as_ref()
                .filter(|r| !r.is_empty())
                .ok_or_else(|| at("text needs a rubric".into()))?;
            let mut rubric = Vec::new();
            for c in raw {
                if c.weight <= 0.0 {
                    return Err(at(format!("concept {:?}: weight must be positive", c.concept)));
                }
                let patterns = c
                    .any
                    .iter()
                    .map(|p| {
                        Regex::new(&format!("(?i){p}"))
                            .map_err(|e| at(format!("concept {:?}: pattern {p:?} does not compile: {e}", c.concept)))
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                if patterns.is_empty() {
                    return Err(at(format!("concept {:?} has no pattern", c.concept)));
                }
                rubric.push(Concept {
                    name: c.concept.clone(),
                    patterns,
                    weight: c.weight,
                    misconception: c.misconception,
                });
            }
            if rubric.iter().all(|c| c.misconception) {
                return Err(at(
                    "a rubric needs at least one concept that is not a misconception".into()
                ));
            }
            let pass_score = q.pass_score.unwrap_or(0.6);
            if !(0.0..=1.0).contains(&pass_score) {
                return Err(at("pass_score is between 0 and 1".into()));
            }
            Kind::Text { rubric, pass_score }
        }
        other => {
            return Err(at(format!(
                "unknown kind {other:?}; use single, multi, numeric, order or text"
            )))
        }
    };
    Ok(Question {
        id: q.id,
        topic: topic.to_string(),
        source: q.source,
        prompt: q.prompt,
        model_answer,
        explanation,
        kind,
        line,
    })
}

/// Every `*.toml` bank in `dir`, sorted by topic; all problems at once (ids must be unique across banks too).
pub fn load_banks(dir: &Path) -> Result<Vec<Bank>, Vec<BankError>> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| {
            vec![BankError {
                file: dir.display().to_string(),
                line: 1,
                message: format!("cannot list banks: {e}"),
            }]
        })?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    paths.sort();
    let mut banks = Vec::new();
    let mut errors = Vec::new();
    for path in paths {
        match load_bank(&path) {
            Ok(bank) => banks.push(bank),
            Err(mut e) => errors.append(&mut e),
        }
    }
    let mut seen: std::collections::BTreeMap<&str, &Bank> = std::collections::BTreeMap::new();
    for bank in &banks {
        for q in &bank.questions {
            if let Some(other) = seen.insert(&q.id, bank) {
                errors.push(BankError {
                    file: bank.file.display().to_string(),
                    line: q.line,
                    message: format!("id {:?} is also in {}", q.id, other.file.display()),
                });
            }
        }
    }
    if errors.is_empty() {
        Ok(banks)
    } else {
        Err(errors)
    }
}
