//! Grading one answer against one question.
//!
//! Choice, numeric and order questions are exact (multi-select gets partial credit, but passes only when exactly
//! right). Free text is graded by rubric:
//!
//! - whitespace is folded first, so a concept may straddle a line break;
//! - a concept is earned when one of its patterns matches **outside a negation**: a match preceded, in the same
//!   clause and within six words, by "not", "never", "don't", "avoid", "without"… does not count. "Never set a
//!   TTL" does not earn the TTL concept;
//! - a match followed, in the same clause and within six words, by a *dismissal* ("… doesn't matter", "… is
//!   unnecessary", "… adds nothing", "… only hides information") does not count either: "error rate doesn't
//!   matter during a stress test" names the concept to throw it away. This is the usual shape of a fluent wrong
//!   answer, which uses every right word for the opposite advice;
//! - a *misconception* concept costs its weight when stated (and not negated or dismissed);
//! - a bare list of terms ("TTL, write-through, tags") is not an answer: with no function words at all (a, the,
//!   to, use, when, because…), or as three or more comma-separated items of at most three words each, the score
//!   is capped below the pass mark. Sentences that explain earn the points.

use crate::bank::{Concept, Kind, Question};

/// A learner's answer.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    /// One choice (single).
    Choice(usize),
    /// Several indices (multi), or an order (order).
    Choices(Vec<usize>),
    /// A number (numeric).
    Number(f64),
    /// Free text (text).
    Text(String),
}

/// The verdict on one answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Grade {
    /// 0..=1.
    pub score: f64,
    /// Whether it passes.
    pub passed: bool,
    /// Rubric concepts earned (text).
    pub found: Vec<String>,
    /// Rubric concepts missing (text), or what was wrong.
    pub missed: Vec<String>,
    /// A remark: a negation that cost a concept, a capped list, a misconception stated.
    pub notes: Vec<String>,
}

impl Grade {
    fn exact(right: bool, wrong_note: impl Into<String>) -> Grade {
        Grade {
            score: if right { 1.0 } else { 0.0 },
            passed: right,
            found: vec![],
            missed: if right { vec![] } else { vec![wrong_note.into()] },
            notes: vec![],
        }
    }
}

/// Grades `answer`; an answer of the wrong shape (text for a choice question…) scores 0 with a note saying so.
pub fn grade(question: &Question, answer: &Answer) -> Grade {
    match (&question.kind, answer) {
        (Kind::Single { answer: right, .. }, Answer::Choice(given)) => {
            Grade::exact(given == right, "not the right choice")
        }
        (Kind::Multi { answer: right, choices }, Answer::Choices(given)) => {
            let mut given = given.clone();
            given.sort_unstable();
            given.dedup();
            let hits = given.iter().filter(|g| right.contains(g)).count() as f64;
            let wrong = given.iter().filter(|g| !right.contains(g)).count() as f64;
            let score = ((hits - wrong) / right.len() as f64).clamp(0.0, 1.0);
            let mut grade = Grade::exact(given == *right, "not exactly the right set");
            grade.score = score;
            for i in right.iter().filter(|i| !given.contains(i)) {
                grade.missed.push(format!("missed: {}", choices[*i]));
            }
            grade
        }
        (
            Kind::Numeric {
                answer: right,
                tolerance,
                unit,
            },
            Answer::Number(given),
        ) => {
            let unit = unit.as_deref().unwrap_or("");
            Grade::exact(
                (given - right).abs() <= *tolerance + 1e-9,
                format!("expected {right}{unit} (± {tolerance})"),
            )
        }
        (Kind::Order { answer: right, .. }, Answer::Choices(given)) => {
            Grade::exact(given == right, "not in the right order")
        }
        (Kind::Text { rubric, pass_score }, Answer::Text(text)) => grade_text(rubric, *pass_score, text),
        (kind, _) => Grade::exact(
            false,
            format!("a {} question needs {}", kind.name(), expected_shape(kind)),
        ),
    }
}

/// What an answer file must hold for each kind.
pub fn expected_shape(kind: &Kind) -> &'static str {
    match kind {
        Kind::Single { .. } => "a choice index, e.g. 1",
        Kind::Multi { .. } => "a list of choice indices, e.g. [0, 2]",
        Kind::Numeric { .. } => "a number, e.g. 12.5",
        Kind::Order { .. } => "a list of item indices in order, e.g. [2, 0, 1]",
        Kind::Text { .. } => "text",
    }
}

