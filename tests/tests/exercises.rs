//! The rustlings `dev check`, for every exercise declared in a `lab.toml`: the untouched starter fails its grader
//! (and says what to implement), the reference passes the same grader, and the starter carries `// TODO` marks and
//! hints. The reference is graded by the lab's `tests/reference_passes_grader.rs`, which runs the grader against
//! the module the lab mounts from the reference file.

use std::process::Command;

use workbench_tests::{cargo_test, root};

#[test]
fn every_starter_fails_its_grader_and_every_reference_passes_it() {
    let labs = lab_harness::discover(root()).unwrap();
    let mut checked = 0;
    for lab in &labs {
        for exercise in &lab.exercises {
            let label = format!("{}/{}", lab.name, exercise.name);
            let starter = std::fs::read_to_string(lab.dir.join(&exercise.starter)).unwrap();
            assert!(
                starter.contains("// TODO") && starter.contains("todo!("),
                "{label}: the starter needs // TODO and todo!()"
            );
            assert!(!exercise.hints.is_empty(), "{label}: no hints");

            let graded = cargo_test(&exercise.package, &exercise.grader);
            let text = String::from_utf8_lossy(&graded.stdout).into_owned() + &String::from_utf8_lossy(&graded.stderr);
            assert!(
                !graded.status.success(),
                "{label}: the untouched starter passed its grader:\n{text}"
            );
            assert!(
                text.contains("test result: FAILED") && text.contains("not yet implemented"),
                "{label}: {text}"
            );

            let reference = cargo_test(&format!("lab-{}", lab.name), "reference_passes_grader");
            let text =
                String::from_utf8_lossy(&reference.stdout).into_owned() + &String::from_utf8_lossy(&reference.stderr);
            assert!(
                reference.status.success(),
                "{label}: the reference fails the grader:\n{text}"
            );
            let reference_file = std::fs::read_to_string(lab.dir.join("src/lib.rs")).unwrap();
            let mounted = exercise.reference.file_name().unwrap().to_string_lossy().into_owned();
            assert!(
                reference_file.contains(&mounted),
                "{label}: the lab must mount {mounted}, so the graded reference is the code it runs"
            );
            checked += 1;
        }
    }
    assert!(checked >= 1, "no exercise found");
}

/// One mistake of an exercise's `mutants.toml`.
#[derive(serde::Deserialize)]
struct Mutant {
    name: String,
    mistake: String,
}

#[derive(serde::Deserialize)]
struct Mutants {
    mutant: Vec<Mutant>,
}

/// The mutation check beside the dev check: every plausible mistake listed in an exercise's `mutants.toml`, applied
/// to the reference, fails at least one of the grader's expectations — so a learner's "passed" means none of those
/// mistakes is in their code. The mutants are built by `tests/build.rs`; counters and deadlines only, no timing.
#[test]
fn every_exercise_grader_fails_every_mutant_of_its_reference() {
    let labs = lab_harness::discover(root()).unwrap();
    let mut checked = 0;
    for lab in labs.iter().filter(|l| !l.exercises.is_empty()) {
        let list = lab.dir.join("exercise/mutants.toml");
        let text = std::fs::read_to_string(&list)
            .unwrap_or_else(|_| panic!("{}: an exercise needs its mistakes listed here", list.display()));
        let mutants: Mutants = toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", list.display()));
        assert!(
            mutants.mutant.len() >= 3,
            "{}: list at least three mistakes",
            list.display()
        );
        let readme = std::fs::read_to_string(lab.dir.join("README.md")).unwrap();
        for m in &mutants.mutant {
            assert!(
                readme.contains(&m.mistake),
                "{}/README.md must list what the grader catches, including: {}",
                lab.name,
                m.mistake
            );
        }

        let target = format!("mutants_{}", lab.name.replace('-', "_"));
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let run = Command::new(cargo)
            .current_dir(root())
            .args([
                "test",
                "--quiet",
                "-p",
                "workbench-tests",
                "--test",
                &target,
                "--",
                "--format=pretty",
            ])
            .output()
            .expect("run cargo test");
        let stdout = String::from_utf8_lossy(&run.stdout);
        assert!(
            stdout.contains("test result"),
            "{target} did not run:\n{stdout}{}",
            String::from_utf8_lossy(&run.stderr)
        );
        for m in &mutants.mutant {
            let prefix = format!("test graded_{}::", m.name);
            let ran = stdout.lines().filter(|l| l.starts_with(&prefix)).count();
            let failed = stdout
                .lines()
                .filter(|l| l.starts_with(&prefix) && l.ends_with("FAILED"))
                .count();
            assert!(ran > 0, "{}: mutant {} was not graded", lab.name, m.name);
            assert!(
                failed > 0,
                "{}: the grader let a mutant through — {} ({}). Add an expectation to the grader that this mistake fails.",
                lab.name,
                m.mistake,
                m.name
            );
        }
        checked += mutants.mutant.len();
    }
    assert!(checked >= 9, "only {checked} mutants checked");
}
