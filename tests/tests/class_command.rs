//! Team training end to end: three learners in their own temporary trees (progress file and reports folder each)
//! run a real lab, answer real quiz questions, check an exercise and `cargo xtask submit` into one class folder; a
//! corrupted file lies beside theirs. `cargo xtask class` must count them right, name the broken file, rank the
//! leaderboard by the gate's ratio, and write a page that headless Chromium opens with its tables and dot plots
//! (screenshot in `target/class-dashboard.png`); `--csv` parses back; `--watch` refreshes as a file arrives.
//! Bad input — a missing folder, a newer schema, a name taken by someone else, a copied file — gets a clear
//! message and loses nothing.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use workbench_tests::{eventually, root, texts, xtask, KillOnDrop};

/// One learner's tree: where their progress and their run reports are kept.
struct Tree {
    _dir: tempfile::TempDir,
    progress: PathBuf,
    reports: PathBuf,
}

impl Tree {
    fn new() -> Tree {
        let dir = tempfile::tempdir().unwrap();
        let progress = dir.path().join("progress.toml");
        let reports = dir.path().join("reports");
        std::fs::create_dir(&reports).unwrap();
        Tree {
            _dir: dir,
            progress,
            reports,
        }
    }

    fn xtask(&self, args: &[&str]) -> Command {
        let mut command = xtask(args);
        command
            .env("WORKBENCH_PROGRESS", &self.progress)
            .env("WORKBENCH_REPORTS", &self.reports);
        command
    }

    fn run(&self, args: &[&str]) -> Output {
        self.xtask(args).output().expect("run xtask")
    }

    fn submit(&self, class: &Path, name: Option<&str>) -> Output {
        let mut args = vec!["submit", class.to_str().unwrap()];
        if let Some(name) = name {
            args.extend(["--name", name]);
        }
        self.run(&args)
    }

    /// Records an exercise check the way `cargo xtask check` does, with the gate ratio it would have measured.
    fn checked(&self, tests_pass: bool, gate_ratio: Option<f64>) {
        let labs = lab_harness::discover(root()).unwrap();
        let found = learner::exercises::find(&labs, "caching").unwrap();
        let gates = gate_ratio.map_or_else(Vec::new, |ratio| {
            vec![learner::progress::GateRecord {
                metric: "counters.db_queries".into(),
                relative_to: "single-flight".into(),
                at_most: 1.5,
                observed_ratio: Some(ratio),
                passed: ratio <= 1.5,
            }]
        });
        let outcome = learner::Outcome {
            compiled: true,
            passed: vec!["a_fresh_value_is_a_hit".into()],
            failed: if tests_pass {
                vec![]
            } else {
                vec![("one_load".into(), "not yet implemented".into())]
            },
            gate_passed: gate_ratio.map(|r| r <= 1.5),
            gates,
        };
        learner::outcome::record(&self.progress, &found, &outcome).unwrap();
    }
}

fn ok(output: &Output) -> (String, String) {
    let (stdout, stderr) = texts(output);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    (stdout, stderr)
}

/// The caching bank's first single-choice and first text question: (single id, right index, text id, model answer).
fn questions() -> (String, usize, String, String) {
    let banks = quiz::load_banks(&root().join("quiz/banks")).unwrap();
    let caching = banks.iter().find(|b| b.topic == "caching").unwrap();
    let (single, right) = caching
        .questions
        .iter()
        .find_map(|q| match &q.kind {
            quiz::bank::Kind::Single { answer, .. } => Some((q.id.clone(), *answer)),
            _ => None,
        })
        .unwrap();
    let text = caching
        .questions
        .iter()
        .find(|q| matches!(q.kind, quiz::bank::Kind::Text { .. }))
        .unwrap();
    (single, right, text.id.clone(), text.model_answer.clone())
}

