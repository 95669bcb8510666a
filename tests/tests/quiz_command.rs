//! `cargo xtask quiz` end to end: banks validated, an answer file graded (JSON as DESIGN.md shows it), unknown ids
//! reported, a broken answer file named with its line; the interactive quiz in a pseudo-terminal.

use workbench_tests::{run_xtask, texts, xtask};

#[test]
fn check_validates_every_bank() {
    let output = run_xtask(&["quiz", "--check"]);
    let (stdout, stderr) = texts(&output);
    assert!(output.status.success(), "{stderr}");
    assert!(stdout.contains("all valid"), "{stdout}");
}

#[test]
fn an_answer_file_is_graded_as_json() {
    let dir = tempfile::tempdir().unwrap();
    let answers = dir.path().join("ada.toml");
    std::fs::write(
        &answers,
        "name = \"Ada\"\n[answers]\n\"caching-4\" = 2.2\n\"caching-7\" = [0, 2, 4]\n\"caching-3\" = \"bloom filter, single-flight\"\n\"caching-404\" = 1\n",
    )
    .unwrap();
    let progress = dir.path().join("progress.toml");
    let output = workbench_tests::xtask(&["quiz", "--answers", answers.to_str().unwrap(), "--json"])
        .env("WORKBENCH_PROGRESS", &progress)
        .output()
        .unwrap();
    let (stdout, stderr) = texts(&output);
    assert!(output.status.success(), "{stderr}");
    let graded: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    // The grades are kept, and `progress` shows them per topic.
    let shown = workbench_tests::xtask(&["progress"])
        .env("WORKBENCH_PROGRESS", &progress)
        .output()
        .unwrap();
    let (shown, _) = texts(&shown);
    assert!(shown.contains("Quiz: 3 questions answered"), "{shown}");
    let caching_row: Vec<&str> = shown
        .lines()
        .skip_while(|l| !l.starts_with("Quiz:"))
        .find(|l| l.starts_with("│ caching "))
        .unwrap_or_else(|| panic!("{shown}"))
        .split(['│', '┆'])
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .collect();
    assert_eq!(
        &caching_row[..4],
        ["caching", "11", "3", "2"],
        "topic, questions, answered, passed: {shown}"
    );
    assert_eq!(graded["name"], "Ada");
    assert_eq!(graded["unknown_ids"], serde_json::json!(["caching-404"]));
    assert_eq!(
        graded["by_topic"]["caching"],
        serde_json::json!({ "answered": 3, "passed": 2 })
    );
    let stuffed = graded["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == "caching-3")
        .unwrap();
    assert_eq!(stuffed["passed"], false, "a bare list of terms does not pass");
    assert!(stuffed["missed"].as_array().unwrap().len() >= 2);
}

#[test]
fn a_broken_answer_file_names_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let answers = dir.path().join("broken.toml");
    std::fs::write(&answers, "[answers]\n\"caching-4\" = 2.2\n\"caching-6\" = [1\n").unwrap();
    let output = run_xtask(&["quiz", "--answers", answers.to_str().unwrap()]);
    let (_, stderr) = texts(&output);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains(&format!("{}:3:", answers.display())), "{stderr}");
}

#[test]
fn a_team_folder_is_graded_into_one_csv() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("ada.toml"),
        "name = \"Ada, L.\"\n[answers]\n\"caching-4\" = 2.2\n\"caching-6\" = 2\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("bob.toml"),
        "[answers]\n\"caching-4\" = 3.0\n\"caching-77\" = 1\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("notes.txt"), "not an answer file").unwrap();
    let output = run_xtask(&["quiz", "--answers", dir.path().to_str().unwrap(), "--csv"]);
    let (stdout, stderr) = texts(&output);
    assert!(output.status.success(), "{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines,
        [
            "name,caching,clustering,incidents,load-generator,logging,metrics,process-manager,query-batching,scenario,streams,worker-pools,passed,answered,unknown ids",
            "\"Ada, L.\",2/2,–,–,–,–,–,–,–,–,–,–,2,2,0",
            "bob,0/1,–,–,–,–,–,–,–,–,–,–,0,1,1"
        ]
    );
}

#[test]
fn calibrate_prints_the_agreement() {
    let output = run_xtask(&["quiz", "--calibrate"]);
    let (stdout, stderr) = texts(&output);
    assert!(output.status.success(), "{stderr}");
    let line = stdout
        .lines()
        .find(|l| l.starts_with("agreement: "))
        .unwrap_or_else(|| panic!("{stdout}"));
    let percent: f64 = line.rsplit('(').next().unwrap().trim_end_matches("%)").parse().unwrap();
    assert!(percent >= 90.0, "{line}");
}

#[test]
fn without_a_terminal_the_interactive_quiz_says_how_to_grade_a_file() {
    let output = xtask(&["quiz", "caching"])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let (_, stderr) = texts(&output);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("needs a terminal") && stderr.contains("--answers FILE"),
        "{stderr}"
    );
}

#[test]
fn a_review_in_a_terminal_asks_the_missed_question_first_and_moves_it_up_a_box() {
    // `script` gives the quiz a pseudo-terminal; what we write to its stdin is what the learner types.
    let dir = tempfile::tempdir().unwrap();
    let progress = dir.path().join("progress.toml");
    std::fs::write(
        &progress,
        "[quiz.caching-4]\ntopic = \"caching\"\nscore = 0.0\npassed = false\nat = \"2026-11-01T00:00:00Z\"\nleitner_box = 1\n",
    )
    .unwrap();
    let command = format!(
        "{} quiz caching --review --limit 1",
        workbench_tests::xtask_binary().display()
    );
    let mut child = std::process::Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .current_dir(workbench_tests::root())
        .env("WORKBENCH_PROGRESS", &progress)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("script (util-linux) runs the quiz in a pseudo-terminal");
    use std::io::Write as _;
    child.stdin.take().unwrap().write_all(b"2.2\r").unwrap();
    let output = child.wait_with_output().unwrap();
    let (stdout, stderr) = texts(&output);
    assert!(output.status.success(), "{stdout}{stderr}");
    assert!(
        stdout.contains("[1/1] caching-4 (numeric)"),
        "the missed question first: {stdout}"
    );
    assert!(
        stdout.contains("✓ caching-4 (numeric)") && stdout.contains("caching: 1 of 1 passed"),
        "{stdout}"
    );
    let saved = std::fs::read_to_string(&progress).unwrap();
    assert!(
        saved.contains("passed = true") && saved.contains("leitner_box = 2"),
        "{saved}"
    );
}
