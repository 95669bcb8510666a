//! The real banks: they load, each topic meets the minimums, the seed guide's questions are there, every model
//! answer passes its own question, and the grader agrees with the calibration verdicts.

use std::path::{Path, PathBuf};

use quiz::{grade, load_banks, Answer, Kind};

fn banks_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("banks")
}

/// The seed guide's interview questions per topic, under fixed ids `<topic>-1..=N`.
const SEED_QUESTIONS: &[(&str, usize)] = &[
    ("caching", 3),
    ("worker-pools", 3),
    ("query-batching", 2),
    ("load-generator", 2),
];

#[test]
fn every_bank_loads_and_meets_the_minimums() {
    let banks = load_banks(&banks_dir()).unwrap_or_else(|errors| panic!("{errors:#?}"));
    assert!(!banks.is_empty());
    for bank in &banks {
        assert!(bank.questions.len() >= 10, "{}: at least 10 questions", bank.topic);
        let not_text = bank
            .questions
            .iter()
            .filter(|q| !matches!(q.kind, Kind::Text { .. }))
            .count();
        assert!(
            not_text >= 3,
            "{}: at least 3 questions that are not free text",
            bank.topic
        );
        if let Some((_, n)) = SEED_QUESTIONS.iter().find(|(t, _)| *t == bank.topic) {
            for i in 1..=*n {
                assert!(
                    bank.questions.iter().any(|q| q.id == format!("{}-{i}", bank.topic)),
                    "seed question {}-{i} missing",
                    bank.topic
                );
            }
        }
    }
}

#[test]
fn every_model_answer_passes_its_own_question() {
    for bank in load_banks(&banks_dir()).unwrap() {
        for q in &bank.questions {
            let answer = match &q.kind {
                Kind::Single { answer, .. } => Answer::Choice(*answer),
                Kind::Multi { answer, .. } | Kind::Order { answer, .. } => Answer::Choices(answer.clone()),
                Kind::Numeric { answer, .. } => Answer::Number(*answer),
                Kind::Text { .. } => Answer::Text(q.model_answer.clone()),
            };
            let g = grade(q, &answer);
            assert!(
                g.passed && g.score >= 0.9,
                "{}: its model answer scores {:.2}, missing {:?}",
                q.id,
                g.score,
                g.missed
            );
        }
    }
}

#[test]
fn the_grader_agrees_with_the_calibration_verdicts() {
    let banks = load_banks(&banks_dir()).unwrap();
    let calibration =
        quiz::calibration::calibrate(&banks, &Path::new(env!("CARGO_MANIFEST_DIR")).join("calibration")).unwrap();
    for d in &calibration.disagreements {
        eprintln!(
            "disagree on {} ({}): score {:.2}, deserves {}",
            d.vector.id,
            d.vector.style,
            d.score,
            if d.vector.pass { "a pass" } else { "a fail" }
        );
    }
    assert!(calibration.total >= 15);
    // Per style, not only overall: a grader can agree on 95% of everything and still pass every fluent wrong answer.
    for (style, (agreed, total)) in &calibration.by_style {
        assert!(
            *agreed as f64 >= 0.95 * *total as f64,
            "style {style}: agreement {agreed}/{total} needs 95%"
        );
    }
    for style in ["good", "partial", "wrong", "stuffed"] {
        assert!(
            calibration.by_style.contains_key(style),
            "no calibration answers of style {style}"
        );
    }
}

#[test]
fn every_text_question_has_a_misconception_and_a_fluent_wrong_answer() {
    let banks = load_banks(&banks_dir()).unwrap();
    let vectors = quiz::calibration::load_vectors(&Path::new(env!("CARGO_MANIFEST_DIR")).join("calibration")).unwrap();
    let mut missing = Vec::new();
    for question in banks.iter().flat_map(|b| &b.questions) {
        let quiz::bank::Kind::Text { rubric, .. } = &question.kind else {
            continue;
        };
        if !rubric.iter().any(|c| c.misconception) {
            missing.push(format!("{}: no misconception in its rubric", question.id));
        }
        if !vectors
            .iter()
            .any(|(_, v)| v.id == question.id && v.style == "wrong" && !v.pass)
        {
            missing.push(format!("{}: no fluent wrong answer in quiz/calibration", question.id));
        }
    }
    assert!(missing.is_empty(), "{}", missing.join("\n"));
}