fn answer(tree: &Tree, name: &str, answers: &[(&str, String)]) {
    let file = tree.progress.with_file_name(format!("{name}-answers.toml"));
    let mut text = format!("name = \"{name}\"\n[answers]\n");
    for (id, value) in answers {
        text.push_str(&format!("\"{id}\" = {value}\n"));
    }
    std::fs::write(&file, text).unwrap();
    ok(&tree.run(&["quiz", "--answers", file.to_str().unwrap()]));
}

#[test]
fn three_learners_submit_and_the_dashboard_shows_the_room() {
    let class = tempfile::tempdir().unwrap();
    let (single, right, text, model) = questions();
    let learners = [("Ada", Tree::new()), ("Ben", Tree::new()), ("Cy", Tree::new())];
    for (name, tree) in &learners {
        // A real run of the smallest lab, one learner after another. Whether its lessons hold on a busy test
        // machine does not matter here (exit 3 says one did not, and the report is written either way): the
        // dashboard shows what each machine measured.
        let run = tree.run(&["lab", "baseline", "--quick", "--duration", "1s"]);
        assert!(matches!(run.status.code(), Some(0 | 3)), "{:?}", texts(&run));
        match *name {
            "Ada" => {
                let model = toml::Value::String(model.clone()).to_string();
                answer(tree, name, &[(&single, right.to_string()), (&text, model)]);
                tree.checked(true, Some(1.3));
                tree.checked(true, Some(1.05));
                tree.checked(true, Some(1.2));
            }
            "Ben" => {
                let wrong = (right + 1) % 2;
                answer(
                    tree,
                    name,
                    &[
                        (&single, wrong.to_string()),
                        (&text, "\"Honestly, just buy a bigger database server.\"".into()),
                    ],
                );
                tree.checked(true, Some(1.9));
            }
            _ => {
                answer(tree, name, &[(&single, right.to_string())]);
                tree.checked(false, None);
            }
        }
        let (stdout, _) = ok(&tree.submit(class.path(), Some(name)));
        assert!(stdout.contains("the newest report of 1 labs (baseline)"), "{stdout}");
    }
    // A fourth file, cut off halfway through a copy.
    let ada = std::fs::read_to_string(class.path().join("ada.json")).unwrap();
    std::fs::write(class.path().join("lee.json"), &ada[..ada.len() / 2]).unwrap();

    let dashboard = class.path().join("out/dashboard.html");
    let (stdout, stderr) = ok(&xtask(&[
        "class",
        class.path().to_str().unwrap(),
        "--out",
        dashboard.to_str().unwrap(),
    ])
    .output()
    .unwrap());
    assert!(stdout.contains("3 submissions in"), "{stdout}");
    assert!(stdout.contains("1 files skipped"), "{stdout}");
    assert!(
        stderr.contains("lee.json:"),
        "the broken file is named with its line: {stderr}"
    );
    assert!(stdout.contains("tests not yet passing: Cy"), "{stdout}");

    // The data, as tools read it.
    let json = ok(&xtask(&["class", class.path().to_str().unwrap(), "--json"])
        .output()
        .unwrap())
    .0;
    let summary: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(summary["learners"].as_array().unwrap().len(), 3);
    assert_eq!(summary["skipped"].as_array().unwrap().len(), 1);
    let weakest = &summary["questions"][0];
    assert_eq!(
        (
            weakest["id"].as_str().unwrap(),
            weakest["answered"].as_u64(),
            weakest["passed"].as_u64()
        ),
        (text.as_str(), Some(2), Some(1))
    );
    assert!(
        !weakest["missed"].as_array().unwrap().is_empty(),
        "what Ben missed is counted: {weakest}"
    );
    let board = &summary["exercises"][0];
    let ranked: Vec<(&str, f64)> = board["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["learner"].as_str().unwrap(), e["ratio"].as_f64().unwrap()))
        .collect();
    assert_eq!(
        ranked,
        [("Ada", 1.05), ("Ben", 1.9)],
        "Ada's best solving check, then Ben's last"
    );
    assert_eq!(board["not_measured"], serde_json::json!(["Cy"]));
    let lessons = summary["lessons"].as_array().unwrap();
    assert!(!lessons.is_empty());
    for lesson in lessons {
        assert_eq!(lesson["observations"].as_array().unwrap().len(), 3, "{lesson}");
    }

    // The spreadsheet's view parses back, one row per learner per thing.
    let csv = ok(&xtask(&["class", class.path().to_str().unwrap(), "--csv"])
        .output()
        .unwrap())
    .0;
    let records = classroom::csv::parse(&csv).unwrap();
    assert_eq!(records[0], classroom::csv::HEADER);
    assert!(records.iter().all(|r| r.len() == 6), "{csv}");
    let count = |kind: &str| records.iter().filter(|r| r[0] == kind).count();
    assert_eq!(count("machine"), 3);
    assert_eq!(count("quiz"), 2 + 2 + 1);
    assert_eq!(count("exercise"), 3);
    assert_eq!(count("lesson"), 3 * lessons.len());

    browse(&dashboard, lessons.len());
}

/// Opens the page in headless Chromium (as `book_browser.rs` does) and checks what a person would see.
fn browse(dashboard: &Path, lessons: usize) {
    let chromium = std::env::var_os("CHROMIUM").map_or_else(|| PathBuf::from("/usr/bin/chromium"), PathBuf::from);
    let driver = root().join("tests/browser/node_modules/playwright-core");
    if !chromium.exists() || !driver.exists() {
        let reason = "Chromium or playwright-core is missing (apt-get install chromium; npm ci --prefix tests/browser)";
        assert!(
            std::env::var_os("CI").is_none(),
            "the browser check cannot run under CI: {reason}"
        );
        eprintln!("browser check skipped: {reason}");
        return;
    }
    let screenshot = root().join("target/class-dashboard.png");
    let output = Command::new("node")
        .arg(root().join("tests/browser/class.mjs"))
        .arg(dashboard)
        .arg(&screenshot)
        .env("CHROMIUM", &chromium)
        .output()
        .expect("node runs");
    let (stdout, stderr) = texts(&output);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    let seen: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    assert_eq!(seen["ok"], true, "{seen}");
    assert_eq!(seen["learner_rows"], 3, "{seen}");
    assert_eq!(seen["learner_names"], serde_json::json!(["Ada", "Ben", "Cy"]), "{seen}");
    assert_eq!(seen["question_rows"], 2, "{seen}");
    assert_eq!(seen["leaderboard_rows"], 2, "{seen}");
    assert_eq!(seen["lesson_rows"], lessons, "{seen}");
    assert_eq!(seen["plots"], lessons, "{seen}");
    assert_eq!(seen["dots"], 3 * lessons, "one dot per machine per lesson: {seen}");
    assert!(seen["plot_width"].as_f64().unwrap() > 100.0, "{seen}");
    assert!(seen["warnings"].to_string().contains("lee.json"), "{seen}");
    assert_eq!(seen["errors"], serde_json::json!([]), "{seen}");
    assert!(std::fs::metadata(&screenshot).unwrap().len() > 10_000, "no screenshot");
}

#[test]
fn bad_input_gets_a_clear_message_and_nothing_is_lost() {
    let class = tempfile::tempdir().unwrap();
    let folder = class.path().to_str().unwrap();
    let sam = Tree::new();
    let other_sam = Tree::new();

    // A missing folder is named, not created.
    let missing = class.path().join("typo");
    let output = sam.submit(&missing, Some("Sam"));
    assert_eq!(output.status.code(), Some(2));
    assert!(texts(&output).1.contains("does not exist"), "{}", texts(&output).1);
    assert!(!missing.exists());
    let output = xtask(&["class", missing.to_str().unwrap()]).output().unwrap();
    assert_eq!(output.status.code(), Some(2), "{:?}", texts(&output));
    assert!(texts(&output).1.contains("typo"));

    // No name the first time: asked for, nothing written.
    let output = sam.submit(class.path(), None);
    assert_eq!(output.status.code(), Some(2));
    assert!(texts(&output).1.contains("--name"));

    // Sam submits, then submits again without --name: the same file, replaced.
    ok(&sam.submit(class.path(), Some("Sam")));
    let (single, right, _, _) = questions();
    answer(&sam, "Sam", &[(&single, right.to_string())]);
    ok(&sam.submit(class.path(), None));
    let files = || {
        let mut names: Vec<String> = std::fs::read_dir(class.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        names
    };
    assert_eq!(files(), ["sam.json"]);
    let sams = std::fs::read_to_string(class.path().join("sam.json")).unwrap();
    assert!(sams.contains(&single), "the re-submission replaced the first");

    // Another Sam is refused and the first Sam's file is byte for byte as it was.
    let output = other_sam.submit(class.path(), Some("sam"));
    assert_eq!(output.status.code(), Some(2));
    assert!(
        texts(&output).1.contains("another learner's submission"),
        "{}",
        texts(&output).1
    );
    assert_eq!(std::fs::read_to_string(class.path().join("sam.json")).unwrap(), sams);

    // A file from a newer workbench, and a copy of Sam's file under another name: both reported, nothing fatal.
    std::fs::write(
        class.path().join("kim.json"),
        "{\"schema\": 99, \"name\": \"Kim\", \"learner_id\": \"k\", \"hologram\": true}",
    )
    .unwrap();
    std::fs::write(class.path().join("sam-copy.json"), &sams).unwrap();
    let (stdout, stderr) = ok(&xtask(&[
        "class",
        folder,
        "--out",
        class.path().join("x/d.html").to_str().unwrap(),
    ])
    .output()
    .unwrap());
    assert!(stdout.contains("2 submissions"), "{stdout}");
    assert!(stderr.contains("kim.json:1: written by a newer workbench"), "{stderr}");
    assert!(stderr.contains("2 submissions are named \"Sam\""), "{stderr}");
    assert!(stderr.contains("the same learner"), "{stderr}");
    assert!(
        stdout.contains("Sam (sam-copy.json)") && stdout.contains("Sam (sam.json)"),
        "{stdout}"
    );
}

#[test]
fn watch_serves_the_dashboard_and_refreshes_when_a_submission_arrives() {
    let class = tempfile::tempdir().unwrap();
    let folder = class.path().to_str().unwrap();
    let out = class.path().join("served/dashboard.html");
    let child = xtask(&[
        "class",
        folder,
        "--watch",
        "--port",
        "0",
        "--out",
        out.to_str().unwrap(),
    ])
    .stdout(Stdio::piped())
    .stderr(Stdio::null())
    .spawn()
    .unwrap();
    let mut guard = KillOnDrop(child);
    // Kept open to the end: a closed pipe would stop the server at its next line of output.
    let mut lines = BufReader::new(guard.0.stdout.take().unwrap()).lines();
    let url = lines
        .by_ref()
        .map_while(Result::ok)
        .find_map(|line| {
            line.strip_prefix("Serving the dashboard at ")
                .and_then(|rest| rest.split_whitespace().next().map(String::from))
        })
        .expect("the dashboard's URL is printed");
    let addr: std::net::SocketAddr = url.trim_start_matches("http://").trim_end_matches('/').parse().unwrap();
    assert!(addr.ip().is_loopback(), "loopback unless --host says otherwise: {addr}");
    let (status, page) = lab_kit::testing::get(addr, "/");
    assert_eq!(status, 200);
    assert!(
        page.contains("0 submissions") && page.contains("/__generation"),
        "{page}"
    );
    let (_, first) = lab_kit::testing::get(addr, "/__generation");

    ok(&Tree::new().submit(class.path(), Some("Dee")));
    let refreshed = eventually(Duration::from_secs(20), || {
        lab_kit::testing::get(addr, "/__generation").1 != first && lab_kit::testing::get(addr, "/").1.contains("Dee")
    });
    assert!(refreshed, "the page was not re-rendered after a submission arrived");
    assert!(
        std::fs::read_to_string(&out).unwrap().contains("Dee"),
        "the file on disk follows too"
    );
    guard.0.kill().unwrap();
    guard.0.wait().unwrap();
}
