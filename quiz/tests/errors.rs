//! Bad input gets a clear message with file and line, and loses nothing: broken banks, broken answer files,
//! answers of the wrong shape, and ids no bank has.

use quiz::answers::AnswerSheet;
use quiz::bank::load_bank;
use quiz::{grade_answers, load_banks};

const GOOD: &str = r#"topic = "demo"

[[question]]
id = "demo-1"
kind = "single"
source = "lab"
prompt = "Pick"
choices = ["a", "b"]
answer = 1
model_answer = "b"
explanation = "because"

[[question]]
id = "demo-2"
kind = "text"
source = "interview"
prompt = "Explain"
model_answer = "Use a TTL."
explanation = "because"
rubric = [ { concept = "ttl", any = ['\bttl\b'], weight = 1.0 }, { concept = "x", any = ['x'], weight = 1.0 } ]
"#;

fn bank_errors(text: &str) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("demo.toml");
    std::fs::write(&path, text).unwrap();
    match load_bank(&path) {
        Ok(_) => vec![],
        Err(errors) => errors
            .into_iter()
            .map(|e| e.to_string().replace(&path.display().to_string(), "demo.toml"))
            .collect(),
    }
}

#[test]
fn a_good_bank_loads() {
    assert!(bank_errors(GOOD).is_empty());
}

#[test]
fn bank_problems_name_file_and_line() {
    assert_eq!(
        bank_errors(&GOOD.replace("id = \"demo-2\"", "id = \"demo-1\"")),
        ["demo.toml:13: duplicate id \"demo-1\""]
    );
    assert_eq!(
        bank_errors(&GOOD.replace("answer = 1", "answer = 2")),
        ["demo.toml:3: demo-1: answer 2 is not an index below 2"]
    );
    let e = bank_errors(&GOOD.replace(r"'\bttl\b'", "'(ttl'"));
    assert!(
        e[0].starts_with("demo.toml:13: demo-2: concept \"ttl\": pattern \"(ttl\" does not compile"),
        "{e:?}"
    );
    assert_eq!(
        bank_errors(&GOOD.replace("model_answer = \"b\"\n", "")),
        ["demo.toml:3: demo-1: no model_answer"]
    );
    let e = bank_errors(&GOOD.replace("kind = \"single\"", "kind = \"essay\""));
    assert!(e[0].starts_with("demo.toml:3: demo-1: unknown kind \"essay\""), "{e:?}");
    let e = bank_errors(&GOOD.replace("choices = [\"a\", \"b\"]", "choices = [\"a\", \"b\""));
    assert!(
        e[0].starts_with("demo.toml:8: ") || e[0].starts_with("demo.toml:9: "),
        "{e:?}"
    );
}

#[test]
fn ids_are_unique_across_banks() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("demo.toml"), GOOD).unwrap();
    std::fs::write(
        dir.path().join("other.toml"),
        GOOD.replace("topic = \"demo\"", "topic = \"other\"")
            .replace("demo-", "other-")
            .replace("other-2", "other-1"),
    )
    .unwrap();
    let errors = load_banks(dir.path()).unwrap_err();
    assert!(
        errors.iter().any(|e| e.message.contains("duplicate id \"other-1\"")),
        "{errors:?}"
    );
}

fn demo_banks() -> (tempfile::TempDir, Vec<quiz::Bank>) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("demo.toml"), GOOD).unwrap();
    let banks = load_banks(dir.path()).unwrap();
    (dir, banks)
}

#[test]
fn answers_are_graded_and_unknown_ids_reported() {
    let (_dir, banks) = demo_banks();
    let sheet = AnswerSheet::parse(
        "name = \"Ada\"\n[answers]\n\"demo-1\" = 1\n\"demo-2\" = \"Set a TTL on each key, and x.\"\n\"demo-9\" = 0\n",
        "ada.toml",
    )
    .unwrap();
    let graded = grade_answers(&banks, &sheet).unwrap();
    assert_eq!(graded.name.as_deref(), Some("Ada"));
    assert_eq!(graded.results.len(), 2);
    assert!(graded.results.iter().all(|r| r.passed));
    assert_eq!(graded.unknown_ids, ["demo-9"]);
    assert_eq!(
        (graded.by_topic["demo"].answered, graded.by_topic["demo"].passed),
        (2, 2)
    );
    let json = serde_json::to_value(&graded).unwrap();
    for key in ["name", "results", "by_topic", "unknown_ids"] {
        assert!(json.get(key).is_some(), "--json lacks {key}");
    }
}

#[test]
fn a_broken_answer_file_names_file_and_line() {
    let e = AnswerSheet::parse("[answers]\n\"demo-1\" = 1\n\"demo-2\" = \"unterminated\n", "ada.toml").unwrap_err();
    assert_eq!((e.file.as_str(), e.line), ("ada.toml", 3));
    let (_dir, banks) = demo_banks();
    let sheet = AnswerSheet::parse("[answers]\n\"demo-2\" = \"fine\"\n\"demo-1\" = \"b\"\n", "ada.toml").unwrap();
    let e = grade_answers(&banks, &sheet).unwrap_err().to_string();
    assert_eq!(
        e,
        "ada.toml:3: demo-1 is a single question: its answer is a choice index, e.g. 1, not \"b\""
    );
}
