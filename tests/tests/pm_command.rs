//! `cargo xtask pm …` reaches workbench-pm: built in release, its arguments passed through, its exit status kept.
//! (workbench-pm's own behaviour is tested in labs/process-manager/tests.)

use workbench_tests::{run_xtask, texts};

#[test]
fn pm_passes_its_arguments_to_workbench_pm_and_keeps_its_exit_status() {
    let home = tempfile::tempdir().unwrap();
    let home = home.path().to_str().unwrap();
    let ecosystem = std::path::Path::new(home).join("eco.toml");
    std::fs::write(&ecosystem, "[[app]]\nname = \"web\"\n").unwrap();
    // A broken file: workbench-pm's message (file:line) and its exit status 1 come back through xtask.
    let out = run_xtask(&["pm", "--home", home, "start", ecosystem.to_str().unwrap()]);
    let (_, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!("{}:1:", ecosystem.display())) && stderr.contains("command"),
        "{stderr}"
    );
    // No supervisor with this home: `list` says how to start one.
    let out = run_xtask(&["pm", "--home", home, "list"]);
    let (_, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr.contains("no supervisor is running"), "{stderr}");
}
