//! The built book in a real browser: headless Chromium (Debian's `chromium`, driven by playwright-core from
//! `tests/browser/`) opens the caching chapter over HTTP, answers two quiz questions, checks the feedback, reloads
//! and finds the answer kept, searches, and saves a screenshot to `target/book-quiz.png`.
//!
//! Needs `/usr/bin/chromium` (or `$CHROMIUM`) and `npm ci --prefix tests/browser`; `.ci/run` installs both. Without
//! them the test says so and passes — except under CI (`CI` set), where a missing browser is a failure.

use std::path::PathBuf;
use std::process::Command;

use workbench_tests::root;

fn skip_or_fail(reason: &str) {
    if std::env::var_os("CI").is_some() {
        panic!("the browser test cannot run under CI: {reason}");
    }
    eprintln!("skipped: {reason}");
}

#[test]
fn a_reader_answers_a_quiz_question_in_the_browser_and_gets_feedback() {
    let chromium = std::env::var_os("CHROMIUM").map_or_else(|| PathBuf::from("/usr/bin/chromium"), PathBuf::from);
    if !chromium.exists() {
        return skip_or_fail(&format!(
            "{} is not installed (apt-get install chromium)",
            chromium.display()
        ));
    }
    let driver = root().join("tests/browser/node_modules/playwright-core");
    if !driver.exists() {
        return skip_or_fail("playwright-core is not installed (npm ci --prefix tests/browser)");
    }
    let built = book_tools::build(root()).unwrap_or_else(|e| panic!("{e:#}"));
    let screenshot = root().join("target/book-quiz.png");
    let output = Command::new("node")
        .arg(root().join("tests/browser/quiz.mjs"))
        .arg(&built)
        .arg(&screenshot)
        .env("CHROMIUM", &chromium)
        .output()
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let summary: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    assert_eq!(summary["ok"], true, "{summary}");
    assert!(summary["right"].as_str().unwrap().contains("✓ Right"));
    assert!(summary["listed"].as_str().unwrap().contains("list of terms"));
    assert!(summary["search_hits"].as_u64().unwrap() >= 1);
    assert!(std::fs::metadata(&screenshot).unwrap().len() > 1000, "no screenshot");
}