/// Words that negate what follows them in a clause.
pub const NEGATIONS: &[&str] = &[
    "not",
    "no",
    "never",
    "don't",
    "dont",
    "doesn't",
    "didn't",
    "shouldn't",
    "mustn't",
    "isn't",
    "aren't",
    "won't",
    "can't",
    "cannot",
    "avoid",
    "avoiding",
    "without",
    "nor",
    "neither",
    "instead",
];

/// Phrases that, following a concept in its clause, throw it away: the opposite advice in the concept's own words.
/// Matched as whole words within [`DISMISSAL_WINDOW`] words after the concept.
pub const DISMISSALS: &[&str] = &[
    "doesn't matter",
    "does not matter",
    "don't matter",
    "do not matter",
    "doesn't help",
    "does not help",
    "don't help",
    "do not help",
    "won't help",
    "would not help",
    "wouldn't help",
    "will not help",
    "is unnecessary",
    "are unnecessary",
    "is not needed",
    "are not needed",
    "isn't needed",
    "aren't needed",
    "is not necessary",
    "isn't necessary",
    "add nothing",
    "adds nothing",
    "is pointless",
    "are pointless",
    "is useless",
    "are useless",
    "is a mistake",
    "are a mistake",
    "is not useful",
    "is not a useful",
    "isn't useful",
    "is irrelevant",
    "are irrelevant",
    "can be ignored",
    "should be ignored",
    "only matter",
    "only matters",
    "only needed",
    "only hide",
    "only hides",
    "only slow",
    "only slows",
    "only add",
    "only adds",
    "not worth",
    "is an anti-pattern",
    "are an anti-pattern",
    "is overrated",
    "are overrated",
    "a waste of",
    "would only make",
    "only make it worse",
    "makes it worse",
];

/// How many words after a match a dismissal reaches.
pub const DISMISSAL_WINDOW: usize = 6;

/// Words a sentence has and a bare list of terms does not.
pub const FUNCTION_WORDS: &[&str] = &[
    "a", "an", "the", "to", "of", "on", "in", "for", "with", "by", "is", "are", "be", "it", "so", "if", "when", "then",
    "because", "that", "which", "use", "uses", "using", "and", "or", "but", "each", "every", "one", "its", "their",
];

fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !(c.is_alphanumeric() || c == '\'' || c == '-'))
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
}

/// How many words back from a match a negation reaches (six, so that "never batch lookups or use joins" reaches
/// the joins too).
pub const NEGATION_WINDOW: usize = 6;

/// The most words an item of a comma-separated answer may have for the answer to count as a bare list.
pub const LIST_ITEM_WORDS: usize = 3;

/// True when the match starting at `start` is negated: a negation word among the last [`NEGATION_WINDOW`] words of
/// its clause.
fn negated(text: &str, start: usize) -> bool {
    let before = &text[..start];
    let clause_start = before.rfind(['.', ';', '!', '?', ':']).map_or(0, |i| i + 1);
    let clause = &before[clause_start..];
    let recent: Vec<String> = words(clause).collect();
    recent
        .iter()
        .rev()
        .take(NEGATION_WINDOW)
        .any(|w| NEGATIONS.contains(&w.as_str()))
}

/// True when the match ending at `end` is thrown away by a dismissal among the next [`DISMISSAL_WINDOW`] words of
/// its clause ("CPU is not a useful signal").
fn dismissed(text: &str, end: usize) -> bool {
    let after = &text[end..];
    let clause = &after[..after.find(['.', ';', '!', '?']).unwrap_or(after.len())];
    let next: Vec<String> = words(clause).take(DISMISSAL_WINDOW).collect();
    let tail = format!(" {} ", next.join(" "));
    DISMISSALS.iter().any(|d| tail.contains(&format!(" {d} ")))
}

/// True when `text` is a bare list of terms rather than sentences: no function word at all ("TTL, write-through,
/// tags"), or at least three comma-separated items of at most three words each ("batch, IN, JOIN, eager loading").
fn bare_list(text: &str) -> bool {
    let all: Vec<String> = words(text).collect();
    if all.is_empty() {
        return false;
    }
    let no_function_words = !all.iter().any(|w| FUNCTION_WORDS.contains(&w.as_str()));
    let items: Vec<&str> = text
        .split([',', ';', '\n'])
        .map(str::trim)
        .filter(|i| !i.is_empty())
        .collect();
    let short_items = items.len() >= 3 && items.iter().all(|i| words(i).count() <= LIST_ITEM_WORDS);
    no_function_words || short_items
}

fn matched(concept: &Concept, text: &str) -> (bool, bool) {
    let mut any_negated = false;
    for pattern in &concept.patterns {
        for m in pattern.find_iter(text) {
            if negated(text, m.start()) || dismissed(text, m.end()) {
                any_negated = true;
            } else {
                return (true, false);
            }
        }
    }
    (false, any_negated)
}

