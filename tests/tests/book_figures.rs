//! Figures in the guide and the quiz come from committed runs, and stay true to them.
//!
//! Prose drifts: a lab is re-measured, its committed report changes, and a sentence written against the old run
//! keeps quoting "13×". Two checks catch it:
//!
//! - every ratio a chapter quotes (`56×`, `6–11×`) is a lesson's threshold, a lesson's or gate's measured ratio, or
//!   the ratio of one metric between two variants, in the runs the chapter shows (`{{#results …}}`; all committed
//!   runs for a chapter that shows none);
//! - a quiz explanation that quotes a lab figure cites its run, `(run: <path under book/src>)`, and every figure with
//!   a unit in it (ms, µs, req/s, pages/s, requests a second, queries) is a value of that run. A figure worked from
//!   the question's own numbers needs no citation; one measured by a criterion bench cites the bench,
//!   `(bench: <path>)`, which must exist.

use std::path::PathBuf;

use regex::Regex;
use workbench_tests::{book_files, root};

/// Every committed run report under book/src, by path.
fn committed_runs() -> Vec<(PathBuf, serde_json::Value)> {
    let paths: Vec<PathBuf> = book_files("json")
        .into_iter()
        .filter(|p| p.to_string_lossy().contains("/results/"))
        .collect();
    paths
        .into_iter()
        .map(|p| {
            let json = serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
            (p, json)
        })
        .collect()
}

/// Every number in a JSON value, with its dotted path.
fn numbers(value: &serde_json::Value, path: &str, out: &mut Vec<(String, f64)>) {
    match value {
        serde_json::Value::Number(n) => out.extend(n.as_f64().map(|x| (path.to_string(), x))),
        serde_json::Value::Object(map) => map.iter().for_each(|(k, v)| numbers(v, &format!("{path}.{k}"), out)),
        serde_json::Value::Array(items) => items.iter().for_each(|v| numbers(v, path, out)),
        _ => {}
    }
}

/// The ratios a chapter may quote from `run`: lessons' and gates' ratios, and one metric between two variants.
fn ratios_in(run: &serde_json::Value) -> Vec<f64> {
    let mut out = Vec::new();
    for list in ["lessons", "gates"] {
        for item in run[list].as_array().into_iter().flatten() {
            for key in ["observed_ratio", "expected_ratio", "at_most"] {
                out.extend(item[key].as_f64());
            }
        }
    }
    let variants: Vec<Vec<(String, f64)>> = run["variants"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|v| {
            let mut n = Vec::new();
            // Per-variant metrics only: the latency spectrum and throughput series are charts, not figures.
            for key in [
                "achieved_rps",
                "latency_us",
                "service_us",
                "goodput",
                "counters",
                "server",
            ] {
                numbers(&v[key], key, &mut n);
            }
            n
        })
        .collect();
    for a in &variants {
        for b in &variants {
            for (metric, x) in a {
                for (other, y) in b {
                    if metric == other && *x > 0.0 && *y > 0.0 {
                        out.push(x / y);
                    }
                }
            }
        }
    }
    out
}

/// `q`, as written with `decimals` decimals, is `c` rounded the same way, or `c` rounded to `q`'s trailing zeros
/// ("166,000" for 165,961).
fn quotes(q: f64, decimals: usize, c: f64) -> bool {
    let scale = 10f64.powi(decimals as i32);
    if ((c * scale).round() / scale - q).abs() < 1e-9 {
        return true;
    }
    let mut zeros = 0;
    let mut n = q as u64;
    while decimals == 0 && n >= 10 && n.is_multiple_of(10) {
        zeros += 1;
        n /= 10;
    }
    zeros > 0 && {
        let unit = 10f64.powi(zeros);
        ((c / unit).round() * unit - q).abs() < 1e-9
    }
}

fn parse(number: &str) -> (f64, usize) {
    let clean = number.replace(',', "");
    let decimals = clean.split_once('.').map_or(0, |(_, d)| d.len());
    (clean.parse().unwrap(), decimals)
}

fn chapters() -> Vec<PathBuf> {
    book_files("md")
}

