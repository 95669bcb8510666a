//! The book grades quizzes in the browser with a JavaScript mirror of the Rust grader (`book/theme/quiz-grader.js`).
//! This test proves they agree: every calibration vector, every model answer, and a right and a wrong answer to every
//! other question are graded in Rust, then by the script under node, and every score, verdict and list of concepts
//! found and missed must match.

use std::process::Command;

use quiz::{grade, Answer, Kind};
use serde_json::json;
use workbench_tests::root;

fn cases() -> serde_json::Value {
    let banks = quiz::load_banks(&root().join("quiz/banks")).unwrap_or_else(|e| panic!("{e:#?}"));
    let mut questions = serde_json::Map::new();
    let mut answers: Vec<(String, Answer, serde_json::Value)> = Vec::new();
    for q in banks.iter().flat_map(|b| &b.questions) {
        questions.insert(q.id.clone(), quiz::web::question_json(q));
        match &q.kind {
            Kind::Single { choices, answer } => {
                answers.push((q.id.clone(), Answer::Choice(*answer), json!(answer)));
                let wrong = (answer + 1) % choices.len();
                answers.push((q.id.clone(), Answer::Choice(wrong), json!(wrong)));
            }
            Kind::Multi { answer, .. } => {
                answers.push((q.id.clone(), Answer::Choices(answer.clone()), json!(answer)));
                let partial = vec![answer[0], 99];
                answers.push((q.id.clone(), Answer::Choices(partial.clone()), json!(partial)));
            }
            Kind::Numeric { answer, tolerance, .. } => {
                answers.push((
                    q.id.clone(),
                    Answer::Number(*answer + tolerance / 2.0),
                    json!(answer + tolerance / 2.0),
                ));
                let off = answer + tolerance * 3.0 + 1.0;
                answers.push((q.id.clone(), Answer::Number(off), json!(off)));
            }
            Kind::Order { answer, .. } => {
                answers.push((q.id.clone(), Answer::Choices(answer.clone()), json!(answer)));
                let reversed: Vec<usize> = answer.iter().rev().copied().collect();
                answers.push((q.id.clone(), Answer::Choices(reversed.clone()), json!(reversed)));
            }
            Kind::Text { rubric, .. } => {
                // The model answer; the same negated; and the concepts' names as a bare list.
                let negated = format!(
                    "You should never do this: {}",
                    q.model_answer.replace(". ", ". Do not ")
                );
                let list = rubric.iter().map(|c| c.name.as_str()).collect::<Vec<_>>().join(", ");
                for text in [q.model_answer.clone(), negated, list] {
                    answers.push((q.id.clone(), Answer::Text(text.clone()), json!(text)));
                }
            }
        }
    }
    for (_, v) in quiz::calibration::load_vectors(&root().join("quiz/calibration")).unwrap() {
        answers.push((v.id.clone(), Answer::Text(v.answer.clone()), json!(v.answer)));
    }
    let by_id = |id: &str| banks.iter().flat_map(|b| &b.questions).find(|q| q.id == id).unwrap();
    let cases: Vec<serde_json::Value> = answers
        .into_iter()
        .map(|(id, answer, as_json)| {
            let g = grade(by_id(&id), &answer);
            json!({ "id": id, "answer": as_json, "score": g.score, "passed": g.passed, "found": g.found, "missed": g.missed })
        })
        .collect();
    assert!(cases.len() > 100, "only {} cases", cases.len());
    json!({ "rules": quiz::web::rules_json(), "questions": questions, "cases": cases })
}

#[test]
fn the_browser_grader_agrees_with_the_rust_grader_on_every_case() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("cases.json");
    std::fs::write(&file, cases().to_string()).unwrap();
    let output = Command::new("node")
        .arg(root().join("tests/js/grader-agreement.cjs"))
        .arg(&file)
        .output()
        .expect("node must be installed to test the book's quiz grader (CI installs it)");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "the graders disagree:\n{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("cases agree"), "{stdout}");
}