fn grade_text(rubric: &[Concept], pass_score: f64, text: &str) -> Grade {
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let total: f64 = rubric.iter().filter(|c| !c.misconception).map(|c| c.weight).sum();
    let mut earned = 0.0;
    let mut grade = Grade {
        score: 0.0,
        passed: false,
        found: vec![],
        missed: vec![],
        notes: vec![],
    };
    for concept in rubric {
        let (hit, only_negated) = matched(concept, &text);
        match (concept.misconception, hit) {
            (false, true) => {
                earned += concept.weight;
                grade.found.push(concept.name.clone());
            }
            (false, false) => {
                grade.missed.push(concept.name.clone());
                if only_negated {
                    grade.notes.push(format!(
                        "\"{}\" is mentioned only to be negated or dismissed, so it does not count",
                        concept.name
                    ));
                }
            }
            (true, true) => {
                earned -= concept.weight;
                grade.notes.push(format!("misconception: {}", concept.name));
            }
            (true, false) => {}
        }
    }
    let mut score = (earned / total).clamp(0.0, 1.0);
    if bare_list(&text) {
        let cap = (pass_score - 0.01).clamp(0.0, 0.5);
        if score > cap {
            score = cap;
            grade
                .notes
                .push("a list of terms is not an answer: say what you would do and why, in sentences".into());
        }
    }
    grade.score = score;
    grade.passed = score >= pass_score;
    grade
}

#[cfg(test)]
mod tests {
    use super::*;
    use regex::Regex;

    fn concept(name: &str, patterns: &[&str], weight: f64, misconception: bool) -> Concept {
        Concept {
            name: name.into(),
            patterns: patterns
                .iter()
                .map(|p| Regex::new(&format!("(?i){p}")).unwrap())
                .collect(),
            weight,
            misconception,
        }
    }

    fn rubric() -> Vec<Concept> {
        vec![
            concept("TTL", &[r"\bttl\b", "expir"], 1.0, false),
            concept("invalidate on write", &["invalidat"], 1.0, false),
            concept("cache forever", &["cache (it )?forever"], 1.0, true),
        ]
    }

    fn text(answer: &str) -> Grade {
        grade_text(&rubric(), 0.6, answer)
    }

    #[test]
    fn sentences_naming_the_concepts_pass() {
        let g = text("Give every entry a TTL so it expires,\nand invalidate the keys a write touches.");
        assert_eq!((g.score, g.passed), (1.0, true));
        assert_eq!(g.found, ["TTL", "invalidate on write"]);
    }

    #[test]
    fn a_negated_concept_is_not_earned() {
        let g = text("Never use a TTL; invalidate the keys on every write.");
        assert_eq!(g.found, ["invalidate on write"]);
        assert!(!g.passed && g.score == 0.5);
        assert!(g.notes[0].contains("only to be negated or dismissed"), "{:?}", g.notes);
        // A negation in an earlier clause does not reach a later one.
        assert!(text("Do not rely on luck. Set a TTL and invalidate on writes.").passed);
    }

    #[test]
    fn a_concept_named_only_to_be_dismissed_is_not_earned() {
        let g = text("A TTL doesn't matter here; invalidate the keys on every write.");
        assert_eq!(g.found, ["invalidate on write"], "{g:?}");
        assert!(!g.passed);
        // The dismissal must follow in the same clause, within a few words.
        assert!(text("Set a TTL. Whether the listing updates at once doesn't matter; invalidate on write.").passed);
        assert!(dismissed("errors are irrelevant", 6) && !dismissed("errors. Speed is irrelevant", 6));
    }

    #[test]
    fn a_misconception_costs_points() {
        let g = text("Use a TTL and invalidate on write, or just cache forever.");
        assert_eq!(g.score, 0.5);
        assert!(g.notes.iter().any(|n| n.contains("misconception")));
        assert!(
            text("Use a TTL and invalidate on write; don't cache forever.").passed,
            "a negated misconception costs nothing"
        );
    }

    #[test]
    fn a_bare_list_of_terms_cannot_pass() {
        let g = text("TTL, invalidation, expiry");
        assert!(!g.passed && g.score <= 0.5, "{g:?}");
        assert!(g.notes.iter().any(|n| n.contains("list of terms")));
        // A short word like "in" or "on" among the terms does not make a list a sentence.
        assert!(bare_list("N+1, DataLoader, batch, IN, JOIN, eager loading"));
        assert!(!bare_list(
            "Batch the lookups with IN, join the tables, and count queries per request in a test."
        ));
    }
}
