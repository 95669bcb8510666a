//! The book quotes the labs' code by `{{#include path:anchor}}` instead of pasting it, so it cannot drift from the
//! code. This test fails when an include's file or anchor is missing, or a `{{#quiz topic}}` names no bank.

use std::path::{Path, PathBuf};

use workbench_tests::root;

fn markdown_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            markdown_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "md") {
            out.push(path);
        }
    }
}

#[test]
fn every_include_and_quiz_in_the_book_resolves() {
    let mut files = Vec::new();
    markdown_files(&root().join("book/src"), &mut files);
    let include = regex::Regex::new(r"\{\{#include ([^:}]+)(?::([A-Za-z0-9_-]+))?\}\}").unwrap();
    let quiz = regex::Regex::new(r"\{\{#quiz ([a-z-]+)\}\}").unwrap();
    let mut includes = 0;
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        for (n, line) in text.lines().enumerate() {
            let at = format!("{}:{}", file.strip_prefix(root()).unwrap().display(), n + 1);
            for c in include.captures_iter(line) {
                let target = file.parent().unwrap().join(&c[1]);
                let source =
                    std::fs::read_to_string(&target).unwrap_or_else(|_| panic!("{at}: no file {}", target.display()));
                if let Some(anchor) = c.get(2) {
                    let anchor = anchor.as_str();
                    assert!(
                        source.contains(&format!("ANCHOR: {anchor}\n"))
                            && source.contains(&format!("ANCHOR_END: {anchor}")),
                        "{at}: {} has no anchor {anchor}",
                        target.display()
                    );
                }
                includes += 1;
            }
            for c in quiz.captures_iter(line) {
                assert!(
                    root().join(format!("quiz/banks/{}.toml", &c[1])).is_file(),
                    "{at}: no quiz bank {}",
                    &c[1]
                );
            }
        }
    }
    assert!(includes > 0, "the book includes no code");
}

#[test]
fn every_results_table_matches_the_run_report_it_was_made_from() {
    use lab_load_generator::report::human_us;
    let mut files = Vec::new();
    markdown_files(&root().join("book/src"), &mut files);
    let mut checked = 0;
    for table in files
        .iter()
        .filter(|f| f.parent().is_some_and(|p| p.ends_with("results")))
    {
        let report_path = table.with_extension("json");
        let report: lab_harness::RunReport = serde_json::from_str(&std::fs::read_to_string(&report_path).unwrap())
            .unwrap_or_else(|e| panic!("{}: not a run report: {e}", report_path.display()));
        let text = std::fs::read_to_string(table).unwrap();
        for v in &report.variants {
            let row = text
                .lines()
                .find(|l| l.starts_with(&format!("| {} |", v.name)))
                .unwrap_or_else(|| panic!("{}: no row for {}", table.display(), v.name));
            assert!(
                row.contains(&format!("| {} |", human_us(v.load.latency_us.p99))),
                "{}: {} p99 differs from the report",
                table.display(),
                v.name
            );
            // Fixed-rate runs show "achieved (target)"; closed runs have no target.
            let rate = match v.load.load.target_rps {
                Some(target) => format!("| {:.0} ({target:.0}) |", v.load.achieved_rps),
                None => format!("| {:.0} |", v.load.achieved_rps),
            };
            assert!(row.contains(&rate), "{}: {} rate differs", table.display(), v.name);
            if let Some(goodput) = v.load.goodput {
                assert!(
                    row.contains(&format!("| {:.0} |", goodput.rps)),
                    "{}: {} goodput differs",
                    table.display(),
                    v.name
                );
            }
        }
        assert!(
            text.contains(&report.machine.cpu_model),
            "{}: the machine is not named",
            table.display()
        );
        checked += 1;
    }
    assert!(checked >= 1);
}