#[test]
fn every_ratio_a_chapter_quotes_is_in_its_committed_runs_or_a_lesson_threshold() {
    let runs = committed_runs();
    let labs = lab_harness::discover(root()).unwrap();
    let thresholds: Vec<f64> = labs
        .iter()
        .flat_map(|l| {
            let lessons = l.lessons.iter().map(|x| x.at_least);
            let gates = l.exercises.iter().flat_map(|e| e.gate.iter().map(|g| g.at_most));
            lessons.chain(gates).collect::<Vec<_>>()
        })
        .chain(
            lab_harness::drill::discover_drills(root())
                .unwrap()
                .iter()
                .flat_map(|d| d.manifest.lessons.iter().map(|l| l.at_least).collect::<Vec<_>>()),
        )
        .collect();
    let quoted = Regex::new(r"(\d[\d,]*(?:\.\d+)?)(?:\s?[–-]\s?(\d[\d,]*(?:\.\d+)?))?×").unwrap();
    let shown = Regex::new(r"\{\{#results ([^}\s]+)\}\}").unwrap();
    let mut wrong = Vec::new();
    let mut checked = 0;
    for chapter in chapters() {
        let text = std::fs::read_to_string(&chapter).unwrap();
        let dir = chapter.parent().unwrap();
        let own: Vec<&serde_json::Value> = shown
            .captures_iter(&text)
            .filter_map(|c| {
                let path = dir.join(&c[1]);
                runs.iter().find(|(p, _)| *p == path).map(|(_, j)| j)
            })
            .collect();
        let sources: Vec<&serde_json::Value> = if own.is_empty() {
            runs.iter().map(|(_, j)| j).collect()
        } else {
            own
        };
        let candidates: Vec<f64> = sources
            .iter()
            .flat_map(|r| ratios_in(r))
            .chain(thresholds.iter().copied())
            .collect();
        for (n, line) in text.lines().enumerate() {
            for c in quoted.captures_iter(line) {
                for number in [c.get(1), c.get(2)].into_iter().flatten() {
                    let (q, decimals) = parse(number.as_str());
                    checked += 1;
                    if !candidates.iter().any(|&x| quotes(q, decimals, x)) {
                        wrong.push(format!(
                            "{}:{}: {}× is in none of the runs the chapter shows, nor a lesson's threshold",
                            chapter.strip_prefix(root()).unwrap().display(),
                            n + 1,
                            number.as_str()
                        ));
                    }
                }
            }
        }
    }
    assert!(checked >= 5, "only {checked} ratios found: is the pattern right?");
    assert!(
        wrong.is_empty(),
        "\n{}\nFix: quote the committed run (re-run `cargo xtask lab <lab> --full` and commit it if the lab changed)",
        wrong.join("\n")
    );
}

#[test]
fn every_lab_figure_in_a_quiz_explanation_cites_its_run_and_matches_it() {
    let runs = committed_runs();
    let banks = quiz::load_banks(&root().join("quiz/banks")).unwrap();
    let figure =
        Regex::new(r"(\d[\d,]*(?:\.\d+)?)\s?(ms|µs|req/s|pages/s|requests a second|pages a second|queries)\b").unwrap();
    let citation = Regex::new(r"\(run: ([^)\s]+)\)").unwrap();
    let bench = Regex::new(r"\(bench: ([^)\s]+)\)").unwrap();
    let measured = Regex::new(r"(?i)\b(the lab|lab's|measured)\b").unwrap();
    let mut wrong = Vec::new();
    let mut cited = 0;
    for question in banks.iter().flat_map(|b| &b.questions) {
        for text in [&question.explanation, &question.model_answer] {
            let figures: Vec<(String, f64, usize, String)> = figure
                .captures_iter(text)
                .map(|c| {
                    let (q, d) = parse(&c[1]);
                    (c[1].to_string(), q, d, c[2].to_string())
                })
                // Worked from the question's own numbers: nothing to cite.
                .filter(|(raw, ..)| !question.prompt.contains(raw.as_str()))
                .collect();
            let citations: Vec<String> = citation.captures_iter(text).map(|c| c[1].to_string()).collect();
            let benches: Vec<String> = bench.captures_iter(text).map(|c| c[1].to_string()).collect();
            for path in &benches {
                if !root().join(path).is_file() {
                    wrong.push(format!("{}: cites the bench {path}, which does not exist", question.id));
                }
            }
            if citations.is_empty() && !benches.is_empty() {
                continue;
            }
            if citations.is_empty() {
                if !figures.is_empty() && measured.is_match(text) {
                    wrong.push(format!(
                        "{}: quotes a lab figure ({}) without `(run: <path under book/src>)`",
                        question.id,
                        figures
                            .iter()
                            .map(|f| format!("{} {}", f.0, f.3))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ));
                }
                continue;
            }
            let mut values = Vec::new();
            for path in &citations {
                cited += 1;
                match runs.iter().find(|(p, _)| *p == root().join("book/src").join(path)) {
                    Some((_, json)) => numbers(json, "", &mut values),
                    None => wrong.push(format!("{}: cites {path}, which is not a committed run", question.id)),
                }
            }
            for (raw, q, d, unit) in &figures {
                let scale = if unit == "ms" { 1000.0 } else { 1.0 };
                if !values.iter().any(|(_, v)| quotes(*q, *d, v / scale)) {
                    wrong.push(format!(
                        "{}: {raw} {unit} is not a value of {}",
                        question.id,
                        citations.join(", ")
                    ));
                }
            }
        }
    }
    assert!(cited >= 5, "only {cited} citations found");
    assert!(wrong.is_empty(), "\n{}", wrong.join("\n"));
}
