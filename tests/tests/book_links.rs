//! The book quotes the labs' code by `{{#include path:anchor}}` instead of pasting it, and renders result tables from
//! committed run reports by `{{#results path.json}}`, so neither can drift. These tests fail when an include's file
//! or anchor is missing, a `{{#quiz topic}}` names no bank, or a results placeholder names no valid run report.

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
fn every_results_placeholder_names_a_run_report_that_renders_with_its_machine() {
    let mut files = Vec::new();
    markdown_files(&root().join("book/src"), &mut files);
    let placeholder = regex::Regex::new(r"\{\{#results ([^}\s]+)\}\}").unwrap();
    let mut checked = 0;
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        for c in placeholder.captures_iter(&text) {
            let report_path = file.parent().unwrap().join(&c[1]);
            let report: lab_harness::RunReport = serde_json::from_str(
                &std::fs::read_to_string(&report_path)
                    .unwrap_or_else(|e| panic!("{}: {}: {e}", file.display(), report_path.display())),
            )
            .unwrap_or_else(|e| panic!("{}: not a run report: {e}", report_path.display()));
            let markdown = report.markdown();
            for v in &report.variants {
                assert!(
                    markdown.contains(&format!("| {} |", v.name)),
                    "{}: no row for {}",
                    report_path.display(),
                    v.name
                );
            }
            assert!(markdown.contains(&report.machine.cpu_model), "the machine is not named");
            assert!(markdown.contains("✓") || markdown.contains("✗"), "no lesson verdicts");
            checked += 1;
        }
    }
    assert!(checked >= 3, "found only {checked} results placeholders");
}
