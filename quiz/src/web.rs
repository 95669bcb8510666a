//! The browser's view of the banks: what the book's quiz widget needs, as JSON.
//!
//! The widget grades in the page with a JavaScript mirror of [`crate::grade`] (`book/theme/quiz-grader.js`). To keep
//! the two from drifting, the grader's word lists travel with the bank ([`rules_json`]) instead of being copied into
//! the script, and a workspace test grades every calibration vector with both and compares the scores.

use serde_json::{json, Value};

use crate::bank::{Bank, Kind, Question};

/// A bank as the widget reads it: every question with its answer, rubric patterns as regex source text.
pub fn bank_json(bank: &Bank) -> Value {
    json!({
        "topic": bank.topic,
        "questions": bank.questions.iter().map(question_json).collect::<Vec<_>>(),
    })
}

/// One question.
pub fn question_json(q: &Question) -> Value {
    let mut v = json!({
        "id": q.id,
        "kind": q.kind.name(),
        "prompt": q.prompt,
        "model_answer": q.model_answer,
        "explanation": q.explanation,
    });
    match &q.kind {
        Kind::Single { choices, answer } => {
            v["choices"] = json!(choices);
            v["answer"] = json!(answer);
        }
        Kind::Multi { choices, answer } => {
            v["choices"] = json!(choices);
            v["answer"] = json!(answer);
        }
        Kind::Numeric {
            answer,
            tolerance,
            unit,
        } => {
            v["answer"] = json!(answer);
            v["tolerance"] = json!(tolerance);
            v["unit"] = json!(unit);
        }
        Kind::Order { items, answer } => {
            v["items"] = json!(items);
            v["answer"] = json!(answer);
        }
        Kind::Text { rubric, pass_score } => {
            v["pass_score"] = json!(pass_score);
            v["rubric"] = rubric
                .iter()
                .map(|c| {
                    json!({
                        "concept": c.name,
                        // Compiled as `(?i)pattern`; the browser takes the flag apart.
                        "any": c.patterns.iter().map(|p| p.as_str().trim_start_matches("(?i)")).collect::<Vec<_>>(),
                        "weight": c.weight,
                        "misconception": c.misconception,
                    })
                })
                .collect();
        }
    }
    v
}

/// The text grader's rules, shared with the JavaScript mirror.
pub fn rules_json() -> Value {
    json!({
        "negations": crate::grade::NEGATIONS,
        "function_words": crate::grade::FUNCTION_WORDS,
        "negation_window": crate::grade::NEGATION_WINDOW,
        "dismissals": crate::grade::DISMISSALS,
        "dismissal_window": crate::grade::DISMISSAL_WINDOW,
        "list_item_words": crate::grade::LIST_ITEM_WORDS,
    })
}
