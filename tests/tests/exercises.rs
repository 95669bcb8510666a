//! The rustlings `dev check`, for every exercise declared in a `lab.toml`: the untouched starter fails its grader
//! (and says what to implement), the reference passes the same grader, and the starter carries `// TODO` marks and
//! hints. The reference is graded by the lab's `tests/reference_passes_grader.rs`, which runs the grader against
//! the module the lab mounts from the reference file.

use std::process::Command;

use workbench_tests::root;

fn cargo_test(package: &str, target: &str) -> std::process::Output {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    Command::new(cargo)
        .current_dir(root())
        .args(["test", "--quiet", "--package", package, "--test", target])
        .output()
        .expect("run cargo test")
}

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
