//! Every quiz bank is well formed: unique ids under its topic, answers that point at real choices, order answers
//! that are permutations, rubric patterns that compile, and the seed guide's questions under their fixed ids.
//! (This checks the files; the quiz engine that grades them is a crate of its own.)

use std::collections::HashSet;

use toml::Value;
use workbench_tests::root;

/// The seed guide's interview questions per topic: ids `<topic>-1..=N` must exist.
const SEED_QUESTIONS: &[(&str, usize)] = &[("caching", 3)];

#[test]
fn every_bank_is_well_formed() {
    let dir = root().join("quiz/banks");
    let mut banks = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "toml") {
            continue;
        }
        let file = path.display().to_string();
        let text = std::fs::read_to_string(&path).unwrap();
        let bank: Value = toml::from_str(&text).unwrap_or_else(|e| {
            let line = e.span().map_or(1, |s| text[..s.start].matches('\n').count() + 1);
            panic!("{file}:{line}: {}", e.message())
        });
        let topic = bank["topic"].as_str().unwrap_or_else(|| panic!("{file}: no topic"));
        assert_eq!(
            Some(topic),
            path.file_stem().and_then(|s| s.to_str()),
            "{file}: topic must match the file name"
        );
        let questions = bank["question"]
            .as_array()
            .unwrap_or_else(|| panic!("{file}: no [[question]]"));
        let mut ids = HashSet::new();
        let mut not_text = 0;
        for q in questions {
            let id = q["id"]
                .as_str()
                .unwrap_or_else(|| panic!("{file}: a question without id"));
            let at = format!("{file}: {id}");
            assert!(id.starts_with(&format!("{topic}-")), "{at}: ids start with the topic");
            assert!(ids.insert(id.to_string()), "{at}: duplicate id");
            for field in ["prompt", "model_answer", "explanation"] {
                assert!(
                    q.get(field)
                        .and_then(Value::as_str)
                        .is_some_and(|s| !s.trim().is_empty()),
                    "{at}: no {field}"
                );
            }
            assert!(
                matches!(q["source"].as_str(), Some("interview" | "scenario" | "lab")),
                "{at}: bad source"
            );
            let count = |key: &str| q.get(key).and_then(Value::as_array).map_or(0, |a| a.len()) as i64;
            let index_ok = |v: &Value, n: i64| v.as_integer().is_some_and(|i| (0..n).contains(&i));
            match q["kind"].as_str() {
                Some("single") => assert!(index_ok(&q["answer"], count("choices")), "{at}: answer is not a choice"),
                Some("multi") => {
                    let answer = q["answer"]
                        .as_array()
                        .unwrap_or_else(|| panic!("{at}: multi needs a list"));
                    assert!(
                        !answer.is_empty() && answer.iter().all(|a| index_ok(a, count("choices"))),
                        "{at}: bad answer"
                    );
                }
                Some("numeric") => {
                    assert!(q["answer"].as_float().is_some(), "{at}: numeric answer must be a float");
                    assert!(q["tolerance"].as_float().is_some_and(|t| t >= 0.0), "{at}: tolerance");
                }
                Some("order") => {
                    let mut answer: Vec<i64> = q["answer"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|v| v.as_integer().unwrap())
                        .collect();
                    answer.sort();
                    assert_eq!(
                        answer,
                        (0..count("items")).collect::<Vec<_>>(),
                        "{at}: not a permutation of the items"
                    );
                }
                Some("text") => {
                    let rubric = q["rubric"]
                        .as_array()
                        .unwrap_or_else(|| panic!("{at}: text needs a rubric"));
                    assert!(rubric.len() >= 2, "{at}: a rubric needs at least two concepts");
                    for concept in rubric {
                        for pattern in concept["any"].as_array().unwrap() {
                            let pattern = pattern.as_str().unwrap();
                            regex::Regex::new(&format!("(?i){pattern}")).unwrap_or_else(|e| panic!("{at}: {e}"));
                        }
                        assert!(concept["weight"].as_float().is_some_and(|w| w > 0.0), "{at}: weight");
                    }
                    assert!(
                        q["pass_score"].as_float().is_some_and(|p| (0.0..=1.0).contains(&p)),
                        "{at}: pass_score"
                    );
                }
                other => panic!("{at}: unknown kind {other:?}"),
            }
            not_text += usize::from(q["kind"].as_str() != Some("text"));
        }
        assert!(questions.len() >= 10, "{file}: at least 10 questions");
        assert!(not_text >= 3, "{file}: at least 3 questions that are not free text");
        if let Some((_, n)) = SEED_QUESTIONS.iter().find(|(t, _)| *t == topic) {
            for i in 1..=*n {
                assert!(
                    ids.contains(&format!("{topic}-{i}")),
                    "{file}: seed question {topic}-{i} is missing"
                );
            }
        }
        banks += 1;
    }
    assert!(banks >= 1);
}

#[test]
fn the_model_answers_earn_their_own_rubric() {
    // A rubric that rejects its own model answer is broken.
    let text = std::fs::read_to_string(root().join("quiz/banks/caching.toml")).unwrap();
    let bank: Value = toml::from_str(&text).unwrap();
    for q in bank["question"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|q| q["kind"].as_str() == Some("text"))
    {
        // Answers are matched with their whitespace folded: a concept may straddle a line break.
        let answer = q["model_answer"]
            .as_str()
            .unwrap()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        let (mut earned, mut total) = (0.0, 0.0);
        for concept in q["rubric"].as_array().unwrap() {
            let weight = concept["weight"].as_float().unwrap();
            total += weight;
            let hit = concept["any"].as_array().unwrap().iter().any(|p| {
                regex::Regex::new(&format!("(?i){}", p.as_str().unwrap()))
                    .unwrap()
                    .is_match(&answer)
            });
            if hit {
                earned += weight;
            } else {
                eprintln!("{}: model answer misses {:?}", q["id"], concept["concept"]);
            }
        }
        let pass = q["pass_score"].as_float().unwrap();
        assert!(
            earned / total >= pass.max(0.9),
            "{}: the model answer scores {:.2}",
            q["id"],
            earned / total
        );
    }
}
