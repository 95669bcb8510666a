//! The learner's loop end to end, as a new user meets it: `exercise`, `check` on the untouched starter, staged
//! `hint`s, `progress`, `--solution` refused, then the reference copied into the starter and `check` passing with
//! its performance gate, `watch` re-checking within two seconds of a save, and `--reset` with a backup.
//!
//! One test, in order: its steps edit the starter file. A guard puts the file back however the test ends.

use std::io::{BufRead, BufReader, Write};
use std::process::Stdio;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use workbench_tests::{eventually, root, texts, xtask, KillOnDrop};

struct RestoreOnDrop {
    path: std::path::PathBuf,
    original: Vec<u8>,
}

impl Drop for RestoreOnDrop {
    fn drop(&mut self) {
        std::fs::write(&self.path, &self.original).expect("restore the starter");
    }
}

/// How many exercises the labs declare.
fn exercises() -> usize {
    lab_harness::discover(root())
        .unwrap()
        .iter()
        .map(|lab| lab.exercises.len())
        .sum()
}

#[test]
fn the_exercise_loop_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    let progress = dir.path().join("progress.toml");
    let run = |args: &[&str]| {
        let output = xtask(args)
            .env("WORKBENCH_PROGRESS", &progress)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let (stdout, stderr) = texts(&output);
        (output.status.code(), stdout, stderr)
    };
    let starter = root().join("labs/caching/exercise/src/lib.rs");
    // How many expectations the grader has: one per test in its macro.
    let expectations = std::fs::read_to_string(root().join("labs/caching/exercise/tests/grader.rs"))
        .unwrap()
        .matches("#[tokio::test]")
        .count();
    let _restore = RestoreOnDrop {
        path: starter.clone(),
        original: std::fs::read(&starter).unwrap(),
    };

    // What to do, where.
    let (code, out, _) = run(&["exercise"]);
    assert_eq!(code, Some(0));
    assert!(
        out.contains("Exercise caching/single-flight") && out.contains("Edit:   labs/caching/exercise/src/lib.rs"),
        "{out}"
    );

    // The untouched starter fails, each expectation on one line naming what to implement.
    let (code, out, err) = run(&["check", "caching"]);
    assert_eq!(code, Some(1), "{out}{err}");
    assert!(
        out.contains(
            "✗ a thousand concurrent misses load once: not yet implemented: implement single-flight get_or_load"
        ),
        "{out}"
    );
    assert!(out.contains(&format!("0 of {expectations} expectations met")), "{out}");

    // Hints come one at a time, then say they are done.
    for n in 1..=3 {
        let (_, out, _) = run(&["hint", "caching"]);
        assert!(
            out.contains(&format!("hint {n} of 3")) && !out.contains(&format!("hint {} of 3", n + 1)),
            "{out}"
        );
    }
    assert!(run(&["hint", "caching"]).1.contains("That was the last hint"));

    let (_, out, _) = run(&["progress"]);
    assert!(
        out.contains(&format!("0 of {} solved", exercises()))
            && out.contains("in progress")
            && out.contains(&format!("0/{expectations} tests"))
            && out.contains("3 of 3"),
        "{out}"
    );
    let (code, _, err) = run(&["exercise", "caching", "--solution"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("solve caching/single-flight first"), "{err}");

    // Code that does not compile: the compiler's error about the learner's file, plainly.
    let broken = std::fs::read_to_string(&starter).unwrap().replace(
        "let _ = key;\n        todo!(\"implement invalidate\")",
        "let _: u32 = key;",
    );
    std::fs::write(&starter, broken).unwrap();
    let (code, out, err) = run(&["check", "caching"]);
    assert_eq!(code, Some(1), "{out}{err}");
    assert!(
        out.contains("✗ your code does not compile:")
            && out.contains("labs/caching/exercise/src/lib.rs:")
            && out.contains("error[E0308]"),
        "{out}"
    );

    // The reference, dropped in: tests pass, and the gate runs beside the reference in the same run.
    std::fs::copy(root().join("labs/caching/exercise/solution.rs"), &starter).unwrap();
    let (mut code, mut out, mut err) = run(&["check", "caching/single-flight"]);
    if code == Some(1) && out.contains("The tests pass but the gate does not") {
        // The gate is a timing comparison on a shared machine: a burst of other work can sink one run (a CI
        // neighbour compiling, say). The reference against itself must pass on a second try.
        println!("the gate failed once on this machine; trying again:\n{out}");
        (code, out, err) = run(&["check", "caching/single-flight"]);
    }
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(out.contains(&format!("All {expectations} expectations met")), "{out}");
    assert!(
        out.contains("│ exercise") && out.contains("│ single-flight") && out.contains("│ naive"),
        "the gate table: {out}"
    );
    assert!(
        out.contains("✓ gate single-flight: counters.db_queries") && out.contains("✓ caching/single-flight solved"),
        "{out}"
    );
    assert!(run(&["progress"]).1.contains(&format!("1 of {} solved", exercises())));
    assert!(run(&["exercise", "caching", "--solution"])
        .1
        .contains("pub async fn get_or_load"));

    // watch: a save is re-checked within two seconds.
    let mut child = xtask(&["watch", "caching"])
        .env("WORKBENCH_PROGRESS", &progress)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut watch = KillOnDrop(child);
    let (tx, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let wait_for = |needle: &str, within: Duration| {
        let deadline = Instant::now() + within;
        while let Ok(line) = lines.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            if line.contains(needle) {
                return true;
            }
        }
        false
    };
    assert!(
        wait_for("watching labs/caching/exercise/src/lib.rs", Duration::from_secs(180)),
        "watch never settled"
    );
    let saved = Instant::now();
    std::fs::write(&starter, std::fs::read(&starter).unwrap()).unwrap();
    assert!(
        wait_for("changed — checking again", Duration::from_secs(2)),
        "no re-check within 2 s of the save"
    );
    println!("re-check began {:?} after the save", saved.elapsed());
    assert!(
        wait_for("watching", Duration::from_secs(180)),
        "the re-check never finished"
    );
    writeln!(stdin, "q").unwrap();
    let quit = eventually(Duration::from_secs(10), || watch.0.try_wait().unwrap().is_some());
    assert!(quit, "watch did not quit on q");

    // reset: the committed starter comes back; the learner's file is kept in a backup.
    let (code, out, err) = run(&["exercise", "caching", "--reset", "--yes"]);
    assert_eq!(code, Some(0), "{out}{err}");
    let restored = std::fs::read_to_string(&starter).unwrap();
    assert!(
        restored.contains("todo!(\"implement single-flight get_or_load\")"),
        "the starter is back"
    );
    let backups: Vec<_> = std::fs::read_dir(dir.path().join("backups"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(backups.len(), 1);
    assert!(
        std::fs::read_to_string(&backups[0]).unwrap().contains("watch::channel"),
        "the backup holds the learner's version"
    );
}

#[test]
fn a_corrupted_progress_file_is_set_aside_with_a_message() {
    let dir = tempfile::tempdir().unwrap();
    let progress = dir.path().join("progress.toml");
    std::fs::write(&progress, "this is = = not toml").unwrap();
    let output = xtask(&["progress"])
        .env("WORKBENCH_PROGRESS", &progress)
        .output()
        .unwrap();
    let (stdout, stderr) = texts(&output);
    assert!(output.status.success(), "{stderr}");
    assert!(
        stderr.contains("is not valid progress") && stderr.contains("set aside as"),
        "{stderr}"
    );
    assert!(stdout.contains(&format!("0 of {} solved", exercises())), "{stdout}");
    assert!(!progress.exists() && std::fs::read_dir(dir.path()).unwrap().count() == 1);
}
